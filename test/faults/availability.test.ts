// The fault suite's availability figure (availability.ts) on hand-written completions.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { availability, longestGapMs } from './availability.ts';
import type { Op } from './history.ts';

describe('fault availability', () => {
  it('measures the longest stretch without a completion inside a fault window', () => {
    const w = { label: 'kill-leader', startMs: 100, healedMs: 1000 };
    assert.equal(longestGapMs([50, 90, 120, 900, 1500], w), 780, '120 -> 900');
    assert.equal(longestGapMs([50, 1400], w), 1300, 'from the injection to the first completion after it');
    assert.equal(longestGapMs([50], w), 900, 'nothing after: at least until the heal');
    assert.equal(longestGapMs([100, 110, 120], { ...w, healedMs: 130 }), 10);
  });

  it('counts only operations that needed Global, and keeps the worst window per kind', () => {
    const op = (completeMs: number, extra: Partial<Op>): Op => ({ id: completeMs, process: 'p', local: 'L1', key: 'k', invokeMs: completeMs - 1, completeMs, outcome: 'ok', kind: 'read', ...extra });
    const history = [op(10, {}), op(500, { source: 'cache' }), op(600, { outcome: 'unknown', kind: 'put' }), op(700, { kind: 'put' }), op(2000, { kind: 'put' }), op(2100, { kind: 'put' })];
    const result = availability(history, [{ label: 'pause-leader', startMs: 50, healedMs: 800 }, { label: 'pause-leader', startMs: 1000, healedMs: 1100 }, { label: 'slow (follower)', startMs: 2000, healedMs: 2050 }]);
    // A cached read (500) and an unknown put (600) do not end the gap; the first window's runs
    // from 700 to the next completion at 2000, past its heal (recovery counts too).
    assert.deepEqual(result.get('pause-leader'), { worstMs: 1300, windows: 2 });
    assert.deepEqual(result.get('slow (follower)'), { worstMs: 100, windows: 1 });
  });
});
