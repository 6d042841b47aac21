// Merging what acceptors report about instances they hold (a candidate's promises, a recovering
// replica's answers): per instance, a decided value wins, else the value accepted at the highest
// ballot. Every reported entry is a value some leader proposed at that ballot, so the merge is the
// value Paxos says a new proposer must carry forward.

import { assert } from '../protocol/assert.ts';
import { ballotEquals, ballotGreater } from './ballot.ts';
import type { LogEntry } from './types.ts';
import { valuesEqual } from './value.ts';

export class MergedEntries {
  private readonly byInstance = new Map<number, LogEntry>();
  private highestInstanceValue = 0;

  /** The highest instance any merged entry had; 0 when none. */
  get highestInstance(): number { return this.highestInstanceValue; }

  /**
   * Merges one reported entry. Invariants (assertions): two decided values for one instance
   * never differ, and neither do two values accepted at one ballot for one instance.
   */
  merge(entry: LogEntry): void {
    const known = this.byInstance.get(entry.instance);
    if (entry.instance > this.highestInstanceValue) this.highestInstanceValue = entry.instance;
    if (known === undefined) {
      this.byInstance.set(entry.instance, entry);
      return;
    }
    if (known.decided || entry.decided) {
      if (known.decided && entry.decided) {
        assert(valuesEqual(known.value, entry.value), `two decided values reported for instance ${entry.instance}`);
      }
      if (entry.decided && !known.decided) this.byInstance.set(entry.instance, entry);
      return;
    }
    if (ballotEquals(known.ballot, entry.ballot)) {
      // Invariant: one value per instance per ballot, whoever reports it.
      assert(valuesEqual(known.value, entry.value), `two values accepted for instance ${entry.instance} in one ballot`);
      return;
    }
    if (ballotGreater(entry.ballot, known.ballot)) this.byInstance.set(entry.instance, entry);
  }

  /** The merged report for an instance: decided, or accepted at the highest ballot; undefined = gap. */
  get(instance: number): LogEntry | undefined {
    return this.byInstance.get(instance);
  }

  /** Every merged entry, ascending by instance. */
  ascending(): LogEntry[] {
    return [...this.byInstance.values()].sort((a, b) => a.instance - b.instance);
  }
}
