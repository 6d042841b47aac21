// Global.Subscribe (global.proto, docs/local.md): one replica's server streams of key
// changes, served from its own applied state, so followers serve them as well as the leader.
//
// How a stream stays ordered and gap-free: the state machine's history is the only source of
// events. Each subscriber has one position, `next` (the first revision it has not been sent);
// a pump reads whole revisions from `next` on out of the history, writes them and moves
// `next` past them. Catching up and following live are the same loop: "live" only means the
// pump ran out of history and waits for the applied listener (or the shared tick) to run it
// again. There is no switch-over, so no revision can fall between history and live.
//
// Flow control: a pump stops as soon as `call.write` returns false (it resumes on 'drain')
// or the subscriber's written-but-not-yet-sent messages reach `bufferedBytesMax` (it resumes
// when grpc-js hands enough of them to HTTP/2, whose flow control holds back a client that
// does not read). Nothing else is queued per subscriber: the history is shared, so a slow
// consumer costs at most bufferedBytesMax plus one message. If history moves past a stalled
// subscriber's position, it gets COMPACTED (with the oldest revision), never a silent skip.
//
// Work per turn: all pumps of one event-loop turn share PUMP_TURN_BYTES_MAX. A pump that
// finds it spent stops and queues its subscriber; a setImmediate refills the budget and
// resumes the queue in order. So any number of subscribers catching up from old revisions
// costs the event loop about one budget's work per turn (a few ms), never all their
// history at once, and consensus ticks and other calls run between.
//
// Progress: one shared, unref'd timer ticks every progressIntervalMs / 4. A subscriber that
// has written nothing during the last three ticks gets a progress notice carrying the
// revision it is covered through, so an uncongested stream is never silent for more than
// ~75 ms plus timer lateness (the protocol promises 100 ms). The tick also pumps any
// subscriber left behind the applied revision (after a snapshot install, which does not
// call the applied listener) and expires subscribers waiting for a revision this replica
// has not applied.
//
// Snapshot install: the node replaces its state machine, whose history restarts at the
// snapshot's revision; the hub always reads `source()` afresh, so a subscriber behind that
// point finds its position gone and gets COMPACTED.

import type * as grpc from '@grpc/grpc-js';
import { assert, assertNever } from '../../protocol/assert.ts';
import type { Clock, Timer } from '../../protocol/backoff.ts';
import { checkInteger } from '../../protocol/config-check.ts';
import { CompactedError, InvalidArgumentError, UnavailableError, type DstoreError } from '../../protocol/errors.ts';
import { toGrpcStatus } from '../../protocol/grpc-status.ts';
import type { Event } from '../../protocol/generated/dstore/v1/Event.ts';
import type { SubscribeRequest__Output } from '../../protocol/generated/dstore/v1/SubscribeRequest.ts';
import type { SubscribeResponse } from '../../protocol/generated/dstore/v1/SubscribeResponse.ts';
import { validateKey } from '../../protocol/keys.ts';
import { keyValueMsg } from '../replica/codec.ts';
import type { RevisionEvents } from '../state/history.ts';
import type { ChangeEvent } from '../state/types.ts';

export type SubscribeCall = grpc.ServerWritableStream<SubscribeRequest__Output, SubscribeResponse>;

/** What the hub reads: the replica's current state machine (it is replaced by a snapshot install). */
export interface ChangeSource {
  /** The applied revision. */
  readonly revision: number;
  /** Oldest revision the history still holds. */
  readonly oldestRevision: number;
  /** Whole revisions from `fromRevision` on (at most `revisionsMax`), [] when none, null when compacted. */
  changesSince(fromRevision: number, revisionsMax: number): readonly RevisionEvents[] | null;
}

