// Proves the cache table's budget and eviction order: it never charges more than its budget;
// the hand evicts the oldest entry not used since it last passed, and gives a used one a second
// chance; `peek` does not count as a use; only evictions are reported.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClockTable } from '../../src/local/cache/clock-table.ts';

const v = (n: number): Uint8Array => new Uint8Array([n]);

function tableOf(bytesMax: number): { table: ClockTable<null>; evicted: string[] } {
  const evicted: string[] = [];
  return { table: new ClockTable<null>(bytesMax, bytesMax, (key) => evicted.push(key)), evicted };
}

describe('ClockTable', () => {
  it('evicts the oldest unused entry, and gives a used entry a second chance', () => {
    const { table, evicted } = tableOf(300);
    for (const key of ['a', 'b', 'c']) assert.equal(table.set(key, v(1), 100, null), true);
    assert.deepEqual(table.get('a'), v(1)); // a is used: it survives the next sweep
    table.set('d', v(4), 100, null);
    assert.deepEqual(evicted, ['b']);
    table.set('e', v(5), 100, null);
    assert.deepEqual(evicted, ['b', 'c']);
    table.set('f', v(6), 100, null); // a's second chance is spent: it is the oldest unused now
    assert.deepEqual(evicted, ['b', 'c', 'a']);
    assert.equal(table.get('a'), undefined);
    assert.deepEqual(table.get('f'), v(6));
    assert.equal(table.bytes, 300);
    assert.equal(table.size, 3);
  });

  it('keeps each entry\'s tag with it, and hands it to the eviction', () => {
    const evicted: [string, number][] = [];
    const table = new ClockTable<number>(200, 200, (key, tag) => evicted.push([key, tag]));
    table.set('a', v(1), 100, 1);
    table.set('b', v(2), 100, 2);
    table.set('a', v(3), 100, 3);
    assert.equal(table.tagOf('a'), 3);
    assert.equal(table.tagOf('c'), undefined);
    assert.deepEqual(table.tags(), [['b', 2], ['a', 3]]);
    table.set('c', v(4), 100, 4);
    assert.deepEqual(evicted, [['b', 2]]);
  });

  it('does not count a peek as a use', () => {
    const { table, evicted } = tableOf(200);
    table.set('a', v(1), 100, null);
    table.set('b', v(2), 100, null);
    assert.deepEqual(table.peek('a'), v(1));
    table.set('c', v(3), 100, null);
    assert.deepEqual(evicted, ['a']);
  });

  it('evicts as many entries as a large one needs, and refuses one larger than the budget', () => {
    const { table, evicted } = tableOf(300);
    for (const key of ['a', 'b', 'c']) table.set(key, v(1), 100, null);
    assert.equal(table.set('big', v(9), 250, null), true);
    assert.deepEqual(evicted, ['a', 'b', 'c']);
    assert.equal(table.bytes, 250);
    assert.equal(table.set('big', v(8), 301, null), false, 'larger than the whole budget');
    assert.equal(table.peek('big'), undefined, 'the refused set removed what the key held');
    assert.equal(table.bytes, 0);
    assert.deepEqual(evicted, ['a', 'b', 'c'], 'a replaced or refused entry is not an eviction');
  });

  it('refuses an entry charged more than entryBytesMax without evicting anything for it', () => {
    const evicted: string[] = [];
    const table = new ClockTable<null>(300, 120, (key) => evicted.push(key));
    table.set('a', v(1), 100, null);
    assert.equal(table.set('big', v(2), 121, null), false);
    assert.equal(table.peek('big'), undefined);
    assert.deepEqual(evicted, [], 'nothing made room for a refused entry');
    assert.equal(table.set('fits', v(3), 120, null), true);
  });

  it('replaces an entry in place of its old charge, and reports no delete or clear as an eviction', () => {
    const { table, evicted } = tableOf(300);
    table.set('a', v(1), 100, null);
    table.set('a', v(2), 150, null);
    assert.deepEqual(table.peek('a'), v(2));
    assert.equal(table.bytes, 150);
    assert.equal(table.delete('a'), true);
    assert.equal(table.delete('a'), false);
    table.set('b', v(3), 100, null);
    table.clear();
    assert.equal(table.bytes, 0);
    assert.equal(table.size, 0);
    assert.deepEqual(evicted, []);
  });

  it('keeps evicting in order after it was emptied and filled again, over many sweeps', () => {
    const { table, evicted } = tableOf(1000);
    for (let i = 0; i < 10; i++) table.set(`x${i}`, v(i), 100, null);
    table.clear();
    for (let i = 0; i < 5000; i++) {
      table.set(`k${i}`, v(i % 256), 100, null);
      if (i % 3 === 0) table.get(`k${i}`);
      if (i % 7 === 0) table.delete(`k${i - 2}`);
      assert.ok(table.bytes <= 1000, `charged ${table.bytes} after ${i}`);
    }
    assert.ok(evicted.length > 4000);
    assert.ok(!evicted.some((key) => key.startsWith('x')), 'cleared entries are not evicted again');
    assert.equal(new Set(evicted).size, evicted.length, 'each entry is evicted once');
    assert.equal(table.size * 100, table.bytes);
  });
});
