// Checks docs/limits.md's "Worst-case memory at the defaults" against the constants that bound
// each term (issue 11 deliver 3): the stated figures are what the derivation gives today, so
// changing a default without updating the doc fails here.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { replicaMemoryTerms, totalBytes } from '../../src/global/server/memory-bound.ts';
import { localServerMemoryTerms } from '../../src/local/node/memory-bound.ts';

const doc = readFileSync(new URL('../../docs/limits.md', import.meta.url), 'utf8');
const stated = (who: string): number => {
  const m = new RegExp(`\\*\\*${who}: ([\\d,]+) bytes`).exec(doc);
  assert.ok(m !== null, `docs/limits.md states a figure for "${who}"`);
  return Number(m[1]!.replaceAll(',', ''));
};

describe('worst-case memory at the defaults', () => {
  it("a replica's figure is the sum of its terms", () => {
    assert.equal(stated('A replica \\(of three\\)'), totalBytes(replicaMemoryTerms(3)));
  });
  it("a Local node server's figure is the sum of its terms", () => {
    assert.equal(stated("A Local's node server"), totalBytes(localServerMemoryTerms()));
  });
  it('every term the doc tables list is a term of the derivation', () => {
    for (const t of [...replicaMemoryTerms(3), ...localServerMemoryTerms()]) {
      const row = t.name.replace('upload bytes held (all uploads)', 'upload bytes held, all uploads');
      assert.ok(doc.includes(`| ${row} |`), `docs/limits.md has a row for "${t.name}"`);
    }
  });
});
