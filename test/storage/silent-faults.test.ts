// Proves that each silent disk fault the fault file system injects (a bit flip at rest, a lost
// write, a lost page, a write misdirected a page away or into another file) is detected by the
// storage engine and never read past: a single replica ('refuse', the default) stops with a
// CorruptFileError naming the file, the byte offset and what to do; a replica with peers
// (`walLoss: 'recover'`) moves damaged consensus state and damaged snapshot headers aside and
// starts recovering, as a wiped replica. Each detection test names the check it relies on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LogEntry } from '../../src/consensus/types.ts';
import { StorageEngine } from '../../src/global/storage/engine.ts';
import { CorruptFileError, StorageFatalError } from '../../src/global/storage/errors.ts';
import { FaultFileSystem } from '../../src/global/storage/fault-fs.ts';
import { RECORD_HEADER_BYTES } from '../../src/global/storage/record-codec.ts';
import { SEGMENT_HEADER_BYTES } from '../../src/global/storage/segment.ts';
import { CorruptError } from '../../src/protocol/errors.ts';

const clock = { nowMs: (): number => 1_000 };
const DIR = '/data';
const MARK = '/data/consensus.mark';
const wal = { segmentBytesTarget: 4096 };
const SEGMENT_1 = '/data/consensus/0000000000000001.wal';

function entry(instance: number, bytes = 100): LogEntry {
  return { instance, ballot: { round: 2, replicaId: 1 }, value: { kind: 'commands', commands: [Buffer.alloc(bytes, instance)] }, decided: false };
}

function hardState(decidedThrough: number): { promised: { round: number; replicaId: number }; decidedThrough: number; recovering: boolean } {
  return { promised: { round: 2, replicaId: 1 }, decidedThrough, recovering: false };
}

/** Persists instances `from`..`to`, one Ready each (about 200 bytes a record). */
async function persist(engine: StorageEngine, from: number, to: number, bytes = 100): Promise<void> {
  for (let i = from; i <= to; i++) await engine.stable.persist({ hardState: hardState(i - 1), entries: [entry(i, bytes)] });
}

/** A clean engine with 50 instances (several segments) on a fresh disk. */
async function filled(seed: number): Promise<FaultFileSystem> {
  const fs = new FaultFileSystem({ seed });
  const engine = await StorageEngine.open({ fs, dir: DIR, clock, wal });
  await persist(engine, 1, 50);
  await engine.close();
  return fs;
}

/** Asserts a CorruptFileError naming `file` (or a file matching it) and an operator action. */
function corruptAt(file: RegExp): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof CorruptFileError, `expected CorruptFileError, got ${String(err)}`);
    assert.match(err.file, file);
    assert.match(err.message, / at byte \d+: /);
    assert.match(err.message, /move the data directory aside|delete this file|restore the data directory/i);
    return true;
  };
}

