// Proves Global.Subscribe end to end on real in-process replicas, through the Local's client
// (the same calls the Local's invalidation subscriber makes):
// - concurrent writers: subscribers on the leader and on a follower each see every revision
//   once, ascending, with no gap, and the same events;
// - prefix filtering, progress covering the filtered revisions, and progress notices that
//   keep coming while idle (their ~100 ms period is proved on a fake clock in
//   subscribe-hub.test.ts; here a busy machine must not fail a timing bound);
// - a stream whose replica stops ends with UNAVAILABLE, and resuming from lastRevision + 1
//   at another replica yields exactly the missed events;
// - a start older than the history gets COMPACTED with the oldest revision; a reader that
//   stalls while the history moves on is dropped by the server with COMPACTED after in-order
//   events (never a silent skip), so it costs the server bounded memory.
// Waits are on messages or polls with deadlines, never sleeps used as synchronisation.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GlobalServer } from '../../src/global/server/global-server.ts';
import { STATE_MACHINE_DEFAULTS } from '../../src/global/state/state-machine.ts';
import { GlobalClient, type Subscription } from '../../src/local/client/client.ts';
import type { ChangeEvent, SubscribeMessage } from '../../src/local/client/client-types.ts';
import { CompactedError, UnavailableError } from '../../src/protocol/errors.ts';
import { eventually, TestCluster } from './cluster-harness.ts';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const revisionOf = (e: ChangeEvent): number => (e.type === 'put' ? e.kv.modRevision : e.revision);
const keyOf = (e: ChangeEvent): string => (e.type === 'put' ? e.kv.key : e.key);
/** Progress notices awaited on an idle stream. */
const IDLE_NOTICES = 4;

/** Reads `sub` until a message covers `through`; fails after `timeoutMs`. Leaves the subscription open. */
async function readThrough(sub: Subscription, through: number, timeoutMs = 10_000): Promise<SubscribeMessage[]> {
  const got: SubscribeMessage[] = [];
  const timer = setTimeout(() => sub.close(), timeoutMs);
  try {
    while (sub.lastRevision < through) {
      const r = await sub.next();
      if (r.done === true) throw new Error(`no message covering ${through} within ${timeoutMs} ms (at ${sub.lastRevision})`);
      got.push(r.value);
    }
  } finally {
    clearTimeout(timer);
  }
  return got;
}

const eventsOf = (messages: readonly SubscribeMessage[]): ChangeEvent[] => messages.flatMap((m) => (m.kind === 'events' ? m.events : []));

/** Every message's revision is >= the last, every event lies in (previous message, this message]. */
function assertOrdered(messages: readonly SubscribeMessage[], after = 0): void {
  let last = after;
  for (const m of messages) {
    assert.ok(m.revision >= last, `message through ${m.revision} after one through ${last}`);
    if (m.kind === 'events') {
      for (const e of m.events) assert.ok(revisionOf(e) > last && revisionOf(e) <= m.revision, `event of ${revisionOf(e)} in a message covering (${last}, ${m.revision}]`);
    }
    last = m.revision;
  }
}

