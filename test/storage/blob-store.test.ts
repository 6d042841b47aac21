// Proves the blob store: small blobs inline in the pack log and large ones in files named by
// hash (written temp -> datasync -> rename -> directory sync) both survive a crash once put;
// put is idempotent; streamed puts hash as bytes arrive and refuse a wrong expected hash;
// every read verifies, and a corrupt copy is quarantined so a later put repairs it; garbage
// collection deletes exactly the unreferenced blobs past their grace period (measured by the
// injected clock), never one a concurrent put just claimed, and compacts the pack; a full
// disk and a failed fsync are typed errors that leave no partial files.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CorruptError, NotFoundError, TooLargeError } from '../../src/protocol/errors.ts';
import { hashOf } from '../../src/protocol/hash.ts';
import { BlobStore, validateBlobStoreConfig, type BlobStoreConfig } from '../../src/global/storage/blob-store.ts';
import { DiskFullError, StorageFatalError } from '../../src/global/storage/errors.ts';
import { FaultFileSystem } from '../../src/global/storage/fault-fs.ts';
import { selectGarbage } from '../../src/global/storage/gc.ts';
import { SeededRandom } from '../../src/global/storage/seeded-random.ts';

const DIR = '/data/blobs';
const INLINE_MAX = 1024;

class ManualClock {
  constructor(public ms = 1_000_000) {}
  nowMs(): number {
    return this.ms;
  }
}

function blob(bytes: number, seed: number): Buffer {
  return Buffer.from(new SeededRandom(seed).fill(new Uint8Array(bytes)));
}

function open(fs: FaultFileSystem, clock = new ManualClock(), config: Partial<BlobStoreConfig> = {}): Promise<BlobStore> {
  return BlobStore.open({ fs, dir: DIR, clock, config: { inlineBytesMax: INLINE_MAX, graceMs: 1000, packSegmentBytesTarget: 8192, packCompactBytesMin: 0, ...config } });
}

describe('BlobStore put and get', () => {
  it('stores small blobs inline and large ones in files; both survive a crash once put', async () => {
    const fs = new FaultFileSystem({ seed: 1 });
    const store = await open(fs);
    const small = blob(100, 1);
    const large = blob(50_000, 2);
    const empty = Buffer.alloc(0);
    assert.equal(await store.put(small), hashOf(small));
    assert.equal(await store.put(large), hashOf(large));
    assert.equal(await store.put(empty), hashOf(empty));
    assert.deepEqual(await fs.readdir(`${DIR}/large`), [`${hashOf(large)}.blob`]);
    const again = await open(fs.crashNow('lose-unsynced'));
    assert.deepEqual(await again.get(hashOf(small)), small);
    assert.deepEqual(await again.get(hashOf(large)), large);
    assert.deepEqual(await again.get(hashOf(empty)), empty);
    assert.equal(again.sizeBytes(hashOf(large)), 50_000);
    await assert.rejects(again.get(hashOf(blob(5, 9))), NotFoundError);
  });

  it('writes a large blob to a temp name, syncs, renames to its hash, syncs the directory', async () => {
    const fs = new FaultFileSystem({ seed: 2 });
    const store = await open(fs);
    const events: string[] = [];
    fs.observer = (op, path) => events.push(`${op} ${path.replace(`${DIR}/large/`, '')}`);
    const large = blob(5000, 3);
    const hash = await store.put(large);
    assert.deepEqual(events, [
      `open ${hash}.partial-1`,
      `write ${hash}.partial-1`,
      `datasync ${hash}.partial-1`,
      `close ${hash}.partial-1`,
      `rename ${hash}.partial-1`,
      `syncDir ${DIR}/large`,
    ]);
  });

  it('is idempotent: putting the same bytes again writes nothing', async () => {
    const fs = new FaultFileSystem({ seed: 3 });
    const store = await open(fs);
    await store.put(blob(100, 1));
    await store.put(blob(5000, 2));
    const writes = fs.countOf('write');
    await Promise.all([store.put(blob(100, 1)), store.put(blob(5000, 2)), store.put(blob(5000, 2))]);
    assert.equal(fs.countOf('write'), writes);
    assert.equal(store.hashes().length, 2);
  });

  it('streams a large blob to disk while hashing, and refuses one that does not match its expected hash', async () => {
    const fs = new FaultFileSystem({ seed: 4 });
    const store = await open(fs);
    const large = blob(20_000, 4);
    const chunks = [0, 300, 1500, 9000, 20_000].slice(1).map((end, i, ends) => large.subarray(i === 0 ? 0 : ends[i - 1], end));
    chunks.unshift(large.subarray(0, 0));
    const result = await store.putStream(chunks, hashOf(large));
    assert.deepEqual(result, { hash: hashOf(large), sizeBytes: 20_000 });
    assert.deepEqual(await store.get(result.hash), large);
    const small = await store.putStream([blob(10, 5), blob(20, 6)]);
    assert.deepEqual(await store.get(small.hash), Buffer.concat([blob(10, 5), blob(20, 6)]));
    const other = blob(20_000, 7);
    await assert.rejects(store.putStream([other], hashOf(large)), (err: unknown) => err instanceof CorruptError && /expected/.test(err.message));
    assert.equal(store.has(hashOf(other)), false);
    assert.deepEqual(await fs.readdir(`${DIR}/large`), [`${hashOf(large)}.blob`], 'no partial file left');
  });

  it('refuses blobs over blobBytesMax', async () => {
    const store = await open(new FaultFileSystem({ seed: 5 }), new ManualClock(), { blobBytesMax: 2000 });
    await assert.rejects(store.put(blob(2001, 1)), (err: unknown) => err instanceof TooLargeError && /blobBytesMax 2000/.test(err.message));
    await assert.rejects(store.putStream([blob(1500, 1), blob(1500, 2)]), TooLargeError);
  });
});

