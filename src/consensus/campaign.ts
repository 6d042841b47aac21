// A campaign for leadership: a pre-vote round, then phase 1 ("prepare to infinity").
//
// The pre-vote asks "would you promise me, if I asked?" and changes nothing, so a replica cut
// off from the leader cannot inflate ballots and depose a live leader when it comes back. Only
// with a majority of grants does the candidate promise itself a fresh ballot and send Prepare
// for every instance from its first undecided one. Promises are merged as they arrive: per
// instance, a decided value wins, else the value accepted at the highest ballot. That merge is
// all the new leader needs to fill every gap in one round.

import { assert } from '../protocol/assert.ts';
import { MergedEntries } from './merge.ts';
import type { Members } from './quorum.ts';
import type { Random } from './random.ts';
import type { Ballot, LogEntry } from './types.ts';

export type CampaignPhase = 'pre-vote' | 'prepare';

export class Campaign {
  /** Replicas that granted the pre-vote or promised, this replica included. */
  private grantedMask: number;
  private refusedMask = 0;
  /** Per instance, what the leader must propose (or learn) there. */
  private readonly merged = new MergedEntries();
  /** The highest decided prefix among the promises, and who reported it. */
  private decidedThroughMaxValue = 0;
  private decidedThroughSourceId = 0;
  /** Tick at which Prepare was last sent, for retries. */
  sentTick: number;

  constructor(
    readonly phase: CampaignPhase,
    readonly ballot: Ballot,
    private readonly members: Members,
    nowTicks: number,
  ) {
    this.grantedMask = members.bit(members.selfId);
    this.sentTick = nowTicks;
  }

  get highestInstance(): number { return this.merged.highestInstance; }
  get decidedThroughMax(): number { return this.decidedThroughMaxValue; }
  get decidedThroughSource(): number { return this.decidedThroughSourceId; }

  hasGranted(id: number): boolean {
    return (this.grantedMask & this.members.bit(id)) !== 0;
  }

  /** Records a grant or promise; returns true when a majority has granted. */
  grant(id: number): boolean {
    this.grantedMask |= this.members.bit(id);
    return this.members.hasQuorum(this.grantedMask);
  }

  /** Records a refusal; returns true when a majority can no longer be reached. */
  refuse(id: number): boolean {
    this.refusedMask |= this.members.bit(id);
    return this.members.quorumImpossible(this.refusedMask);
  }

  won(): boolean {
    return this.members.hasQuorum(this.grantedMask);
  }

  /** Merges one acceptor's promise (its own log, for this replica). Entries ascend by instance. */
  mergePromise(fromId: number, decidedThrough: number, entries: readonly LogEntry[]): void {
    assert(this.phase === 'prepare', 'promise merged during a pre-vote');
    if (decidedThrough > this.decidedThroughMaxValue) {
      this.decidedThroughMaxValue = decidedThrough;
      this.decidedThroughSourceId = fromId;
    }
    for (const entry of entries) this.merged.merge(entry);
  }

  /** The merged report for an instance: decided, or accepted at the highest ballot; undefined = gap. */
  reported(instance: number): LogEntry | undefined {
    return this.merged.get(instance);
  }
}

/**
 * Ticks to wait before campaigning: the timeout plus a random extra in [0, timeout * 2^k), where
 * k (at most 3) counts campaigns that failed in a row, so duelling candidates back off apart.
 */
export function electionDeadlineTicks(electionTimeoutTicks: number, failedCampaigns: number, random: Random): number {
  const spreadTicks = electionTimeoutTicks * 2 ** Math.min(failedCampaigns, 3);
  return electionTimeoutTicks + random.nextInt(spreadTicks);
}