export interface SubscriptionHubConfig {
  /** The protocol's promise: an uncongested idle stream hears something at least this often. */
  readonly progressIntervalMs: number;
  /** Most revisions read from the history per Events message. */
  readonly revisionsPerMessageMax: number;
  /** An Events message takes no further revision once it holds this many events (a revision is never split). */
  readonly eventsPerMessageMax: number;
  /** ...or once its estimated encoded size reaches this. */
  readonly messageBytesMax: number;
  /** Per subscriber: estimated bytes written to the call and not yet handed to HTTP/2 before the pump waits. */
  readonly bufferedBytesMax: number;
  /** How long a subscription from a revision this replica has not applied yet waits for it. */
  readonly waitForRevisionMsMax: number;
  /** Most open subscriptions on this replica; beyond it Subscribe answers UNAVAILABLE. */
  readonly subscribersMax: number;
}

export const SUBSCRIPTION_HUB_DEFAULTS: SubscriptionHubConfig = Object.freeze({
  progressIntervalMs: 100,
  revisionsPerMessageMax: 256,
  eventsPerMessageMax: 1024,
  messageBytesMax: 256 * 1024,
  bufferedBytesMax: 1024 * 1024,
  waitForRevisionMsMax: 5_000,
  subscribersMax: 4096,
});

/** Estimated message bytes all pumps write in one event-loop turn before the rest wait for the next. */
export const PUMP_TURN_BYTES_MAX = 256 * 1024;

/** Ticks per progress interval, and idle ticks after which a progress notice goes out. */
const TICKS_PER_INTERVAL = 4;
const IDLE_TICKS_FOR_PROGRESS = 3;
/** Encoded size of an event besides its key: hash, four varints, framing. */
export const EVENT_BYTES_OVERHEAD = 64;
/** Encoded size of a progress notice, and of an Events message besides its events. */
export const MESSAGE_BYTES_OVERHEAD = 24;

export function checkSubscriptionHubConfig(config: SubscriptionHubConfig): void {
  checkInteger('progressIntervalMs', config.progressIntervalMs, TICKS_PER_INTERVAL, 60_000);
  checkInteger('revisionsPerMessageMax', config.revisionsPerMessageMax, 1);
  checkInteger('eventsPerMessageMax', config.eventsPerMessageMax, 1);
  checkInteger('messageBytesMax', config.messageBytesMax, 1024, 64 * 1024 * 1024);
  checkInteger('bufferedBytesMax', config.bufferedBytesMax, 1024);
  checkInteger('waitForRevisionMsMax', config.waitForRevisionMsMax, 0);
  checkInteger('subscribersMax', config.subscribersMax, 1);
}

type SubscriberState =
  /** from_revision is ahead of this replica: start once `revision >= from - 1`, or fail at the deadline. */
  | { readonly kind: 'waiting'; readonly from: number; readonly deadlineMs: number }
  | { readonly kind: 'streaming' }
  | { readonly kind: 'done' };

class Subscriber {
  state: SubscriberState;
  /**
   * Invariant: every revision below `next` has been covered: its matching events written,
   * or (all filtered out) covered by the next Events or Progress message's `revision`.
   * Meaningful while streaming.
   */
  next: number;
  /** `call.write` returned false: nothing more is written until 'drain'. */
  needsDrain = false;
  /** Estimated bytes of messages written and not yet handed to HTTP/2 (their write callback). */
  bufferedBytes = 0;
  /** A pump is running (a write callback must not start a second one). */
  pumping = false;
  /** The hub's tick count at the last write. */
  lastWriteTick: number;

  constructor(
    readonly call: SubscribeCall,
    readonly prefix: string,
    state: SubscriberState,
    next: number,
    tick: number,
  ) {
    this.state = state;
    this.next = next;
    this.lastWriteTick = tick;
  }
}

/** The wire form of one revision's events, made once and shared by every subscriber. */
const wireEvents = new WeakMap<RevisionEvents, Event[]>();

function keyOf(e: ChangeEvent): string {
  return e.type === 'put' ? e.kv.key : e.key;
}

function eventMsg(e: ChangeEvent): Event {
  switch (e.type) {
    case 'put': return { type: 'TYPE_PUT', kv: keyValueMsg(e.kv) };
    case 'delete': return { type: 'TYPE_DELETE', kv: { key: e.key, modRevision: e.revision } };
    default: return assertNever(e, 'change event');
  }
}

function wireEventsOf(r: RevisionEvents): Event[] {
  let wire = wireEvents.get(r);
  if (wire === undefined) {
    wire = r.events.map(eventMsg);
    wireEvents.set(r, wire);
  }
  return wire;
}