describe('BlobStore verification', () => {
  it('refuses a large blob whose file changed, quarantines the file, and lets a put repair it', async () => {
    const fs = new FaultFileSystem({ seed: 6 });
    const store = await open(fs);
    const large = blob(5000, 1);
    const hash = await store.put(large);
    fs.flipBit(`${DIR}/large/${hash}.blob`, 4000);
    const bad = fs.contents(`${DIR}/large/${hash}.blob`)!;
    await assert.rejects(store.get(hash), (err: unknown) => err instanceof CorruptError && err.message.includes(hash) && /content hash mismatch/.test(err.message));
    assert.equal(store.has(hash), false);
    // Kept, not deleted: renamed aside where the scan does not take it for a blob.
    const quarantined = (await fs.readdir(`${DIR}/large`)).filter((n) => n.startsWith(`${hash}.corrupt-`));
    assert.equal(quarantined.length, 1);
    assert.deepEqual(fs.contents(`${DIR}/large/${quarantined[0]}`), bad);
    assert.match(store.damage(hash) ?? '', new RegExp(`content hash mismatch.*moved to ${DIR}/large/${quarantined[0]}`));
    await store.put(large);
    assert.deepEqual(await store.get(hash), large);
    assert.equal(store.damage(hash), undefined, 'repaired');
    const disk = fs.crashNow('lose-unsynced');
    assert.deepEqual((await disk.readdir(`${DIR}/large`)).filter((n) => n.startsWith(`${hash}.corrupt-`)), quarantined, 'the quarantine was durable');
    assert.deepEqual(await (await open(disk)).get(hash), large);
  });

  it('streams a blob out in pieces, withholding the last piece of a corrupt one', async () => {
    const fs = new FaultFileSystem({ seed: 16 });
    const store = await open(fs);
    const large = blob(5000, 1);
    const hash = await store.put(large);
    const pieces: Uint8Array[] = [];
    for await (const piece of store.read(hash, 2000)) pieces.push(piece);
    assert.deepEqual(pieces.map((p) => p.byteLength), [2000, 2000, 1000]);
    assert.deepEqual(Buffer.concat(pieces), large);
    const small = await store.put(blob(300, 2));
    const smallPieces: Uint8Array[] = [];
    for await (const piece of store.read(small, 128)) smallPieces.push(piece);
    assert.deepEqual(Buffer.concat(smallPieces), blob(300, 2));
    fs.flipBit(`${DIR}/large/${hash}.blob`, 4500);
    const seen: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const piece of store.read(hash, 2000)) seen.push(piece.byteLength);
      })(),
      CorruptError,
    );
    assert.deepEqual(seen, [2000, 2000], 'the last piece is never handed out');
    assert.equal(store.has(hash), false);
    await assert.rejects(store.read(hash).next(), NotFoundError);
  });

  it('refuses an inline blob whose record changed', async () => {
    const fs = new FaultFileSystem({ seed: 7 });
    const store = await open(fs);
    const small = blob(200, 1);
    const hash = await store.put(small);
    const pack = `${DIR}/pack/0000000000000001.wal`;
    fs.flipBit(pack, fs.contents(pack)!.byteLength - 5);
    await assert.rejects(store.get(hash), CorruptError);
    assert.equal(store.has(hash), false);
    await store.put(small);
    assert.deepEqual(await store.get(hash), small);
  });

  it('refuses a large blob file whose name is not the hash of its bytes', async () => {
    const fs = new FaultFileSystem({ seed: 8 });
    await fs.mkdirp(`${DIR}/large`);
    const claimed = hashOf(blob(3000, 1));
    fs.setContents(`${DIR}/large/${claimed}.blob`, blob(3000, 2));
    const store = await open(fs);
    assert.equal(store.has(claimed), true);
    await assert.rejects(store.get(claimed), CorruptError);
  });
});

