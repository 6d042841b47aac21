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