function statusError(err: unknown): grpc.ServiceError {
  const s = toGrpcStatus(err);
  return Object.assign(new Error(s.details), s);
}

export class SubscriptionHub {
  private readonly subscribers = new Set<Subscriber>();
  private readonly tickMs: number;
  private tickCount = 0;
  private timer: Timer | null = null;
  private flushScheduled = false;
  private closed = false;
  /** What pumps may still write in this turn (PUMP_TURN_BYTES_MAX when a turn starts). */
  private turnBytesLeft = PUMP_TURN_BYTES_MAX;
  private refillScheduled = false;
  /** Subscribers whose pump stopped on the turn budget, resumed in order next turn. */
  private readonly starved = new Set<Subscriber>();

  /**
   * `source` is called whenever the hub needs the state machine (never cached: a snapshot
   * install replaces it). `replicaId` only names this replica in messages. Throws
   * InvalidArgumentError for a config field out of range.
   */
  constructor(
    private readonly source: () => ChangeSource,
    private readonly clock: Clock,
    private readonly replicaId: number,
    readonly config: SubscriptionHubConfig = SUBSCRIPTION_HUB_DEFAULTS,
    /**
     * Whether this replica currently follows (or is) a live leader. Idle progress notices are
     * the stream's liveness signal, which Locals lease on: a replica cut off from the leader
     * goes quiet instead of vouching for a revision that may be stale.
     */
    private readonly isCurrent: () => boolean = () => true,
  ) {
    checkSubscriptionHubConfig(config);
    this.tickMs = Math.floor(config.progressIntervalMs / TICKS_PER_INTERVAL);
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /**
   * Serves one Subscribe call until the client cancels it, it fails (COMPACTED, too far
   * ahead for too long) or the hub closes. Owns `call` from here on; never throws.
   */
  subscribe(call: SubscribeCall): void {
    let sub: Subscriber;
    try {
      sub = this.admit(call);
    } catch (err) {
      call.emit('error', statusError(err));
      return;
    }
    this.subscribers.add(sub);
    const gone = (): void => this.finish(sub);
    call.on('cancelled', gone);
    call.on('close', gone);
    call.on('error', gone);
    call.on('drain', () => {
      sub.needsDrain = false;
      this.pump(sub);
    });
    this.ensureTimer();
    const state = sub.state;
    if (state.kind === 'waiting') this.maybeStartWaiting(sub, state.from);
    else this.begin(sub);
  }

  /** Validates the request and places the subscriber; throws a DstoreError to refuse it. */
  private admit(call: SubscribeCall): Subscriber {
    if (this.closed) throw new UnavailableError(`replica ${this.replicaId} is shutting down: subscribe at another replica`);
    if (this.subscribers.size >= this.config.subscribersMax) {
      throw new UnavailableError(`replica ${this.replicaId} already serves ${this.subscribers.size} subscriptions (its limit): subscribe at another replica`);
    }
    const { fromRevision, prefix } = call.request;
    if (!Number.isSafeInteger(fromRevision) || fromRevision < 0) {
      throw new InvalidArgumentError(`from_revision ${String(fromRevision)} is not a revision: give 0 (from now on) or a revision >= 1`);
    }
    if (prefix !== '') validateKey(prefix, 'subscribe prefix');
    const sm = this.source();
    if (fromRevision === 0) return new Subscriber(call, prefix, { kind: 'streaming' }, sm.revision + 1, this.tickCount);
    if (fromRevision < sm.oldestRevision) throw this.compacted(fromRevision, sm.oldestRevision);
    if (fromRevision <= sm.revision + 1) return new Subscriber(call, prefix, { kind: 'streaming' }, fromRevision, this.tickCount);
    const waiting = { kind: 'waiting', from: fromRevision, deadlineMs: this.clock.nowMs() + this.config.waitForRevisionMsMax } as const;
    return new Subscriber(call, prefix, waiting, fromRevision, this.tickCount);
  }

  /** Starts streaming: history (if any), else a progress notice saying where the stream starts. */
  private begin(sub: Subscriber): void {
    const written = this.pump(sub);
    if (!written && sub.state.kind === 'streaming' && !this.blocked(sub) && !this.starved.has(sub)) this.writeProgress(sub);
  }

  private maybeStartWaiting(sub: Subscriber, from: number): void {
    if (this.source().revision + 1 < from) return;
    sub.state = { kind: 'streaming' };
    sub.next = from;
    this.begin(sub);
  }

  /**
   * Tells the hub that the replica applied up to `revision` (the node's applied listener).
   * Runs synchronously inside the node's apply loop, so it only schedules: one flush per
   * turn, after every instance of the current Ready is applied, which is what lets
   * consecutive revisions share one Events message.
   */
  applied(revision: number): void {
    assert(Number.isSafeInteger(revision) && revision > 0, `applied revision ${revision}`);
    if (this.flushScheduled || this.closed || this.subscribers.size === 0) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.closed) return;
    const oldest = this.source().oldestRevision;
    for (const sub of this.subscribers) {
      const state = sub.state;
      switch (state.kind) {
        case 'waiting':
          this.maybeStartWaiting(sub, state.from);
          break;
        case 'streaming':
          // A stalled subscriber whose position left the history can never be served: say so now.
          if (this.blocked(sub) && sub.next < oldest) this.fail(sub, this.compacted(sub.next, oldest));
          else this.pump(sub);
          break;
        case 'done':
          break;
        default:
          assertNever(state, 'subscriber state');
      }
    }
  }

