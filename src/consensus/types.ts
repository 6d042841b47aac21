// Types shared by the consensus core and the storage engine that makes its state durable.
// This is the contract between src/consensus and src/global/storage: the core emits these
// in `Ready.persist`; the storage engine writes them to the WAL and hands them back, the
// latest per instance, on restart.

/**
 * A ballot orders proposers: compare `round` first, then `replicaId`. Round 0 is "no ballot"
 * (nothing promised or accepted yet). Rounds and instances are safe integers (< 2^53).
 */
export interface Ballot {
  readonly round: number;
  readonly replicaId: number;
}

export const BALLOT_ZERO: Ballot = Object.freeze({ round: 0, replicaId: 0 });

/** The value of one log instance: a no-op (to fill a gap) or a batch of opaque commands. */
export type Value =
  | { readonly kind: 'noop' }
  | { readonly kind: 'commands'; readonly commands: readonly Uint8Array[] };

/**
 * One instance's accepted value. `decided` is true when the replica knows the value was
 * chosen (it may have learned a decided value it never accepted itself, e.g. on catch-up).
 */
export interface LogEntry {
  readonly instance: number;
  readonly ballot: Ballot;
  readonly value: Value;
  readonly decided: boolean;
}

/**
 * Which life of a replica's acceptor state a vote comes from, and how far into it: compared
 * as (incarnation, voteSeq). `incarnation` is set when a replica finishes a recovery (one more
 * than any incarnation of it the other members knew); `voteSeq` grows by one with every
 * durable write that records a promise or an accept, and rides in the same hard-state record.
 * A replica restarted on an older copy of its data directory presents a lower stamp than one
 * it sent before (docs/consensus.md, "A data directory rolled back").
 */
export interface VoteStamp {
  readonly incarnation: number;
  readonly voteSeq: number;
}

/** Before any vote, and what a hard state written before stamps existed reads back as. */
export const STAMP_ZERO: VoteStamp = Object.freeze({ incarnation: 0, voteSeq: 0 });

/** The highest stamp a replica has seen from one member. */
export interface SeenStamp extends VoteStamp {
  readonly replicaId: number;
}

export function compareStamps(a: VoteStamp, b: VoteStamp): number {
  return a.incarnation !== b.incarnation ? a.incarnation - b.incarnation : a.voteSeq - b.voteSeq;
}

/** Small state rewritten as a whole whenever it changes. */
export interface HardState {
  /** Highest ballot promised; a replica never accepts below it. */
  readonly promised: Ballot;
  /** Every instance <= this is decided (and present in the log or a snapshot). 0 = none. */
  readonly decidedThrough: number;
  /**
   * True while the replica rebuilds after starting without a hard state (a new or wiped disk):
   * it may have forgotten promises and acceptances, so it does not vote until its recovery
   * (docs/consensus.md, "Recovering after a lost disk") is complete. A store that never
   * recorded a hard state reports INITIAL_HARD_STATE, which has this set.
   */
  readonly recovering: boolean;
  /** This replica's vote stamp as of this write; absent (STAMP_ZERO) in records written before stamps existed. */
  readonly stamp?: VoteStamp;
  /**
   * The highest stamp seen from each other member, as far as known at this write: a lower
   * bound of what the replica knew (it is written only with writes made for other reasons).
   */
  readonly stampsSeen?: readonly SeenStamp[];
}

/**
 * The hard state of a store that has never recorded one (an empty or wiped data directory,
 * or one holding only a snapshot): the replica starts recovering. Storage returns exactly this
 * when it holds no hard state record; nothing else may stand in for it.
 */
export const INITIAL_HARD_STATE: HardState = Object.freeze({ promised: BALLOT_ZERO, decidedThrough: 0, recovering: true });

/** What a replica reads back from stable storage when it starts. */
export interface RecoveredState {
  readonly hardState: HardState;
  /** The latest entry per instance above the snapshot, ascending by instance. */
  readonly entries: readonly LogEntry[];
  /** Last instance included in the installed snapshot, 0 when there is none. */
  readonly snapshotThrough: number;
}

export function compareBallots(a: Ballot, b: Ballot): number {
  return a.round !== b.round ? a.round - b.round : a.replicaId - b.replicaId;
}