describe('Subscribe on a 3-replica cluster', () => {
  let cluster: TestCluster;
  let client: GlobalClient;
  let leader: number;
  let follower: number;
  before(async () => {
    cluster = await TestCluster.start(3);
    leader = await cluster.waitForLeader();
    follower = [1, 2, 3].find((id) => id !== leader)!;
    client = cluster.client();
  });
  after(async () => {
    await cluster.stop();
  });

  it('gives subscribers on the leader and on a follower every revision once, in order, under concurrent writers', async () => {
    const base = (await client.set('order/start', text('x'))).revision;
    const onLeader = client.subscribe({ fromRevision: base + 1, address: cluster.members.get(leader)! });
    const onFollower = client.subscribe({ fromRevision: base + 1, address: cluster.members.get(follower)! });
    const writes = await Promise.all(range(1, 4).map(async (w) => {
      const done: { key: string; revision: number }[] = [];
      for (let i = 0; i < 40; i++) {
        const key = `order/w${w}/${i}`;
        done.push({ key, revision: (await client.set(key, text(String(i)))).revision });
        if (i % 10 === 9) done.push({ key, revision: (await client.delete(key)).revision });
      }
      return done;
    }));
    const expected = writes.flat().sort((a, b) => a.revision - b.revision);
    const last = expected.at(-1)!.revision;
    assert.deepEqual(expected.map((w) => w.revision), range(base + 1, last), 'every write its own revision');
    for (const sub of [onLeader, onFollower]) {
      const messages = await readThrough(sub, last);
      assertOrdered(messages, base);
      const events = eventsOf(messages);
      assert.deepEqual(events.map((e) => [revisionOf(e), keyOf(e)]), expected.map((w) => [w.revision, w.key]));
      sub.close();
    }
    assert.equal(onFollower.address, cluster.members.get(follower));
  });

  it('filters by prefix, covers filtered revisions with progress, and keeps sending progress while idle', async () => {
    const sub = client.subscribe({ fromRevision: 0, prefix: 'pfx/' });
    const first = await readThrough(sub, 1);
    assert.equal(first[0]!.kind, 'progress', 'a stream from now opens with a progress notice');
    await client.set('other/1', text('a'));
    const filtered = await client.set('other/2', text('b'));
    const progress = await readThrough(sub, filtered.revision);
    assert.deepEqual(progress.map((m) => m.kind).filter((k) => k === 'events'), [], 'no events for other keys');
    const mine = await client.set('pfx/1', text('c'));
    const got = await readThrough(sub, mine.revision);
    assert.deepEqual(eventsOf(got).map(keyOf), ['pfx/1']);
    // Idle: progress notices keep coming, each at the current revision (a deadline, not a bound).
    const timer = setTimeout(() => sub.close(), 10_000);
    for (let notice = 0; notice < IDLE_NOTICES; notice++) {
      const r = await sub.next();
      assert.ok(r.done !== true, `the stream stays open and sends ${IDLE_NOTICES} progress notices while idle within 10 s (got ${notice})`);
      assert.equal(r.value.kind, 'progress');
      assert.equal(r.value.revision, mine.revision, 'progress carries the current revision');
    }
    clearTimeout(timer);
    sub.close();
  });

  it('waits for a revision a replica has not applied yet, then streams from it', async () => {
    const now = (await client.set('ahead/0', text('x'))).revision;
    const sub = client.subscribe({ fromRevision: now + 3, address: cluster.members.get(follower)! });
    const w = [];
    for (let i = 1; i <= 4; i++) w.push(await client.set(`ahead/${i}`, text('x')));
    const got = await readThrough(sub, w[3]!.revision);
    assert.deepEqual(eventsOf(got).map(revisionOf), [now + 3, now + 4]);
    sub.close();
  });

  it('ends streams with UNAVAILABLE when their replica stops; resuming elsewhere yields exactly the missed events', async () => {
    const base = (await client.set('resume/start', text('x'))).revision;
    const sub = client.subscribe({ fromRevision: base + 1, address: cluster.members.get(follower)! });
    const before: number[] = [];
    for (let i = 0; i < 10; i++) before.push((await client.set(`resume/a${i}`, text('x'))).revision);
    const seen = await readThrough(sub, before[4]!);
    await cluster.stopReplica(follower);
    for (;;) {
      const r = await sub.next().catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
      if (r instanceof Error) {
        assert.ok(r instanceof UnavailableError, `got ${String(r)}`);
        assert.match(r.message, /is shutting down: subscribe again from \d+ at another replica/);
        break;
      }
      assert.ok(r.done !== true, 'the stream ends with an error, not cleanly');
      seen.push(r.value);
    }
    const after: number[] = [];
    for (let i = 0; i < 10; i++) after.push((await client.set(`resume/b${i}`, text('x'))).revision);
    const resumed = client.subscribe({ fromRevision: sub.lastRevision + 1, address: cluster.members.get(leader)! });
    const rest = await readThrough(resumed, after.at(-1)!);
    assertOrdered(rest, sub.lastRevision);
    assert.deepEqual([...eventsOf(seen), ...eventsOf(rest)].map(revisionOf), [...before, ...after], 'each missed revision once');
    resumed.close();
  });
});

