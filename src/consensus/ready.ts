// The Ready batch: everything a replica wants done after a round of inputs, and the one order
// in which the driver must do it:
//
//   1. persist  write `persist.entries`, then `persist.hardState`, to stable storage; if
//               `mustSync`, make them durable (fsync) before the votes of step 2.
//   2. send     hand `messages` to the network (any order, may be lost); votes (Promise,
//               Accepted: `vouchesForPersist`) only after step 1, the rest may go earlier.
//   3. apply    apply `decided` to the state machine, in order.
//   4. reads    answer each `reads` entry once the state machine has applied its readThrough.
//   5. advance  call `replica.advance()`; only then call `ready()` again.
//
// Storage contract: records are written in the order given, across Readies, and a crash loses
// at most a suffix of what was not yet synced (a write-ahead log with a torn-tail check gives
// exactly that). `step`, `tick`, `propose` and `read` may be called between `ready()` and
// `advance()`; what they produce goes into the next Ready.

import type { HardState, LogEntry, VoteStamp } from './types.ts';
import type { Message } from './messages.ts';

export interface Persist {
  /**
   * Log entries to write, in order; a later entry for an instance supersedes an earlier one.
   * Written before any message of this Ready is sent: a Promise or Accepted reply in `messages`
   * relies on them.
   */
  readonly entries: readonly LogEntry[];
  /** The new hard state, when it changed; written after `entries`. */
  readonly hardState?: HardState;
}

/** The result of `read(requestId)`. */
export type ReadState =
  /**
   * Linearizable once the state machine has applied every instance <= readThrough: serve the
   * read then (step 4), not before.
   */
  | { readonly requestId: number; readonly outcome: 'ready'; readonly readThrough: number; readonly via: 'lease' | 'read-index' }
  /** This replica is not (or no longer) the leader; `leaderId` is the one it believes in, 0 if none. */
  | { readonly requestId: number; readonly outcome: 'failed'; readonly reason: 'not-leader'; readonly leaderId: number };

/** The replica needs a state-machine snapshot through at least `throughInstanceMin`, held by `fromReplicaId`. */
export interface SnapshotRequest {
  readonly fromReplicaId: number;
  readonly throughInstanceMin: number;
}

/**
 * A peer has seen a later vote of this replica than its storage gave back: the data directory
 * was rolled back to an older copy (docs/consensus.md, "A data directory rolled back"). The
 * replica has started recovering; the driver should say so loudly.
 */
export interface RollbackDetected {
  /** The peer that had seen the later vote. */
  readonly reportedBy: number;
  /** The stamp this replica's storage gave back at its start. */
  readonly restored: VoteStamp;
  /** The later stamp the peer had seen. */
  readonly seen: VoteStamp;
}

/** True for the messages that vote on the sender's persisted state: send them after step 1. */
export function vouchesForPersist(message: Message): boolean {
  return message.type === 'promise' || message.type === 'accepted';
}

export interface Ready {
  /** Step 1. */
  readonly persist: Persist;
  /**
   * Step 1: when true, `persist` must be durable before any message is sent. True whenever a
   * promise or an accepted value changed, since replies vouch for them; false when only decisions
   * changed (losing those in a crash is safe: they are learned again).
   */
  readonly mustSync: boolean;
  /**
   * Step 2. A message for which `vouchesForPersist` is true (a Promise or an Accepted: a vote)
   * goes out only after step 1. Every other message may go out before or during step 1: a
   * leader's Accepts then reach followers while its own disk write runs, taking one disk
   * write off each round. That is safe because a vote is only what is durable: the leader's
   * own acceptance counts toward a decision, but decisions show up in a later Ready, which
   * the driver handles only after this one's persist completed.
   */
  readonly messages: readonly Message[];
  /**
   * Step 3, only after step 1: consecutive decided instances, ascending, starting right after the
   * last one handed out (after a restart, right after the snapshot). Apply each exactly once.
   */
  readonly decided: readonly LogEntry[];
  /** Step 4: answers to `read` calls. */
  readonly reads: readonly ReadState[];
  /** Set when this replica is behind another's snapshot: fetch one and call `installSnapshot`. */
  readonly snapshotRequest?: SnapshotRequest;
  /** Set once, in the Ready after a peer showed that this replica's storage was rolled back. */
  readonly rollback?: RollbackDetected;
}
