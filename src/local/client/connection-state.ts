// The Global client's connection as an explicit state machine (after
// grpc-js `Subchannel.transitionToState`): a transition is allowed only from the states
// listed for it; anything else is a bug and fails an assertion. Pure: no I/O, no timers.
//
//   idle --first request--> connecting --channel up, stream open--> ready
//                             |    ^                                  |
//                             |    +------- leader hint --------------+
//                             v                                       | stream broke
//                     transient-failure <-----------------------------+
//                             |  (after backoff, next replica) --> connecting
//   every state --close()--> closed (terminal)
//
// Listeners get a typed `ConnectionStatus` after every transition, synchronously and in
// order; the Local cache watches it to report health.

import { assert } from '../../protocol/assert.ts';
import type { DstoreError } from '../../protocol/errors.ts';

export type ConnectionState = 'idle' | 'connecting' | 'ready' | 'transient-failure' | 'closed';

const ALLOWED_FROM: Readonly<Record<ConnectionState, readonly ConnectionState[]>> = {
  idle: ['connecting', 'closed'],
  connecting: ['ready', 'transient-failure', 'closed'],
  // ready -> connecting: following a leader hint to another replica (the old stream drains).
  ready: ['connecting', 'transient-failure', 'closed'],
  'transient-failure': ['connecting', 'closed'],
  closed: [],
};

/** What the client is doing now, as told to status listeners. */
export interface ConnectionStatus {
  readonly state: ConnectionState;
  /** The replica ("host:port") being connected to or talked to; null when idle or closed. */
  readonly address: string | null;
  /** Why this transition happened, for people ("leader hint from 127.0.0.1:50051"). */
  readonly reason: string;
  /** transient-failure: what failed. Otherwise null. */
  readonly error: DstoreError | null;
}

export type StatusListener = (status: ConnectionStatus) => void;

export function isTransitionAllowed(from: ConnectionState, to: ConnectionState): boolean {
  return ALLOWED_FROM[from].includes(to);
}

export class ConnectionStateMachine {
  private current: ConnectionStatus = { state: 'idle', address: null, reason: 'created', error: null };
  private readonly listeners = new Set<StatusListener>();

  get status(): ConnectionStatus {
    return this.current;
  }

  get state(): ConnectionState {
    return this.current.state;
  }

  /**
   * Moves to `to`. Throws AssertionError when `to` is not allowed from the current state
   * (a bug in the caller). Listeners run synchronously, in registration order; a listener
   * that throws does not stop the others or the client (its error is rethrown later, on its
   * own, so it is not lost).
   */
  transition(to: ConnectionState, address: string | null, reason: string, error: DstoreError | null = null): void {
    const from = this.current.state;
    assert(isTransitionAllowed(from, to), `connection: transition ${from} -> ${to} is not allowed (${reason})`);
    assert((to === 'transient-failure') === (error !== null), `connection: ${to} must carry an error iff transient-failure`);
    this.current = { state: to, address, reason, error };
    for (const listener of [...this.listeners]) {
      try {
        listener(this.current);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  /** Registers `listener`; returns the function that unregisters it. */
  onChange(listener: StatusListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }
}
