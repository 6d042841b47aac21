// The invalidation stream's connection state machine: pure, no I/O, no timers of its own; the
// driver (invalidation-stream.ts) feeds it what happened and asks it what to do.
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
// The lease is not kept here: a message proves only that a replica is connected, not that it
// is current (freshness.ts owns the rule).

import { assert } from '../../protocol/assert.ts';

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

  get state(): StreamState {
    return this.current;
  }

  /** Moves to `next`; asserts the transition is one of the listed ones. */
  transition(next: StreamState): void {
    assert(TRANSITIONS[this.current].includes(next), `invalidation stream: ${this.current} -> ${next} is not a valid transition`);
    this.current = next;
  }

  /** A message arrived: a stream being opened is now streaming. */
  heard(): void {
    if (this.current === 'connecting') this.transition('streaming');
  }

  close(): void {
    if (this.current !== 'closed') this.transition('closed');
  }
}
