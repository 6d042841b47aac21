// Proves how the Global client rides out a leader failover and an outage, against scripted
// fake Global servers (real grpc-js on 127.0.0.1) with a fake clock and seeded random, so
// every delay is exact and no test sleeps:
// - a follower that keeps pointing NOT_LEADER at a dead leader does not use up the call: the
//   dead address is dialled again only after its own backoff (gaps asserted), the call waits
//   its backoff on the live follower, and once the follower names the new leader the call is
//   answered there, with its one WriteId applied once;
// - with every replica down, a call waits (each replica redialled only after its backoff)
//   and fails at its deadline, not before, with UnavailableError naming what failed.
// The pure parts (the replica directory, the blob retry budget) are tested at the end.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { GlobalClient, type GlobalClientConfig } from '../../src/local/client/client.ts';
import { ReplicaDirectory } from '../../src/local/client/replica-directory.ts';
import { RetryBudget, type ReplicaChooser } from '../../src/local/client/retry.ts';
import { NotLeaderError, UnavailableError } from '../../src/protocol/errors.ts';
import type { ClientRequest__Output } from '../../src/protocol/generated/dstore/v1/ClientRequest.ts';
import { FakeClock, SeededRandom } from './fake-clock.ts';
import { errorResponse, FakeGlobal, waitUntil } from './fake-global.ts';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const BACKOFF = { backoffInitialMs: 100, backoffMaxMs: 400 } as const;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(replicaId: number): Promise<FakeGlobal> {
  const s = await FakeGlobal.start(replicaId);
  cleanups.push(() => s.stop());
  return s;
}

/** The address of a replica that is down: its port refuses connections. */
async function deadAddress(): Promise<string> {
  const s = await FakeGlobal.start(9);
  await s.stop();
  return s.address;
}

function client(config: GlobalClientConfig): GlobalClient {
  const c = new GlobalClient(config);
  cleanups.push(() => c.close());
  return c;
}

function writeIdOf(r: ClientRequest__Output): string {
  return `${r.set?.writeId?.clientId}/${r.set?.writeId?.requestId}`;
}

/** Fake-clock times at which the client started connecting to each address. */
function recordDials(c: GlobalClient, clock: FakeClock): Map<string, number[]> {
  const dials = new Map<string, number[]>();
  c.onStatus((s) => {
    if (s.state !== 'connecting' || s.address === null) return;
    dials.set(s.address, [...(dials.get(s.address) ?? []), clock.nowMs()]);
  });
  return dials;
}

/**
 * Asserts that each redial of one address waited at least that address's backoff: the i-th
 * gap is at least half the i-th bound (the backoff draws from [bound/2, bound)).
 */
function assertBackedOff(times: readonly number[], what: string): void {
  for (let i = 1; i < times.length; i++) {
    const boundMs = Math.min(BACKOFF.backoffMaxMs, BACKOFF.backoffInitialMs * 2 ** (i - 1));
    const gapMs = times[i]! - times[i - 1]!;
    assert.ok(gapMs >= boundMs / 2, `${what}: dial ${i + 1} came ${gapMs} ms after the previous one, under its backoff (>= ${boundMs / 2} ms); dials at ${times.join(', ')}`);
  }
}

/**
 * Fires the client's timers in time order until `done()` or until `untilMs` (fake time),
 * waiting for real I/O between steps. Never moves the clock past `untilMs`.
 */
async function runClockUntil(clock: FakeClock, untilMs: number, done: () => boolean): Promise<void> {
  for (;;) {
    await waitUntil(() => done() || clock.pending(true).length > 0, 'a client timer or the outcome');
    if (done()) return;
    const nextMs = Math.min(...clock.pending(true));
    const leftMs = untilMs - clock.nowMs();
    if (nextMs > leftMs) {
      clock.advance(leftMs);
      return;
    }
    clock.advance(nextMs);
  }
}