  /**
   * Writes whole revisions from `sub.next` on until the subscriber is caught up or its call
   * asks to wait for 'drain'. Returns true when it wrote anything. Fails the subscriber with
   * COMPACTED when its position is no longer in the history.
   */
  private pump(sub: Subscriber): boolean {
    if (sub.pumping) return false;
    sub.pumping = true;
    let written = false;
    try {
      while (sub.state.kind === 'streaming' && !this.blocked(sub)) {
        const sm = this.source();
        if (sub.next > sm.revision) break;
        if (this.turnBytesLeft <= 0) {
          this.starve(sub);
          break;
        }
        const batch = sm.changesSince(sub.next, this.config.revisionsPerMessageMax);
        if (batch === null) {
          this.fail(sub, this.compacted(sub.next, sm.oldestRevision));
          break;
        }
        assert(batch.length > 0 && batch[0]!.revision === sub.next, `history gave revision ${batch[0]?.revision} for ${sub.next}`);
        const collected = this.collect(sub, batch);
        if (collected.events.length === 0) continue;
        this.write(sub, { events: { events: collected.events }, revision: sub.next - 1 }, collected.bytes);
        written = true;
      }
    } finally {
      sub.pumping = false;
    }
    return written;
  }

  /** Queues `sub` to pump again once the turn budget is refilled. */
  private starve(sub: Subscriber): void {
    this.starved.add(sub);
    this.scheduleRefill();
  }

  private scheduleRefill(): void {
    if (this.refillScheduled || this.closed) return;
    this.refillScheduled = true;
    setImmediate(() => {
      this.refillScheduled = false;
      this.turnBytesLeft = PUMP_TURN_BYTES_MAX;
      if (this.closed) return;
      const queue = [...this.starved];
      this.starved.clear();
      for (const sub of queue) {
        if (sub.state.kind === 'streaming') this.pump(sub);
      }
    });
  }

  private blocked(sub: Subscriber): boolean {
    return sub.needsDrain || sub.bufferedBytes >= this.config.bufferedBytesMax;
  }

  /**
   * Takes whole revisions of `batch` (in order, from sub.next) until a message limit is
   * reached; moves sub.next past them; returns their events that match the prefix.
   */
  private collect(sub: Subscriber, batch: readonly RevisionEvents[]): { events: Event[]; bytes: number } {
    const out: Event[] = [];
    let bytes = MESSAGE_BYTES_OVERHEAD;
    for (const r of batch) {
      assert(r.revision === sub.next, `history revision ${r.revision} where ${sub.next} was expected`);
      const wire = wireEventsOf(r);
      for (let i = 0; i < wire.length; i++) {
        const key = keyOf(r.events[i]!);
        if (sub.prefix !== '' && !key.startsWith(sub.prefix)) continue;
        out.push(wire[i]!);
        bytes += key.length * 3 + EVENT_BYTES_OVERHEAD;
      }
      sub.next = r.revision + 1;
      if (out.length >= this.config.eventsPerMessageMax || bytes >= this.config.messageBytesMax) break;
    }
    return { events: out, bytes };
  }

