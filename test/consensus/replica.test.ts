// Proves the contract of one replica seen from its driver: what each Ready carries and when a
// sync is demanded (replies never leave before what they vouch for is durable), how proposals
// are refused, how a restart replays decided values and raises the promise to what was
// accepted, how a lagging peer is sent to a snapshot, that broken invariants and misuse
// stop the replica with an AssertionError instead of carrying on, and how a replica that starts
// without a hard state (a lost disk) recovers: it votes on nothing until every other member has
// answered and it has learned every decision through the highest instance they hold; and how a
// replica restarted on a hard state checks its vote stamp first, recovering when a peer saw a
// later vote of it (a data directory rolled back).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultConfig, type ReplicaConfig } from '../../src/consensus/config.ts';
import type { Message } from '../../src/consensus/messages.ts';
import { SplitMix32 } from '../../src/consensus/random.ts';
import type { Ready } from '../../src/consensus/ready.ts';
import { Replica } from '../../src/consensus/replica.ts';
import { BALLOT_ZERO, STAMP_ZERO, type Ballot, type LogEntry, type RecoveredState, type Value } from '../../src/consensus/types.ts';
import { EMPTY_RECOVERED_STATE } from '../../src/consensus/replica.ts';
import { AssertionError } from '../../src/protocol/assert.ts';

const enc = new TextEncoder();
const value = (s: string): Value => ({ kind: 'commands', commands: [enc.encode(s)] });
const b11: Ballot = { round: 1, replicaId: 1 };

/** A member that bootstrapped before (its hard state is on disk) and holds nothing else. */
const BOOTSTRAPPED: RecoveredState = { hardState: { promised: BALLOT_ZERO, decidedThrough: 0, recovering: false }, entries: [], snapshotThrough: 0 };

/** A replica on `recovered`; one that starts on a hard state has its start check passed (every peer answers "current"), so it votes at once. */
function replica(id: number, ids: number[], patch: Partial<ReplicaConfig> = {}, recovered: RecoveredState = BOOTSTRAPPED): Replica {
  const r = new Replica({ ...defaultConfig(id, ids), ...patch }, new SplitMix32(id), recovered);
  if (!recovered.hardState.recovering && ids.length > 1) passStartCheck(r);
  return r;
}

function passStartCheck(r: Replica): void {
  const ready = take(r);
  for (const m of ready.messages) {
    assert.equal(m.type, 'stampCheck');
    if (m.type === 'stampCheck') r.step({ type: 'stampCheckReply', from: m.to, to: m.from, nonce: m.nonce, rolledBack: false, seen: STAMP_ZERO });
  }
  assert.equal(r.status().startCheck, null);
}

/** Takes one Ready (asserting there is one) and advances. */
function take(r: Replica): Ready {
  const ready = r.ready();
  assert.ok(ready !== null, 'expected a Ready');
  r.advance();
  return ready;
}

/** Drains every Ready of every replica and delivers all messages until nothing moves. */
function settle(replicas: Map<number, Replica>): void {
  for (let round = 0; round < 100; round++) {
    const messages: Message[] = [];
    for (const r of replicas.values()) for (let ready = r.ready(); ready !== null; ready = r.ready()) { messages.push(...ready.messages); r.advance(); }
    if (messages.length === 0) return;
    for (const m of messages) replicas.get(m.to)?.step(m);
  }
  assert.fail('not settled in 100 rounds');
}

/** A group of `ids` in which replica 1 leads after a clean election. */
function groupLedBy1(ids: number[], patch: Partial<ReplicaConfig> = {}): Map<number, Replica> {
  const replicas = new Map(ids.map((id) => [id, replica(id, ids, { ...patch, electionTimeoutTicks: 10 })]));
  for (let t = 0; t < 10; t++) for (const [id, r] of replicas) if (id !== 1) r.tick();
  for (let t = 0; t < 10; t++) replicas.get(1)!.tick();
  settle(replicas);
  if (replicas.get(1)!.status().role !== 'leader') replicas.get(1)!.campaign();
  settle(replicas);
  assert.equal(replicas.get(1)!.status().role, 'leader');
  return replicas;
}

/** A follower (id 2 of 1,2,3) that no longer hears a leader, so it will promise. */
function freeFollower(): Replica {
  const r = replica(2, [1, 2, 3]);
  for (let t = 0; t < 10; t++) r.tick();
  while (r.ready() !== null) r.advance();
  return r;
}