describe('Subscribe when the history is too short', () => {
  const HISTORY_REVISIONS = 50;
  let server: GlobalServer;
  let dir: string;
  let client: GlobalClient;
  before(async () => {
    server = await GlobalServer.listen('127.0.0.1:0');
    dir = mkdtempSync(join(tmpdir(), 'dstore-test-subscribe-'));
    await server.start({
      replicaId: 1,
      members: new Map([[1, server.address]]),
      dataDir: dir,
      clusterId: 'test',
      node: { stateMachine: { ...STATE_MACHINE_DEFAULTS, historyRevisionsMax: HISTORY_REVISIONS } },
      subscriptions: { messageBytesMax: 4096, bufferedBytesMax: 16 * 1024 },
      onFatal: (err) => {
        throw err instanceof Error ? err : new Error(String(err));
      },
    });
    client = new GlobalClient({ addresses: [server.address] });
  });
  after(async () => {
    await client.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers COMPACTED with the oldest revision for a start older than the history', async () => {
    let last = 0;
    for (let i = 0; i < HISTORY_REVISIONS + 10; i++) last = (await client.set(`old/${i}`, text('x'))).revision;
    const oldest = last - HISTORY_REVISIONS + 1;
    const sub = client.subscribe({ fromRevision: 1 });
    await assert.rejects(sub.next(), (err: unknown) => err instanceof CompactedError && err.oldestRevision === oldest);
    const fromOldest = client.subscribe({ fromRevision: oldest });
    assert.deepEqual(eventsOf(await readThrough(fromOldest, last)).map(revisionOf), range(oldest, last));
    fromOldest.close();
  });

  it('drops a reader that stalls while the history moves past it, with COMPACTED after in-order events only', async () => {
    const start = (await client.set('slow/start', text('x'))).revision + 1;
    // The Local's client reads ahead a bounded number of messages, then pauses the call:
    // HTTP/2 flow control then stalls the server's writes until this test reads again.
    const sub = client.subscribe({ fromRevision: start });
    await eventually('the subscription to register', () => server.subscriptions.subscriberCount === 1);
    const key = (i: number): string => `slow/${String(i).padStart(6, '0')}/${'k'.repeat(1000)}`;
    const writes = await Promise.all(range(1, 600).map((i) => client.set(key(i), text('x'))));
    const last = Math.max(...writes.map((w) => w.revision));
    await eventually('the server to drop the stalled subscriber', () => server.subscriptions.subscriberCount === 0);
    const received: SubscribeMessage[] = [];
    let failure: unknown = null;
    for (;;) {
      const r = await sub.next().catch((err: unknown) => {
        failure = err;
        return null;
      });
      if (r === null || r.done === true) break;
      received.push(r.value);
    }
    assert.ok(failure instanceof CompactedError, `ended with ${String(failure)}`);
    const oldest = failure.oldestRevision;
    assert.ok(oldest > start && oldest <= last - HISTORY_REVISIONS + 1, `oldest ${oldest}`);
    assertOrdered(received, start - 1);
    const revisions = eventsOf(received).map(revisionOf);
    assert.ok(revisions.length < 600, `received ${revisions.length} of 600 events before the server stopped`);
    assert.deepEqual(revisions, range(start, start + revisions.length - 1), 'a gap-free prefix');
    assert.ok(start + revisions.length < oldest, 'what was never sent is below the oldest revision');
  });
});
