// Proves the Subscribe hub's contract in one thread, with a real state machine as the
// history, a fake clock for the shared progress tick and a fake call whose flow control the
// test drives: whole revisions in ascending order with no gap or repeat across the catch-up
// to live boundary, consecutive revisions batched within the message limits, nothing
// written while the call asks to wait (write() false, or buffered bytes at the limit),
// COMPACTED (with the oldest revision) for a start too old, a stalled subscriber the history
// has passed, and a subscriber behind an installed snapshot; progress at least every 100 ms
// when idle, covering revisions a prefix filtered out; waiting for a revision not applied
// yet; UNAVAILABLE for everyone on close, with the timer gone.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { status as GrpcCode } from '@grpc/grpc-js';
import { OLDEST_REVISION_METADATA, type GrpcErrorLike } from '../../src/protocol/grpc-status.ts';
import type { SubscribeResponse } from '../../src/protocol/generated/dstore/v1/SubscribeResponse.ts';
import { decodeSnapshot, encodeSnapshot } from '../../src/global/state/snapshot.ts';
import { StateMachine, STATE_MACHINE_DEFAULTS } from '../../src/global/state/state-machine.ts';
import type { Command } from '../../src/global/state/types.ts';
import { PUMP_TURN_BYTES_MAX, SUBSCRIPTION_HUB_DEFAULTS, SubscriptionHub, type SubscribeCall, type SubscriptionHubConfig } from '../../src/global/server/subscriptions.ts';
import { FakeClock } from '../local/fake-clock.ts';

const put = (key: string): Command => ({
  writeId: null,
  txn: { compares: [], success: [{ kind: 'put', key, value: { kind: 'inline', bytes: new TextEncoder().encode(key) } }], failure: [] },
});
const del = (key: string): Command => ({ writeId: null, txn: { compares: [], success: [{ kind: 'delete', key }], failure: [] } });
/** One revision writing every key. */
const multiPut = (...keys: string[]): Command => ({ ...put(keys[0]!), txn: { compares: [], success: keys.map((k) => put(k).txn.success[0]!), failure: [] } });

/** A call whose writes the test releases: write() is false once `capacity` are unreleased. */
class FakeCall extends EventEmitter {
  readonly written: SubscribeResponse[] = [];
  error: GrpcErrorLike | null = null;
  private readonly pending: (() => void)[] = [];
  private owesDrain = false;

  constructor(
    readonly request: { fromRevision: number; prefix: string },
    private readonly capacity = Infinity,
    /** Release every write at once (a fast client). */
    private readonly autoRelease = true,
  ) {
    super();
    this.on('error', (err: GrpcErrorLike) => {
      assert.equal(this.error, null, 'one status per call');
      this.error = err;
    });
  }

  write(message: SubscribeResponse, callback: () => void): boolean {
    assert.equal(this.error, null, 'no write after the status');
    this.written.push(message);
    if (this.autoRelease) {
      queueMicrotask(callback);
      return true;
    }
    this.pending.push(callback);
    const more = this.pending.length < this.capacity;
    if (!more) this.owesDrain = true;
    return more;
  }

  /** Hands `n` writes to "HTTP/2"; emits 'drain' once below capacity if a write said false. */
  release(n = Infinity): void {
    for (const cb of this.pending.splice(0, n)) cb();
    if (this.owesDrain && this.pending.length < this.capacity) {
      this.owesDrain = false;
      this.emit('drain');
    }
  }

  /** Every message so far as [revision, kind, event mod revisions and keys]. */
  get messages(): { revision: number; kind: 'events' | 'progress'; events: { rev: number; key: string; type: string }[] }[] {
    return this.written.map((m) => ({
      revision: Number(m.revision),
      kind: m.events ? 'events' : 'progress',
      events: (m.events?.events ?? []).map((e) => ({ rev: Number(e.kv?.modRevision), key: e.kv?.key ?? '', type: String(e.type) })),
    }));
  }

  get eventRevisions(): number[] {
    return this.messages.flatMap((m) => m.events.map((e) => e.rev));
  }
}

class Setup {
  sm: StateMachine;
  readonly clock = new FakeClock();
  readonly hub: SubscriptionHub;

  /** Whether the replica follows a live leader; idle progress stops while false. */
  current = true;

  constructor(historyMax = 1000, config: Partial<SubscriptionHubConfig> = {}) {
    this.sm = new StateMachine({ ...STATE_MACHINE_DEFAULTS, historyRevisionsMax: historyMax });
    this.hub = new SubscriptionHub(() => this.sm, this.clock, 7, { ...SUBSCRIPTION_HUB_DEFAULTS, ...config }, () => this.current);
  }

