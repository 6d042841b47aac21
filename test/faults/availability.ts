// How long each fault kept clients waiting (issue 14, Deliver 5): for every fault window
// (injection until healed with a leader), the longest time in it during which no operation
// that needed Global completed, i.e. a write or a read not served from a Local's cache (a
// cache keeps answering through an outage within its lease, which says nothing of Global).
// Measured from the injection (or the last completion before it, if later) to the next
// completion; per kind, the worst window.
import type { Op } from './history.ts';

export interface Window {
  /** What the report groups by: the fault kind, with whom it hit where that varies (nemesis.ts). */
  readonly label: string;
  readonly startMs: number;
  readonly healedMs: number;
}

/** Completion times of the operations that needed Global and were answered, ascending. */
export function globalCompletions(history: readonly Op[]): number[] {
  return history
    .filter((op) => op.outcome !== 'unknown' && !(op.kind === 'read' && op.source === 'cache'))
    .map((op) => op.completeMs)
    .sort((a, b) => a - b);
}

/** The longest stretch of [startMs, healedMs] with no completion, stretches ending at the next completion. */
export function longestGapMs(completions: readonly number[], window: Window): number {
  let from = window.startMs;
  let longest = 0;
  for (const at of completions) {
    if (at <= window.startMs) continue;
    longest = Math.max(longest, at - from);
    if (at > window.healedMs) return longest;
    from = at;
  }
  // Nothing completed after the window: the gap runs at least to the heal.
  return Math.max(longest, window.healedMs - from);
}

/** Per fault label: its worst window's longest gap, and how many windows it had. */
export function availability(history: readonly Op[], windows: readonly Window[]): Map<string, { worstMs: number; windows: number }> {
  const completions = globalCompletions(history);
  const out = new Map<string, { worstMs: number; windows: number }>();
  for (const w of windows) {
    const gap = longestGapMs(completions, w);
    const prev = out.get(w.label) ?? { worstMs: 0, windows: 0 };
    out.set(w.label, { worstMs: Math.max(prev.worstMs, gap), windows: prev.windows + 1 });
  }
  return out;
}
