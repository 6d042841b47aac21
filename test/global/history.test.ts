// The subscribers' change history is a ring: checked against a plain array model over many
// appends, wrap-arounds, resets and `since` windows, so the ring arithmetic cannot drift.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { History, type RevisionEvents } from '../../src/global/state/history.ts';
import { SplitMix32 } from '../../src/consensus/index.ts';

function model(revisionsMax: number, start: number): { append: (r: number) => void; since: (from: number, max: number) => RevisionEvents[] | null; reset: (s: number) => void } {
  let held: RevisionEvents[] = [];
  let oldest = start + 1;
  return {
    append: (revision) => {
      held.push({ revision, events: [] });
      if (held.length > revisionsMax) {
        held = held.slice(1);
        oldest++;
      }
    },
    since: (from, max) => (from < oldest ? null : held.slice(from - oldest, from - oldest + max)),
    reset: (s) => {
      held = [];
      oldest = s + 1;
    },
  };
}

describe('History', () => {
  it('matches a plain array through growth, wrap-around and reset', () => {
    const random = new SplitMix32(7);
    for (const revisionsMax of [1, 2, 3, 16, 17, 100]) {
      const history = new History(revisionsMax, 5);
      const expected = model(revisionsMax, 5);
      let latest = 5;
      for (let step = 0; step < 2000; step++) {
        if (random.nextUint32() % 500 === 0) {
          latest += random.nextUint32() % 10;
          history.reset(latest);
          expected.reset(latest);
        }
        latest++;
        history.append(latest, []);
        expected.append(latest);
        assert.equal(history.latestRevision, latest);
        const from = latest - (random.nextUint32() % (revisionsMax + 3)) + 1;
        const max = 1 + (random.nextUint32() % (revisionsMax + 2));
        const got = history.since(from, max);
        const want = expected.since(from, max);
        assert.deepEqual(got?.map((r) => r.revision) ?? null, want?.map((r) => r.revision) ?? null, `revisionsMax ${revisionsMax}, step ${step}, since(${from}, ${max})`);
      }
    }
  });

  it('answers null below the oldest revision and [] when caught up', () => {
    const history = new History(3, 0);
    for (let r = 1; r <= 5; r++) history.append(r, []);
    assert.equal(history.oldestRevision, 3);
    assert.equal(history.since(2, 10), null);
    assert.deepEqual(history.since(6, 10), []);
    assert.deepEqual(history.since(3, 10)?.map((r) => r.revision), [3, 4, 5]);
  });
});