describe('BlobStore garbage collection', () => {
  it('selects unreferenced blobs past their grace period only', () => {
    const a = hashOf(Buffer.from('a'));
    const b = hashOf(Buffer.from('b'));
    const c = hashOf(Buffer.from('c'));
    const candidates = [{ hash: a, lastPutMs: 0 }, { hash: b, lastPutMs: 0 }, { hash: c, lastPutMs: 950 }];
    assert.deepEqual(selectGarbage(candidates, (h) => h === b, 1000, 100), [a]);
    assert.deepEqual(selectGarbage(candidates, () => false, 1000, 50), [a, b, c]);
  });

  it('deletes unreferenced blobs after the grace period and keeps referenced and young ones', async () => {
    const fs = new FaultFileSystem({ seed: 9 });
    const clock = new ManualClock();
    const store = await open(fs, clock);
    const keep = await store.put(blob(5000, 1));
    const dropLarge = await store.put(blob(5000, 2));
    const dropSmall = await store.put(blob(100, 3));
    clock.ms += 999;
    const young = await store.put(blob(100, 4));
    let report = await store.collectGarbage(() => false);
    assert.equal(report.blobsRemoved, 0, 'everything is within its grace period');
    clock.ms += 1;
    report = await store.collectGarbage((h) => h === keep);
    assert.equal(report.blobsRemoved, 2);
    assert.equal(report.bytesRemoved, 5100);
    assert.deepEqual(new Set(store.hashes()), new Set([keep, young]));
    await assert.rejects(store.get(dropLarge), NotFoundError);
    const again = await open(fs.crashNow('lose-unsynced'), clock);
    assert.equal(again.has(dropLarge), false, 'the unlink was made durable');
    assert.equal(again.has(keep), true);
    assert.equal(again.has(dropSmall), true, 'an inline blob may come back until compaction; harmless');
  });

  it('restarts the grace period when the same bytes are put again', async () => {
    const clock = new ManualClock();
    const store = await open(new FaultFileSystem({ seed: 10 }), clock);
    const hash = await store.put(blob(100, 1));
    clock.ms += 5000;
    await store.put(blob(100, 1));
    assert.equal((await store.collectGarbage(() => false)).blobsRemoved, 0);
    clock.ms += 1000;
    assert.equal((await store.collectGarbage(() => false)).blobsRemoved, 1);
    assert.equal(store.has(hash), false);
  });

  it('never loses a blob put concurrently with its collection, in either order', async () => {
    for (const order of ['gc-first', 'put-first'] as const) {
      const clock = new ManualClock();
      const store = await open(new FaultFileSystem({ seed: 11 }), clock);
      const large = blob(5000, 1);
      const hash = await store.put(large);
      clock.ms += 10_000;
      const [, put] = order === 'gc-first' ? [store.collectGarbage(() => false), store.put(large)] : [undefined, store.put(large)];
      const gc = order === 'put-first' ? store.collectGarbage(() => false) : undefined;
      await Promise.all([put, gc]);
      assert.equal(store.has(hash), true, order);
      assert.deepEqual(await store.get(hash), large, order);
    }
  });

  it('compacts the pack: live inline blobs move, old segments go, everything reads back after a crash', async () => {
    const fs = new FaultFileSystem({ seed: 12 });
    const clock = new ManualClock();
    const store = await open(fs, clock);
    const hashes: string[] = [];
    for (let i = 0; i < 60; i++) hashes.push(await store.put(blob(500, 100 + i)));
    const segmentsBefore = (await fs.readdir(`${DIR}/pack`)).length;
    assert.ok(segmentsBefore >= 3, `${segmentsBefore} pack segments`);
    clock.ms += 1000;
    const live = new Set(hashes.filter((_, i) => i % 5 === 0));
    const report = await store.collectGarbage((h) => live.has(h));
    assert.equal(report.blobsRemoved, 48);
    assert.ok(report.inlineBlobsMoved > 0 && report.packSegmentsRemoved > 0, JSON.stringify(report));
    assert.ok((await fs.readdir(`${DIR}/pack`)).length < segmentsBefore);
    const again = await open(fs.crashNow('lose-unsynced'), clock);
    for (const [i, h] of hashes.entries()) {
      if (live.has(h)) assert.deepEqual(await again.get(h as never), blob(500, 100 + i));
    }
  });
});