describe('Ready: persist before send', () => {
  it('a Promise leaves in the Ready that persists the promise, and demands a sync', () => {
    const r = freeFollower();
    r.step({ type: 'prepare', from: 1, to: 2, ballot: b11, fromInstance: 1 });
    const ready = take(r);
    assert.deepEqual(ready.persist.hardState, { promised: b11, decidedThrough: 0, recovering: false, stamp: { incarnation: 0, voteSeq: 1 }, stampsSeen: [] });
    assert.equal(ready.mustSync, true);
    assert.deepEqual(ready.messages.map((m) => m.type), ['promise']);
  });

  it('an Accepted reply leaves with the entries it acknowledges, and demands a sync', () => {
    const r = freeFollower();
    r.step({ type: 'accept', from: 1, to: 2, ballot: b11, firstInstance: 1, values: [value('a'), value('b')], decidedThrough: 0 });
    const ready = take(r);
    assert.deepEqual(ready.persist.entries.map((e) => [e.instance, e.decided]), [[1, false], [2, false]]);
    assert.equal(ready.mustSync, true);
    const reply = ready.messages.find((m) => m.type === 'accepted');
    assert.ok(reply !== undefined && reply.type === 'accepted');
    assert.deepEqual([reply.firstInstance, reply.count], [1, 2]);
    assert.deepEqual(ready.decided, []);
  });

  it('learning decisions alone does not demand a sync, and hands them out in order', () => {
    const r = freeFollower();
    r.step({ type: 'accept', from: 1, to: 2, ballot: b11, firstInstance: 1, values: [value('a'), value('b')], decidedThrough: 0 });
    take(r);
    r.step({ type: 'decided', from: 1, to: 2, ballot: b11, decidedThrough: 2 });
    const ready = take(r);
    assert.equal(ready.mustSync, false);
    assert.equal(ready.persist.hardState?.decidedThrough, 2);
    assert.deepEqual(ready.decided.map((e) => e.instance), [1, 2]);
    assert.equal(r.status().appliedThrough, 2);
  });

  it('does not mark decided an entry it holds from another ballot; it asks for the value instead', () => {
    const r = freeFollower();
    r.step({ type: 'accept', from: 1, to: 2, ballot: b11, firstInstance: 1, values: [value('a')], decidedThrough: 0 });
    take(r);
    r.step({ type: 'heartbeat', from: 3, to: 2, ballot: { round: 2, replicaId: 3 }, decidedThrough: 1, seq: 1, stamps: [] });
    const ready = take(r);
    assert.deepEqual(ready.decided, []);
    assert.ok(ready.messages.some((m) => m.type === 'catchUpRequest' && m.to === 3 && m.fromInstance === 1));
  });
});

describe('proposals', () => {
  it('decides in a group of one at once', () => {
    const r = replica(1, [1]);
    for (let t = 0; t < 30 && r.status().role !== 'leader'; t++) { r.tick(); while (r.ready() !== null) r.advance(); }
    assert.equal(r.status().role, 'leader');
    assert.deepEqual(r.propose([enc.encode('x')]), { outcome: 'proposed', instance: 1 });
    assert.deepEqual(take(r).decided.map((e) => e.instance), [1]);
  });

  it('keeps leading a group of one and serves reads from its lease', () => {
    const r = replica(1, [1]);
    for (let t = 0; t < 30 && r.status().role !== 'leader'; t++) { r.tick(); while (r.ready() !== null) r.advance(); }
    assert.equal(r.status().role, 'leader');
    // Check-quorum must count the leader itself: it is the whole majority.
    for (let t = 0; t < 100; t++) { r.tick(); while (r.ready() !== null) r.advance(); }
    assert.equal(r.status().role, 'leader', 'a group of one never loses its own quorum');
    r.read(7);
    const reads = take(r).reads;
    assert.equal(reads.length, 1);
    assert.equal(reads[0]!.outcome, 'ready');
  });

  it('is refused by a follower with the leader it knows, and beyond the window', () => {
    const group = groupLedBy1([1, 2, 3], { windowInstancesMax: 2 });
    assert.deepEqual(group.get(2)!.propose([enc.encode('x')]), { outcome: 'not-leader', leaderId: 1 });
    const leader = group.get(1)!;
    assert.equal(leader.propose([enc.encode('a')]).outcome, 'proposed');
    assert.equal(leader.propose([enc.encode('b')]).outcome, 'proposed');
    assert.deepEqual(leader.propose([enc.encode('c')]), { outcome: 'window-full' });
    settle(group);
    assert.equal(leader.status().decidedThrough, 2);
    assert.equal(leader.propose([enc.encode('c')]).outcome, 'proposed');
  });

  it('merges the Accepts of proposals made between two Readies into one ranged message per peer', () => {
    const group = groupLedBy1([1, 2, 3]);
    const leader = group.get(1)!;
    for (const s of ['a', 'b', 'c']) leader.propose([enc.encode(s)]);
    const accepts = take(leader).messages.filter((m) => m.type === 'accept');
    assert.equal(accepts.length, 2);
    for (const m of accepts) assert.ok(m.type === 'accept' && m.firstInstance === 1 && m.values.length === 3);
  });

  it('refuses an empty batch as a bug', () => {
    const group = groupLedBy1([1, 2, 3]);
    assert.throws(() => group.get(1)!.propose([]), AssertionError);
  });
});

