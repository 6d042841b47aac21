// Consensus messages <-> dstore.v1.ConsensusMessage (replica.proto), one to one. Decoding
// is where a malformed frame from a peer is refused (InvalidArgumentError) before it reaches
// the consensus core, which asserts its inputs are well formed: every number is a safe
// integer in range, a leader's or candidate's ballot names its sender, entry lists ascend
// and stay within PEER_MESSAGE_ENTRIES_MAX, catch-up entries are decided. What decoding
// cannot see is a well-formed message that lies (two values decided for one instance): the
// core's assertions stop the replica then, as the replicas are trusted not to lie.

import { assertNever } from '../../protocol/assert.ts';
import { InvalidArgumentError } from '../../protocol/errors.ts';
import type { Ballot as BallotMsg, Ballot__Output } from '../../protocol/generated/dstore/v1/Ballot.ts';
import type { ConsensusMessage, ConsensusMessage__Output } from '../../protocol/generated/dstore/v1/ConsensusMessage.ts';
import type { LogEntry as LogEntryMsg, LogEntry__Output } from '../../protocol/generated/dstore/v1/LogEntry.ts';
import type { SeenStamp__Output } from '../../protocol/generated/dstore/v1/SeenStamp.ts';
import type { Value as ValueMsg, Value__Output } from '../../protocol/generated/dstore/v1/Value.ts';
import type { VoteStamp as VoteStampMsg, VoteStamp__Output } from '../../protocol/generated/dstore/v1/VoteStamp.ts';
import { STAMP_ZERO, type Ballot, type LogEntry, type Message, type SeenStamp, type Value, type VoteStamp } from '../../consensus/index.ts';

const ballotMsg = (b: Ballot): BallotMsg => ({ round: b.round, replicaId: b.replicaId });
const valueMsg = (v: Value): ValueMsg => (v.kind === 'noop' ? { noop: true, commands: [] } : { noop: false, commands: v.commands as Uint8Array[] });
const stampMsg = (s: VoteStamp): VoteStampMsg => ({ incarnation: s.incarnation, voteSeq: s.voteSeq });
const seenMsg = (s: SeenStamp) => ({ replicaId: s.replicaId, stamp: stampMsg(s) });
const entryMsg = (e: LogEntry): LogEntryMsg => ({ instance: e.instance, ballot: ballotMsg(e.ballot), value: valueMsg(e.value), decided: e.decided });

/** Encodes a message for PeerFrame.messages. Keeps references to the message's bytes. */
export function encodePeerMessage(m: Message): ConsensusMessage {
  const head = { from: m.from, to: m.to };
  switch (m.type) {
    case 'preVote': return { ...head, preVote: { ballot: ballotMsg(m.ballot) } };
    case 'preVoteReply': return { ...head, preVoteReply: { ballot: ballotMsg(m.ballot), granted: m.granted, promised: ballotMsg(m.promised) } };
    case 'prepare': return { ...head, prepare: { ballot: ballotMsg(m.ballot), fromInstance: m.fromInstance } };
    case 'promise': return { ...head, promise: { ballot: ballotMsg(m.ballot), decidedThrough: m.decidedThrough, entries: m.entries.map(entryMsg), stamp: stampMsg(m.stamp) } };
    case 'accept':
      return { ...head, accept: { ballot: ballotMsg(m.ballot), firstInstance: m.firstInstance, values: m.values.map(valueMsg), decidedThrough: m.decidedThrough } };
    case 'accepted':
      return { ...head, accepted: { ballot: ballotMsg(m.ballot), firstInstance: m.firstInstance, count: m.count, decidedThrough: m.decidedThrough, stamp: stampMsg(m.stamp) } };
    case 'nack':
      return { ...head, nack: { ballot: ballotMsg(m.ballot), promised: ballotMsg(m.promised), reason: m.reason === 'promised-higher' ? 'REASON_PROMISED_HIGHER' : 'REASON_LEADER_ALIVE' } };
    case 'heartbeat': return { ...head, heartbeat: { ballot: ballotMsg(m.ballot), decidedThrough: m.decidedThrough, seq: m.seq, stamps: m.stamps.map(seenMsg) } };
    case 'heartbeatReply': return { ...head, heartbeatReply: { ballot: ballotMsg(m.ballot), seq: m.seq, decidedThrough: m.decidedThrough } };
    case 'decided': return { ...head, decided: { ballot: ballotMsg(m.ballot), decidedThrough: m.decidedThrough } };
    case 'catchUpRequest': return { ...head, catchUpRequest: { fromInstance: m.fromInstance } };
    case 'catchUp': return { ...head, catchUp: { entries: m.entries.map(entryMsg), decidedThrough: m.decidedThrough } };
    case 'snapshotNeeded': return { ...head, snapshotNeeded: { snapshotThrough: m.snapshotThrough } };
    case 'recoveryQuery': return { ...head, recoveryQuery: { nonce: m.nonce } };
    case 'recoveryReply':
      return {
        ...head,
        recoveryReply: {
          nonce: m.nonce,
          promised: ballotMsg(m.promised),
          decidedThrough: m.decidedThrough,
          entries: m.entries.map(entryMsg),
          recovering: m.recovering,
          known: stampMsg(m.known),
        },
      };
    case 'stampCheck': return { ...head, stampCheck: { nonce: m.nonce, stamp: stampMsg(m.stamp) } };
    case 'stampCheckReply': return { ...head, stampCheckReply: { nonce: m.nonce, rolledBack: m.rolledBack, seen: stampMsg(m.seen) } };
    default: return assertNever(m, 'consensus message');
  }
}

