// The node's Subscribe, served from what its Local has applied (docs/local.md, "Attached
// workers"): an attached worker runs its own bindings and follows this feed instead of
// Global's stream, so it is never ahead of its node. A message reaches a worker only after
// the node's cache applied it; a worker's fill from the node therefore never returns a
// binding older than one its stream already replaced.
//
// - One source, one position, as Global's hub (src/global/server/subscriptions.ts): a backlog
//   of the node's applied events (at most `eventsKeptMax`), and per subscriber `next`, the
//   first revision it has not been sent. Catching up and following live are the same pump.
// - Every revision in [oldest, applied] is covered by the backlog (events or none happened).
//   A subscriber whose `next` is below `oldest` (it fell behind the backlog, or the node's
//   applied revision jumped: its start, a compaction) ends with COMPACTED naming `oldest`, and
//   resubscribes from there after dropping its bindings; never a silent skip.
// - Progress: a pump that moved a subscriber past revisions with nothing for it sends a
//   progress notice; the node hears from Global at least every 100 ms, so its workers do too.
// - Flow control: at most FEED_UNSENT_MAX messages written and not yet handed to HTTP/2 (whose
//   flow control holds back a worker that does not read) per subscriber; then it pauses until
//   the write callbacks come, holding nothing but its position meanwhile (falling behind the
//   backlog ends it, as above). One paused for `stallMs` is ended with RESOURCE_EXHAUSTED
//   naming the revision to resume from, so a worker that stopped reading does not keep its slot.

import { CompactedError, ResourceExhaustedError, UnavailableError } from '../../protocol/errors.ts';
import type { SubscribeResponse } from '../../protocol/generated/dstore/v1/SubscribeResponse.ts';
import type { ChangeEvent } from '../client/client-types.ts';
import type { AppliedChange } from '../local.ts';
import { eventRevision } from '../watch-events.ts';
import { subscribeMsg } from './server-codec.ts';

/** Events kept for workers that catch up (a worker further behind gets COMPACTED). */
export const FEED_EVENTS_KEPT = 10_000;

/** Messages written to a subscriber and not yet handed to HTTP/2 before it pauses. */
export const FEED_UNSENT_MAX = 8;

/** Where a subscriber's messages go: `written` is called once a message was handed on. */
export interface FeedCall {
  write(message: SubscribeResponse, written: () => void): unknown;
}

/** What the feed follows: a Local (local.ts), or a stand-in in tests. */
export interface AppliedSource {
  /** Whether the applied revision is known (`revision` is 0 before). */
  readonly synced: boolean;
  readonly revision: number;
  onApplied(listener: (change: AppliedChange) => void): () => void;
}

interface Entry {
  /** The last revision the entry covers (its events are of revisions after the previous entry's). */
  readonly revision: number;
  readonly events: readonly ChangeEvent[];
  /** The message for a subscriber that takes every event (made once, shared). */
  wire: SubscribeResponse | null;
}

class Subscriber {
  paused = false;
  unsent = 0;
  stallTimer: NodeJS.Timeout | null = null;
  /** The highest revision a message sent to it covered (below `next` - 1 at first, so the stream opens with a notice). */
  sentThrough: number;

  constructor(
    readonly call: FeedCall,
    readonly prefix: string,
    /** The first revision not yet sent; 0 until the feed knows where "now" is. */
    public next: number,
    readonly finish: (err: Error | null) => void,
  ) {
    this.sentThrough = next - 2;
  }
}

export class NodeFeed {
  private entries: Entry[] = [];
  /** Index of the oldest entry kept (entries before it are dropped; the array is compacted now and then). */
  private first = 0;
  private eventsHeld = 0;
  /** The node's applied revision; null while it does not know one. */
  private applied: number | null;
  /** The oldest revision a subscriber may start from (or be at). */
  private oldestRevision: number;
  private readonly subscribers = new Set<Subscriber>();
  private readonly stopListening: () => void;

  constructor(
    local: AppliedSource,
    /** A subscriber whose stream stays full this long is ended (it resubscribes). */
    private readonly stallMs: number,
    private readonly eventsKeptMax = FEED_EVENTS_KEPT,
  ) {
    this.applied = local.synced ? local.revision : null;
    this.oldestRevision = (this.applied ?? 0) + 1;
    this.stopListening = local.onApplied((change) => this.onApplied(change));
  }

  /** The oldest revision served from here; Infinity while the node knows no revision. */
  get oldest(): number {
    return this.applied === null ? Infinity : this.oldestRevision;
  }

  /** Subscribers being served (tests, status). */
  get size(): number {
    return this.subscribers.size;
  }

  /**
   * Serves `call` from revision `from` (0: the node's applied revision + 1) until `cancel()`
   * (resolves) or an end (rejects: CompactedError naming where to resume, or
   * UnavailableError when the feed closed).
   */
  serve(call: FeedCall, from: number, prefix: string): { readonly done: Promise<void>; readonly cancel: () => void } {
    let sub!: Subscriber;
    const done = new Promise<void>((resolve, reject) => {
      sub = new Subscriber(call, prefix, from, (err) => {
        if (!this.subscribers.delete(sub)) return;
        if (sub.stallTimer !== null) clearTimeout(sub.stallTimer);
        if (err === null) resolve();
        else reject(err);
      });
    });
    this.subscribers.add(sub);
    if (from === 0 && this.applied !== null) this.startNow(sub);
    this.pump(sub);
    return { done, cancel: () => sub.finish(null) };
  }

