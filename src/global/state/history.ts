// The recent-change history that subscribers resume from (DESIGN.md section 6).
//
// Holds the change events of revisions (startRevision, latest], at most `revisionsMax`
// of them. A subscriber asking for a revision at or below startRevision has missed
// changes we no longer have: it gets "compacted" and must drop its key bindings.

import { assert } from '../../protocol/assert.ts';
import type { ChangeEvent } from './types.ts';

export interface RevisionEvents {
  readonly revision: number;
  readonly events: readonly ChangeEvent[];
}

export class History {
  // A ring would avoid the shift() below; at revisionsMax of ~100k the array's amortised
  // shift is cheaper than it looks (V8 moves the start pointer for large arrays).
  private readonly revisions: RevisionEvents[] = [];
  private start: number;

  /** `startRevision`: every revision up to and including it is not (or no longer) held. */
  constructor(
    private readonly revisionsMax: number,
    startRevision: number,
  ) {
    assert(Number.isSafeInteger(revisionsMax) && revisionsMax > 0, `history revisionsMax must be a positive integer, got ${revisionsMax}`);
    this.start = startRevision;
  }

  /** Oldest revision a subscriber may start from. */
  get oldestRevision(): number {
    return this.start + 1;
  }

  get latestRevision(): number {
    return this.start + this.revisions.length;
  }

  append(revision: number, events: readonly ChangeEvent[]): void {
    assert(revision === this.latestRevision + 1, `history: revision ${revision} after ${this.latestRevision} leaves a gap`);
    this.revisions.push({ revision, events });
    if (this.revisions.length > this.revisionsMax) {
      this.revisions.shift();
      this.start++;
    }
  }

  /**
   * Revisions from `fromRevision` on, at most `revisionsMax` of them, or null when
   * fromRevision is older than the history (compacted). Returns [] when caught up.
   */
  since(fromRevision: number, revisionsMax: number): readonly RevisionEvents[] | null {
    if (fromRevision < this.oldestRevision) return null;
    const first = fromRevision - this.oldestRevision;
    return this.revisions.slice(first, first + revisionsMax);
  }

  /** Forgets everything: after a snapshot install the history starts at its revision. */
  reset(startRevision: number): void {
    this.revisions.length = 0;
    this.start = startRevision;
  }
}