/** Entries, values or acknowledged instances one consensus message carries at most. */
export const PEER_MESSAGE_ENTRIES_MAX = 65_536;
/** Highest ballot round accepted: far above any real count of elections, far below 2^53. */
export const BALLOT_ROUND_MAX = 2 ** 48;
/** Highest replica id (as in the --peers list). */
const REPLICA_ID_MAX = 65_535;

function malformed(what: string): InvalidArgumentError {
  return new InvalidArgumentError(`malformed consensus message from peer: ${what}`);
}

function ballotOf(b: Ballot__Output | null, what: string): Ballot {
  if (b === null) throw malformed(`${what} has no ballot`);
  if (!Number.isSafeInteger(b.round) || b.round < 0 || b.round > BALLOT_ROUND_MAX) throw malformed(`${what} has ballot round ${b.round}, outside 0..${BALLOT_ROUND_MAX}`);
  if (!Number.isSafeInteger(b.replicaId) || b.replicaId < 0 || b.replicaId > REPLICA_ID_MAX) throw malformed(`${what} has ballot replica id ${b.replicaId}, outside 0..${REPLICA_ID_MAX}`);
  return { round: b.round, replicaId: b.replicaId };
}

/** The ballot of a message only its owner sends (pre-vote, prepare, accept, heartbeat, decided). */
function ownBallotOf(b: Ballot__Output | null, from: number, what: string): Ballot {
  const ballot = ballotOf(b, what);
  if (ballot.replicaId !== from) throw malformed(`${what} from replica ${from} carries the ballot of replica ${ballot.replicaId}`);
  return ballot;
}

function countOf(n: number, what: string): void {
  if (n > PEER_MESSAGE_ENTRIES_MAX) throw malformed(`${what}: ${n}, over the limit of ${PEER_MESSAGE_ENTRIES_MAX}`);
}

/** Entries in strictly ascending instance order; decided ones only when `decidedOnly`. */
function entriesOf(entries: LogEntry__Output[], what: string, decidedOnly: boolean): LogEntry[] {
  countOf(entries.length, `${what} count`);
  let previous = 0;
  return entries.map((e) => {
    const entry = entryOf(e, `${what} entry`);
    if (entry.instance <= previous) throw malformed(`${what} entries do not ascend (${entry.instance} after ${previous})`);
    if (decidedOnly && !entry.decided) throw malformed(`${what} entry ${entry.instance} is not decided`);
    previous = entry.instance;
    return entry;
  });
}