describe('client failover: a follower pointing at a dead leader', () => {
  it('backs off instead of spending the call on the dead address, then finds the new leader', async () => {
    const dead = await deadAddress();
    const follower = await server(2);
    const leader = await server(3);
    let leaderAddress = dead; // what the follower believes until it hears of the election
    follower.status = { ...follower.status, isLeader: false, leaderId: 1, leaderAddress: dead };
    follower.onRequest = (r) => (r.body === 'status' ? follower.answer(r) : errorResponse(r.id, new NotLeaderError('replica 2 is not the leader', leaderAddress)));
    const clock = new FakeClock();
    const c = client({ addresses: [dead, follower.address], clock, random: new SeededRandom(11), ...BACKOFF });
    const dials = recordDials(c, clock);
    const startedAtMs = clock.nowMs();

    let outcome: unknown = null;
    c.set('k', text('v')).then((r) => (outcome = r), (err: unknown) => (outcome = err));
    await runClockUntil(clock, startedAtMs + 2000, () => outcome !== null);
    assert.ok(outcome === null, 'two seconds of stale hints did not end the call');
    const outcomeNow = (): unknown => outcome; // read again later: the call settles meanwhile
    const deadDials = dials.get(dead) ?? [];
    assert.ok(deadDials.length >= 2, `the dead address was tried again once its backoff ran out: ${deadDials.join(', ')}`);
    assertBackedOff(deadDials, dead);
    const atFollower = follower.userRequests();
    // 2 s of resends at least 50, 100, 200, 200, ... ms apart: at most 11, plus one after each dial to the dead address.
    assert.ok(atFollower.length <= 11 + deadDials.length, `${atFollower.length} resends to the follower in 2 s: a spin`);
    assert.equal(c.connectionStatus.state, 'ready');
    assert.equal(c.connectionStatus.address, follower.address, 'the client stays on the live follower');

    // The replicas elected replica 3; the follower now says so.
    leaderAddress = leader.address;
    follower.status = { ...follower.status, leaderId: 3, leaderAddress: leader.address };
    const electedAtMs = clock.nowMs();
    await runClockUntil(clock, electedAtMs + 1000, () => outcome !== null);
    const result = outcomeNow();
    assert.ok(!(result instanceof Error), `the call failed: ${String(result)}`);
    assert.equal((result as { replicaId: number } | null)?.replicaId, 3, 'answered by the new leader');
    assert.ok(clock.nowMs() - electedAtMs <= BACKOFF.backoffMaxMs, 'within one backoff of the election');
    // The stale hints held up the session's opening write (a txn); then the set followed.
    const opens = [...atFollower, ...leader.userRequests()].filter((r) => r.body === 'txn').map((r) => `${r.txn?.writeId?.clientId}/${r.txn?.writeId?.requestId}`);
    assert.equal(new Set(opens).size, 1, 'the same WriteId throughout');
    const [atLeader] = leader.userRequests().filter((r) => r.body === 'set');
    assert.equal(leader.applied.get(writeIdOf(atLeader!)), 1);
  });

  it('follows a hint at once only once in a row: two replicas naming each other cannot bounce a call without pause', async () => {
    const a = await server(1);
    const b = await server(2);
    const clock = new FakeClock();
    const sentAtMs: number[] = [];
    for (const [s, other] of [[a, b], [b, a]] as const) {
      s.status = { ...s.status, isLeader: false, leaderId: 0, leaderAddress: '' };
      s.onRequest = (r) => {
        if (r.body === 'status') return s.answer(r);
        sentAtMs.push(clock.nowMs());
        return errorResponse(r.id, new NotLeaderError('confused', other.address));
      };
    }
    const c = client({ addresses: [a.address, b.address], clock, random: new SeededRandom(5), deadlineMs: 1000, ...BACKOFF });
    let outcome: unknown = null;
    c.get('k').then((r) => (outcome = r), (err: unknown) => (outcome = err));
    await runClockUntil(clock, clock.nowMs() + 2000, () => outcome !== null);
    assert.ok(outcome instanceof UnavailableError, String(outcome));
    assert.match(outcome.message, /no answer within its 1000 ms deadline/);
    // A send and its one redirect share an instant; every further send waited a backoff.
    const perInstant = new Map<number, number>();
    for (const t of sentAtMs) perInstant.set(t, (perInstant.get(t) ?? 0) + 1);
    assert.ok(perInstant.size >= 3, `resent after backoffs: sends at ${sentAtMs.join(', ')}`);
    assert.ok(Math.max(...perInstant.values()) <= 2, `more than one redirect without a pause: sends at ${sentAtMs.join(', ')}`);
  });
});

describe('client failover: every replica down', () => {
  it('waits, redialling each replica only after its backoff, and fails at its deadline with UnavailableError', async () => {
    const addresses = [await deadAddress(), await deadAddress(), await deadAddress()];
    const clock = new FakeClock();
    const c = client({ addresses, clock, random: new SeededRandom(9), deadlineMs: 3000, ...BACKOFF });
    const dials = recordDials(c, clock);
    const startedAtMs = clock.nowMs();
    let outcome: unknown = null;
    c.get('k').then((r) => (outcome = r), (err: unknown) => (outcome = err));

    await runClockUntil(clock, startedAtMs + 2999, () => outcome !== null);
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(outcome === null, 'still waiting 1 ms before the deadline');
    const outcomeNow = (): unknown => outcome; // read again later: the call settles meanwhile
    await runClockUntil(clock, startedAtMs + 3000, () => outcomeNow() !== null);
    await waitUntil(() => outcomeNow() !== null, 'the deadline error');

    const error = outcomeNow();
    assert.ok(error instanceof UnavailableError, String(error));
    assert.match(error.message, /^get "k": no answer within its 3000 ms deadline \(\d+ attempts\); last error from 127\.0\.0\.1:\d+: UNAVAILABLE: cannot reach Global replica/);
    for (const address of addresses) {
      const times = dials.get(address) ?? [];
      assert.ok(times.length >= 2, `${address} was tried more than once: ${times.join(', ')}`);
      assertBackedOff(times, address);
    }
  });
});

