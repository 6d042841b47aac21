// The blob store keeps its byte total as blobs come and go (status and metrics read it on
// every client stream): checked against a walk of every blob through puts, repeated puts,
// collection, pack compaction and a restart.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BlobStore } from '../../src/global/storage/blob-store.ts';
import { FaultFileSystem } from '../../src/global/storage/fault-fs.ts';
import { SeededRandom } from '../../src/global/storage/seeded-random.ts';
import type { Hash } from '../../src/protocol/hash.ts';

const DIR = '/data/blobs';

function walked(store: BlobStore): number {
  return store.hashes().reduce((sum, hash) => sum + (store.sizeBytes(hash) ?? 0), 0);
}

describe('BlobStore.totalBytes', () => {
  it('equals the sum of every held blob through puts, collection, compaction and a restart', async () => {
    const fs = new FaultFileSystem({ seed: 11 });
    const clock = { ms: 1_000_000, nowMs(): number { return this.ms; } };
    const open = (): Promise<BlobStore> => BlobStore.open({ fs, dir: DIR, clock, config: { inlineBytesMax: 1024, graceMs: 1000, packSegmentBytesTarget: 8192, packCompactBytesMin: 0 } });
    let store = await open();
    const random = new SeededRandom(5);
    const kept = new Set<Hash>();
    let segmentsCompacted = 0;
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 60; i++) {
        // Sizes on both sides of the inline limit; every third blob is put twice.
        const bytes = random.fill(new Uint8Array(i % 2 === 0 ? 200 + i * 13 : 2000 + i * 101));
        const hash = await store.put(bytes);
        if (i % 3 === 0) await store.put(bytes);
        if (i % 4 === 0) kept.add(hash);
      }
      assert.equal(store.totalBytes(), walked(store), `after the puts of round ${round}`);
      clock.ms += 10_000;
      const report = await store.collectGarbage((hash) => kept.has(hash));
      assert.ok(report.blobsRemoved > 0, 'the collection deleted something');
      segmentsCompacted += report.packSegmentsRemoved;
      assert.equal(store.totalBytes(), walked(store), `after the collection of round ${round}`);
      if (round % 2 === 1) {
        await store.close();
        store = await open();
        assert.equal(store.totalBytes(), walked(store), `after the restart of round ${round}`);
      }
    }
    assert.ok(segmentsCompacted > 0, 'the pack was compacted at least once');
    assert.ok(store.totalBytes() > 0);
    await store.close();
  });
});
