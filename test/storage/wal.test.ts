// Proves the WAL's contracts one by one on the in-memory fault-injecting file system (and once
// on the real one): records come back in order after reopening; group commit puts many
// records in one durable (O_DSYNC) write, never two in flight, and resolves none before that
// write completed; segments are opened dsync, rotate by size with a directory sync on create
// and are removed below an LSN with a directory sync; a torn tail is cut, also one left by a
// crash during the durable write; corruption elsewhere is refused naming file, offset and
// problem; an EIO from the durable write (or from a sync) kills the WAL without retry; a full
// disk is a DiskFullError that keeps synced data, and the failed batch stays gone after a
// crash.
import assert from 'node:assert/strict';
import { constants } from 'node:fs';
import { mkdtemp, readFile, readdir, readlink, realpath, rm } from 'node:fs/promises';
import os from 'node:os';
import { describe, it } from 'node:test';
import { ClosedError, InvalidArgumentError, TooLargeError } from '../../src/protocol/errors.ts';
import { CorruptFileError, DiskFullError, StorageFatalError } from '../../src/global/storage/errors.ts';
import { FaultFileSystem } from '../../src/global/storage/fault-fs.ts';
import { NodeFileSystem, type FileSystem, type OpenMode, type StorageFile } from '../../src/global/storage/fs.ts';
import { RECORD_HEADER_BYTES } from '../../src/global/storage/record-codec.ts';
import { SEGMENT_HEADER_BYTES, segmentName } from '../../src/global/storage/segment.ts';
import { Wal, validateWalConfig, type WalConfig } from '../../src/global/storage/wal.ts';

const DIR = '/data/wal';

interface Seen { type: number; payload: Buffer; lsn: number }

async function openWal(fs: FileSystem, config: Partial<WalConfig> = {}): Promise<{ wal: Wal; seen: Seen[] }> {
  const seen: Seen[] = [];
  const wal = await Wal.open({ fs, dir: DIR, config, visit: (type, payload, lsn) => seen.push({ type, payload: Buffer.from(payload), lsn }) });
  return { wal, seen };
}

function payloadOf(i: number, bytes = 40): Buffer {
  const b = Buffer.alloc(bytes);
  b.writeUInt32LE(i, 0);
  b.fill(i & 0xff, 4);
  return b;
}

function segmentPath(firstLsn: number): string {
  return `${DIR}/${segmentName(firstLsn)}`;
}

/** Wraps a FileSystem to see what the observer cannot: open modes, when a write completes,
 *  and how many writes are in flight at once. */
class IoProbe implements FileSystem {
  readonly events: string[] = [];
  writesInFlight = 0;
  writesInFlightMax = 0;

  constructor(private readonly inner: FileSystem) {}

  async open(path: string, mode: OpenMode): Promise<StorageFile> {
    this.events.push(`open ${mode} ${path}`);
    const file = await this.inner.open(path, mode);
    return {
      dsync: file.dsync,
      write: async (bytes, position) => {
        this.events.push(`write ${path}`);
        this.writesInFlight++;
        this.writesInFlightMax = Math.max(this.writesInFlightMax, this.writesInFlight);
        try {
          await file.write(bytes, position);
          this.events.push(`write-done ${path}`);
        } finally {
          this.writesInFlight--;
        }
      },
      read: (buffer, offset, length, position) => file.read(buffer, offset, length, position),
      datasync: () => {
        this.events.push(`datasync ${path}`);
        return file.datasync();
      },
      truncate: (length) => file.truncate(length),
      sizeBytes: () => file.sizeBytes(),
      close: () => file.close(),
    };
  }

  mkdirp(path: string): Promise<void> { return this.inner.mkdirp(path); }
  readdir(path: string): Promise<string[]> { return this.inner.readdir(path); }
  rename(from: string, to: string): Promise<void> { return this.inner.rename(from, to); }
  unlink(path: string): Promise<void> { return this.inner.unlink(path); }
  syncDir(path: string): Promise<void> {
    this.events.push(`syncDir ${path}`);
    return this.inner.syncDir(path);
  }
  sizeBytes(path: string): Promise<number | undefined> { return this.inner.sizeBytes(path); }
}