/** The first of `count` consecutive instances, all of them safe integers >= 1. */
function instanceRange(first: number, count: number, what: string): number {
  if (!Number.isSafeInteger(first) || first < 1 || !Number.isSafeInteger(first + count)) throw malformed(`${what} starts at instance ${first}`);
  return first;
}

function valueOf(v: Value__Output | null, what: string): Value {
  if (v === null) throw malformed(`${what} has no value`);
  if (v.noop) {
    if (v.commands.length > 0) throw malformed(`${what} is a no-op with commands`);
    return { kind: 'noop' };
  }
  return { kind: 'commands', commands: v.commands };
}

function entryOf(e: LogEntry__Output, what: string): LogEntry {
  if (!Number.isSafeInteger(e.instance) || e.instance < 1) throw malformed(`${what} has instance ${e.instance}`);
  return { instance: e.instance, ballot: ballotOf(e.ballot, what), value: valueOf(e.value, what), decided: e.decided };
}

function counter(n: number, what: string): number {
  if (!Number.isSafeInteger(n) || n < 0) throw malformed(`${what} is ${n}`);
  return n;
}

/** A vote stamp; absent (a peer that predates stamps) reads as STAMP_ZERO. */
function stampOf(s: VoteStamp__Output | null, what: string): VoteStamp {
  if (s === null) return STAMP_ZERO;
  return { incarnation: counter(s.incarnation, `${what}.incarnation`), voteSeq: counter(s.voteSeq, `${what}.voteSeq`) };
}

function seenStampsOf(stamps: SeenStamp__Output[], what: string): SeenStamp[] {
  countOf(stamps.length, `${what} count`);
  return stamps.map((s) => {
    if (!Number.isSafeInteger(s.replicaId) || s.replicaId < 1 || s.replicaId > REPLICA_ID_MAX) throw malformed(`${what} names replica ${s.replicaId}`);
    return { replicaId: s.replicaId, ...stampOf(s.stamp, what) };
  });
}

/**
 * Decodes a peer's message and checks it came from `peerId` to `selfId`. Throws
 * InvalidArgumentError for anything malformed; the caller drops the peer's stream.
 */
