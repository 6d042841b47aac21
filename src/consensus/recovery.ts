// The tally of a recovering replica: one that started without a hard state (a new disk, a
// wiped one, or one holding only a restored snapshot) and so may have forgotten what it
// promised and accepted. It votes on nothing until every other member has answered its
// RecoveryQuery and it has learned every instance those answers showed decided; then it
// promises the highest ballot any of them reported, takes over the highest-ballot entry any of
// them reported above its decided prefix (as accepted at that ballot), and votes again.
// docs/consensus.md ("Recovering after a lost disk") has the argument; in short, whoever could
// still count a vote this replica cast before it lost its disk (the candidate it promised, the
// leader it accepted from) is one of the members that answer, and its answer shows that ballot
// and that entry.

import { assert } from '../protocol/assert.ts';
import { ballotGreater, ballotLess } from './ballot.ts';
import { MergedEntries } from './merge.ts';
import type { MsgRecoveryReply } from './messages.ts';
import { bitCount, type Members } from './quorum.ts';
import { BALLOT_ZERO, compareStamps, STAMP_ZERO, type Ballot, type LogEntry, type VoteStamp } from './types.ts';

/** What `Replica.status()` shows of a recovery in progress. */
export interface RecoveryStatus {
  /** Peers that have answered this recovery's query, out of `peersTotal` (all must). */
  readonly peersAnswered: number;
  readonly peersTotal: number;
  /** The replica votes again once every peer answered and it has learned every decision through this instance. */
  readonly decidedTarget: number;
}

export class Recovery {
  /** Bit per peer that answered (Members.bit). Only a peer's first answer counts. */
  private answeredMask = 0;
  private readonly merged = new MergedEntries();
  private promisedMaxValue: Ballot = BALLOT_ZERO;
  private decidedTargetValue = 0;
  private decidedSourceId = 0;
  private knownStampMax: VoteStamp = STAMP_ZERO;
  /** Tick at which queries were last sent, for retries. */
  sentTick: number;
  /** The highest ballot of a leader heard while recovering (who `leaderId` names). */
  private leaderBallot: Ballot = BALLOT_ZERO;

  constructor(
    /** Drawn at random per recovery; a reply that does not echo it answered another incarnation. */
    readonly nonce: number,
    private readonly members: Members,
    nowTicks: number,
  ) {
    assert(members.size > 1, 'a group of one has no one to recover from');
    this.sentTick = nowTicks;
  }

  hasAnswered(peerId: number): boolean {
    return (this.answeredMask & this.members.bit(peerId)) !== 0;
  }

  /** True once every other member has answered. */
  get allAnswered(): boolean {
    return bitCount(this.answeredMask) === this.members.size - 1;
  }

  /** The highest ballot any answer reported: the promise this replica takes when it recovers. */
  get promisedMax(): Ballot {
    return this.promisedMaxValue;
  }

  /** The longest decided prefix an answer reported: learned (catch-up, snapshot) before voting. */
  get decidedTarget(): number {
    return this.decidedTargetValue;
  }

  /** The highest stamp of this replica any answer had seen: its new incarnation goes above it. */
  get knownStamp(): VoteStamp {
    return this.knownStampMax;
  }

  /** The peer that reported `decidedTarget` (0 before any answer), to catch up from. */
  get decidedSource(): number {
    return this.decidedSourceId;
  }

  /**
   * Records a peer's first reply to this recovery's query; later ones change nothing (the
   * caller checked the nonce). A first answer is enough: it was given after this replica
   * restarted, so it shows every ballot and entry through which that peer could still count a
   * vote from before the restart; a later one could only raise the decided target, which a
   * leader under load moves on faster than a replica catches up.
   */
  record(m: MsgRecoveryReply): void {
    assert(m.nonce === this.nonce, 'recovery reply for another query');
    if (this.hasAnswered(m.from)) return;
    this.answeredMask |= this.members.bit(m.from);
    if (ballotGreater(m.promised, this.promisedMaxValue)) this.promisedMaxValue = m.promised;
    if (m.decidedThrough > this.decidedTargetValue) {
      this.decidedTargetValue = m.decidedThrough;
      this.decidedSourceId = m.from;
    }
    if (compareStamps(m.known, this.knownStampMax) > 0) this.knownStampMax = m.known;
    for (const entry of m.entries) this.merged.merge(entry);
  }

  /** The merged entries above `afterInstance`, ascending: what the replica takes over when it recovers. */
  entriesAbove(afterInstance: number): LogEntry[] {
    return this.merged.ascending().filter((e) => e.instance > afterInstance);
  }

  /** Notes a leader heard while recovering; true when it is the newest one (by ballot). */
  hearLeader(ballot: Ballot): boolean {
    if (ballotLess(ballot, this.leaderBallot)) return false;
    this.leaderBallot = ballot;
    return true;
  }

  status(): RecoveryStatus {
    return { peersAnswered: bitCount(this.answeredMask), peersTotal: this.members.size - 1, decidedTarget: this.decidedTargetValue };
  }
}