  /** Ends every subscriber with UnavailableError and stops following the Local. */
  close(): void {
    this.stopListening();
    for (const sub of [...this.subscribers]) sub.finish(new UnavailableError('the node\'s Local stopped serving: subscribe again'));
  }

  /** A subscriber from "now": the node's applied revision + 1, opening with a progress notice. */
  private startNow(sub: Subscriber): void {
    sub.next = this.applied! + 1;
    sub.sentThrough = this.applied! - 1;
  }

  private onApplied(change: AppliedChange): void {
    if (change.kind === 'jump') {
      this.applied = change.revision;
      this.entries = [];
      this.first = 0;
      this.eventsHeld = 0;
      this.oldestRevision = (change.revision ?? 0) + 1;
      for (const sub of [...this.subscribers]) {
        if (change.revision === null) sub.finish(new CompactedError('the node\'s Local lost its place in Global\'s history: drop every binding and subscribe again', 0));
        else if (sub.next === 0) this.startNow(sub);
      }
    } else {
      const message = change.message;
      const applied = this.applied ?? 0;
      if (message.revision <= applied) return;
      if (message.kind === 'events') {
        const fresh = message.events.filter((e) => eventRevision(e) > applied);
        if (fresh.length > 0) this.record({ revision: message.revision, events: fresh, wire: null }); // the wire form when first sent
      }
      this.applied = message.revision;
    }
    for (const sub of [...this.subscribers]) this.pump(sub);
  }

  private record(entry: Entry): void {
    this.entries.push(entry);
    this.eventsHeld += entry.events.length;
    while (this.eventsHeld > this.eventsKeptMax && this.first < this.entries.length - 1) {
      const dropped = this.entries[this.first++]!;
      this.eventsHeld -= dropped.events.length;
      this.oldestRevision = dropped.revision + 1;
    }
    if (this.first > 1024 && this.first * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.first);
      this.first = 0;
    }
  }

  /** Sends `sub` what it has not been sent, up to the applied revision. */
  private pump(sub: Subscriber): void {
    if (sub.paused || this.applied === null || sub.next === 0) return;
    if (sub.next < this.oldestRevision) {
      sub.finish(new CompactedError(`revision ${sub.next} is older than what this node's Local keeps for its workers (from ${this.oldestRevision}): drop every binding and subscribe from ${this.oldestRevision}`, this.oldestRevision));
      return;
    }
    for (let i = this.indexFrom(sub.next); i < this.entries.length; i++) {
      const entry = this.entries[i]!;
      const from = sub.next;
      sub.next = entry.revision + 1;
      // Every event of the entry is of a revision after the previous entry (or from the oldest).
      const lowest = i === this.first ? this.oldestRevision : this.entries[i - 1]!.revision + 1;
      const all = sub.prefix === '' && lowest >= from;
      const events = all ? entry.events : entry.events.filter((e) => eventRevision(e) >= from && eventKey(e).startsWith(sub.prefix));
      if (events.length === 0) continue;
      sub.sentThrough = entry.revision;
      if (!this.write(sub, all ? (entry.wire ??= subscribeMsg({ kind: 'events', revision: entry.revision, events })) : subscribeMsg({ kind: 'events', revision: entry.revision, events }))) return;
    }
    if (this.applied >= sub.next) sub.next = this.applied + 1;
    // A stream that has had nothing to send says how far it is covered (and opens with that
    // notice, as Global's does: it tells the worker its stream is up). Never past `applied`.
    if (sub.next - 1 > sub.sentThrough && sub.next - 1 <= this.applied) {
      sub.sentThrough = sub.next - 1;
      this.write(sub, subscribeMsg({ kind: 'progress', revision: sub.sentThrough }));
    }
  }

  /** Writes; pauses `sub` while FEED_UNSENT_MAX messages wait. Returns whether to go on. */
  private write(sub: Subscriber, message: SubscribeResponse): boolean {
    sub.unsent++;
    sub.call.write(message, () => {
      sub.unsent--;
      if (!sub.paused || sub.unsent >= FEED_UNSENT_MAX) return;
      sub.paused = false;
      if (sub.stallTimer !== null) clearTimeout(sub.stallTimer);
      sub.stallTimer = null;
      if (this.subscribers.has(sub)) this.pump(sub);
    });
    if (sub.unsent < FEED_UNSENT_MAX) return true;
    sub.paused = true;
    sub.stallTimer = setTimeout(() => {
      sub.finish(new ResourceExhaustedError(
        `this watcher read nothing for ${this.stallMs} ms (subscribeStallMs) while its stream was full; its stream is ended after revision ${sub.sentThrough}: read faster, or subscribe again from revision ${sub.sentThrough + 1}`,
      ));
    }, this.stallMs);
    return false;
  }

  /** Index of the first entry covering `revision` or later (entries.length: none). */
  private indexFrom(revision: number): number {
    let lo = this.first;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.entries[mid]!.revision < revision) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function eventKey(event: ChangeEvent): string {
  return event.type === 'put' ? event.kv.key : event.key;
}