describe('silent disk faults are detected (a single replica stops, naming file and offset)', () => {
  it('bit flip in a sealed WAL segment: the record CRC catches it', async () => {
    const fs = await filled(1);
    // Inside the first record's command bytes: only the CRC can tell.
    fs.flipBit(SEGMENT_1, SEGMENT_HEADER_BYTES + RECORD_HEADER_BYTES + 80, 3);
    await assert.rejects(StorageEngine.open({ fs, dir: DIR, clock, wal }), corruptAt(/0000000000000001\.wal$/));
  });

  it('bit flip in the mark: the mark CRC catches it', async () => {
    const fs = await filled(2);
    fs.flipBit(MARK, 24, 0); // lsnEnd
    await assert.rejects(StorageEngine.open({ fs, dir: DIR, clock, wal }), corruptAt(/consensus\.mark$/));
  });

  it('bit flip in a snapshot payload: the BLAKE3 hash catches it on read, before the last chunk', async () => {
    const fs = new FaultFileSystem({ seed: 3 });
    const engine = await StorageEngine.open({ fs, dir: DIR, clock, wal, snapshots: { chunkBytes: 64 } });
    const meta = await engine.snapshots.write(7, [Buffer.alloc(1000, 7)]);
    await engine.close();
    const path = '/data/snapshots/0000000000000007.snap';
    fs.flipBit(path, fs.contents(path)!.byteLength - 10, 1);
    const again = await StorageEngine.open({ fs, dir: DIR, clock, wal, snapshots: { chunkBytes: 64 } });
    let bytes = 0;
    await assert.rejects(async () => {
      for await (const chunk of again.snapshots.read(meta.throughInstance)) bytes += chunk.bytes.byteLength;
    }, corruptAt(/0000000000000007\.snap$/));
    assert.ok(bytes < 1000, 'the damaged chunk was withheld');
    await again.close();
  });

  it('lost write in the consensus log, later writes intact: not taken for a torn tail', async () => {
    const fs = new FaultFileSystem({ seed: 4 });
    const engine = await StorageEngine.open({ fs, dir: DIR, clock, wal });
    await persist(engine, 1, 3);
    fs.armLostWrite({ pathIncludes: '/consensus/' });
    await persist(engine, 4, 6);
    assert.equal(fs.silentFaults[0]?.kind, 'lost-write');
    // Power loss: the page cache that still held the lost record is gone.
    await assert.rejects(StorageEngine.open({ fs: fs.crashNow('lose-unsynced'), dir: DIR, clock, wal }), corruptAt(/0000000000000001\.wal$/));
  });

  it('lost page of a large consensus record, later writes intact: the CRC catches it, not taken for a torn tail', async () => {
    const fs = new FaultFileSystem({ seed: 5 });
    const engine = await StorageEngine.open({ fs, dir: DIR, clock, wal: { segmentBytesTarget: 1 << 20 } });
    await persist(engine, 1, 2);
    fs.armLostWrite({ pathIncludes: '/consensus/', page: true });
    await persist(engine, 3, 3, 10_000);
    await persist(engine, 4, 5);
    assert.equal(fs.silentFaults[0]?.kind, 'lost-page');
    await assert.rejects(StorageEngine.open({ fs: fs.crashNow('lose-unsynced'), dir: DIR, clock, wal: { segmentBytesTarget: 1 << 20 } }), corruptAt(/0000000000000001\.wal$/));
  });

  it('lost write of the mark: the mark check (magic, CRC) catches it', async () => {
    const fs = new FaultFileSystem({ seed: 6 });
    const engine = await StorageEngine.open({ fs, dir: DIR, clock, wal });
    await persist(engine, 1, 5);
    fs.armLostWrite({ pathIncludes: 'consensus.mark' });
    await engine.close(); // rewrites the mark
    assert.equal(fs.silentFaults[0]?.kind, 'lost-write');
    await assert.rejects(StorageEngine.open({ fs: fs.crashNow('lose-unsynced'), dir: DIR, clock, wal }), corruptAt(/consensus\.mark$/));
  });

  it('write misdirected a page away in the consensus log: its place reads as zeros before later writes', async () => {
    const fs = new FaultFileSystem({ seed: 7 });
    const engine = await StorageEngine.open({ fs, dir: DIR, clock, wal: { segmentBytesTarget: 1 << 20 } });
    await persist(engine, 1, 30);
    fs.armMisdirectedWrite({ pathIncludes: '/consensus/', target: 'offset' });
    await persist(engine, 31, 35);
    assert.equal(fs.silentFaults[0]?.kind, 'misdirected-offset');
    await assert.rejects(StorageEngine.open({ fs: fs.crashNow('lose-unsynced'), dir: DIR, clock, wal: { segmentBytesTarget: 1 << 20 } }), corruptAt(/0000000000000001\.wal$/));
  });

  it('consensus write misdirected into a snapshot file: the snapshot hash catches it', async () => {
    const fs = new FaultFileSystem({ seed: 8 });
    const engine = await StorageEngine.open({ fs, dir: DIR, clock, wal });
    await engine.snapshots.write(3, [Buffer.alloc(4000, 3)]);
    await persist(engine, 1, 10);
    // Offsets past the snapshot's header, so only its payload hash can tell.
    fs.armMisdirectedWrite({ pathIncludes: '/consensus/', target: 'file' });
    await persist(engine, 11, 11);
    const fault = fs.silentFaults[0]!;
    assert.equal(fault.kind, 'misdirected-file');
    assert.match(fault.description, /snapshots\/0000000000000003\.snap/);
    await assert.rejects(async () => {
      for await (const chunk of engine.snapshots.read(3)) void chunk;
    }, corruptAt(/0000000000000003\.snap$/));
    await engine.close().catch(() => undefined);
  });

  it('bit flip in a sealed blob pack segment: the record CRC stops the open, saying what to do', async () => {
    const fs = new FaultFileSystem({ seed: 10 });
    const blobs = { packSegmentBytesTarget: 4096 };
    const engine = await StorageEngine.open({ fs, dir: DIR, clock, wal, blobs });
    for (let i = 0; i < 20; i++) await engine.blobs.put(Buffer.alloc(1000, i));
    await engine.close();
    const first = '/data/blobs/pack/0000000000000001.wal';
    fs.flipBit(first, SEGMENT_HEADER_BYTES + RECORD_HEADER_BYTES + 500, 6);
    for (const walLoss of ['refuse', 'recover'] as const) {
      await assert.rejects(StorageEngine.open({ fs, dir: DIR, clock, wal, blobs, walLoss }), corruptAt(/blobs\/pack\/0000000000000001\.wal$/));
    }
  });

  it('lost write of a large blob file: the BLAKE3 hash catches it on get', async () => {
    const fs = new FaultFileSystem({ seed: 9 });
    const engine = await StorageEngine.open({ fs, dir: DIR, clock, wal });
    fs.armLostWrite({ pathIncludes: '/blobs/large/', page: true });
    const hash = await engine.blobs.put(Buffer.alloc(100_000, 5));
    await engine.close();
    const again = await StorageEngine.open({ fs: fs.crashNow('lose-unsynced'), dir: DIR, clock, wal });
    await assert.rejects(again.blobs.get(hash), (err: unknown) => err instanceof CorruptError && /failed its hash|BLAKE3|hash/i.test(err.message));
    await again.close();
  });
});