describe('BlobStore failures', () => {
  it('turns ENOSPC into DiskFullError with no partial file, and works again once space is freed', async () => {
    const fs = new FaultFileSystem({ seed: 13 });
    const store = await open(fs);
    const kept = await store.put(blob(5000, 1));
    fs.setCapacityBytes(fs.usedBytes() + 3000);
    await assert.rejects(store.put(blob(5000, 2)), DiskFullError);
    await assert.rejects(store.putStream([blob(2000, 3), blob(2000, 4)]), DiskFullError);
    assert.deepEqual(await fs.readdir(`${DIR}/large`), [`${kept}.blob`]);
    fs.setCapacityBytes(Number.MAX_SAFE_INTEGER);
    assert.deepEqual(await store.get(await store.put(blob(5000, 2))), blob(5000, 2));
  });

  it('fails for good when an fsync fails', async () => {
    const fs = new FaultFileSystem({ seed: 14 });
    const store = await open(fs);
    fs.inject({ op: 'datasync', code: 'EIO', pathIncludes: '/large/' });
    await assert.rejects(store.put(blob(5000, 1)), StorageFatalError);
    await assert.rejects(store.put(blob(10, 1)), StorageFatalError);
    assert.deepEqual(await fs.readdir(`${DIR}/large`), []);
    const fs2 = new FaultFileSystem({ seed: 15 });
    const store2 = await open(fs2);
    // The pack is a WAL: its records are made durable by an O_DSYNC write, not an fdatasync.
    fs2.inject({ op: 'write', code: 'EIO', pathIncludes: '/pack/' });
    await assert.rejects(store2.put(blob(10, 1)), StorageFatalError);
    await assert.rejects(store2.get(hashOf(blob(10, 1))), StorageFatalError);
  });

  it('validates its config', () => {
    assert.throws(() => validateBlobStoreConfig({ inlineBytesMax: 10, blobBytesMax: 5 }), /inlineBytesMax \(10\) must not exceed blobBytesMax \(5\)/);
    assert.throws(() => validateBlobStoreConfig({ packLiveRatioMin: 2 }), /packLiveRatioMin must be a number in \[0, 1\], got 2/);
    assert.throws(() => validateBlobStoreConfig({ graceMs: -1 }), /BlobStoreConfig.graceMs must be an integer >= 0, got -1/);
  });
});
