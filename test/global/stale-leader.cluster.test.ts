// Driver-level faults of a leader that fell behind (issue 13): one that installs a peer's
// snapshot over its own proposals in flight (their writers must get an answer, not wait
// forever), and one whose event loop stalled (its lease must be judged by the clock when it
// resumes, not by the one tick its late timer brings). Real ReplicaNodes on virtual time
// (node-harness.ts), so each scenario plays out the same way on every run.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NotLeaderError, UnavailableError } from '../../src/protocol/errors.ts';
import type { WriteId } from '../../src/global/state/types.ts';
import { NodeCluster, putRequest, turns } from './node-harness.ts';

type Outcome<T> = { value: T } | { error: Error } | undefined;

/** Watches `promise` from now on (so an early rejection is not unhandled). */
function watch<T>(promise: Promise<T>): () => Outcome<T> {
  let outcome: Outcome<T>;
  promise.then((value) => { outcome = { value }; }, (error: Error) => { outcome = { error }; });
  return () => outcome;
}

/** Advances time until `promise` settles; its value, or the error it rejected with. */
async function settled<T>(cluster: NodeCluster, promise: Promise<T> | (() => Outcome<T>), ticksMax = 100): Promise<T | Error> {
  const outcome = typeof promise === 'function' ? promise : watch(promise);
  const done = await cluster.until('the call to settle', outcome, ticksMax);
  return 'value' in done ? done.value : done.error;
}

const writeId = (requestId: number): WriteId => ({ clientId: 'stale-leader-test-client', requestId, firstIncomplete: requestId });

function valueAt(cluster: NodeCluster, id: number, key: string): string | undefined {
  const kv = cluster.get(id).node.stateMachine.get(key, true);
  return kv?.value === null || kv === null ? undefined : Buffer.from(kv.value).toString();
}

describe('a leader that fell behind', () => {
  it('answers its writers when a snapshot from a peer covers its proposals in flight', async () => {
    const cluster = await NodeCluster.start(3);
    try {
      const a = await cluster.until('a leader', () => cluster.leaderAmong());
      const [b, c] = [...cluster.nodes.keys()].filter((id) => id !== a) as [number, number];
      assert.ok(!((await settled(cluster, cluster.get(a).node.submit(writeId(1), putRequest('k0', 'x')))) instanceof Error));

      // a's tick timer is held back (so it keeps believing it leads), and of what it sends
      // only the Accept of its next instance reaches b; b's answer is lost.
      const k = cluster.get(a).node.status().nextInstance;
      cluster.hold(a);
      cluster.filter = (m) => (m.from === a ? m.type === 'accept' && m.to === b && m.firstInstance === k && m.values.length === 1 : m.to !== a);
      const first = watch(cluster.get(a).node.submit(writeId(2), putRequest('k1', 'one')));
      await turns(20);
      const second = watch(cluster.get(a).node.submit(writeId(3), putRequest('k2', 'two')));
      await turns(20);
      assert.equal(cluster.get(a).node.status().nextInstance, k + 2, 'two proposals in flight');

      // b and c elect a leader, which re-proposes the first write (b accepted it) and decides
      // it at k; that leader snapshots through k.
      const n = await cluster.until('a leader among b and c', () => cluster.leaderAmong([b, c]));
      await cluster.until('k decided and applied on b and c', () => [b, c].every((id) => cluster.get(id).node.stateMachine.appliedInstance >= k));
      assert.equal(valueAt(cluster, n, 'k1'), 'one');
      const through = await settled(cluster, cluster.get(n).node.snapshotNow());
      assert.equal(through, k);

      // An answer to an earlier catch-up request reaches a: it needs that snapshot, installs it.
      const installs: Promise<void>[] = [];
      cluster.get(a).node.setSnapshotNeededHandler((from) => installs.push(cluster.installSnapshot(a, from)));
      cluster.get(a).node.step({ type: 'snapshotNeeded', from: n, to: a, snapshotThrough: k });
      await cluster.until('the snapshot request', () => installs.length === 1);
      await settled(cluster, installs[0]!);
      assert.equal(valueAt(cluster, a, 'k1'), 'one');

      // The write the snapshot holds gets its result; the other one a retryable refusal.
      const firstOutcome = await settled(cluster, first, 40);
      const secondOutcome = await settled(cluster, second, 40);
      const recorded = cluster.get(n).node.stateMachine.sessions.lookup(writeId(2));
      assert.equal(recorded.kind, 'duplicate');
      if (firstOutcome instanceof Error) assert.fail(`the write in the snapshot failed: ${firstOutcome.message}`);
      assert.deepEqual(firstOutcome, recorded.kind === 'duplicate' ? recorded.result : undefined);
      assert.ok(secondOutcome instanceof UnavailableError || secondOutcome instanceof NotLeaderError, `second write: ${secondOutcome instanceof Error ? secondOutcome.message : 'succeeded'}`);
      assert.equal(cluster.get(a).node.isLeader(), false, 'a stepped down: the snapshot covered an instance it proposed');
      assert.deepEqual(cluster.fatalErrors, []);
    } finally {
      await cluster.close();
    }
  });

  it('does not serve a lease read after a stall in which the others elected a new leader', async () => {
    const cluster = await NodeCluster.start(3);
    try {
      const old = await cluster.until('a leader', () => cluster.leaderAmong());
      assert.ok(!((await settled(cluster, cluster.get(old).node.submit(writeId(1), putRequest('k', 'old')))) instanceof Error));
      await cluster.until('a valid lease', () => cluster.get(old).node.status().leaseValid);

      // The old leader's event loop stalls; the others time out, elect, and overwrite k.
      cluster.hold(old);
      const stallStartMs = cluster.time.nowMs;
      const others = [...cluster.nodes.keys()].filter((id) => id !== old);
      const fresh = await cluster.until('a new leader', () => cluster.leaderAmong(others));
      assert.ok(!((await settled(cluster, cluster.get(fresh).node.submit(writeId(2), putRequest('k', 'new')))) instanceof Error));
      const stalledMs = cluster.time.nowMs - stallStartMs;

      // It resumes: its late tick timer fires (once), and before any message from the new
      // leader reaches it, a client asks it for a linearizable read.
      cluster.release(old);
      const read = await cluster.get(old).node.linearizableBarrier().then(() => valueAt(cluster, old, 'k'), (err: Error) => err);
      assert.ok(read instanceof NotLeaderError || read === 'new', `stale leader served a linearizable read of k = ${String(read)} after a ${stalledMs} ms stall`);
      assert.deepEqual(cluster.fatalErrors, []);
    } finally {
      await cluster.close();
    }
  });
});