describe("silent disk faults with peers (walLoss 'recover'): moved aside, the replica recovers", () => {
  it('a damaged consensus log: moved aside, started as a wiped replica (recovering), reported', async () => {
    const fs = await filled(11);
    fs.flipBit(SEGMENT_1, SEGMENT_HEADER_BYTES + RECORD_HEADER_BYTES + 80, 3);
    const engine = await StorageEngine.open({ fs, dir: DIR, clock, wal, walLoss: 'recover' });
    assert.equal(engine.recovered().hardState.recovering, true, 'votes on nothing until its peers answered');
    assert.deepEqual(engine.recovered().entries, []);
    const warning = engine.warnings.find((w) => w.event === 'storage.wal_corrupt');
    assert.match(warning?.message ?? '', /0000000000000001\.wal at byte \d+: .*moved the consensus log aside .*0000000000000001\.wal\.corrupt-1000/s);
    assert.ok((await fs.readdir('/data/consensus')).includes('0000000000000001.wal.corrupt-1000'), 'kept for inspection');
    await engine.stable.persist({ hardState: hardState(0), entries: [entry(1)] });
    await engine.close();
    const again = await StorageEngine.open({ fs, dir: DIR, clock, wal, walLoss: 'recover' });
    assert.deepEqual(again.warnings, [], 'the fresh log and mark open clean');
    await again.close();
  });

  it('a damaged mark: moved aside with the log, recovering', async () => {
    const fs = await filled(12);
    fs.flipBit(MARK, 24, 0);
    const engine = await StorageEngine.open({ fs, dir: DIR, clock, wal, walLoss: 'recover' });
    assert.equal(engine.recovered().hardState.recovering, true);
    assert.match(engine.warnings.find((w) => w.event === 'storage.wal_corrupt')?.message ?? '', /consensus\.mark at byte 0: .*consensus\.mark\.corrupt-1000/s);
    await engine.close();
  });

  it('a damaged snapshot header: moved aside; the log compacted past it goes too', async () => {
    const fs = new FaultFileSystem({ seed: 13 });
    const engine = await StorageEngine.open({ fs, dir: DIR, clock, wal });
    await persist(engine, 1, 20);
    await engine.compactToSnapshot(await engine.snapshots.write(15, [Buffer.from('state through 15')]));
    await persist(engine, 21, 25);
    await engine.close();
    fs.flipBit('/data/snapshots/0000000000000015.snap', 20, 2); // throughInstance in the header
    await assert.rejects(StorageEngine.open({ fs, dir: DIR, clock, wal }), corruptAt(/0000000000000015\.snap$/));
    const again = await StorageEngine.open({ fs, dir: DIR, clock, wal, walLoss: 'recover' });
    assert.equal(again.snapshots.latest(), undefined);
    assert.equal(again.recovered().snapshotThrough, 0);
    assert.equal(again.recovered().hardState.recovering, true);
    assert.deepEqual(again.warnings.map((w) => w.event), ['storage.snapshot_corrupt', 'storage.wal_corrupt']);
    await again.close();
  });

  it('a damaged payload in the newest snapshot: moved aside on open, the older one used, the log compacted past it moved aside too', async () => {
    const fs = new FaultFileSystem({ seed: 14 });
    const engine = await StorageEngine.open({ fs, dir: DIR, clock, wal });
    await persist(engine, 1, 12);
    await engine.compactToSnapshot(await engine.snapshots.write(10, [Buffer.alloc(300, 10)]));
    await persist(engine, 13, 22);
    await engine.compactToSnapshot(await engine.snapshots.write(20, [Buffer.alloc(300, 20)]));
    await engine.close();
    const path = '/data/snapshots/0000000000000020.snap';
    fs.flipBit(path, fs.contents(path)!.byteLength - 1, 0);
    const again = await StorageEngine.open({ fs, dir: DIR, clock, wal, walLoss: 'recover' });
    assert.equal(again.snapshots.latest()?.throughInstance, 10, 'the damaged snapshot is not the one restored from');
    assert.equal(again.recovered().snapshotThrough, 0);
    assert.equal(again.recovered().hardState.recovering, true);
    assert.deepEqual(again.warnings.map((w) => w.event), ['storage.snapshot_corrupt', 'storage.wal_corrupt']);
    assert.match(again.warnings[0]!.message, /0000000000000020\.snap at byte \d+: snapshot payload BLAKE3 is .*moved it aside to \/data\/snapshots\/0000000000000020\.snap\.corrupt-1000/s);
    let bytes = 0;
    for await (const chunk of again.snapshots.read()) bytes += chunk.bytes.byteLength;
    assert.equal(bytes, 300);
    await again.close();
  });

  it('a damaged snapshot a log builds on without a checkpoint (a wiped replica caught up from it): the log goes too', async () => {
    // Found by the system sim (seed 208): the log kept a hard state deciding instances only the
    // moved-aside snapshot held, and the consensus core asserted on it.
    const fs = new FaultFileSystem({ seed: 15 });
    const engine = await StorageEngine.open({ fs, dir: DIR, clock, wal });
    await engine.snapshots.write(10, [Buffer.from('state through 10, installed from a peer')]);
    await engine.stable.persist({ hardState: hardState(15), entries: [11, 12, 13, 14, 15].map((i) => ({ ...entry(i), decided: true })) });
    await engine.close();
    fs.flipBit('/data/snapshots/0000000000000010.snap', 8, 0);
    const again = await StorageEngine.open({ fs, dir: DIR, clock, wal, walLoss: 'recover' });
    assert.equal(again.snapshots.latest(), undefined);
    assert.equal(again.recovered().hardState.decidedThrough, 0, 'nothing decided that no snapshot or entry holds');
    assert.deepEqual(again.recovered().entries, []);
    assert.equal(again.recovered().hardState.recovering, true);
    assert.deepEqual(again.warnings.map((w) => w.event), ['storage.snapshot_corrupt', 'storage.wal_corrupt']);
    await again.close();
  });
});

