// The messages replicas exchange. Plain data only (numbers, booleans, Uint8Array, arrays and the
// two small records Ballot and LogEntry from types.ts) so the network driver can map each one
// 1:1 onto a protobuf message in `dstore.v1` replica.proto:
//   Ballot   -> message Ballot { uint64 round; uint32 replica_id; }
//   Value    -> message Value { oneof kind { Noop noop; Commands commands; } }, Commands { repeated bytes commands; }
//   LogEntry -> message LogEntry { uint64 instance; Ballot ballot; Value value; bool decided; }
//   Message  -> message ReplicaMessage { oneof body { MsgPreVote pre_vote; ... } }
// Every message names its sender `from` and receiver `to` (replica ids). Instances are >= 1.
//
// The conversation, for a reader following one proposal:
//   campaign:  PreVote -> PreVoteReply (would you follow me?), then Prepare -> Promise (phase 1,
//              for every instance from the candidate's first undecided one: "prepare to infinity")
//   proposal:  Accept (a range of instances) -> Accepted (phase 2); a majority of Accepted decides
//   learning:  decidedThrough rides on Accept, Heartbeat and Decided; a replica missing values
//              pulls them with CatchUpRequest -> CatchUp, or learns it needs a snapshot
//   liveness:  Heartbeat -> HeartbeatReply keeps followers loyal and renews the lease / confirms
//              a read-index round; Nack tells a proposer it was refused and why
//   recovery:  a replica that starts without stable state asks every peer RecoveryQuery ->
//              RecoveryReply (what the peer promised and holds) before it votes again
//   restart:   a replica restarted on its stable state asks every peer StampCheck -> StampCheckReply
//              (have you seen a later vote of mine?) and votes once a majority says no

import type { Ballot, LogEntry, SeenStamp, Value, VoteStamp } from './types.ts';

/** Phase 0 (pre-vote): would the receiver promise a ballot this high if asked? Changes no state. */
export interface MsgPreVote {
  readonly type: 'preVote';
  readonly from: number;
  readonly to: number;
  /** The ballot the sender would campaign with. */
  readonly ballot: Ballot;
}

export interface MsgPreVoteReply {
  readonly type: 'preVoteReply';
  readonly from: number;
  readonly to: number;
  /** Echo of MsgPreVote.ballot, to match the reply to the campaign. */
  readonly ballot: Ballot;
  /** True when the receiver has not heard from a live leader for electionTimeoutTicks. */
  readonly granted: boolean;
  /** The receiver's promised ballot, so the candidate picks a higher round. */
  readonly promised: Ballot;
}

/** Phase 1a, for every instance >= fromInstance at once. */
export interface MsgPrepare {
  readonly type: 'prepare';
  readonly from: number;
  readonly to: number;
  readonly ballot: Ballot;
  /** The candidate's first undecided instance (its decidedThrough + 1). */
  readonly fromInstance: number;
}

/** Phase 1b: the receiver promised `ballot` and reports what it accepted. Sent only after the promise is durable. */
export interface MsgPromise {
  readonly type: 'promise';
  readonly from: number;
  readonly to: number;
  readonly ballot: Ballot;
  /** The acceptor's decided prefix: every instance <= this is decided (the candidate catches up below it). */
  readonly decidedThrough: number;
  /**
   * Every entry the acceptor holds above max(fromInstance - 1, decidedThrough), ascending:
   * accepted ones with their ballot, and decided ones flagged `decided`.
   */
  readonly entries: readonly LogEntry[];
  /** The sender's vote stamp, this promise included (durable before the message leaves). */
  readonly stamp: VoteStamp;
}

/** Phase 2a for the consecutive instances firstInstance .. firstInstance + values.length - 1. */
export interface MsgAccept {
  readonly type: 'accept';
  readonly from: number;
  readonly to: number;
  readonly ballot: Ballot;
  readonly firstInstance: number;
  /** One value per instance, at least one. */
  readonly values: readonly Value[];
  /**
   * The leader's decided prefix (piggybacked decisions): the receiver may mark decided every
   * instance <= this that it holds with exactly `ballot`.
   */
  readonly decidedThrough: number;
}

/** Phase 2b: the receiver accepted (durably) firstInstance .. firstInstance + count - 1 at `ballot`. */
export interface MsgAccepted {
  readonly type: 'accepted';
  readonly from: number;
  readonly to: number;
  readonly ballot: Ballot;
  readonly firstInstance: number;
  /** Instances acknowledged, possibly 0 when only decidedThrough is news. */
  readonly count: number;
  /** The acceptor's decided prefix, so a leader that is behind notices and catches up. */
  readonly decidedThrough: number;
  /** The sender's vote stamp, these acceptances included (durable before the message leaves). */
  readonly stamp: VoteStamp;
}

export type NackReason =
  /** The receiver promised a higher ballot (in `promised`). */
  | 'promised-higher'
  /** The receiver hears from a live leader and will not help depose it. */
  | 'leader-alive';

