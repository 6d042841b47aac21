// The recent-change history that subscribers resume from (docs/local.md).
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
  // A ring: `ring[(head + i) % ring.length]` is revision start + 1 + i. It grows by doubling
  // up to revisionsMax, then the oldest revision is overwritten in place. (An array with
  // shift() costs O(length) per append once full: 80 µs per commit at 100k revisions.)
  private ring: (RevisionEvents | undefined)[] = [];
  private head = 0;
  private length = 0;
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
    return this.start + this.length;
  }

  append(revision: number, events: readonly ChangeEvent[]): void {
    assert(revision === this.latestRevision + 1, `history: revision ${revision} after ${this.latestRevision} leaves a gap`);
    if (this.length === this.revisionsMax) {
      this.ring[this.head] = { revision, events };
      this.head = (this.head + 1) % this.ring.length;
      this.start++;
      return;
    }
    if (this.length === this.ring.length) this.grow();
    this.ring[(this.head + this.length) % this.ring.length] = { revision, events };
    this.length++;
  }

  /**
   * Revisions from `fromRevision` on, at most `revisionsMax` of them, or null when
   * fromRevision is older than the history (compacted). Returns [] when caught up.
   */
  since(fromRevision: number, revisionsMax: number): readonly RevisionEvents[] | null {
    if (fromRevision < this.oldestRevision) return null;
    const first = fromRevision - this.oldestRevision;
    const count = Math.max(0, Math.min(revisionsMax, this.length - first));
    const out: RevisionEvents[] = new Array<RevisionEvents>(count);
    for (let i = 0; i < count; i++) out[i] = this.ring[(this.head + first + i) % this.ring.length]!;
    return out;
  }

  /** Forgets everything: after a snapshot install the history starts at its revision. */
  reset(startRevision: number): void {
    this.ring = [];
    this.head = 0;
    this.length = 0;
    this.start = startRevision;
  }

  /** Doubles the ring (capped at revisionsMax), unrolling it so the oldest is at 0. */
  private grow(): void {
    const capacity = Math.min(this.revisionsMax, Math.max(16, this.ring.length * 2));
    const next: (RevisionEvents | undefined)[] = new Array<RevisionEvents | undefined>(capacity);
    for (let i = 0; i < this.length; i++) next[i] = this.ring[(this.head + i) % this.ring.length];
    this.ring = next;
    this.head = 0;
  }
}