describe('reads', () => {
  it('answers from the lease on a leader whose heartbeat a majority acked, and fails on a follower', () => {
    const group = groupLedBy1([1, 2, 3]);
    group.get(1)!.read(7);
    assert.deepEqual(take(group.get(1)!).reads, [{ requestId: 7, outcome: 'ready', readThrough: 0, via: 'lease' }]);
    group.get(2)!.read(8);
    assert.deepEqual(take(group.get(2)!).reads, [{ requestId: 8, outcome: 'failed', reason: 'not-leader', leaderId: 1 }]);
  });

  it('runs a read-index round when leases are off and answers once a majority acked it', () => {
    const group = groupLedBy1([1, 2, 3], { leaseReadsEnabled: false });
    const leader = group.get(1)!;
    leader.propose([enc.encode('a')]);
    leader.read(9);
    const first = take(leader);
    assert.deepEqual(first.reads, []);
    assert.ok(first.messages.some((m) => m.type === 'heartbeat'));
    for (const m of first.messages) group.get(m.to)!.step(m);
    settle(group);
    // settle() drained the answer; ask again to see the shape of an answered round.
    leader.read(10);
    const round = take(leader);
    for (const m of round.messages) group.get(m.to)!.step(m);
    const replies: Message[] = [];
    for (const id of [2, 3]) replies.push(...take(group.get(id)!).messages);
    for (const m of replies) if (m.to === 1) leader.step(m);
    assert.deepEqual(take(leader).reads, [{ requestId: 10, outcome: 'ready', readThrough: 1, via: 'read-index' }]);
  });
});

describe('a stall (many ticks at once)', () => {
  it('ends the lease at once but neither steps the leader down nor lets a follower campaign before it read its messages', () => {
    const group = groupLedBy1([1, 2, 3]);
    const [leader, follower] = [group.get(1)!, group.get(2)!];
    const stallTicks = 5 * 10; // five election timeouts
    leader.tick(stallTicks);
    assert.equal(leader.status().leaseValid, false, 'the lease counts real time: it ran out during the stall');
    assert.equal(leader.status().role, 'leader', 'check quorum counts tick calls: no step-down before the acks queued meanwhile are read');
    follower.tick(stallTicks);
    assert.equal(follower.campaign(), false, 'a follower that stalled has not yet read the heartbeats queued during the stall');
    assert.equal(follower.status().leaderId, 1);
    settle(group);
    leader.tick();
    settle(group);
    assert.equal(leader.status().leaseValid, true, 'the next acked round renews the lease');
    assert.throws(() => leader.tick(0), AssertionError);
  });
});

describe('campaigning', () => {
  it('will not campaign while it may hold a lease it acked (after a start, or hearing a leader)', () => {
    const r = replica(2, [1, 2, 3]);
    assert.equal(r.campaign(), false);
    for (let t = 0; t < 9; t++) r.tick();
    assert.equal(r.campaign(), false);
    r.tick();
    assert.equal(r.status().role, 'follower');
    assert.equal(r.campaign(), true);
    assert.equal(r.status().role, 'pre-candidate');
    r.step({ type: 'heartbeat', from: 1, to: 2, ballot: b11, decidedThrough: 0, seq: 1, stamps: [] });
    assert.equal(r.status().role, 'follower');
    assert.equal(r.campaign(), false);
  });

  it('does not let a leader that others still hear be deposed by a pre-vote', () => {
    const group = groupLedBy1([1, 2, 3]);
    const lone = group.get(3)!;
    for (let t = 0; t < 40; t++) lone.tick(); // cut off: no heartbeats delivered
    assert.equal(lone.campaign(), true);
    settle(group);
    assert.equal(group.get(1)!.status().role, 'leader');
    assert.deepEqual(group.get(1)!.status().promised, b11);
    assert.deepEqual(lone.status().promised, b11, 'a pre-vote never raises the promise');
  });
});