/** Refusal of a Prepare, Accept, Heartbeat or Decided carrying `ballot`. */
export interface MsgNack {
  readonly type: 'nack';
  readonly from: number;
  readonly to: number;
  /** The refused ballot. */
  readonly ballot: Ballot;
  /** The receiver's promised ballot. */
  readonly promised: Ballot;
  readonly reason: NackReason;
}

/** Leader liveness, decisions and lease/read-index rounds. */
export interface MsgHeartbeat {
  readonly type: 'heartbeat';
  readonly from: number;
  readonly to: number;
  readonly ballot: Ballot;
  /** The leader's decided prefix. */
  readonly decidedThrough: number;
  /** Round number, increasing per leader; echoed in the reply. */
  readonly seq: number;
  /**
   * The highest vote stamp the leader has seen from each member, its own durable one included:
   * followers learn every member's latest votes from the one that counts them, so that any of
   * them can tell a replica restarted on an older copy of its data directory.
   */
  readonly stamps: readonly SeenStamp[];
}

export interface MsgHeartbeatReply {
  readonly type: 'heartbeatReply';
  readonly from: number;
  readonly to: number;
  readonly ballot: Ballot;
  /** Echo of MsgHeartbeat.seq. */
  readonly seq: number;
  /** The follower's decided prefix. */
  readonly decidedThrough: number;
}

/** A decision announcement when no Accept or Heartbeat is going that way to carry it. */
export interface MsgDecided {
  readonly type: 'decided';
  readonly from: number;
  readonly to: number;
  readonly ballot: Ballot;
  readonly decidedThrough: number;
}

/** A lagging replica asks for decided values from `fromInstance` on. */
export interface MsgCatchUpRequest {
  readonly type: 'catchUpRequest';
  readonly from: number;
  readonly to: number;
  readonly fromInstance: number;
}

/** Decided values for consecutive instances from the requested one (at most messageEntriesMax). */
export interface MsgCatchUp {
  readonly type: 'catchUp';
  readonly from: number;
  readonly to: number;
  /** Decided entries, ascending and consecutive; may be empty. */
  readonly entries: readonly LogEntry[];
  /** The sender's decided prefix, so the receiver knows whether to ask for more. */
  readonly decidedThrough: number;
}

/** The requested instances were truncated below a snapshot: install one through >= snapshotThrough. */
export interface MsgSnapshotNeeded {
  readonly type: 'snapshotNeeded';
  readonly from: number;
  readonly to: number;
  readonly snapshotThrough: number;
}

/**
 * A recovering replica (one that started without a hard state) asks a peer for its state.
 * Answered by every replica, recovering or not; changes nothing at the receiver.
 */
export interface MsgRecoveryQuery {
  readonly type: 'recoveryQuery';
  readonly from: number;
  readonly to: number;
  /** Drawn at random per recovery; echoed, so a reply to an earlier incarnation's query is ignored. */
  readonly nonce: number;
}

/** The receiver's state when it answered a RecoveryQuery. */
export interface MsgRecoveryReply {
  readonly type: 'recoveryReply';
  readonly from: number;
  readonly to: number;
  /** Echo of MsgRecoveryQuery.nonce. */
  readonly nonce: number;
  /** The highest ballot the sender has promised (a candidate has promised its own ballot). */
  readonly promised: Ballot;
  /** The sender's decided prefix: the asker fetches it (catch-up or snapshot) before it votes. */
  readonly decidedThrough: number;
  /** Every entry the sender holds above decidedThrough, ascending (as in a Promise). */
  readonly entries: readonly LogEntry[];
  /** The sender is itself recovering (for traces and logs; the recovery does not depend on it). */
  readonly recovering: boolean;
  /** The highest vote stamp the sender has seen from the asker: its next incarnation goes above it. */
  readonly known: VoteStamp;
}

/**
 * A replica restarted on its stable state (not recovering) asks every peer whether it has seen
 * a later vote of the asker than `stamp`, the asker's stamp as its storage gave it back. It
 * votes on nothing until a majority (itself included) answered no.
 */
export interface MsgStampCheck {
  readonly type: 'stampCheck';
  readonly from: number;
  readonly to: number;
  /** Drawn at random per start; echoed. */
  readonly nonce: number;
  readonly stamp: VoteStamp;
}

export interface MsgStampCheckReply {
  readonly type: 'stampCheckReply';
  readonly from: number;
  readonly to: number;
  /** Echo of MsgStampCheck.nonce. */
  readonly nonce: number;
  /** True when `seen` is above the stamp asked about: the asker's storage forgot votes it sent. */
  readonly rolledBack: boolean;
  /** The highest stamp the sender has seen from the asker. */
  readonly seen: VoteStamp;
}

export type Message =
  | MsgPreVote
  | MsgPreVoteReply
  | MsgPrepare
  | MsgPromise
  | MsgAccept
  | MsgAccepted
  | MsgNack
  | MsgHeartbeat
  | MsgHeartbeatReply
  | MsgDecided
  | MsgCatchUpRequest
  | MsgCatchUp
  | MsgSnapshotNeeded
  | MsgRecoveryQuery
  | MsgRecoveryReply
  | MsgStampCheck
  | MsgStampCheckReply;

export type MessageType = Message['type'];