  /** Applies one instance and tells the hub, as the node's applied listener does. */
  apply(...commands: Command[]): void {
    this.sm.applyInstance(this.sm.appliedInstance + 1, commands);
    this.hub.applied(this.sm.revision);
  }

  /** `n` revisions, one per instance, of keys `${prefix}${i}`. */
  puts(n: number, prefix = 'k/'): void {
    for (let i = 0; i < n; i++) this.apply(put(`${prefix}${this.sm.revision + 1}`));
  }

  subscribe(fromRevision: number, prefix = '', capacity = Infinity, autoRelease = true): FakeCall {
    const call = new FakeCall({ fromRevision, prefix }, capacity, autoRelease);
    this.hub.subscribe(call as unknown as SubscribeCall);
    return call;
  }
}

/** Lets queued microtasks (the hub's flush, write callbacks) run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

function assertOrdered(call: FakeCall): void {
  let last = 0;
  for (const m of call.messages) {
    assert.ok(m.revision >= last, `message revision ${m.revision} after ${last}`);
    for (const e of m.events) assert.ok(e.rev > last && e.rev <= m.revision, `event of revision ${e.rev} in a message covering (${last}, ${m.revision}]`);
    last = m.revision;
  }
}

describe('subscription hub: order, batching and flow control', () => {
  it('catches up from history in whole revisions within the message limits, then follows live without a gap', async () => {
    const s = new Setup(1000, { revisionsPerMessageMax: 4, eventsPerMessageMax: 5 });
    s.puts(3);
    s.apply(multiPut('m/a', 'm/b', 'm/c')); // revision 4: three events, never split
    s.puts(6); // revisions 5..10
    const call = s.subscribe(2);
    assert.deepEqual(call.eventRevisions, [2, 3, 4, 4, 4, 5, 6, 7, 8, 9, 10]);
    for (const m of call.messages) {
      assert.equal(m.kind, 'events');
      assert.ok(new Set(m.events.map((e) => e.rev)).size <= 4, 'at most revisionsPerMessageMax revisions per message');
      assert.equal(m.revision, m.events.at(-1)!.rev, 'a message covers through its last revision');
    }
    // Three instances applied in one turn go out as one message.
    const before = call.written.length;
    s.puts(3);
    assert.equal(call.written.length, before, 'nothing is written inside the apply loop');
    await settle();
    assert.equal(call.written.length, before + 1);
    assert.deepEqual(call.messages.at(-1)!.events.map((e) => e.rev), [11, 12, 13]);
    s.apply(del('k/11'));
    await settle();
    assert.deepEqual(call.messages.at(-1)!.events, [{ rev: 14, key: 'k/11', type: 'TYPE_DELETE' }]);
    assert.deepEqual(call.eventRevisions.filter((r, i, a) => a.indexOf(r) === i), range(2, 14));
    assertOrdered(call);
    s.hub.close();
  });

  it('from 0 starts after the applied revision and says where with a progress notice', async () => {
    const s = new Setup();
    s.puts(5);
    const call = s.subscribe(0);
    assert.deepEqual(call.messages, [{ revision: 5, kind: 'progress', events: [] }]);
    s.puts(1);
    await settle();
    assert.deepEqual(call.eventRevisions, [6]);
    s.hub.close();
  });

  it('writes nothing while write() says wait, and resumes after drain exactly where it stopped', async () => {
    const s = new Setup(1000, { revisionsPerMessageMax: 1 });
    s.puts(20);
    const call = s.subscribe(1, '', 2, false);
    assert.equal(call.written.length, 2, 'stops at the first write() that returns false');
    s.puts(5); // applied while stalled: must not be lost
    await settle();
    s.clock.advance(500); // ticks do not write to a stalled call either (no progress)
    assert.equal(call.written.length, 2);
    for (let round = 0; round < 30 && call.eventRevisions.length < 25; round++) call.release();
    assert.deepEqual(call.eventRevisions, range(1, 25));
    assertOrdered(call);
    s.hub.close();
  });

  it('holds at most bufferedBytesMax of unsent messages per subscriber even when write() never says wait', async () => {
    const s = new Setup(1000, { revisionsPerMessageMax: 1, bufferedBytesMax: 1024 });
    s.puts(100);
    const call = s.subscribe(1, '', Infinity, false);
    const first = call.written.length;
    assert.ok(first >= 5 && first < 20, `wrote ${first} messages of ~100 bytes before the 1 KiB bound`);
    call.release(5);
    assert.ok(call.written.length > first && call.written.length - 5 < 20, 'releasing sent bytes lets the pump go on, still bounded');
    for (let round = 0; round < 100 && call.eventRevisions.length < 100; round++) call.release();
    assert.deepEqual(call.eventRevisions, range(1, 100));
    await settle();
    s.hub.close();
  });
});

describe('subscription hub: compaction', () => {
  it('refuses a start older than the history with COMPACTED and the oldest revision', () => {
    const s = new Setup(10);
    s.puts(30);
    const call = s.subscribe(5);
    assert.equal(call.error?.code, GrpcCode.OUT_OF_RANGE);
    assert.deepEqual(call.error.metadata?.get(OLDEST_REVISION_METADATA), ['21']);
    assert.match(call.error.details ?? '', /revision 5 is older than the history replica 7 keeps \(oldest 21\)/);
    assert.equal(s.subscribe(21).error, null, 'the oldest revision itself is served');
    s.hub.close();
  });

  it('fails a stalled subscriber with COMPACTED once the history passes its position, after in-order events only', async () => {
    const s = new Setup(10, { revisionsPerMessageMax: 1 });
    s.puts(5);
    const call = s.subscribe(1, '', 2, false);
    assert.equal(s.hub.subscriberCount, 1);
    s.puts(20);
    await settle();
    assert.equal(call.error?.code, GrpcCode.OUT_OF_RANGE);
    assert.deepEqual(call.error.metadata?.get(OLDEST_REVISION_METADATA), ['16']);
    assert.deepEqual(call.eventRevisions, [1, 2]);
    assert.equal(s.hub.subscriberCount, 0, 'the hub lets go of it');
    s.hub.close();
  });

  it('fails a subscriber behind an installed snapshot with COMPACTED; one at the snapshot revision goes on', () => {
    const s = new Setup();
    s.puts(5);
    const behind = s.subscribe(0);
    // Another replica got further; this one installs its snapshot (history restarts at 9).
    const ahead = new StateMachine();
    for (let i = 1; i <= 9; i++) ahead.applyInstance(i, [put(`k/${i}`)]);
    s.sm = decodeSnapshot(encodeSnapshot(ahead));
    s.clock.advance(25); // the tick notices what no applied listener announced
    assert.equal(behind.error?.code, GrpcCode.OUT_OF_RANGE);
    assert.deepEqual(behind.error.metadata?.get(OLDEST_REVISION_METADATA), ['10']);
    const fresh = s.subscribe(10);
    assert.equal(fresh.error, null);
    s.puts(1);
    s.clock.advance(25);
    assert.deepEqual(fresh.eventRevisions, [10]);
    s.hub.close();
  });
});

describe('subscription hub: progress, prefixes, waiting, close', () => {
  it('sends progress at least every 100 ms while idle, from one shared timer', () => {
    const s = new Setup();
    s.puts(3);
    const calls = [s.subscribe(0), s.subscribe(0), s.subscribe(2)];
    assert.equal(s.clock.pending().length, 1, 'one timer for every subscriber');
    const lastAt = calls.map(() => s.clock.nowMs());
    const counts = calls.map((c) => c.written.length);
    let maxGapMs = 0;
    for (let t = 0; t < 1000; t += 5) {
      s.clock.advance(5);
      calls.forEach((c, i) => {
        if (c.written.length === counts[i]) return;
        counts[i] = c.written.length;
        maxGapMs = Math.max(maxGapMs, s.clock.nowMs() - lastAt[i]!);
        lastAt[i] = s.clock.nowMs();
      });
    }
    assert.ok(maxGapMs <= 75, `longest silence ${maxGapMs} ms`);
    assert.ok(counts.every((n) => n >= 12 && n <= 15), `about one notice per 75 ms each: ${counts.join(', ')}`);
    for (const c of calls) assert.equal(c.messages.at(-1)!.revision, 3);
    s.hub.close();
  });

  it('goes quiet while the replica is cut off from a live leader, so a Local lease can expire', () => {
    const s = new Setup();
    s.puts(2);
    const call = s.subscribe(0);
    s.clock.advance(200);
    const before = call.written.length;
    assert.ok(before >= 2, 'progress while current');
    s.current = false;
    s.clock.advance(1000);
    assert.equal(call.written.length, before, 'no progress notices from a replica that may be stale');
    s.current = true;
    s.clock.advance(100);
    assert.ok(call.written.length > before, 'progress again once it follows a live leader');
    s.hub.close();
  });

  it('filters by prefix and covers the filtered revisions with progress carrying the current revision', async () => {
    const s = new Setup();
    s.puts(2, 'other/');
    const call = s.subscribe(1, 'p/');
    assert.deepEqual(call.messages, [{ revision: 2, kind: 'progress', events: [] }], 'history wholly filtered: progress at once');
    s.puts(3, 'other/');
    s.apply(multiPut('other/x', 'p/a', 'other/y'));
    s.puts(2, 'other/');
    await settle();
    const events = call.messages.filter((m) => m.kind === 'events');
    assert.deepEqual(events, [{ revision: 8, kind: 'events', events: [{ rev: 6, key: 'p/a', type: 'TYPE_PUT' }] }], 'one message through 8: only p/a');
    s.puts(4, 'other/');
    await settle();
    s.clock.advance(100);
    assert.deepEqual(call.messages.at(-1), { revision: 12, kind: 'progress', events: [] });
    assertOrdered(call);
    s.hub.close();
  });

  it('waits for a revision this replica has not applied, then streams from it; gives up with UNAVAILABLE', () => {
    const s = new Setup(1000, { waitForRevisionMsMax: 1000 });
    s.puts(3);
    const call = s.subscribe(6);
    const late = s.subscribe(50);
    assert.equal(call.written.length, 0, 'no progress claims about revisions not applied here');
    s.puts(2);
    s.clock.advance(25);
    assert.deepEqual(call.messages, [{ revision: 5, kind: 'progress', events: [] }], 'applied 5: starts at 6');
    s.puts(1);
    s.clock.advance(25);
    assert.deepEqual(call.eventRevisions, [6]);
    s.clock.advance(1000);
    assert.equal(late.error?.code, GrpcCode.UNAVAILABLE);
    assert.match(late.error.details ?? '', /has applied revision 6 and did not reach 49 within 1000 ms/);
    s.hub.close();
  });

  it('refuses a malformed prefix with INVALID_ARGUMENT', () => {
    const s = new Setup();
    assert.equal(s.subscribe(0, 'x'.repeat(2000)).error?.code, GrpcCode.INVALID_ARGUMENT);
    assert.equal(s.subscribe(0, '\ud800').error?.code, GrpcCode.INVALID_ARGUMENT);
    assert.equal(s.hub.subscriberCount, 0);
    s.hub.close();
  });

  it('refuses subscribers beyond subscribersMax with UNAVAILABLE, and takes one again when a slot frees', () => {
    const s = new Setup(1000, { subscribersMax: 2 });
    const first = s.subscribe(0);
    s.subscribe(0);
    assert.match(s.subscribe(0).error?.details ?? '', /already serves 2 subscriptions \(its limit\): subscribe at another replica/);
    first.emit('cancelled');
    assert.equal(s.hub.subscriberCount, 1);
    assert.equal(s.subscribe(0).error, null);
    s.hub.close();
  });

  it('close ends every stream with UNAVAILABLE naming where to resume, and stops the timer', () => {
    const s = new Setup();
    s.puts(4);
    const live = s.subscribe(0);
    const waiting = s.subscribe(9);
    s.hub.close();
    assert.equal(live.error?.code, GrpcCode.UNAVAILABLE);
    assert.match(live.error.details ?? '', /subscribe again from 5 at another replica/);
    assert.match(waiting.error?.details ?? '', /subscribe again from 9/);
    assert.deepEqual(s.clock.pending(), []);
    assert.equal(s.subscribe(0).error?.code, GrpcCode.UNAVAILABLE, 'a closed hub takes no one');
  });
});

describe('subscription hub: work per event-loop turn', () => {
  it(`300 subscribers from revision 1 are served a bounded amount per turn (PUMP_TURN_BYTES_MAX), and each gets all of it`, async () => {
    const s = new Setup(1500);
    // Keys of 200 characters: 1,500 revisions are about 1 MB of estimated message bytes.
    for (let i = 0; i < 1500; i++) s.apply(put(`k/${String(i).padStart(198, '0')}`));
    await settle();
    const calls = Array.from({ length: 300 }, () => s.subscribe(1));
    // Everything above ran in one turn: what it wrote is bounded by the turn budget (one
    // message beyond it at most), not by 300 x the history.
    const messageBytesMax = SUBSCRIPTION_HUB_DEFAULTS.messageBytesMax;
    const firstTurn = calls.reduce((n, c) => n + c.written.length, 0);
    const turnMessagesMax = Math.ceil(PUMP_TURN_BYTES_MAX / (messageBytesMax / 2)) + 1;
    assert.ok(firstTurn <= turnMessagesMax, `${firstTurn} messages written in one turn`);
    assert.ok(calls.slice(turnMessagesMax).every((c) => c.written.length === 0), 'the rest wait for a later turn');
    // Later turns go on until every subscriber has every revision, in order.
    const deadline = Date.now() + 20_000;
    while (!calls.every((c) => Number(c.written.at(-1)?.revision) === 1500)) {
      assert.ok(Date.now() < deadline, 'every subscriber caught up');
      await settle();
    }
    for (const c of calls.slice(0, 3)) {
      assertOrdered(c);
      assert.deepEqual(c.eventRevisions, range(1, 1500));
    }
    s.hub.close();
  });
});
