// The replica's log: for each instance above the snapshot, the value it accepted (and at which
// ballot) or learned as decided. It is the acceptor's and the learner's memory; durability is
// the driver's job (via Ready.persist), so every change here is mirrored by the caller into the
// persist buffer.

import { assert } from '../protocol/assert.ts';
import { valuesEqual } from './value.ts';
import type { Ballot, LogEntry, Value } from './types.ts';

/** One instance's state. Mutable inside the core; handed out only as copies (LogEntry). */
export interface Slot {
  ballot: Ballot;
  value: Value;
  decided: boolean;
}

export class Log {
  private readonly slots = new Map<number, Slot>();
  /** Every instance <= this was truncated below a snapshot (and is decided). */
  private snapshotThroughValue = 0;
  /** Invariant: every instance in (snapshotThrough, decidedThrough] has a decided slot. */
  private decidedThroughValue = 0;
  /** The highest instance with a slot, or the snapshot point when none is above it. */
  private highestInstanceValue = 0;

  get snapshotThrough(): number { return this.snapshotThroughValue; }
  get decidedThrough(): number { return this.decidedThroughValue; }
  get highestInstance(): number { return this.highestInstanceValue; }

  get(instance: number): Slot | undefined {
    return this.slots.get(instance);
  }

  isDecided(instance: number): boolean {
    return instance <= this.snapshotThroughValue || this.slots.get(instance)?.decided === true;
  }

  /**
   * Records that this replica accepted `value` at `ballot` (phase 2b) or proposed it as leader.
   * The caller has checked `ballot` against the promise. Invariant: one value per ballot per
   * instance, and a decided slot is never overwritten by an accept.
   */
  accept(instance: number, ballot: Ballot, value: Value): Slot {
    assert(instance > this.snapshotThroughValue, `accept at ${instance}, at or below the snapshot ${this.snapshotThroughValue}`);
    const existing = this.slots.get(instance);
    assert(existing?.decided !== true, `accept at decided instance ${instance}`);
    if (existing !== undefined && existing.ballot.round === ballot.round && existing.ballot.replicaId === ballot.replicaId) {
      assert(valuesEqual(existing.value, value), `two values for instance ${instance} in one ballot`);
    }
    const slot: Slot = { ballot, value, decided: false };
    this.slots.set(instance, slot);
    if (instance > this.highestInstanceValue) this.highestInstanceValue = instance;
    return slot;
  }

  /** Marks an accepted slot decided (a majority accepted it, or the leader said so). */
  markDecided(instance: number): void {
    const slot = this.slots.get(instance);
    assert(slot !== undefined, `markDecided: no slot at ${instance}`);
    slot.decided = true;
  }

  /**
   * Records a value learned as decided (catch-up, promise, recovery). Returns false when it was
   * already known. Invariant: a decided value never changes.
   */
  learn(instance: number, ballot: Ballot, value: Value): boolean {
    if (instance <= this.snapshotThroughValue) return false;
    const existing = this.slots.get(instance);
    if (existing?.decided === true) {
      assert(valuesEqual(existing.value, value), `decided value of instance ${instance} changed`);
      return false;
    }
    this.slots.set(instance, { ballot, value, decided: true });
    if (instance > this.highestInstanceValue) this.highestInstanceValue = instance;
    return true;
  }

  /** Moves decidedThrough over consecutive decided slots; returns whether it moved. */
  advanceDecidedThrough(): boolean {
    const before = this.decidedThroughValue;
    let next = before + 1;
    while (this.slots.get(next)?.decided === true) next++;
    this.decidedThroughValue = next - 1;
    return this.decidedThroughValue !== before;
  }

  /** Entries above `afterInstance`, ascending, as copies (for a Promise). */
  entriesAbove(afterInstance: number): LogEntry[] {
    const entries: LogEntry[] = [];
    for (let i = Math.max(afterInstance, this.snapshotThroughValue) + 1; i <= this.highestInstanceValue; i++) {
      const slot = this.slots.get(i);
      if (slot !== undefined) entries.push(toEntry(i, slot));
    }
    return entries;
  }

  /** Up to `countMax` consecutive decided entries from `fromInstance` (for a CatchUp). */
  decidedFrom(fromInstance: number, countMax: number): LogEntry[] {
    assert(fromInstance > this.snapshotThroughValue, `decidedFrom ${fromInstance} at or below the snapshot`);
    const entries: LogEntry[] = [];
    for (let i = fromInstance; entries.length < countMax; i++) {
      const slot = this.slots.get(i);
      if (slot?.decided !== true) break;
      entries.push(toEntry(i, slot));
    }
    return entries;
  }

  /**
   * Drops every slot <= throughInstance, which must be decided: the state machine holds them in
   * a snapshot now. With `install`, the instances need not be known here (a snapshot from a
   * peer); decidedThrough then jumps to throughInstance.
   */
  truncateThrough(throughInstance: number, install: boolean): void {
    if (throughInstance <= this.snapshotThroughValue) return;
    if (!install) assert(throughInstance <= this.decidedThroughValue, `truncate through ${throughInstance} above decided ${this.decidedThroughValue}`);
    if (throughInstance - this.snapshotThroughValue <= this.slots.size) {
      for (let i = this.snapshotThroughValue + 1; i <= throughInstance; i++) this.slots.delete(i);
    } else {
      for (const instance of this.slots.keys()) if (instance <= throughInstance) this.slots.delete(instance);
    }
    this.snapshotThroughValue = throughInstance;
    if (this.decidedThroughValue < throughInstance) this.decidedThroughValue = throughInstance;
    if (this.highestInstanceValue < throughInstance) this.highestInstanceValue = throughInstance;
    this.advanceDecidedThrough();
  }
}

export function toEntry(instance: number, slot: Slot): LogEntry {
  return { instance, ballot: slot.ballot, value: slot.value, decided: slot.decided };
}
