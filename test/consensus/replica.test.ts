// Proves the contract of one replica seen from its driver: what each Ready carries and when a
// sync is demanded (replies never leave before what they vouch for is durable), how proposals
// are refused, how a restart replays decided values and raises the promise to what was
// accepted, how a lagging peer is sent to a snapshot, and that broken invariants and misuse
// stop the replica with an AssertionError instead of carrying on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultConfig, type ReplicaConfig } from '../../src/consensus/config.ts';
import type { Message } from '../../src/consensus/messages.ts';
import { SplitMix32 } from '../../src/consensus/random.ts';
import type { Ready } from '../../src/consensus/ready.ts';
import { Replica } from '../../src/consensus/replica.ts';
import { BALLOT_ZERO, type Ballot, type Value } from '../../src/consensus/types.ts';
import { AssertionError } from '../../src/protocol/assert.ts';

const enc = new TextEncoder();
const value = (s: string): Value => ({ kind: 'commands', commands: [enc.encode(s)] });
const b11: Ballot = { round: 1, replicaId: 1 };

function replica(id: number, ids: number[], patch: Partial<ReplicaConfig> = {}): Replica {
  return new Replica({ ...defaultConfig(id, ids), ...patch }, new SplitMix32(id));
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
    assert.deepEqual(ready.persist.hardState, { promised: b11, decidedThrough: 0 });
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
    r.step({ type: 'heartbeat', from: 3, to: 2, ballot: { round: 2, replicaId: 3 }, decidedThrough: 1, seq: 1 });
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
    r.step({ type: 'heartbeat', from: 1, to: 2, ballot: b11, decidedThrough: 0, seq: 1 });
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

describe('restart, snapshots, invariants', () => {
  it('replays decided values after a restart and promises at least every accepted ballot', () => {
    const b32: Ballot = { round: 3, replicaId: 2 };
    const r = new Replica(defaultConfig(2, [1, 2, 3]), new SplitMix32(2), {
      hardState: { promised: b11, decidedThrough: 1 },
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
      hardState: { promised: BALLOT_ZERO, decidedThrough: 3 },
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