describe('a log whose decided prefix lives only in a snapshot is trusted only with that snapshot durable', () => {
  const decided = (from: number, to: number): LogEntry[] => Array.from({ length: to - from + 1 }, (_, i) => ({ ...entry(from + i), decided: true }));

  it('a snapshot published without its directory sync, then a wiped restart on it, then a power loss: the snapshot survives (system sim seed 314)', async () => {
    // Found by the system sim (seed 314, 3 replicas): the directory sync publishing snapshot 27
    // failed (fatal, process crash) after the rename; the restart found the mark damaged, moved
    // the log aside and restored from snapshot 27; the new log decided 28..35 with no
    // checkpoint; a power loss then took the rename back, and the consensus core asserted
    // 'recovered decidedThrough 35 but instance 1 is missing'.
    const fs = new FaultFileSystem({ seed: 16 });
    const first = await StorageEngine.open({ fs, dir: DIR, clock, wal, walLoss: 'recover' });
    await persist(first, 1, 27);
    fs.inject({ op: 'syncDir', code: 'EIO', pathIncludes: '/data/snapshots' });
    await assert.rejects(first.snapshots.write(27, [Buffer.alloc(300, 27)]), StorageFatalError);
    // A process crash: the page cache (and the rename in it) stays; the engine is abandoned.
    fs.flipBit(MARK, 24, 0);
    const wiped = await StorageEngine.open({ fs, dir: DIR, clock, wal, walLoss: 'recover' });
    assert.deepEqual(wiped.warnings.map((w) => w.event), ['storage.wal_corrupt']);
    assert.equal(wiped.snapshots.latest()?.throughInstance, 27);
    assert.equal(wiped.recovered().snapshotThrough, 0, 'a wiped replica\'s log holds no checkpoint');
    await wiped.stable.persist({ hardState: hardState(35), entries: decided(28, 35) });
    await wiped.close();
    const disk = fs.crashNow('lose-unsynced');
    const again = await StorageEngine.open({ fs: disk, dir: DIR, clock, wal, walLoss: 'recover' });
    assert.equal(again.snapshots.latest()?.throughInstance, 27, 'the snapshot the log builds on was made durable before the log was begun');
    assert.equal(again.recovered().hardState.decidedThrough, 35);
    assert.deepEqual(again.recovered().entries.map((e) => e.instance), [28, 29, 30, 31, 32, 33, 34, 35]);
    assert.deepEqual(again.warnings, []);
    await again.close();
  });

  it('the snapshot a checkpoint-less log builds on is gone: the log is moved aside (recover) or the open refused (refuse), never handed to the core', async () => {
    const build = async (): Promise<FaultFileSystem> => {
      const fs = new FaultFileSystem({ seed: 17 });
      const engine = await StorageEngine.open({ fs, dir: DIR, clock, wal });
      await engine.snapshots.write(10, [Buffer.from('state through 10, restored by a wiped replica')]);
      await engine.stable.persist({ hardState: hardState(15), entries: decided(11, 15) });
      await engine.close();
      // What a lost rename (or a data directory restored without it) leaves.
      await fs.unlink('/data/snapshots/0000000000000010.snap');
      await fs.syncDir('/data/snapshots');
      return fs;
    };
    await assert.rejects(StorageEngine.open({ fs: await build(), dir: DIR, clock, wal }), (err: unknown) => {
      assert.ok(err instanceof CorruptError, `expected CorruptError, got ${String(err)}`);
      assert.match(err.message, /decided, but neither it nor a snapshot holds instance 1 .*restore the data directory/is);
      return true;
    });
    const again = await StorageEngine.open({ fs: await build(), dir: DIR, clock, wal, walLoss: 'recover' });
    assert.deepEqual(again.warnings.map((w) => w.event), ['storage.wal_corrupt']);
    assert.equal(again.recovered().hardState.decidedThrough, 0);
    assert.deepEqual(again.recovered().entries, []);
    assert.equal(again.recovered().hardState.recovering, true);
    await again.close();
  });
});
