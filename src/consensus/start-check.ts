// The check of a replica restarted on its stable state (not recovering): before it votes, every
// member, or after a wait a majority (itself included), must confirm that none of them has seen
// a later vote of it than the stamp its storage gave back. Any "rolled back" answer sends it
// into recovery. docs/consensus.md, "A data directory rolled back".

import { assert } from '../protocol/assert.ts';
import type { MsgStampCheckReply } from './messages.ts';
import { bitCount, type Members } from './quorum.ts';
import type { VoteStamp } from './types.ts';

/** What `Replica.status()` shows of a start check. */
export interface StartCheckStatus {
  /** Members that confirmed the stamp, this replica included, out of `needed`. */
  readonly confirmed: number;
  readonly needed: number;
}

export class StartCheck {
  /** Bit per member that answered (Members.bit); this replica's own bit is set from the start. */
  private answeredMask: number;
  /** Bit per member that confirmed, this replica included. */
  private confirmedMask: number;
  /** Tick at which queries were last sent, for retries. */
  sentTick: number;
  private readonly startTick: number;
  private passedValue = false;

  constructor(
    /** Drawn at random per start; a reply that does not echo it answered another start. */
    readonly nonce: number,
    /** The stamp storage gave back at the start. */
    readonly stamp: VoteStamp,
    private readonly members: Members,
    nowTicks: number,
    /** How long to wait for every member before a majority is enough. */
    private readonly waitAllTicks: number,
  ) {
    assert(members.size > 1, 'a group of one has no one to check with');
    this.answeredMask = members.bit(members.selfId);
    this.confirmedMask = this.answeredMask;
    this.sentTick = nowTicks;
    this.startTick = nowTicks;
  }

  /** The replica may vote: see `settle`. */
  get passed(): boolean {
    return this.passedValue;
  }

  /**
   * Passes once every member confirmed, or a majority did and waitAllTicks went by: every
   * answer is another replica that may have counted a vote the storage forgot, so the check
   * waits a while for all of them, but not forever (a member may be down for long).
   */
  settle(nowTicks: number): boolean {
    if (this.passedValue) return true;
    const all = bitCount(this.confirmedMask) === this.members.size;
    this.passedValue = all || (this.members.hasQuorum(this.confirmedMask) && nowTicks - this.startTick >= this.waitAllTicks);
    return this.passedValue;
  }

  hasAnswered(peerId: number): boolean {
    return (this.answeredMask & this.members.bit(peerId)) !== 0;
  }

  /** Records a peer's first answer (the caller checked the nonce); true when it says rolled back. */
  record(m: MsgStampCheckReply): boolean {
    assert(m.nonce === this.nonce, 'stamp check reply for another start');
    const bit = this.members.bit(m.from);
    if ((this.answeredMask & bit) !== 0) return false;
    this.answeredMask |= bit;
    if (m.rolledBack) return true;
    this.confirmedMask |= bit;
    return false;
  }

  status(): StartCheckStatus {
    return { confirmed: bitCount(this.confirmedMask), needed: this.members.quorum };
  }
}