describe('WAL append and recovery', () => {
  it('returns every record in LSN order after reopening', async () => {
    const fs = new FaultFileSystem({ seed: 1 });
    const { wal } = await openWal(fs);
    await Promise.all(Array.from({ length: 100 }, (_, i) => wal.append(1 + (i % 3), payloadOf(i))));
    await wal.close();
    const { wal: again, seen } = await openWal(fs);
    assert.equal(seen.length, 100);
    seen.forEach((r, i) => {
      assert.equal(r.lsn, i + 1);
      assert.equal(r.type, 1 + (i % 3));
      assert.deepEqual(r.payload, payloadOf(i));
    });
    assert.equal(again.lsnNext, 101);
    await again.close();
  });

  it('continues LSNs after reopening and keeps old records', async () => {
    const fs = new FaultFileSystem({ seed: 2 });
    const first = await openWal(fs);
    await first.wal.append(1, payloadOf(1));
    await first.wal.close();
    const second = await openWal(fs);
    await second.wal.append(1, payloadOf(2));
    await second.wal.close();
    const third = await openWal(fs);
    assert.deepEqual(third.seen.map((r) => r.lsn), [1, 2]);
    assert.deepEqual(third.seen[1]!.payload, payloadOf(2));
    await third.wal.close();
  });

  it('works on the real file system', async () => {
    const dir = await mkdtemp(`${os.tmpdir()}/dstore-wal-`);
    try {
      const fs = new NodeFileSystem();
      const seen: number[] = [];
      const wal = await Wal.open({ fs, dir, config: { segmentBytesTarget: 4096 }, visit: () => undefined });
      for (let group = 0; group < 20; group++) {
        await Promise.all(Array.from({ length: 10 }, (_, i) => wal.append(7, payloadOf(group * 10 + i, 100))));
      }
      assert.ok(wal.segmentInfos().length > 1, 'rotated');
      await wal.close();
      const again = await Wal.open({ fs, dir, config: { segmentBytesTarget: 4096 }, visit: (_t, p) => seen.push(p.readUInt32LE(0)) });
      assert.deepEqual(seen, Array.from({ length: 200 }, (_, i) => i));
      await again.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('NodeFileSystem dsync modes', () => {
  /** The open flags the kernel holds for `path` in this process (Linux /proc), or undefined. */
  async function kernelFlagsOf(path: string): Promise<number | undefined> {
    for (const fd of await readdir('/proc/self/fd')) {
      const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
      if (target !== path) continue;
      const match = /^flags:\s+([0-7]+)$/m.exec(await readFile(`/proc/self/fdinfo/${fd}`, 'utf8'));
      if (match !== null) return parseInt(match[1]!, 8);
    }
    return undefined;
  }

  it('opens the active segment with O_DSYNC as the kernel sees it', { skip: process.platform !== 'linux' }, async () => {
    const dir = await realpath(await mkdtemp(`${os.tmpdir()}/dstore-wal-dsync-`));
    try {
      const fs = new NodeFileSystem();
      const wal = await Wal.open({ fs, dir, visit: () => undefined });
      await wal.append(1, payloadOf(1));
      const flags = await kernelFlagsOf(`${dir}/${segmentName(1)}`);
      assert.ok(flags !== undefined, 'the segment is open');
      assert.equal(flags & constants.O_DSYNC, constants.O_DSYNC, `flags ${flags.toString(8)}`);
      const plain = await fs.open(`${dir}/plain`, 'create');
      assert.equal(plain.dsync, false);
      assert.equal((await kernelFlagsOf(`${dir}/plain`))! & constants.O_DSYNC, 0);
      await plain.close();
      await wal.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('WAL group commit', () => {
  it('writes records appended together with one durable write and no fdatasync', async () => {
    const fs = new FaultFileSystem({ seed: 3 });
    const { wal } = await openWal(fs);
    const writesBefore = fs.countOf('write');
    const syncsBefore = fs.countOf('datasync');
    await Promise.all(Array.from({ length: 500 }, (_, i) => wal.append(1, payloadOf(i))));
    assert.equal(fs.countOf('write') - writesBefore, 1);
    assert.equal(fs.countOf('datasync') - syncsBefore, 0, 'the O_DSYNC write is the sync');
    await wal.close();
  });

  it('gives appends that share a write, and a barrier behind them, one promise; a failed write rejects it', async () => {
    const fs = new FaultFileSystem({ seed: 33 });
    const { wal } = await openWal(fs);
    const a = wal.append(1, payloadOf(1));
    const b = wal.append(1, payloadOf(2));
    assert.equal(a, b, 'no promise per record');
    assert.equal(wal.barrier(), a);
    await a;
    const c = wal.append(1, payloadOf(3));
    assert.notEqual(c, a, 'the next write has its own');
    await c;
    fs.inject({ op: 'write', code: 'EIO' });
    const failed = wal.append(1, payloadOf(4));
    const located = wal.appendLocated(1, payloadOf(5));
    await assert.rejects(failed, StorageFatalError);
    await assert.rejects(located, StorageFatalError);
    await wal.close();
  });

  it('opens every segment it appends to with O_DSYNC, creating and reopening', async () => {
    const probe = new IoProbe(new FaultFileSystem({ seed: 30 }));
    const { wal } = await openWal(probe, { segmentBytesTarget: 512 });
    for (let i = 0; i < 8; i++) await wal.append(1, payloadOf(i, 100));
    await wal.close();
    const reopened = await openWal(probe, { segmentBytesTarget: 512 });
    await reopened.wal.close();
    const opensForWriting = probe.events.filter((e) => e.startsWith('open ') && !e.startsWith('open read '));
    // 4 records fill a 512-byte segment. Recovery opens the last segment plainly (it may cut
    // a torn tail, then fdatasyncs); everything the WAL appends to is dsync.
    assert.deepEqual(opensForWriting, [
      `open create-dsync ${segmentPath(1)}`,
      `open create-dsync ${segmentPath(5)}`,
      `open write ${segmentPath(5)}`,
      `open write-dsync ${segmentPath(5)}`,
    ]);
  });

  it('refuses a file system that opens a segment without O_DSYNC', async () => {
    const inner = new FaultFileSystem({ seed: 31 });
    const dropsMode: FileSystem = Object.assign(Object.create(inner) as FaultFileSystem, {
      open: (path: string, mode: OpenMode) => inner.open(path, mode === 'create-dsync' ? 'create' : mode === 'write-dsync' ? 'write' : mode),
    });
    await assert.rejects(openWal(dropsMode), /writes are not durable on return/);
  });

  it('lets records that arrive during a write ride the next one, never two writes in flight', async () => {
    const probe = new IoProbe(new FaultFileSystem({ seed: 4 }));
    const { wal } = await openWal(probe);
    let inFlight = 0;
    let inFlightMax = 0;
    const eventsBefore = probe.events.length;
    const writers = Array.from({ length: 32 }, async (_, w) => {
      for (let i = 0; i < 20; i++) {
        inFlight++;
        inFlightMax = Math.max(inFlightMax, inFlight);
        await wal.append(1, payloadOf(w * 100 + i));
        inFlight--;
      }
    });
    await Promise.all(writers);
    const writes = probe.events.slice(eventsBefore).filter((e) => e.startsWith('write ')).length;
    assert.ok(writes <= 25, `640 records from 32 writers took ${writes} writes`);
    assert.ok(writes >= 2, 'the test must exercise records arriving during a write');
    assert.ok(inFlightMax === 32);
    assert.equal(probe.writesInFlightMax, 1, 'one durable write in flight at a time');
    await wal.close();
  });

  it('resolves an append only after the durable write covering it has completed', async () => {
    const fs = new FaultFileSystem({ seed: 5 });
    const probe = new IoProbe(fs);
    const { wal } = await openWal(probe);
    const from = probe.events.length;
    const appended = wal.append(1, payloadOf(1)).then(() => probe.events.push('resolved'));
    await appended;
    assert.deepEqual(probe.events.slice(from), [`write ${segmentPath(1)}`, `write-done ${segmentPath(1)}`, 'resolved']);
    // And what the append acknowledged survives a crash that loses everything unsynced.
    const disk = fs.crashNow('lose-unsynced');
    const { seen, wal: again } = await openWal(disk);
    assert.equal(seen.length, 1);
    await again.close();
  });

  it('writes what waits once the callers of the landed write are woken, without an event-loop turn between', async () => {
    const probe = new IoProbe(new FaultFileSystem({ seed: 32 }));
    const { wal } = await openWal(probe);
    const from = probe.events.length;
    const first = wal.append(1, payloadOf(1)).then(() => {
      probe.events.push('first resolved');
      setImmediate(() => probe.events.push('next macrotask'));
    });
    await Promise.resolve(); // the first batch's write is issued in a microtask
    await Promise.resolve();
    const second = wal.append(1, payloadOf(2)).then(() => probe.events.push('second resolved'));
    await Promise.all([first, second]);
    const path = segmentPath(1);
    assert.deepEqual(probe.events.slice(from, from + 4), [`write ${path}`, `write-done ${path}`, 'first resolved', `write ${path}`]);
    assert.ok(probe.events.indexOf('next macrotask') > from + 3, probe.events.slice(from).join('\n'));
    await wal.close();
  });
});

describe('WAL segments', () => {
  it('rotates by size, making the new segment\'s header and its directory durable before writing into it', async () => {
    const fs = new FaultFileSystem({ seed: 7 });
    const probe = new IoProbe(fs);
    const { wal } = await openWal(probe, { segmentBytesTarget: 1024 });
    for (let i = 0; i < 40; i++) await wal.append(1, payloadOf(i, 100));
    const segments = wal.segmentInfos();
    assert.ok(segments.length >= 4, `${segments.length} segments`);
    for (const s of segments) assert.ok(s.sizeBytes <= 1024, `${s.path} has ${s.sizeBytes} bytes`);
    const second = segments[1]!.path;
    const events = probe.events;
    const created = events.indexOf(`open create-dsync ${second}`);
    const headerDone = events.indexOf(`write-done ${second}`, created);
    const dirSynced = events.indexOf(`syncDir ${DIR}`, headerDone);
    const firstWrite = events.indexOf(`write ${second}`, dirSynced);
    assert.ok(created >= 0 && created < headerDone && headerDone < dirSynced && dirSynced < firstWrite, events.join('\n'));
    assert.equal(events.slice(created, firstWrite).filter((e) => e === `write ${second}`).length, 1, 'only the header before the directory sync');
    await wal.close();
    const { seen, wal: again } = await openWal(fs, { segmentBytesTarget: 1024 });
    assert.equal(seen.length, 40);
    await again.close();
  });

  it('removes segments wholly below an LSN, never the active one, then syncs the directory', async () => {
    const fs = new FaultFileSystem({ seed: 8 });
    const { wal } = await openWal(fs, { segmentBytesTarget: 1024 });
    for (let i = 0; i < 40; i++) await wal.append(1, payloadOf(i, 100));
    const before = wal.segmentInfos();
    const cut = before[2]!.firstLsn; // segments 0 and 1 end below it
    const events: string[] = [];
    fs.observer = (op, path) => events.push(`${op} ${path}`);
    assert.equal(await wal.removeSegmentsBelow(cut + 1), 2);
    assert.deepEqual(events, [`unlink ${before[0]!.path}`, `unlink ${before[1]!.path}`, `syncDir ${DIR}`]);
    assert.equal(await wal.removeSegmentsBelow(Number.MAX_SAFE_INTEGER), before.length - 3);
    assert.equal(wal.segmentInfos().length, 1, 'the active segment stays');
    await wal.append(1, payloadOf(99, 100));
    await wal.close();
    const { seen, wal: again } = await openWal(fs, { segmentBytesTarget: 1024 });
    assert.equal(seen[0]!.lsn, before[before.length - 1]!.firstLsn);
    assert.equal(seen[seen.length - 1]!.lsn, 41);
    await again.close();
  });

  it('reads a record back by location and refuses one whose bytes changed', async () => {
    const fs = new FaultFileSystem({ seed: 9 });
    const { wal } = await openWal(fs);
    await wal.append(1, payloadOf(0));
    const at = await wal.appendLocated(2, payloadOf(1, 300));
    assert.deepEqual(await wal.readAt(at), payloadOf(1, 300));
    fs.flipBit(segmentPath(1), at.offset + RECORD_HEADER_BYTES + 10);
    await assert.rejects(wal.readAt(at), (err: unknown) => err instanceof CorruptFileError && err.offset === at.offset && /CRC32C mismatch/.test(err.message));
    await wal.close();
  });
});

describe('WAL recovery of damage', () => {
  async function writeTwoSegments(seed: number): Promise<FaultFileSystem> {
    const fs = new FaultFileSystem({ seed });
    const { wal } = await openWal(fs, { segmentBytesTarget: 1024 });
    for (let i = 0; i < 12; i++) await wal.append(1, payloadOf(i, 100));
    assert.ok(wal.segmentInfos().length >= 2);
    await wal.close();
    return fs;
  }

  it('cuts a torn tail (a record cut short) and keeps appending after it', async () => {
    const fs = new FaultFileSystem({ seed: 10 });
    const { wal } = await openWal(fs);
    for (let i = 0; i < 5; i++) await wal.append(1, payloadOf(i, 100));
    await wal.close();
    const bytes = fs.contents(segmentPath(1))!;
    const partial = Buffer.alloc(70, 0xab); // as if half of a 6th record reached the disk
    fs.setContents(segmentPath(1), Buffer.concat([bytes, partial]));
    const { wal: again, seen } = await openWal(fs);
    assert.equal(seen.length, 5);
    assert.match(again.repairs[0]!, /cut a torn tail of 70 bytes/);
    await again.append(1, payloadOf(5, 100));
    await again.close();
    const third = await openWal(fs);
    assert.deepEqual(third.seen.map((r) => r.lsn), [1, 2, 3, 4, 5, 6]);
    await third.wal.close();
  });

  it('cuts a torn write whose later sectors persisted while an earlier one did not', async () => {
    const fs = new FaultFileSystem({ seed: 11 });
    const { wal } = await openWal(fs);
    await wal.append(1, payloadOf(0, 100));
    // One batch of 8 records of 200 bytes; zero one of its early sectors to fake the tear.
    await Promise.all(Array.from({ length: 8 }, (_, i) => wal.append(1, payloadOf(i + 1, 200))));
    await wal.close();
    const bytes = fs.contents(segmentPath(1))!;
    const batchStart = SEGMENT_HEADER_BYTES + RECORD_HEADER_BYTES + 100;
    bytes.fill(0, batchStart + 300, batchStart + 500); // inside the 2nd record of the batch
    fs.setContents(segmentPath(1), bytes);
    const { wal: again, seen } = await openWal(fs);
    assert.equal(seen.length, 2, 'the record before the hole survives, the rest of the torn write goes');
    assert.equal(again.repairs.length, 1);
    await again.close();
  });

  it('refuses a bad record followed by an intact later write, naming file and offset', async () => {
    const fs = new FaultFileSystem({ seed: 12 });
    const { wal } = await openWal(fs);
    for (let i = 0; i < 4; i++) await wal.append(1, payloadOf(i, 100)); // 4 separate writes
    await wal.close();
    const second = SEGMENT_HEADER_BYTES + RECORD_HEADER_BYTES + 100;
    fs.flipBit(segmentPath(1), second + RECORD_HEADER_BYTES + 50, 3);
    await assert.rejects(openWal(fs), (err: unknown) => {
      assert.ok(err instanceof CorruptFileError);
      assert.equal(err.file, segmentPath(1));
      assert.equal(err.offset, second);
      assert.match(err.message, /CRC32C mismatch; an intact later write starts at byte \d+, so this is not a torn tail/);
      return true;
    });
  });

  it('refuses a bad record in a segment that is not the last', async () => {
    const fs = await writeTwoSegments(13);
    fs.flipBit(segmentPath(1), SEGMENT_HEADER_BYTES + 4); // the first record's length field
    await assert.rejects(openWal(fs, { segmentBytesTarget: 1024 }), (err: unknown) => {
      assert.ok(err instanceof CorruptFileError);
      assert.equal(err.file, segmentPath(1));
      assert.equal(err.offset, SEGMENT_HEADER_BYTES);
      return true;
    });
  });

  it('refuses a segment cut short when it is not the last', async () => {
    const fs = await writeTwoSegments(14);
    const bytes = fs.contents(segmentPath(1))!;
    fs.setContents(segmentPath(1), bytes.subarray(0, bytes.byteLength - 10));
    await assert.rejects(openWal(fs, { segmentBytesTarget: 1024 }), (err: unknown) => err instanceof CorruptFileError && /record cut short/.test(err.message));
  });

  it('refuses a missing segment in the middle', async () => {
    const fs = new FaultFileSystem({ seed: 15 });
    const { wal } = await openWal(fs, { segmentBytesTarget: 1024 });
    for (let i = 0; i < 40; i++) await wal.append(1, payloadOf(i, 100));
    const segments = wal.segmentInfos();
    await wal.close();
    await fs.unlink(segments[1]!.path);
    await assert.rejects(openWal(fs, { segmentBytesTarget: 1024 }), (err: unknown) => err instanceof CorruptFileError && err.file === segments[2]!.path && /a segment is missing/.test(err.message));
  });

  it('refuses a damaged header of a sealed segment', async () => {
    const fs = await writeTwoSegments(16);
    fs.flipBit(segmentPath(1), 3);
    await assert.rejects(openWal(fs, { segmentBytesTarget: 1024 }), (err: unknown) => err instanceof CorruptFileError && err.offset === 0 && /magic/.test(err.message));
  });

  it('removes a last segment whose header never became durable, and refuses one with records after it', async () => {
    const fs = await writeTwoSegments(17);
    const paths = (await fs.readdir(DIR)).map((n) => `${DIR}/${n}`);
    const last = paths[paths.length - 1]!;
    const lastBytes = fs.contents(last)!;
    // Case 1: a header with nothing durable after it.
    fs.setContents(last, Buffer.alloc(12));
    const { wal, seen } = await openWal(fs, { segmentBytesTarget: 1024 });
    assert.match(wal.repairs[0]!, /header never became durable/);
    assert.ok(seen.length > 0 && seen.length < 12);
    await wal.close();
    // Case 2: damaged header, intact first record after it: corruption.
    const fs2 = await writeTwoSegments(17);
    const damaged = Buffer.from(lastBytes);
    damaged[0]! ^= 0xff;
    fs2.setContents(last, damaged);
    await assert.rejects(openWal(fs2, { segmentBytesTarget: 1024 }), (err: unknown) => err instanceof CorruptFileError && err.file === last);
  });
});

describe('WAL failures', () => {
  it('fails for good when the durable (O_DSYNC) write fails with EIO: no retry, every later call rejects', async () => {
    const fs = new FaultFileSystem({ seed: 20 });
    const { wal } = await openWal(fs);
    await wal.append(1, payloadOf(0));
    fs.inject({ op: 'write', code: 'EIO' });
    const writesBefore = fs.countOf('write');
    const results = await Promise.allSettled([wal.append(1, payloadOf(1)), wal.append(1, payloadOf(2))]);
    for (const r of results) assert.ok(r.status === 'rejected' && r.reason instanceof StorageFatalError && /durable write/.test((r.reason as Error).message));
    await assert.rejects(wal.append(1, payloadOf(3)), StorageFatalError);
    await assert.rejects(wal.removeSegmentsBelow(10), StorageFatalError);
    assert.equal(fs.countOf('write') - writesBefore, 1, 'no retry of the failed write');
    assert.equal(fs.countOf('datasync'), 0, 'no fdatasync to "succeed" after it either');
    assert.ok(wal.failed instanceof StorageFatalError);
    await wal.close();
    const { seen, wal: again } = await openWal(fs.crashNow('lose-unsynced'));
    assert.equal(seen.length, 1, 'only the acknowledged record');
    await again.close();
  });

  it('after an EIO on the durable write, a crash keeps every acknowledged record and at most a torn tail of the failed one', async () => {
    const outcomes = new Set<number>();
    for (let seed = 0; seed < 60; seed++) {
      const fs = new FaultFileSystem({ seed: 2100 + seed });
      const { wal } = await openWal(fs);
      for (let i = 0; i < 3; i++) await wal.append(1, payloadOf(i, 300));
      fs.inject({ op: 'write', code: 'EIO' });
      await Promise.allSettled([wal.append(1, payloadOf(3, 300)), wal.append(1, payloadOf(4, 300))]);
      assert.ok(wal.failed instanceof StorageFatalError);
      const { seen, wal: again } = await openWal(fs.crashNow('torn'));
      assert.ok(seen.length >= 3, `seed ${seed}: acknowledged records lost (${seen.length})`);
      seen.forEach((r, i) => assert.deepEqual(r.payload, payloadOf(i, 300)));
      outcomes.add(seen.length);
      await again.close();
    }
    // The failed write may have reached the page cache: sometimes none, part or all of it survives.
    assert.ok(outcomes.has(3) && (outcomes.has(4) || outcomes.has(5)), [...outcomes].join(','));
  });

  it('turns ENOSPC into DiskFullError, keeps synced records, and carries on once space is freed', async () => {
    const fs = new FaultFileSystem({ seed: 22 });
    const { wal } = await openWal(fs);
    for (let i = 0; i < 3; i++) await wal.append(1, payloadOf(i, 100));
    fs.setCapacityBytes(fs.usedBytes() + 150); // room for one more record, not for two
    const results = await Promise.allSettled([wal.append(1, payloadOf(3, 100)), wal.append(1, payloadOf(4, 100))]);
    for (const r of results) assert.ok(r.status === 'rejected' && r.reason instanceof DiskFullError, 'the whole batch fails');
    assert.equal(fs.contents(segmentPath(1))!.byteLength, SEGMENT_HEADER_BYTES + 3 * (RECORD_HEADER_BYTES + 100), 'partial write cut away');
    await wal.append(1, payloadOf(5, 100)); // fits alone
    fs.setCapacityBytes(Number.MAX_SAFE_INTEGER);
    await wal.append(1, payloadOf(6, 100));
    await wal.close();
    const { seen, wal: again } = await openWal(fs.crashNow('lose-unsynced'));
    assert.deepEqual(seen.map((r) => r.payload.readUInt32LE(0)), [0, 1, 2, 5, 6]);
    assert.deepEqual(seen.map((r) => r.lsn), [1, 2, 3, 4, 5], 'no LSN gap where the batch failed');
    await again.close();
  });

  it('after ENOSPC mid-write the cut is durable: a crash right after the DiskFullError never revives the failed batch', async () => {
    for (let seed = 0; seed < 40; seed++) {
      for (const mode of ['torn', 'lose-unsynced'] as const) {
        const fs = new FaultFileSystem({ seed: 2200 + seed });
        const { wal } = await openWal(fs);
        for (let i = 0; i < 3; i++) await wal.append(1, payloadOf(i, 100));
        // Room for most of the batch: under O_DSYNC what fits is written durably before ENOSPC.
        fs.setCapacityBytes(fs.usedBytes() + 2 * (RECORD_HEADER_BYTES + 100) + 50);
        const results = await Promise.allSettled([3, 4, 5].map((i) => wal.append(1, payloadOf(i, 100))));
        for (const r of results) assert.ok(r.status === 'rejected' && r.reason instanceof DiskFullError);
        const { seen, wal: again } = await openWal(fs.crashNow(mode));
        assert.deepEqual(seen.map((r) => r.payload.readUInt32LE(0)), [0, 1, 2], `seed ${seed} ${mode}: exactly the acknowledged records`);
        assert.deepEqual(again.repairs, [], 'nothing to cut: the rollback was synced');
        await again.close();
      }
    }
  });

  it('fails for good when syncing the cut after ENOSPC fails', async () => {
    const fs = new FaultFileSystem({ seed: 27 });
    const { wal } = await openWal(fs);
    await wal.append(1, payloadOf(0, 100));
    fs.setCapacityBytes(fs.usedBytes() + 50);
    fs.inject({ op: 'datasync', code: 'EIO' });
    await assert.rejects(wal.append(1, payloadOf(1, 100)), (err: unknown) => err instanceof StorageFatalError && /back to byte/.test(err.message));
    await assert.rejects(wal.append(1, payloadOf(2, 10)), StorageFatalError);
    await wal.close();
  });

  it('turns ENOSPC while creating a segment into DiskFullError and stays on the old segment', async () => {
    const fs = new FaultFileSystem({ seed: 23 });
    const { wal } = await openWal(fs, { segmentBytesTarget: 512 });
    for (let i = 0; i < 3; i++) await wal.append(1, payloadOf(i, 100));
    fs.inject({ op: 'write', code: 'ENOSPC', pathIncludes: segmentName(5) });
    await wal.append(1, payloadOf(3, 100));
    const segmentsBefore = wal.segmentInfos().length;
    await assert.rejects(wal.append(1, payloadOf(4, 200)), DiskFullError);
    assert.equal(wal.segmentInfos().length, segmentsBefore);
    assert.equal(fs.contents(segmentPath(5)), undefined, 'half-made segment removed');
    await wal.append(1, payloadOf(5, 200));
    await wal.close();
    const { seen, wal: again } = await openWal(fs.crashNow('lose-unsynced'), { segmentBytesTarget: 512 });
    assert.deepEqual(seen.map((r) => r.payload.readUInt32LE(0)), [0, 1, 2, 3, 5]);
    await again.close();
  });

  it('fails for good when the directory sync after creating a segment fails', async () => {
    const fs = new FaultFileSystem({ seed: 25 });
    const { wal } = await openWal(fs, { segmentBytesTarget: 512 });
    for (let i = 0; i < 3; i++) await wal.append(1, payloadOf(i, 100));
    fs.inject({ op: 'syncDir', code: 'EIO', pathIncludes: DIR });
    await wal.append(1, payloadOf(3, 100));
    await assert.rejects(wal.append(1, payloadOf(4, 200)), (err: unknown) => err instanceof StorageFatalError && /creating segment/.test(err.message));
    await assert.rejects(wal.append(1, payloadOf(5, 10)), StorageFatalError);
    await wal.close();
  });

  it('fails for good when removing a segment fails', async () => {
    const fs = new FaultFileSystem({ seed: 26 });
    const { wal } = await openWal(fs, { segmentBytesTarget: 512 });
    for (let i = 0; i < 12; i++) await wal.append(1, payloadOf(i, 100));
    fs.inject({ op: 'unlink', code: 'EIO' });
    await assert.rejects(wal.removeSegmentsBelow(Number.MAX_SAFE_INTEGER), (err: unknown) => err instanceof StorageFatalError && /removing segments below/.test(err.message));
    await assert.rejects(wal.append(1, payloadOf(99)), StorageFatalError);
    await wal.close();
  });

  it('rejects oversized records, bad types and use after close', async () => {
    const fs = new FaultFileSystem({ seed: 24 });
    const { wal } = await openWal(fs, { recordBytesMax: 100 });
    await assert.rejects(wal.append(1, Buffer.alloc(101)), (err: unknown) => err instanceof TooLargeError && /recordBytesMax 100/.test(err.message));
    await assert.rejects(wal.append(0, Buffer.alloc(1)), InvalidArgumentError);
    await assert.rejects(wal.append(256, Buffer.alloc(1)), InvalidArgumentError);
    await wal.close();
    await assert.rejects(wal.append(1, Buffer.alloc(1)), ClosedError);
  });

  it('validates its config with precise messages', () => {
    assert.throws(() => validateWalConfig({ segmentBytesTarget: 10 }), /WalConfig.segmentBytesTarget must be an integer >= 52, got 10/);
    assert.throws(() => validateWalConfig({ recordBytesMax: 1.5 }), /WalConfig.recordBytesMax must be an integer >= 1, got 1.5/);
    assert.throws(() => validateWalConfig({ recordBytesMax: 2 ** 33 }), /at most 4294967295/);
    assert.equal(validateWalConfig({}).segmentBytesTarget, 64 * 1024 * 1024);
  });
});