export function decodePeerMessage(m: ConsensusMessage__Output, peerId: number, selfId: number): Message {
  if (m.from !== peerId || m.to !== selfId) throw malformed(`addressed ${m.from}->${m.to} on the stream ${peerId}->${selfId}`);
  const head = { from: m.from, to: m.to };
  switch (m.kind) {
    case 'preVote':
      return { ...head, type: 'preVote', ballot: ownBallotOf(m.preVote!.ballot, m.from, 'preVote') };
    case 'preVoteReply': {
      const r = m.preVoteReply!;
      return { ...head, type: 'preVoteReply', ballot: ballotOf(r.ballot, 'preVoteReply'), granted: r.granted, promised: ballotOf(r.promised, 'preVoteReply.promised') };
    }
    case 'prepare': {
      const p = m.prepare!;
      return { ...head, type: 'prepare', ballot: ownBallotOf(p.ballot, m.from, 'prepare'), fromInstance: counter(p.fromInstance, 'prepare.fromInstance') };
    }
    case 'promise': {
      const p = m.promise!;
      return {
        ...head,
        type: 'promise',
        ballot: ballotOf(p.ballot, 'promise'),
        decidedThrough: counter(p.decidedThrough, 'promise.decidedThrough'),
        entries: entriesOf(p.entries, 'promise', false),
        stamp: stampOf(p.stamp, 'promise.stamp'),
      };
    }
    case 'accept': {
      const a = m.accept!;
      if (a.values.length === 0) throw malformed('accept without values');
      countOf(a.values.length, 'accept value count');
      return {
        ...head,
        type: 'accept',
        ballot: ownBallotOf(a.ballot, m.from, 'accept'),
        firstInstance: instanceRange(a.firstInstance, a.values.length, 'accept'),
        values: a.values.map((v) => valueOf(v, 'accept value')),
        decidedThrough: counter(a.decidedThrough, 'accept.decidedThrough'),
      };
    }
    case 'accepted': {
      const a = m.accepted!;
      countOf(a.count, 'accepted.count');
      return {
        ...head,
        type: 'accepted',
        ballot: ballotOf(a.ballot, 'accepted'),
        firstInstance: instanceRange(a.firstInstance, counter(a.count, 'accepted.count'), 'accepted'),
        count: a.count,
        decidedThrough: counter(a.decidedThrough, 'accepted.decidedThrough'),
        stamp: stampOf(a.stamp, 'accepted.stamp'),
      };
    }
    case 'nack': {
      const n = m.nack!;
      const reason = ({ REASON_PROMISED_HIGHER: 'promised-higher', REASON_LEADER_ALIVE: 'leader-alive' } as const)[n.reason];
      if (reason === undefined) throw malformed(`nack has unknown reason ${String(n.reason)}`);
      return { ...head, type: 'nack', ballot: ballotOf(n.ballot, 'nack'), promised: ballotOf(n.promised, 'nack.promised'), reason };
    }
    case 'heartbeat': {
      const h = m.heartbeat!;
      return {
        ...head,
        type: 'heartbeat',
        ballot: ownBallotOf(h.ballot, m.from, 'heartbeat'),
        decidedThrough: counter(h.decidedThrough, 'heartbeat.decidedThrough'),
        seq: counter(h.seq, 'heartbeat.seq'),
        stamps: seenStampsOf(h.stamps, 'heartbeat.stamps'),
      };
    }
    case 'heartbeatReply': {
      const h = m.heartbeatReply!;
      return { ...head, type: 'heartbeatReply', ballot: ballotOf(h.ballot, 'heartbeatReply'), seq: counter(h.seq, 'heartbeatReply.seq'), decidedThrough: counter(h.decidedThrough, 'heartbeatReply.decidedThrough') };
    }
    case 'decided': {
      const d = m.decided!;
      return { ...head, type: 'decided', ballot: ownBallotOf(d.ballot, m.from, 'decided'), decidedThrough: counter(d.decidedThrough, 'decided.decidedThrough') };
    }
    case 'catchUpRequest':
      return { ...head, type: 'catchUpRequest', fromInstance: counter(m.catchUpRequest!.fromInstance, 'catchUpRequest.fromInstance') };
    case 'catchUp': {
      const c = m.catchUp!;
      return { ...head, type: 'catchUp', entries: entriesOf(c.entries, 'catchUp', true), decidedThrough: counter(c.decidedThrough, 'catchUp.decidedThrough') };
    }
    case 'snapshotNeeded':
      return { ...head, type: 'snapshotNeeded', snapshotThrough: counter(m.snapshotNeeded!.snapshotThrough, 'snapshotNeeded.snapshotThrough') };
    case 'recoveryQuery':
      return { ...head, type: 'recoveryQuery', nonce: counter(m.recoveryQuery!.nonce, 'recoveryQuery.nonce') };
    case 'recoveryReply': {
      const r = m.recoveryReply!;
      return {
        ...head,
        type: 'recoveryReply',
        nonce: counter(r.nonce, 'recoveryReply.nonce'),
        promised: ballotOf(r.promised, 'recoveryReply.promised'),
        decidedThrough: counter(r.decidedThrough, 'recoveryReply.decidedThrough'),
        entries: entriesOf(r.entries, 'recoveryReply', false),
        recovering: r.recovering,
        known: stampOf(r.known, 'recoveryReply.known'),
      };
    }
    case 'stampCheck': {
      const c = m.stampCheck!;
      return { ...head, type: 'stampCheck', nonce: counter(c.nonce, 'stampCheck.nonce'), stamp: stampOf(c.stamp, 'stampCheck.stamp') };
    }
    case 'stampCheckReply': {
      const r = m.stampCheckReply!;
      return { ...head, type: 'stampCheckReply', nonce: counter(r.nonce, 'stampCheckReply.nonce'), rolledBack: r.rolledBack, seen: stampOf(r.seen, 'stampCheckReply.seen') };
    }
    case undefined:
      throw malformed('no kind set');
    default:
      return assertNever(m.kind, 'consensus message kind');
  }
}
