// Proves the replicated Global end to end in one process: a 3-replica cluster elects a
// leader, takes writes through the Local client library, serves linearizable and
// serializable reads, refuses a second SET, survives losing a follower and then the
// leader, and every replica ends with the same state (checksums agree).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KeyOccupiedError } from '../../src/protocol/errors.ts';
import { eventually, TestCluster } from './cluster-harness.ts';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array | null | undefined): string | undefined => (b ? new TextDecoder().decode(b) : undefined);

describe('a 3-replica Global cluster', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await TestCluster.start(3);
  });
  after(async () => {
    await cluster.stop();
  });

  it('elects one leader that every replica follows', async () => {
    const leader = await cluster.waitForLeader();
    assert.ok([1, 2, 3].includes(leader));
  });

  it('takes writes and reads them back linearizably; a second SET is refused', async () => {
    const client = cluster.client();
    const set = await client.set('greeting', text('hello'));
    assert.equal(set.kv.version, 1);
    const got = await client.get('greeting');
    assert.equal(str(got.kv?.value), 'hello');
    assert.ok(got.revision >= set.revision);
    await assert.rejects(client.set('greeting', text('again')), KeyOccupiedError);
    const del = await client.delete('greeting');
    assert.equal(del.deleted, true);
    assert.equal((await client.get('greeting')).kv, null);
  });

  it('serves a serializable read from a follower once it has applied the write (minRevision)', async () => {
    const client = cluster.client();
    const leader = await cluster.waitForLeader();
    const follower = [1, 2, 3].find((id) => id !== leader)!;
    const w = await client.set('ryw', text('mine'));
    const followerClient = cluster.client({ addresses: [cluster.members.get(follower)!] });
    const r = await followerClient.get('ryw', { consistency: 'serializable', minRevision: w.revision });
    assert.equal(r.replicaId, follower);
    assert.equal(str(r.kv?.value), 'mine');
  });

  it('batches many concurrent writes and keeps every replica identical', async () => {
    const client = cluster.client();
    const results = await Promise.all(Array.from({ length: 500 }, (_, i) => client.set(`bulk/${i}`, text(String(i)))));
    assert.equal(new Set(results.map((r) => r.revision)).size, 500, 'each write has its own revision');
    const range = await client.range({ prefix: 'bulk/', limit: 1000 });
    assert.equal(range.kvs.length, 500);
    const sums = await cluster.convergedChecksums();
    assert.equal(new Set(sums.values()).size, 1, `checksums differ: ${JSON.stringify([...sums])}`);
  });

  it('keeps taking writes with a follower down, and the follower catches up when back', async () => {
    const client = cluster.client();
    const leader = await cluster.waitForLeader();
    const follower = [1, 2, 3].find((id) => id !== leader)!;
    await cluster.stopReplica(follower);
    for (let i = 0; i < 20; i++) await client.set(`while-down/${i}`, text('x'));
    await cluster.restartReplica(follower);
    const sums = await cluster.convergedChecksums(15_000);
    assert.equal(new Set(sums.values()).size, 1);
    assert.equal(sums.size, 3);
  });

  it('elects a new leader when the leader stops, without losing acknowledged writes', async () => {
    const client = cluster.client();
    const acked: string[] = [];
    for (let i = 0; i < 10; i++) {
      await client.set(`before-failover/${i}`, text('v'));
      acked.push(`before-failover/${i}`);
    }
    const oldLeader = await cluster.waitForLeader();
    await cluster.stopReplica(oldLeader);
    const newLeader = await eventually('a new leader', async () => {
      const id = await cluster.waitForLeader();
      return id !== oldLeader ? id : undefined;
    });
    assert.notEqual(newLeader, oldLeader);
    await client.set('after-failover', text('v'));
    for (const key of acked) assert.ok((await client.get(key)).kv !== null, `${key} survived`);
    await cluster.restartReplica(oldLeader);
    const sums = await cluster.convergedChecksums(15_000);
    assert.equal(new Set(sums.values()).size, 1);
  });
});