describe('a leader behind the prefix it was promised', () => {
  it('asks again and steps down after two election timeouts when the promiser cannot deliver (a wiped replica\'s Promise)', () => {
    const r = replica(1, [1, 2, 3]);
    for (let t = 0; t < 10; t++) r.tick();
    assert.equal(r.campaign(), true);
    const preVote = take(r).messages.find((m) => m.type === 'preVote')!;
    assert.ok(preVote.type === 'preVote');
    r.step({ type: 'preVoteReply', from: 2, to: 1, ballot: preVote.ballot, granted: true, promised: BALLOT_ZERO });
    const prepare = take(r).messages.find((m) => m.type === 'prepare')!;
    assert.ok(prepare.type === 'prepare');
    // 2's Promise says instances 1..5 are decided, but 2 (wiped since) cannot serve them.
    r.step({ type: 'promise', from: 2, to: 1, ballot: prepare.ballot, decidedThrough: 5, entries: [], stamp: STAMP_ZERO });
    assert.equal(r.status().role, 'leader');
    const asks: number[] = [];
    let ticks = 0;
    for (; ticks < 100 && r.status().role === 'leader'; ticks++) {
      r.tick();
      for (let ready = r.ready(); ready !== null; ready = r.ready()) {
        r.advance();
        for (const m of ready.messages) {
          if (m.type === 'catchUpRequest' && m.to === 2) asks.push(ticks);
          // 3 keeps answering heartbeats, so check-quorum is not what ends this leadership.
          if (m.type === 'heartbeat' && m.to === 3) r.step({ type: 'heartbeatReply', from: 3, to: 1, ballot: m.ballot, seq: m.seq, decidedThrough: 0 });
        }
      }
    }
    assert.equal(r.status().role, 'follower');
    assert.equal(ticks, 20, 'two election timeouts');
    assert.ok(asks.length >= 5, `asked 2 again every retryTicks: ${asks.join()}`);
  });
});

describe('restart, snapshots, invariants', () => {
  it('replays decided values after a restart and promises at least every accepted ballot', () => {
    const b32: Ballot = { round: 3, replicaId: 2 };
    const r = new Replica(defaultConfig(2, [1, 2, 3]), new SplitMix32(2), {
      hardState: { promised: b11, decidedThrough: 1, recovering: false },
      entries: [
        { instance: 1, ballot: b11, value: value('a'), decided: false },
        { instance: 2, ballot: b32, value: value('b'), decided: false },
      ],
      snapshotThrough: 0,
    });
    assert.deepEqual(r.status().promised, b32);
    assert.deepEqual(take(r).decided.map((e) => e.instance), [1]);
  });

  it('refuses recovered state that claims decisions it does not hold', () => {
    assert.throws(() => new Replica(defaultConfig(2, [1, 2, 3]), new SplitMix32(2), {
      hardState: { promised: BALLOT_ZERO, decidedThrough: 3, recovering: false },
      entries: [{ instance: 1, ballot: b11, value: value('a'), decided: true }],
      snapshotThrough: 0,
    }), /recovered decidedThrough 3 but instance 2 is missing/);
  });

  it('sends a peer that asks below the snapshot to fetch one, and installs one itself', () => {
    const r = freeFollower();
    r.step({ type: 'accept', from: 1, to: 2, ballot: b11, firstInstance: 1, values: [value('a'), value('b')], decidedThrough: 2 });
    take(r);
    r.compact(2);
    r.step({ type: 'catchUpRequest', from: 3, to: 2, fromInstance: 1 });
    assert.deepEqual(take(r).messages, [{ type: 'snapshotNeeded', from: 2, to: 3, snapshotThrough: 2 }]);

    const lagging = freeFollower();
    lagging.step({ type: 'snapshotNeeded', from: 1, to: 2, snapshotThrough: 5 });
    assert.deepEqual(take(lagging).snapshotRequest, { fromReplicaId: 1, throughInstanceMin: 5 });
    lagging.installSnapshot(5);
    assert.deepEqual([lagging.status().decidedThrough, lagging.status().appliedThrough, lagging.status().snapshotThrough], [5, 5, 5]);
  });

  it('stops with an AssertionError when told a decided instance has another value', () => {
    const r = freeFollower();
    r.step({ type: 'catchUp', from: 1, to: 2, entries: [{ instance: 1, ballot: b11, value: value('a'), decided: true }], decidedThrough: 1 });
    take(r);
    assert.throws(
      () => r.step({ type: 'catchUp', from: 3, to: 2, entries: [{ instance: 1, ballot: b11, value: value('z'), decided: true }], decidedThrough: 1 }),
      (e: unknown) => e instanceof AssertionError && /decided value of instance 1 changed/.test(e.message),
    );
  });

  it('stops with an AssertionError when one ballot carries two values for an instance', () => {
    const r = freeFollower();
    r.step({ type: 'accept', from: 1, to: 2, ballot: b11, firstInstance: 1, values: [value('a')], decidedThrough: 0 });
    assert.throws(
      () => r.step({ type: 'accept', from: 1, to: 2, ballot: b11, firstInstance: 1, values: [value('b')], decidedThrough: 0 }),
      (e: unknown) => e instanceof AssertionError && /two values for instance 1/.test(e.message),
    );
  });

  it('stops on driver misuse: ready() twice, a message for someone else, compacting unapplied instances', () => {
    const r = freeFollower();
    r.step({ type: 'accept', from: 1, to: 2, ballot: b11, firstInstance: 1, values: [value('a')], decidedThrough: 1 });
    assert.ok(r.ready() !== null);
    assert.throws(() => r.ready(), /ready\(\) called again before advance\(\)/);
    r.advance();
    assert.throws(() => r.step({ type: 'decided', from: 1, to: 3, ballot: b11, decidedThrough: 1 }), AssertionError);
    assert.throws(() => r.compact(5), /compact through 5 beyond applied 1/);
  });
});

