// Proves the lifecycle of Global replicas on disk (issue 5 item 9), in one process with real
// gRPC and real files: with a snapshot every 50 instances and 16 KiB WAL segments, replicas
// snapshot and drop the WAL behind the snapshot while taking writes; a replica restarts from
// its snapshot plus the WAL tail with the same state checksum; the whole cluster stops and
// restarts without losing an acknowledged write; a replica that was down while the others
// truncated their logs past its position catches up by fetching a snapshot (and restarts
// cleanly after installing it); a wiped replica does the same from nothing; and a replica
// that crashed between writing a snapshot and compacting its WAL (a snapshot newer than the
// WAL's compaction point) restarts from that snapshot.
// Each step waits by polling with a deadline (`eventually`), never by sleeping.
import assert from 'node:assert/strict';
import { copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { GlobalClient } from '../../src/local/client/client.ts';
import { eventually, TestCluster } from './cluster-harness.ts';

const SNAPSHOT_EVERY = 50;
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

async function writeSequentially(client: GlobalClient, prefix: string, count: number): Promise<void> {
  // One write at a time: each one is its own consensus instance.
  for (let i = 0; i < count; i++) await client.set(`${prefix}/${i}`, text(`${prefix}-${i}`));
}

function files(dir: string, suffix: string): string[] {
  return readdirSync(dir).filter((n) => n.endsWith(suffix)).sort();
}

describe('Global replica lifecycle: snapshots, truncation, restart, catch-up by snapshot', () => {
  let cluster: TestCluster;
  let client: GlobalClient;
  /** Each replica's first WAL segment, before the 300 writes of `before`. */
  let firstSegments: Map<number, string>;
  const snapshotThrough = (id: number): number => cluster.server(id).node.status().snapshotThrough;
  const applied = (id: number): number => cluster.server(id).node.stateMachine.appliedInstance;
  const consensusDir = (id: number): string => join(cluster.dataDirs.get(id)!, 'consensus');
  const snapshotDir = (id: number): string => join(cluster.dataDirs.get(id)!, 'snapshots');
  const follower = async (not: readonly number[] = []): Promise<number> => {
    const leader = await cluster.waitForLeader();
    return [1, 2, 3].find((id) => id !== leader && !not.includes(id))!;
  };
  const assertConverged = async (timeoutMs = 15_000): Promise<void> => {
    const sums = await cluster.convergedChecksums(timeoutMs);
    assert.equal(sums.size, 3);
    assert.equal(new Set(sums.values()).size, 1, `checksums differ: ${JSON.stringify([...sums])}`);
  };
  /** Records each snapshot `id` installs from now on (it fetches only after start returns). */
  const recordInstalls = (id: number): number[] => {
    const node = cluster.server(id).node;
    const installed: number[] = [];
    const install = node.installSnapshot.bind(node);
    node.installSnapshot = async (through, payload) => {
      await install(through, payload);
      installed.push(through);
    };
    return installed;
  };
  const countKeys = async (prefix: string): Promise<number> => (await client.range({ prefix, limit: 10_000 })).kvs.length;

  before(async () => {
    cluster = await TestCluster.start(3, {
      node: { snapshotEveryInstances: SNAPSHOT_EVERY },
      storage: { wal: { segmentBytesTarget: 16 * 1024 } },
    });
    client = cluster.client();
    // The history every test starts from (no test relies on another having run): 300 writes,
    // several snapshots and truncations on every replica.
    await cluster.waitForLeader();
    await client.set('first', text('x'));
    firstSegments = new Map([1, 2, 3].map((id) => [id, files(consensusDir(id), '.wal')[0]!]));
    await writeSequentially(client, 'run', 300);
  });
  after(async () => {
    await cluster.stop();
  });

  it('snapshots every 50 instances and removes the WAL segments behind the snapshot', async () => {
    // Settled: no replica is SNAPSHOT_EVERY instances past its last snapshot any more.
    await eventually('every replica to snapshot past instance 250 and settle', () => [1, 2, 3].every((id) => snapshotThrough(id) >= 250 && applied(id) - snapshotThrough(id) < SNAPSHOT_EVERY));
    for (const id of [1, 2, 3]) {
      const segments = files(consensusDir(id), '.wal');
      assert.ok(!segments.includes(firstSegments.get(id)!), `replica ${id} still has its first WAL segment: ${segments.join(', ')}`);
      assert.ok(segments.length <= 3, `replica ${id} keeps ${segments.length} WAL segments`);
      const snaps = files(snapshotDir(id), '.snap');
      assert.ok(snaps.length >= 1 && snaps.length <= 2, `replica ${id} keeps ${snaps.length} snapshots`);
      assert.equal(Number(snaps.at(-1)!.slice(0, 16)), snapshotThrough(id), 'the newest snapshot file is the one consensus truncated to');
      assert.ok((await cluster.status(id)).walBytes < 3 * 16 * 1024 + 4096, 'status reports the truncated WAL');
    }
    assert.equal(await countKeys('run/'), 300);
    await assertConverged();
  });

  it('restarts a replica from its snapshot plus the WAL tail, with the same checksum', async () => {
    const id = await follower();
    await eventually(`replica ${id} to have a snapshot`, () => snapshotThrough(id) > 0);
    const before = await cluster.convergedChecksums();
    const instance = applied(id);
    await cluster.stopReplica(id);
    await cluster.restartReplica(id);
    // Restored before it talked to anyone: the snapshot, not a peer, brought it this far.
    assert.ok(applied(id) >= snapshotThrough(id) && snapshotThrough(id) > 0, 'restored from its snapshot');
    const restarted = await eventually('the restarted replica to replay its WAL tail', async () => {
      const s = await cluster.status(id, true);
      return s.appliedInstance === instance ? s : undefined;
    });
    assert.equal(Buffer.from(restarted.stateChecksum).toString('hex'), before.get(id));
  });

  it('stops and restarts the whole cluster without losing an acknowledged write', async () => {
    await writeSequentially(client, 'all', 20);
    for (const id of [1, 2, 3]) await cluster.stopReplica(id);
    await Promise.all([1, 2, 3].map((id) => cluster.restartReplica(id)));
    await cluster.waitForLeader();
    assert.equal(await countKeys('run/'), 300);
    assert.equal(await countKeys('all/'), 20);
    const value = (await client.get('all/19')).kv?.value;
    assert.equal(value === undefined || value === null ? undefined : new TextDecoder().decode(value), 'all-19');
    await assertConverged();
  });

  it('catches up a replica that was down while the others truncated past it, by snapshot, and restarts it after', async () => {
    const id = await follower();
    const behindAt = cluster.server(id).node.status().decidedThrough;
    await cluster.stopReplica(id);
    await writeSequentially(client, 'lag', 150);
    const others = [1, 2, 3].filter((r) => r !== id);
    await eventually('the others to truncate their logs past the stopped replica', () => others.every((r) => snapshotThrough(r) > behindAt + 1));
    // The others queued their Accepts for the stopped replica and would replay them when it
    // returns (the log, not a snapshot). Restarting them empties those queues, as a longer
    // outage would (the queue is bounded): nothing but a snapshot can bring it back now.
    for (const r of others) await cluster.stopReplica(r);
    await Promise.all(others.map((r) => cluster.restartReplica(r)));
    await cluster.waitForLeader();
    await cluster.restartReplica(id);
    const installs = recordInstalls(id);
    await assertConverged();
    assert.ok(installs.length >= 1 && installs[0]! > behindAt, `installed a snapshot past instance ${behindAt}: ${JSON.stringify(installs)}`);
    const far = cluster.client({ addresses: [cluster.members.get(id)!] });
    const latest = await client.get('lag/149');
    const got = await far.get('lag/149', { consistency: 'serializable', minRevision: latest.revision });
    assert.equal(got.replicaId, id);
    assert.equal(new TextDecoder().decode(got.kv!.value), 'lag-149');
    // A restart right after the install recovers from the installed snapshot.
    await cluster.stopReplica(id);
    await cluster.restartReplica(id);
    assert.ok(applied(id) >= installs[0]!, 'restored from the installed snapshot');
    await client.set('after-install-restart', text('x'));
    await assertConverged();
  });

  it('rebuilds a wiped replica from a peer snapshot', async () => {
    const id = await follower();
    await cluster.stopReplica(id);
    cluster.wipeReplica(id);
    await writeSequentially(client, 'wiped', 10);
    const history = applied(await cluster.waitForLeader());
    await cluster.restartReplica(id);
    const installs = recordInstalls(id);
    await assertConverged();
    assert.ok(installs.length >= 1, 'the wiped replica installed a snapshot');
    assert.ok(history > 300 && applied(id) >= history, `the wiped replica holds the whole history again (${applied(id)} of ${history} instances)`);
    assert.equal(await countKeys('wiped/'), 10);
  });

  it('restarts a replica whose newest snapshot is ahead of its WAL compaction point (crash before compaction)', async () => {
    const id = await follower();
    const donor = await cluster.waitForLeader();
    await cluster.stopReplica(id);
    await writeSequentially(client, 'gap', 120);
    const behind = applied(donor) - 120;
    await eventually('the donor to snapshot past the stopped replica', () => snapshotThrough(donor) > behind + SNAPSHOT_EVERY);
    // As if the stopped replica had written this snapshot and crashed before compacting its
    // WAL: the state machine is deterministic, so the donor's file is the one it would write.
    const newest = files(snapshotDir(donor), '.snap').at(-1)!;
    copyFileSync(join(snapshotDir(donor), newest), join(snapshotDir(id), newest));
    await cluster.restartReplica(id);
    assert.equal(applied(id), Number(newest.slice(0, 16)), 'restored from the newer snapshot');
    assert.equal(snapshotThrough(id), applied(id), 'consensus starts at the snapshot, not at the WAL compaction point');
    await client.set('after-gap', text('x'));
    await assertConverged();
    assert.equal(await countKeys('gap/'), 120);
  });
});
