// Proves the snapshot store: a written snapshot is visible only once whole and durable
// (temp file, datasync, rename, directory sync, in that order) and reads back chunk by chunk;
// streaming from one store installs into another verified end to end (order, size, BLAKE3
// before the rename); damaged payloads and headers are refused naming the file; failed
// fsync and full disk leave nothing half-visible; retention keeps the newest N.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CorruptError, InvalidArgumentError } from '../../src/protocol/errors.ts';
import { hashOf } from '../../src/protocol/hash.ts';
import { CorruptFileError, DiskFullError, StorageFatalError } from '../../src/global/storage/errors.ts';
import { FaultFileSystem } from '../../src/global/storage/fault-fs.ts';
import { SnapshotStore, validateSnapshotConfig, type SnapshotChunk } from '../../src/global/storage/snapshot-store.ts';
import { SeededRandom } from '../../src/global/storage/seeded-random.ts';

const DIR = '/data/snapshots';

function payload(bytes: number, seed = 1): Buffer {
  return Buffer.from(new SeededRandom(seed).fill(new Uint8Array(bytes)));
}

function pieces(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.byteLength; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

async function collect(chunks: AsyncIterable<SnapshotChunk>): Promise<SnapshotChunk[]> {
  const out: SnapshotChunk[] = [];
  for await (const c of chunks) out.push(c);
  return out;
}

function open(fs: FaultFileSystem, chunkBytes = 1000): Promise<SnapshotStore> {
  return SnapshotStore.open({ fs, dir: DIR, config: { chunkBytes } });
}

describe('SnapshotStore', () => {
  it('writes through temp file, datasync, rename, directory sync; reads back in chunks after a crash', async () => {
    const fs = new FaultFileSystem({ seed: 1 });
    const store = await open(fs);
    const events: string[] = [];
    fs.observer = (op, path) => events.push(`${op} ${path.slice(DIR.length + 1)}`);
    const data = payload(4500);
    const meta = await store.write(42, pieces(data, 700), Buffer.from('members=1,2,3'));
    assert.equal(meta.payloadHash, hashOf(data));
    const tail = events.filter((e) => !e.startsWith('write')).slice(-4);
    assert.deepEqual(tail, ['datasync 0000000000000042.snap.partial-1', 'close 0000000000000042.snap.partial-1', 'rename 0000000000000042.snap.partial-1', 'syncDir ']);
    const disk = fs.crashNow('lose-unsynced');
    const again = await open(disk);
    assert.deepEqual(again.latest(), meta);
    assert.equal(Buffer.from(again.latest()!.metadata).toString(), 'members=1,2,3');
    const chunks = await collect(again.read());
    assert.deepEqual(chunks.map((c) => c.offset), [0, 1000, 2000, 3000, 4000]);
    assert.deepEqual(Buffer.concat(chunks.map((c) => c.bytes)), data);
  });

  it('streams to a peer and installs there, verified before it becomes visible', async () => {
    const source = await open(new FaultFileSystem({ seed: 2 }), 777);
    const meta = await source.write(7, [payload(5000, 2)]);
    const target = await open(new FaultFileSystem({ seed: 3 }));
    const install = await target.beginInstall(meta);
    for await (const chunk of source.read(7)) await install.write(chunk);
    assert.equal(target.latest(), undefined, 'not visible before finish');
    assert.deepEqual(await install.finish(), meta);
    assert.deepEqual(target.latest(), meta);
    assert.deepEqual(Buffer.concat((await collect(target.read())).map((c) => c.bytes)), payload(5000, 2));
  });

  it('refuses an install whose bytes do not match the announced hash, leaving nothing behind', async () => {
    const fs = new FaultFileSystem({ seed: 4 });
    const target = await open(fs);
    const data = payload(3000, 4);
    const meta = { throughInstance: 9, payloadBytes: data.byteLength, payloadHash: hashOf(data), metadata: new Uint8Array(0) };
    const install = await target.beginInstall(meta);
    const damaged = Buffer.from(data);
    damaged[1234]! ^= 1;
    await install.write({ offset: 0, bytes: damaged });
    await assert.rejects(install.finish(), (err: unknown) => err instanceof CorruptError && /payload BLAKE3 .* announced/.test(err.message));
    assert.equal(target.latest(), undefined);
    assert.deepEqual(await fs.readdir(DIR), [], 'partial file removed');
  });

  it('refuses chunks out of order, more bytes than announced, and a short payload', async () => {
    const target = await open(new FaultFileSystem({ seed: 5 }));
    const data = payload(100, 5);
    const meta = { throughInstance: 3, payloadBytes: 100, payloadHash: hashOf(data), metadata: new Uint8Array(0) };
    const a = await target.beginInstall(meta);
    await assert.rejects(a.write({ offset: 10, bytes: data }), (err: unknown) => err instanceof InvalidArgumentError && /offset 10, expected 0/.test(err.message));
    const b = await target.beginInstall(meta);
    await assert.rejects(b.write({ offset: 0, bytes: payload(101, 5) }), (err: unknown) => err instanceof CorruptError && /101 bytes received, 100 announced/.test(err.message));
    const c = await target.beginInstall(meta);
    await c.write({ offset: 0, bytes: data.subarray(0, 50) });
    await assert.rejects(c.finish(), /50 bytes received, 100 announced/);
    await assert.rejects(c.write({ offset: 50, bytes: data.subarray(50) }), /finished or aborted/);
    assert.equal(target.latest(), undefined);
  });

  it('detects a flipped payload bit on read and withholds the last chunk', async () => {
    const fs = new FaultFileSystem({ seed: 6 });
    const store = await open(fs);
    await store.write(5, [payload(2500, 6)]);
    fs.flipBit(`${DIR}/0000000000000005.snap`, 96 + 10);
    const again = await open(fs);
    const seen: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const chunk of again.read()) seen.push(chunk.offset);
      })(),
      (err: unknown) => err instanceof CorruptFileError && err.file === `${DIR}/0000000000000005.snap` && /payload BLAKE3/.test(err.message),
    );
    assert.deepEqual(seen, [0, 1000], 'the last chunk is never handed out');
  });

  it('refuses to open over a damaged header rather than falling back', async () => {
    const fs = new FaultFileSystem({ seed: 7 });
    const store = await open(fs);
    await store.write(1, [payload(10)]);
    await store.write(2, [payload(10)]);
    fs.flipBit(`${DIR}/0000000000000002.snap`, 20);
    await assert.rejects(open(fs), (err: unknown) => err instanceof CorruptFileError && err.file.endsWith('0000000000000002.snap') && /header CRC32C mismatch/.test(err.message));
  });

  it('keeps the newest snapshotsRetained snapshots', async () => {
    const fs = new FaultFileSystem({ seed: 8 });
    const store = await SnapshotStore.open({ fs, dir: DIR, config: { snapshotsRetained: 2 } });
    for (const through of [10, 20, 30]) await store.write(through, [payload(10, through)]);
    assert.deepEqual(store.list().map((m) => m.throughInstance), [20, 30]);
    assert.deepEqual(await fs.readdir(DIR), ['0000000000000020.snap', '0000000000000030.snap']);
  });

  it('turns a failed fsync into StorageFatalError with nothing visible', async () => {
    const fs = new FaultFileSystem({ seed: 9 });
    const store = await open(fs);
    fs.inject({ op: 'datasync', code: 'EIO' });
    await assert.rejects(store.write(4, [payload(100)]), StorageFatalError);
    assert.equal(store.latest(), undefined);
    assert.deepEqual(await fs.readdir(DIR), []);
  });

  it('turns a failed directory sync after the rename into StorageFatalError', async () => {
    const fs = new FaultFileSystem({ seed: 12 });
    const store = await open(fs);
    fs.inject({ op: 'syncDir', code: 'EIO' });
    await assert.rejects(store.write(4, [payload(100)]), (err: unknown) => err instanceof StorageFatalError && /publishing snapshot/.test(err.message));
    assert.equal(store.latest(), undefined, 'not reported as installed');
  });

  it('turns ENOSPC into DiskFullError, removes the partial file and keeps older snapshots', async () => {
    const fs = new FaultFileSystem({ seed: 10 });
    const store = await open(fs);
    const old = await store.write(1, [payload(100)]);
    fs.setCapacityBytes(fs.usedBytes() + 500);
    await assert.rejects(store.write(2, pieces(payload(2000), 300)), DiskFullError);
    assert.deepEqual(store.latest(), old);
    assert.deepEqual(await fs.readdir(DIR), ['0000000000000001.snap']);
    const again = await open(fs.crashNow('lose-unsynced'));
    assert.deepEqual(again.latest(), old);
  });

  it('removes stray partial files on open', async () => {
    const fs = new FaultFileSystem({ seed: 11 });
    const store = await open(fs);
    const writer = await store.beginWrite(3);
    await writer.write({ offset: 0, bytes: payload(10) });
    const again = await open(fs);
    assert.equal(again.latest(), undefined);
    assert.deepEqual(await fs.readdir(DIR), []);
  });

  it('validates its config', () => {
    assert.throws(() => validateSnapshotConfig({ snapshotsRetained: 0 }), /SnapshotConfig.snapshotsRetained must be an integer >= 1, got 0/);
    assert.throws(() => validateSnapshotConfig({ chunkBytes: 0.5 }), /SnapshotConfig.chunkBytes must be an integer >= 1/);
  });
});