describe('ReplicaDirectory', () => {
  const zero = { next: () => 0 }; // every delay is bound/2: 50, 100, 200, 200, ...
  const DOWN = new UnavailableError('down', { reason: 'connection-refused' });

  it('backs off a failed replica on its own schedule; an answer makes it healthy again', () => {
    const d = new ReplicaDirectory(['a', 'b'], BACKOFF, zero);
    d.noteFailure('a', 1000, DOWN);
    assert.equal(d.isBackingOff('a', 1049), true);
    assert.equal(d.isBackingOff('a', 1050), false);
    assert.equal(d.isBackingOff('b', 1000), false, 'another replica is not delayed');
    d.noteFailure('a', 1050, DOWN);
    assert.equal(d.isBackingOff('a', 1149), true, 'the second failure backs off for 100 ms');
    d.noteHealthy('a');
    assert.equal(d.isBackingOff('a', 1050), false);
    d.noteFailure('a', 2000, DOWN);
    assert.equal(d.isBackingOff('a', 2050), false, 'from the initial delay again');
    assert.equal(d.isBackingOff('unknown', 0), false);
  });

  it('lists the failures only while every replica failed and none answered since', () => {
    const d = new ReplicaDirectory(['a', 'b'], BACKOFF, zero);
    assert.equal(d.failures(), null, 'never tried');
    d.noteFailure('a', 1000, DOWN);
    assert.equal(d.failures(), null, 'b was never tried');
    d.noteFailure('b', 1000, DOWN);
    assert.deepEqual(d.failures(), [['a', DOWN], ['b', DOWN]]);
    d.noteHealthy('b');
    assert.equal(d.failures(), null, 'b answered');
    d.noteFailure('b', 1100, null);
    assert.equal(d.failures(), null, "b's session broke: it was reachable");
    assert.equal(d.isBackingOff('b', 1100), true, 'backing off all the same');
  });

  it('plans the next dial: the next replica not backing off, else the first whose backoff ends', () => {
    const d = new ReplicaDirectory(['a', 'b', 'c'], BACKOFF, zero);
    d.noteFailure('b', 1000, DOWN); // until 1050
    assert.deepEqual(d.nextAfter('a', 1000), { address: 'c', atMs: 1000 }, 'skips b');
    d.noteFailure('c', 1000, DOWN); // until 1050
    d.noteFailure('a', 1010, DOWN); // until 1060
    assert.deepEqual(d.nextAfter('a', 1020), { address: 'b', atMs: 1050 }, 'all backing off: the earliest, round-robin order on ties');
    d.add('d');
    assert.deepEqual(d.addresses, ['a', 'b', 'c', 'd']);
    assert.deepEqual(d.nextAfter('a', 1020), { address: 'd', atMs: 1020 });
    assert.equal(d.after('d'), 'a');
  });
});

describe('RetryBudget (blob transfers)', () => {
  const chooser = (backingOff: readonly string[]): ReplicaChooser => ({
    addressAfter: (a) => (a === 'a' ? 'b' : 'a'),
    isBackingOff: (a) => backingOff.includes(a),
  });

  it('follows a hint to a live replica at once, but not twice in a row, and never to one backing off', () => {
    const clock = new FakeClock();
    const budget = new RetryBudget('getBlob x', { ...BACKOFF, retriesMax: null }, clock, { next: () => 0 }, clock.nowMs() + 10_000, () => 'a, b');
    const hintToB = new NotLeaderError('not leader', 'b');
    assert.deepEqual(budget.afterFailure(hintToB, 'a', chooser([])), { address: 'b', delayMs: 0 });
    assert.deepEqual(budget.afterFailure(new NotLeaderError('not leader', 'a'), 'b', chooser([])), { address: 'a', delayMs: 50 }, 'a second redirect waits');
    assert.deepEqual(budget.afterFailure(hintToB, 'a', chooser([])), { address: 'b', delayMs: 0 }, 'after a backoff, at once again');
    assert.deepEqual(budget.afterFailure(hintToB, 'a', chooser(['b'])), { address: 'b', delayMs: 100 }, 'b backs off: wait, then the next replica');
  });

  it('is bounded by its deadline, not by a count, unless retriesMax is set', () => {
    const clock = new FakeClock();
    const unavailable = new UnavailableError('connection refused');
    const byTime = new RetryBudget('getBlob x', { ...BACKOFF, retriesMax: null }, clock, { next: () => 0 }, clock.nowMs() + 3000, () => 'a, b');
    let retries = 0;
    assert.throws(() => {
      for (;;) {
        clock.advance(byTime.afterFailure(unavailable, 'a', chooser([])).delayMs);
        retries++;
      }
    }, (err: unknown) => err instanceof UnavailableError && /deadline reached after/.test(err.message));
    assert.equal(retries, 16, 'delays of 50 + 100 + 14 x 200 ms end before 3 s');
    const byCount = new RetryBudget('getBlob x', { ...BACKOFF, retriesMax: 2 }, clock, { next: () => 0 }, clock.nowMs() + 3000, () => 'a, b');
    byCount.afterFailure(unavailable, 'a', chooser([]));
    byCount.afterFailure(unavailable, 'a', chooser([]));
    assert.throws(() => byCount.afterFailure(unavailable, 'a', chooser([])), /gave up after 3 attempts/);
  });
});
