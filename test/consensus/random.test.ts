// Proves the seeded generator is deterministic per seed, stays in range, and refuses bad bounds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SplitMix32 } from '../../src/consensus/random.ts';

describe('SplitMix32', () => {
  it('replays the same sequence from the same seed and another from another seed', () => {
    const draw = (seed: number): number[] => { const r = new SplitMix32(seed); return Array.from({ length: 8 }, () => r.nextUint32()); };
    assert.deepEqual(draw(42), draw(42));
    assert.notDeepEqual(draw(42), draw(43));
  });

  it('draws every value of a small range, and only those', () => {
    const r = new SplitMix32(7);
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      const v = r.nextInt(10);
      assert.ok(Number.isInteger(v) && v >= 0 && v < 10, `out of range: ${v}`);
      seen.add(v);
    }
    assert.equal(seen.size, 10);
  });

  it('refuses a bound that is not a positive integer', () => {
    const r = new SplitMix32(1);
    assert.throws(() => r.nextInt(0), RangeError);
    assert.throws(() => r.nextInt(1.5), RangeError);
  });
});
