// Proves blob garbage collection is wired to the state machine's references, on a real
// in-process 3-replica cluster with a short grace period (500 ms) and a GC pass every 100 ms:
// an unreferenced blob disappears from every replica once its grace period is over, while a
// referenced one uploaded earlier (so its grace period ended first) survives the same passes;
// deleting the key releases its blob; the same bytes can then be set again (the leader's
// "durable on a majority" cache does not vouch for a collected blob); and GC stops with the
// replica. Waits poll with a deadline (`eventually`); nothing sleeps to synchronise.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Hash } from '../../src/protocol/hash.ts';
import { eventually, TestCluster } from './cluster-harness.ts';

const GRACE_MS = 500;

describe('blob garbage collection', () => {
  let cluster: TestCluster;
  const holders = (hash: Hash): number[] => [1, 2, 3].filter((id) => cluster.server(id).blobs.store.has(hash));

  before(async () => {
    cluster = await TestCluster.start(3, { blobs: { store: { graceMs: GRACE_MS }, replication: { gcIntervalMs: 100 } } });
    await cluster.waitForLeader();
  });
  after(async () => {
    await cluster.stop();
  });

  it('removes unreferenced blobs after the grace period and keeps referenced ones', async () => {
    const client = cluster.client();
    const kept = randomBytes(200 * 1024);
    const set = await client.set('gc/kept', kept);
    await eventually('every replica to hold the referenced blob', () => holders(set.kv.hash).length === 3);
    // A replica that wrongly collected it would repair it from a peer: count fetches too.
    const fetched = (): number[] => [1, 2, 3].map((id) => cluster.server(id).blobs.replicator.stats.fetched);
    const fetchedBefore = fetched();
    const loose = await client.putBlob(randomBytes(200 * 1024));
    assert.ok(holders(loose.hash).length >= 2);
    // The third replica's copy arrives by a background push, possibly after the others collected theirs.
    const collectedEverywhere = (): boolean => [1, 2, 3].every((id) => cluster.server(id).blobs.replicator.stats.blobsCollected >= 1);
    await eventually('the unreferenced blob to be collected by every replica', () => collectedEverywhere() && holders(loose.hash).length === 0);
    assert.deepEqual(holders(set.kv.hash), [1, 2, 3], 'the referenced blob survived the passes that collected the later one');
    assert.deepEqual(fetched(), fetchedBefore, 'and was never collected and fetched back');
    assert.ok(Buffer.from(await client.getBlob(set.kv.hash)).equals(kept));
  });

  it('deleting the key releases its blob; the same bytes can be set again afterwards', async () => {
    const client = cluster.client();
    const value = randomBytes(100 * 1024);
    const first = await client.set('gc/released', value);
    await eventually('every replica to hold it', () => holders(first.kv.hash).length === 3);
    assert.equal((await client.delete('gc/released')).deleted, true);
    await eventually('the released blob to be collected everywhere', () => holders(first.kv.hash).length === 0);
    const again = await client.set('gc/released-again', value);
    assert.equal(again.kv.hash, first.kv.hash);
    assert.ok(holders(again.kv.hash).length >= 2, 're-uploaded to a majority before the write was acknowledged');
    assert.ok(Buffer.from(await client.getBlob(again.kv.hash)).equals(value));
  });

  it('stops collecting when the replica stops', async () => {
    const id = 1;
    const replicator = cluster.server(id).blobs.replicator;
    await cluster.stopReplica(id);
    const runs = replicator.stats.gcRuns;
    // Another replica's passes are the clock: several of them, and none on the stopped one.
    const other = cluster.server(2).blobs.replicator;
    const target = other.stats.gcRuns + 3;
    await eventually('three more passes elsewhere', () => other.stats.gcRuns >= target);
    assert.equal(replicator.stats.gcRuns, runs);
    await cluster.restartReplica(id);
  });
});