  private writeProgress(sub: Subscriber): void {
    const revision = sub.next - 1;
    this.write(sub, { progress: { revision }, revision }, MESSAGE_BYTES_OVERHEAD);
  }

  private write(sub: Subscriber, message: SubscribeResponse, bytes: number): void {
    this.turnBytesLeft -= bytes;
    this.scheduleRefill();
    sub.lastWriteTick = this.tickCount;
    sub.bufferedBytes += bytes;
    const more = sub.call.write(message, () => this.written(sub, bytes));
    if (!more) sub.needsDrain = true;
  }

  /** grpc-js handed a message to HTTP/2: a subscriber held back by bufferedBytesMax may go on. */
  private written(sub: Subscriber, bytes: number): void {
    const wasBlocked = this.blocked(sub);
    sub.bufferedBytes -= bytes;
    assert(sub.bufferedBytes >= 0, `subscriber buffered bytes went negative (${sub.bufferedBytes})`);
    if (wasBlocked && !this.blocked(sub)) this.pump(sub);
  }

  // ---- the shared tick --------------------------------------------------------------

  private ensureTimer(): void {
    if (this.timer !== null || this.closed) return;
    this.timer = this.clock.setTimer(() => this.tick(), this.tickMs, false);
  }

  private tick(): void {
    this.timer = null;
    if (this.closed) return;
    this.tickCount++;
    const nowMs = this.clock.nowMs();
    for (const sub of this.subscribers) {
      const state = sub.state;
      switch (state.kind) {
        case 'waiting':
          this.maybeStartWaiting(sub, state.from);
          if (sub.state.kind === 'waiting' && nowMs >= state.deadlineMs) {
            const at = this.source().revision;
            this.fail(sub, new UnavailableError(`replica ${this.replicaId} has applied revision ${at} and did not reach ${state.from - 1} within ${this.config.waitForRevisionMsMax} ms: subscribe at another replica or retry`));
          }
          break;
        case 'streaming':
          if (this.blocked(sub)) break;
          // Catches what no applied listener announced (a snapshot install replaced the state).
          this.pump(sub);
          if (sub.state.kind === 'streaming' && !this.blocked(sub) && this.tickCount - sub.lastWriteTick >= IDLE_TICKS_FOR_PROGRESS && this.isCurrent()) {
            this.writeProgress(sub);
          }
          break;
        case 'done':
          break;
        default:
          assertNever(state, 'subscriber state');
      }
    }
    if (this.subscribers.size > 0) this.ensureTimer();
  }

  // ---- ending -----------------------------------------------------------------------

  private compacted(from: number, oldest: number): CompactedError {
    return new CompactedError(`revision ${from} is older than the history replica ${this.replicaId} keeps (oldest ${oldest}): drop cached key bindings and subscribe from ${oldest} or from now (0)`, oldest);
  }

  /** Ends the call with `err`'s status (once). */
  private fail(sub: Subscriber, err: DstoreError): void {
    if (sub.state.kind === 'done') return;
    this.finish(sub);
    sub.call.emit('error', statusError(err));
  }

  private finish(sub: Subscriber): void {
    sub.state = { kind: 'done' };
    this.subscribers.delete(sub);
    this.starved.delete(sub);
  }

  /** Ends every stream with UNAVAILABLE (clients resume at another replica) and stops the timer. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.timer?.cancel();
    this.timer = null;
    for (const sub of [...this.subscribers]) {
      const resumeAt = sub.state.kind === 'waiting' ? sub.state.from : sub.next;
      this.fail(sub, new UnavailableError(`replica ${this.replicaId} is shutting down: subscribe again from ${resumeAt} at another replica`));
    }
  }
}
