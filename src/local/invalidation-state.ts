// The invalidation stream's connection state machine and lease: pure, no
// I/O, no timers of its own; the driver (invalidation-stream.ts) feeds it what happened and
// the time, and asks it what to do.
//
// States:
//   idle -> syncing      the Local does not know a revision yet: ask a replica's Status
//   syncing -> connecting     subscribe from appliedRevision + 1
//   connecting -> streaming   the first message arrived
//   connecting|streaming -> connecting|syncing   "history compacted": resubscribe from the
//                        oldest revision kept (syncing when the server did not say which)
//   syncing|connecting|streaming -> backoff   the stream broke or could not start
//   backoff -> syncing|connecting   after the backoff delay, on the next replica
//   anything -> closed
// Other transitions are bugs and fail an assertion.
//
// Lease: the Local serves key bindings from its cache only while it heard from Global (any
// message: events or a progress notice) within `leaseMs`. Blobs are served regardless.

import { assert } from '../protocol/assert.ts';

export type StreamState = 'idle' | 'syncing' | 'connecting' | 'streaming' | 'backoff' | 'closed';

const TRANSITIONS: Readonly<Record<StreamState, readonly StreamState[]>> = {
  idle: ['syncing', 'connecting', 'closed'],
  syncing: ['connecting', 'backoff', 'closed'],
  connecting: ['streaming', 'connecting', 'syncing', 'backoff', 'closed'],
  streaming: ['connecting', 'syncing', 'backoff', 'closed'],
  backoff: ['syncing', 'connecting', 'closed'],
  closed: [],
};

export interface StreamStatus {
  readonly state: StreamState;
  /** The replica the stream is (being) opened at. */
  readonly address: string;
  /** Why the last transition happened. */
  readonly reason: string;
}

export class InvalidationState {
  private current: StreamState = 'idle';
  private lastHeardMs = -Infinity;
  private leaseHeld = false;

  constructor(readonly leaseMs: number) {}

  get state(): StreamState {
    return this.current;
  }

  /** Moves to `next`; asserts the transition is one of the listed ones. */
  transition(next: StreamState): void {
    assert(TRANSITIONS[this.current].includes(next), `invalidation stream: ${this.current} -> ${next} is not a valid transition`);
    this.current = next;
  }

  /** A message arrived at `nowMs`. Returns true when this (re)gains the lease. */
  heard(nowMs: number): boolean {
    this.lastHeardMs = nowMs;
    if (this.current === 'connecting') this.transition('streaming');
    if (this.leaseHeld || this.current === 'closed') return false;
    this.leaseHeld = true;
    return true;
  }

  /** Whether key bindings may be served from cache (kept current by the timer check below). */
  get leaseValid(): boolean {
    return this.leaseHeld;
  }

  /**
   * The lease check, run by the driver's timer. Returns `{expired}` when the lease just ran
   * out, and the delay until the next check (null: no check needed until heard again).
   */
  check(nowMs: number): { expired: boolean; nextCheckMs: number | null } {
    if (!this.leaseHeld) return { expired: false, nextCheckMs: null };
    const silentMs = nowMs - this.lastHeardMs;
    if (silentMs >= this.leaseMs) {
      this.leaseHeld = false;
      return { expired: true, nextCheckMs: null };
    }
    return { expired: false, nextCheckMs: this.leaseMs - silentMs };
  }

  close(): void {
    if (this.current !== 'closed') this.transition('closed');
    this.leaseHeld = false;
  }
}