describe('recovering after a lost disk', () => {
  const b52: Ballot = { round: 5, replicaId: 2 };
  const entryAt = (instance: number, ballot: Ballot, s: string, decided = false): LogEntry => ({ instance, ballot, value: value(s), decided });

  /** A replica that starts on empty storage; returns it with the nonce of its first queries (which go to every peer). */
  function wiped(id: number, ids: number[]): { r: Replica; nonce: number } {
    const r = replica(id, ids, {}, EMPTY_RECOVERED_STATE);
    const queries = take(r).messages;
    assert.deepEqual(queries.map((m) => [m.type, m.to]), ids.filter((p) => p !== id).map((p) => ['recoveryQuery', p]));
    const first = queries[0]!;
    assert.ok(first.type === 'recoveryQuery');
    return { r, nonce: first.nonce };
  }

  function answer(r: Replica, from: number, nonce: number, state: { promised?: Ballot; decidedThrough?: number; entries?: LogEntry[] } = {}): void {
    r.step({
      type: 'recoveryReply', from, to: r.status().replicaId, nonce,
      promised: state.promised ?? BALLOT_ZERO, decidedThrough: state.decidedThrough ?? 0, entries: state.entries ?? [], recovering: false, known: STAMP_ZERO,
    });
  }

  it('votes on nothing while recovering: no pre-vote granted, no Promise, no Accepted, no heartbeat ack, no campaign', () => {
    const { r } = wiped(1, [1, 2, 3]);
    r.step({ type: 'preVote', from: 2, to: 1, ballot: { round: 1, replicaId: 2 } });
    r.step({ type: 'prepare', from: 3, to: 1, ballot: { round: 1, replicaId: 3 }, fromInstance: 1 });
    r.step({ type: 'accept', from: 2, to: 1, ballot: b52, firstInstance: 1, values: [value('a')], decidedThrough: 0 });
    r.step({ type: 'heartbeat', from: 2, to: 1, ballot: b52, decidedThrough: 0, seq: 1, stamps: [] });
    const ready = take(r);
    assert.deepEqual(ready.messages.map((m) => m.type), ['preVoteReply']);
    const reply = ready.messages[0]!;
    assert.ok(reply.type === 'preVoteReply' && !reply.granted);
    assert.deepEqual(ready.persist, { entries: [] });
    assert.equal(r.entryAt(1), undefined, 'accepted nothing');
    assert.deepEqual(r.status().promised, BALLOT_ZERO, 'promised nothing');
    assert.equal(r.status().leaderId, 2, 'it knows whom it hears');
    assert.equal(r.campaign(), false);
    for (let t = 0; t < 200; t++) {
      r.tick();
      const tickReady = r.ready();
      if (tickReady === null) continue;
      assert.ok(tickReady.messages.every((m) => m.type === 'recoveryQuery'), `only queries while recovering, got ${tickReady.messages.map((m) => m.type).join()}`);
      r.advance();
    }
    assert.equal(r.status().role, 'follower');
    assert.equal(r.status().leaderId, 0, 'a leader not heard for an election timeout is not named');
    assert.deepEqual(r.status().recovery, { peersAnswered: 0, peersTotal: 2, decidedTarget: 0 });
  });

  it('leaves recovery at once when every other member answers empty (a new cluster), and then votes', () => {
    const { r, nonce } = wiped(1, [1, 2, 3]);
    answer(r, 2, nonce);
    assert.notEqual(r.status().recovery, null);
    answer(r, 3, nonce);
    assert.equal(r.status().recovery, null);
    const ready = take(r);
    assert.deepEqual(ready.persist.hardState, { promised: BALLOT_ZERO, decidedThrough: 0, recovering: false, stamp: { incarnation: 1, voteSeq: 1 }, stampsSeen: [] });
    assert.equal(ready.mustSync, true);
    for (let t = 0; t < 10; t++) r.tick();
    r.step({ type: 'prepare', from: 2, to: 1, ballot: { round: 1, replicaId: 2 }, fromInstance: 1 });
    assert.deepEqual(take(r).messages.map((m) => m.type), ['promise']);
  });

  it('does not leave recovery on a majority of the others: it needs every other member (3 of 4 is not enough in a group of 5)', () => {
    const { r, nonce } = wiped(1, [1, 2, 3, 4, 5]);
    for (const from of [2, 3, 4]) answer(r, from, nonce);
    for (let t = 0; t < 100; t++) {
      r.tick();
      for (let ready = r.ready(); ready !== null; ready = r.ready()) {
        assert.deepEqual(ready.messages.map((m) => m.to), [5], 'asks again only the member that has not answered');
        r.advance();
      }
    }
    assert.deepEqual(r.status().recovery, { peersAnswered: 3, peersTotal: 4, decidedTarget: 0 });
    answer(r, 5, nonce);
    assert.equal(r.status().recovery, null);
  });

  it('ignores an answer to another query (an earlier incarnation of itself)', () => {
    const { r, nonce } = wiped(1, [1, 2, 3]);
    answer(r, 2, nonce + 1);
    answer(r, 3, nonce);
    assert.deepEqual(r.status().recovery, { peersAnswered: 1, peersTotal: 2, decidedTarget: 0 });
  });

  it('learns the longest decided prefix reported, takes over the highest-ballot entries above it, and promises the highest ballot reported', () => {
    const { r, nonce } = wiped(1, [1, 2, 3]);
    const b33: Ballot = { round: 3, replicaId: 3 };
    const b43: Ballot = { round: 4, replicaId: 3 };
    // 2 decided through 2 and holds 3 (accepted at 5.2) and 4 (accepted at 3.3); 3 is behind,
    // with a stale value at 2 and a newer one at 4.
    answer(r, 2, nonce, { promised: b52, decidedThrough: 2, entries: [entryAt(3, b52, 'c'), entryAt(4, b33, 'old')] });
    answer(r, 3, nonce, { promised: b43, decidedThrough: 1, entries: [entryAt(2, b11, 'stale'), entryAt(4, b43, 'new')] });
    assert.deepEqual(r.status().recovery, { peersAnswered: 2, peersTotal: 2, decidedTarget: 2 });
    const pull = take(r).messages.find((m) => m.type === 'catchUpRequest');
    assert.ok(pull !== undefined && pull.to === 2 && pull.type === 'catchUpRequest' && pull.fromInstance === 1, 'pulls from whoever reported the longest decided prefix');
    r.step({ type: 'catchUp', from: 2, to: 1, entries: [entryAt(1, b52, 'a', true)], decidedThrough: 2 });
    const learned = take(r);
    assert.deepEqual(learned.decided.map((e) => e.instance), [1], 'a learner applies what it learns');
    assert.equal(learned.persist.hardState?.recovering, true, 'what it persists meanwhile says it is still recovering');
    assert.notEqual(r.status().recovery, null, 'instance 2 is not learned yet');
    r.step({ type: 'catchUp', from: 2, to: 1, entries: [entryAt(2, b52, 'b', true)], decidedThrough: 2 });
    assert.equal(r.status().recovery, null);
    assert.deepEqual(r.status().promised, b52);
    const done = take(r);
    assert.equal(done.mustSync, true);
    assert.deepEqual(done.persist.hardState, { promised: b52, decidedThrough: 2, recovering: false, stamp: { incarnation: 1, voteSeq: 1 }, stampsSeen: [] });
    assert.deepEqual(done.persist.entries.map((e) => [e.instance, e.ballot, e.decided]), [[2, b52, true], [3, b52, false], [4, b43, false]]);
    assert.deepEqual(r.entryAt(4)?.value, value('new'), 'the value accepted at the highest ballot');
    // It reports them as any acceptor would, and refuses below its promise.
    r.step({ type: 'prepare', from: 3, to: 1, ballot: { round: 4, replicaId: 3 }, fromInstance: 3 });
    assert.deepEqual(take(r).messages.map((m) => m.type), ['nack']);
    for (let t = 0; t < 10; t++) r.tick();
    r.step({ type: 'prepare', from: 3, to: 1, ballot: { round: 6, replicaId: 3 }, fromInstance: 3 });
    const promise = take(r).messages[0]!;
    assert.ok(promise.type === 'promise');
    assert.deepEqual(promise.entries.map((e) => [e.instance, e.ballot]), [[3, b52], [4, b43]]);
  });

  it('does not chase a decided prefix that keeps growing: only each peer\'s first answer counts', () => {
    const { r, nonce } = wiped(1, [1, 2, 3]);
    answer(r, 2, nonce, { promised: b52, decidedThrough: 1 });
    answer(r, 2, nonce, { promised: b52, decidedThrough: 9 });
    answer(r, 3, nonce, { promised: b52, decidedThrough: 0 });
    assert.deepEqual(r.status().recovery, { peersAnswered: 2, peersTotal: 2, decidedTarget: 1 });
    r.step({ type: 'catchUp', from: 2, to: 1, entries: [entryAt(1, b52, 'a', true)], decidedThrough: 9 });
    assert.equal(r.status().recovery, null);
  });

  it('counts a snapshot installed meanwhile as decisions learned', () => {
    const { r, nonce } = wiped(1, [1, 2, 3]);
    answer(r, 2, nonce, { promised: b52, decidedThrough: 40 });
    answer(r, 3, nonce, { promised: b52, decidedThrough: 40 });
    take(r);
    r.step({ type: 'snapshotNeeded', from: 2, to: 1, snapshotThrough: 40 });
    assert.deepEqual(take(r).snapshotRequest, { fromReplicaId: 2, throughInstanceMin: 40 });
    r.installSnapshot(40);
    assert.equal(r.status().recovery, null);
  });

  it('recovers again after a restart in the middle of a recovery', () => {
    const { r, nonce } = wiped(1, [1, 2, 3]);
    answer(r, 2, nonce, { decidedThrough: 2 });
    answer(r, 3, nonce, { decidedThrough: 2 });
    take(r);
    r.step({ type: 'catchUp', from: 2, to: 1, entries: [entryAt(1, b52, 'a', true)], decidedThrough: 2 });
    const persisted = take(r).persist;
    assert.ok(persisted.hardState !== undefined);
    const restarted = new Replica(defaultConfig(1, [1, 2, 3]), new SplitMix32(9), { hardState: persisted.hardState, entries: persisted.entries, snapshotThrough: 0 });
    assert.deepEqual(restarted.status().recovery, { peersAnswered: 0, peersTotal: 2, decidedTarget: 0 });
    assert.equal(restarted.status().decidedThrough, 1);
  });

  it('answers a recovering peer with its promise, its decided prefix and every entry above it, recovering or not', () => {
    const group = groupLedBy1([1, 2, 3]);
    const leader = group.get(1)!;
    leader.propose([enc.encode('a')]);
    settle(group);
    leader.propose([enc.encode('b')]);
    take(leader); // the Accept for b is lost
    leader.step({ type: 'recoveryQuery', from: 3, to: 1, nonce: 7 });
    const reply = take(leader).messages.find((m) => m.type === 'recoveryReply');
    assert.ok(reply !== undefined && reply.type === 'recoveryReply');
    assert.deepEqual([reply.to, reply.nonce, reply.promised, reply.decidedThrough, reply.recovering], [3, 7, b11, 1, false]);
    assert.deepEqual(reply.entries.map((e) => [e.instance, e.ballot, e.decided]), [[2, b11, false]]);
    const { r } = wiped(2, [1, 2, 3]);
    r.step({ type: 'recoveryQuery', from: 3, to: 2, nonce: 8 });
    const fromRecovering = take(r).messages[0]!;
    assert.ok(fromRecovering.type === 'recoveryReply' && fromRecovering.recovering && fromRecovering.nonce === 8);
  });

  it('never recovers in a group of one: there is no one to ask, and nothing to protect', () => {
    const r = replica(1, [1], {}, EMPTY_RECOVERED_STATE);
    assert.equal(r.status().recovery, null);
    for (let t = 0; t < 30 && r.status().role !== 'leader'; t++) { r.tick(); while (r.ready() !== null) r.advance(); }
    assert.equal(r.status().role, 'leader');
  });
});

