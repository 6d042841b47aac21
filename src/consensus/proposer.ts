// The leader's phase-2 window: which instances it has proposed in its ballot and not yet seen
// decided, and which replicas accepted each. A majority of acceptances decides an instance.

import { assert } from '../protocol/assert.ts';
import type { Members } from './quorum.ts';
import type { Ballot } from './types.ts';

export class Proposer {
  /** Instance -> who accepted it in `ballot` and when it was proposed. Ascending insertion order. */
  private readonly acksByInstance = new Map<number, { mask: number; readonly proposedTick: number }>();
  /** Tick at which unacknowledged Accepts were last sent again. */
  retriedTick: number;

  constructor(
    readonly ballot: Ballot,
    /** The next instance this leader will propose a new value at. */
    public nextInstance: number,
    private readonly members: Members,
    nowTicks: number,
  ) {
    this.retriedTick = nowTicks;
  }

  /** Instances proposed beyond `decidedThrough`: the window in use. */
  windowUsed(decidedThrough: number): number {
    return this.nextInstance - 1 - decidedThrough;
  }

  /** Starts tracking an instance the leader just accepted itself. */
  track(instance: number, nowTicks: number): void {
    assert(!this.acksByInstance.has(instance), `instance ${instance} proposed twice in ballot ${this.ballot.round}`);
    this.acksByInstance.set(instance, { mask: this.members.bit(this.members.selfId), proposedTick: nowTicks });
  }

  /** When `instance` (tracked) was proposed. */
  proposedTick(instance: number): number {
    const acks = this.acksByInstance.get(instance);
    assert(acks !== undefined, `instance ${instance} not tracked`);
    return acks.proposedTick;
  }

  isTracked(instance: number): boolean {
    return this.acksByInstance.has(instance);
  }

  /** Records an acceptance; returns true when it completes a majority (the instance is decided). */
  ack(instance: number, fromId: number): boolean {
    const acks = this.acksByInstance.get(instance);
    if (acks === undefined) return false;
    acks.mask |= this.members.bit(fromId);
    if (!this.members.hasQuorum(acks.mask)) return false;
    this.acksByInstance.delete(instance);
    return true;
  }

  /** Stops tracking an instance decided by other means (learned from a peer). */
  forget(instance: number): void {
    this.acksByInstance.delete(instance);
  }

  /** Whether `instance` still lacks `peerId`'s acceptance. */
  lacks(instance: number, peerId: number): boolean {
    const acks = this.acksByInstance.get(instance);
    return acks !== undefined && (acks.mask & this.members.bit(peerId)) === 0;
  }

  /** Undecided instances in this ballot, ascending. */
  trackedInstances(): IterableIterator<number> {
    return this.acksByInstance.keys();
  }

  get trackedCount(): number {
    return this.acksByInstance.size;
  }
}