describe('the start check (a data directory rolled back)', () => {
  const stamped = (voteSeq: number): RecoveredState => ({
    hardState: { promised: b11, decidedThrough: 0, recovering: false, stamp: { incarnation: 1, voteSeq }, stampsSeen: [] },
    entries: [],
    snapshotThrough: 0,
  });

  /** A replica restarted on `recovered`; returns it with the nonce of its stamp checks (which go to every peer). */
  function restarted(recovered: RecoveredState): { r: Replica; nonce: number } {
    const r = new Replica({ ...defaultConfig(1, [1, 2, 3]), electionTimeoutTicks: 10 }, new SplitMix32(1), recovered);
    const checks = take(r).messages;
    assert.deepEqual(checks.map((m) => [m.type, m.to]), [['stampCheck', 2], ['stampCheck', 3]]);
    const first = checks[0]!;
    assert.ok(first.type === 'stampCheck');
    assert.deepEqual(first.stamp, { incarnation: 1, voteSeq: 7 });
    return { r, nonce: first.nonce };
  }

  it('votes on nothing until every member confirmed, or a majority did and an election timeout went by', () => {
    const { r, nonce } = restarted(stamped(7));
    r.step({ type: 'stampCheckReply', from: 2, to: 1, nonce, rolledBack: false, seen: { incarnation: 1, voteSeq: 7 } });
    r.step({ type: 'prepare', from: 2, to: 1, ballot: { round: 2, replicaId: 2 }, fromInstance: 1 });
    r.step({ type: 'accept', from: 2, to: 1, ballot: { round: 2, replicaId: 2 }, firstInstance: 1, values: [value('a')], decidedThrough: 0 });
    assert.equal(r.ready(), null, 'no Promise, no Accepted (nothing at all) before the check passed');
    assert.deepEqual(r.status().startCheck, { confirmed: 2, needed: 2 });
    for (let t = 0; t < 10; t++) r.tick();
    assert.equal(r.status().startCheck, null, 'a majority and an election timeout: passed');
    r.step({ type: 'accept', from: 2, to: 1, ballot: { round: 2, replicaId: 2 }, firstInstance: 1, values: [value('a')], decidedThrough: 0 });
    const accepted = take(r).messages.find((m) => m.type === 'accepted');
    assert.ok(accepted !== undefined && accepted.type === 'accepted');
    assert.deepEqual(accepted.stamp, { incarnation: 1, voteSeq: 8 }, 'the vote is stamped one above the restored stamp');
  });

  it('with startCheckEveryMember, a majority is never enough: it waits for the silent member however long', () => {
    const r = new Replica({ ...defaultConfig(1, [1, 2, 3]), electionTimeoutTicks: 10, startCheckEveryMember: true }, new SplitMix32(1), stamped(7));
    const check = take(r).messages.find((m) => m.type === 'stampCheck');
    assert.ok(check !== undefined && check.type === 'stampCheck');
    r.step({ type: 'stampCheckReply', from: 2, to: 1, nonce: check.nonce, rolledBack: false, seen: { incarnation: 1, voteSeq: 7 } });
    for (let t = 0; t < 200; t++) r.tick();
    assert.deepEqual(r.status().startCheck, { confirmed: 2, needed: 2 }, 'still checking after 20 election timeouts');
    r.step({ type: 'accept', from: 2, to: 1, ballot: { round: 2, replicaId: 2 }, firstInstance: 1, values: [value('a')], decidedThrough: 0 });
    assert.equal(take(r).messages.find((m) => m.type === 'accepted'), undefined, 'no Accepted while 3 has not answered');
    r.step({ type: 'stampCheckReply', from: 3, to: 1, nonce: check.nonce, rolledBack: false, seen: { incarnation: 1, voteSeq: 7 } });
    assert.equal(r.status().startCheck, null, 'every member confirmed: passed');
  });

  it('recovers, durably, when a peer saw a later vote; and ends the recovery in a new incarnation', () => {
    const { r, nonce } = restarted(stamped(7));
    r.step({ type: 'stampCheckReply', from: 3, to: 1, nonce, rolledBack: true, seen: { incarnation: 1, voteSeq: 9 } });
    const ready = take(r);
    assert.deepEqual(ready.rollback, { reportedBy: 3, restored: { incarnation: 1, voteSeq: 7 }, seen: { incarnation: 1, voteSeq: 9 } });
    assert.equal(ready.persist.hardState?.recovering, true);
    assert.equal(ready.mustSync, true);
    const query = ready.messages.find((m) => m.type === 'recoveryQuery');
    assert.ok(query !== undefined && query.type === 'recoveryQuery');
    assert.notEqual(r.status().recovery, null);
    for (const from of [2, 3]) {
      r.step({ type: 'recoveryReply', from, to: 1, nonce: query.nonce, promised: b11, decidedThrough: 0, entries: [], recovering: false, known: { incarnation: from === 3 ? 1 : 0, voteSeq: 9 } });
    }
    assert.equal(r.status().recovery, null);
    assert.deepEqual(take(r).persist.hardState?.stamp, { incarnation: 2, voteSeq: 1 }, 'one above the highest incarnation any member knew');
  });

  it('answers "rolled back" to an asker whose stamp is below one it saw, and learns stamps from heartbeats', () => {
    const r = replica(2, [1, 2, 3]);
    r.step({ type: 'heartbeat', from: 1, to: 2, ballot: b11, decidedThrough: 0, seq: 1, stamps: [{ replicaId: 1, incarnation: 1, voteSeq: 5 }, { replicaId: 3, incarnation: 1, voteSeq: 40 }] });
    r.step({ type: 'stampCheck', from: 3, to: 2, nonce: 77, stamp: { incarnation: 1, voteSeq: 39 } });
    r.step({ type: 'stampCheck', from: 1, to: 2, nonce: 78, stamp: { incarnation: 1, voteSeq: 5 } });
    const replies = take(r).messages.filter((m) => m.type === 'stampCheckReply');
    assert.deepEqual(replies.map((m) => m.type === 'stampCheckReply' && [m.to, m.rolledBack]), [[3, true], [1, false]]);
  });

  it('recovers when the leader\'s heartbeat shows a later stamp of its own', () => {
    const r = replica(2, [1, 2, 3]);
    r.step({ type: 'heartbeat', from: 1, to: 2, ballot: b11, decidedThrough: 0, seq: 1, stamps: [{ replicaId: 2, incarnation: 0, voteSeq: 3 }] });
    const ready = take(r);
    assert.equal(ready.rollback?.reportedBy, 1);
    assert.ok(!ready.messages.some((m) => m.type === 'heartbeatReply'), 'no ack: it recovers');
    assert.notEqual(r.status().recovery, null);
  });
});
