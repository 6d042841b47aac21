// An in-memory FileSystem that can crash, tear writes, flip bits, run out of space and fail
// fsync: the simulated twin of NodeFileSystem. Deterministic for a
// given seed and call sequence, so a failing crash test can be replayed from its seed.
//
// The durability model, deliberately no kinder than ext4 with default mount options:
// - File data: every write and truncate since the file's last `datasync` is pending. On a
//   crash in mode 'lose-unsynced' all pending operations are lost. In mode 'torn' a random
//   prefix of them survives, and the next write may survive in part: a random subset of its
//   512-byte sectors, with the unwritten sectors past the old end of file reading as zeros or
//   garbage (the file size may or may not have grown).
// - Files opened in a '-dsync' mode (O_DSYNC): a write is pending like any other from its
//   call until it settles; when it succeeds it becomes durable together with everything
//   pending before it on the file (the inode update O_DSYNC forces, by journal commit or
//   inode block, carries an earlier truncate too). A plain write pending before a dsync
//   write on the same file is not modelled (asserted): ext4 would flush only the dsync
//   write's range. A short write that ends in ENOSPC keeps what fit, durable (each write(2)
//   under O_DSYNC is).
// - A write interrupted by a crash (the armed crash lands on it) or failed with an injected
//   EIO may have reached the page cache whole: it is pending, and a torn crash may keep any
//   part of it. An injected ENOSPC writes nothing.
// - Names: creating, renaming and unlinking are pending per directory until `syncDir` of
//   that directory. On a crash in mode 'torn' a random prefix of each directory's pending
//   name operations survives (the journal keeps them in order); in 'lose-unsynced' none does.
// - Directories themselves are durable once `mkdirp` resolves (as NodeFileSystem ensures).
// - An unlinked file stays readable through handles opened before (inode semantics).
// - Silent faults, the ones only a checksum catches (each seeded, so a run replays from its
//   seed, and each reported through `onSilentFault` and `silentFaults` as it happens):
//   - `flipRandomBit`: a bit of a file changes at rest, in what reads see and what survives.
//   - `armLostWrite`: the next matching write is acknowledged (and, when synced, counted
//     durable by the caller) but the disk never stores it, whole or one 4 KiB page of it: reads
//     see it from the page cache until the machine restarts, then the old bytes (zeros past
//     the old end; the size still grows, as the inode update is journaled).
//   - `armMisdirectedWrite`: the next matching write is stored at another offset of the same
//     file (a page away) or at its offset in another file: its own place keeps the old bytes
//     (after a restart), the place it landed on is overwritten at once (uncached there).
//   Both act when the write becomes durable (a sync, or its O_DSYNC completion); a write
//   still pending at a crash is lost or torn as any other.
//
// Every operation takes effect when it is called and resolves on a later macrotask, so other
// callers interleave with it as they would with real I/O. After a crash (armed with
// `armCrash`, or `crashNow`) this instance is dead: every later call rejects with code
// 'ECRASHED', and so does every call still in flight (a dead machine acknowledges nothing);
// the surviving disk is a new FaultFileSystem (`afterCrash`).

import { assert } from '../../protocol/assert.ts';
import type { FileSystem, OpenMode, StorageFile } from './fs.ts';
import { isDsyncMode, parentOf } from './fs.ts';
import { SeededRandom } from './seeded-random.ts';

export type FsOp =
  | 'open'
  | 'write'
  | 'read'
  | 'datasync'
  | 'truncate'
  | 'size'
  | 'close'
  | 'mkdirp'
  | 'readdir'
  | 'rename'
  | 'unlink'
  | 'syncDir';

export type CrashMode = 'lose-unsynced' | 'torn';

export interface InjectedFault {
  readonly op: FsOp;
  readonly code: 'EIO' | 'ENOSPC';
  /** Only calls on a path containing this substring fail; every path when absent. */
  readonly pathIncludes?: string;
  /** How many matching calls fail before the fault disarms itself; 1 when absent. */
  readonly count?: number;
}

export interface FaultFsOptions {
  readonly seed: number;
  /** Bytes the disk holds (sum of file sizes); writes past it fail with ENOSPC. */
  readonly capacityBytes?: number;
  /**
   * Settles an operation on a later macrotask (default `setImmediate`). A simulation passes its
   * scheduler, which then owns every I/O completion (and may delay one: a slow fsync).
   */
  readonly defer?: (work: () => void, op: FsOp) => void;
}

export const SECTOR_BYTES = 512;
/** The unit a lost write loses when it loses one page, and a misdirected one is off by. */
export const PAGE_BYTES = 4096;

/** The silent faults (see the file comment); what `silentFaults` counts them by. */
export type SilentFaultKind = 'bit-flip' | 'lost-write' | 'lost-page' | 'misdirected-offset' | 'misdirected-file';

/** One silent fault as it happened: for the trace, and for tests to aim at. */
export interface SilentFault {
  readonly kind: SilentFaultKind;
  readonly path: string;
  /** The byte that flipped, or where the affected write was meant to go. */
  readonly offset: number;
  /** What happened, in words (file, offset, length, where it went). */
  readonly description: string;
}

interface ArmedWriteFault {
  readonly kind: 'lost-write' | 'lost-page' | 'misdirected-offset' | 'misdirected-file';
  readonly pathIncludes: string | undefined;
}

/** What an operation does at the edges of its life; see `FaultFileSystem.run`. */
interface RunHooks {
  readonly interrupted?: () => void;
  readonly failed?: (code: InjectedFault['code']) => void;
  readonly settled?: () => void;
}

/** A silent fault riding a pending write, applied when the write becomes durable. */
type DiskFault =
  | { readonly kind: 'lost'; readonly from: number; readonly to: number }
  | { readonly kind: 'misdirected'; readonly target: Inode; readonly offset: number };

type PendingOp =
  | { readonly kind: 'write'; readonly offset: number; readonly bytes: Buffer; readonly dsync: boolean; fault?: DiskFault }
  | { readonly kind: 'truncate'; readonly size: number };

type NameOp =
  | { readonly kind: 'link'; readonly path: string; readonly inode: Inode }
  | { readonly kind: 'unlink'; readonly path: string }
  | { readonly kind: 'rename'; readonly from: string; readonly to: string; readonly inode: Inode };

function fsError(code: string, message: string): Error {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

function grow(buffer: Buffer, needed: number): Buffer {
  if (needed <= buffer.byteLength) return buffer;
  const next = Buffer.alloc(Math.max(needed, buffer.byteLength * 2, 4096));
  buffer.copy(next);
  return next;
}

/** One file's bytes as seen by reads (volatile) and as they would survive a crash (durable). */
class Inode {
  data: Buffer = Buffer.alloc(0);
  size = 0;
  durable: Buffer = Buffer.alloc(0);
  durableSize = 0;
  pending: PendingOp[] = [];

  static withContents(bytes: Uint8Array): Inode {
    const inode = new Inode();
    inode.data = Buffer.from(bytes);
    inode.size = bytes.byteLength;
    inode.durable = Buffer.from(bytes);
    inode.durableSize = bytes.byteLength;
    return inode;
  }

  /** Applies a write to what reads see; returns it as pending until synced. */
  write(offset: number, bytes: Uint8Array, dsync: boolean): PendingOp {
    this.data = applyWrite(this.data, this.size, offset, bytes);
    this.size = Math.max(this.size, offset + bytes.byteLength);
    const op: PendingOp = { kind: 'write', offset, bytes: Buffer.from(bytes), dsync };
    this.pending.push(op);
    return op;
  }

  truncate(size: number): void {
    this.data = applyTruncate(this.data, this.size, size);
    this.size = size;
    this.pending.push({ kind: 'truncate', size });
  }

  sync(): void {
    for (const op of this.pending) this.applyDurable(op);
    this.pending = [];
  }

  /** A dsync write completed: it and everything pending before it become durable. A no-op
   *  when a datasync already covered it. */
  syncThrough(op: PendingOp): void {
    const at = this.pending.indexOf(op);
    if (at < 0) return;
    for (let i = 0; i <= at; i++) {
      const earlier = this.pending[i]!;
      assert(earlier.kind === 'truncate' || earlier.dsync, 'fault-fs: a plain write pending before a dsync write to the same file is not modelled');
      this.applyDurable(earlier);
    }
    this.pending.splice(0, at + 1);
  }

  private applyDurable(op: PendingOp): void {
    if (op.kind === 'write' && op.fault !== undefined) {
      this.applyFaulty(op, op.fault);
    } else if (op.kind === 'write') {
      this.durable = applyWrite(this.durable, this.durableSize, op.offset, op.bytes);
      this.durableSize = Math.max(this.durableSize, op.offset + op.bytes.byteLength);
    } else {
      this.durable = applyTruncate(this.durable, this.durableSize, op.size);
      this.durableSize = op.size;
    }
  }

  /** A write that the disk stored wrong: its own range keeps the old bytes (all of it, or the
   *  lost range), and a misdirected one overwrites its target's bytes, durable and read. */
  private applyFaulty(op: { offset: number; bytes: Buffer }, fault: DiskFault): void {
    const end = op.offset + op.bytes.byteLength;
    const stored = Buffer.from(op.bytes);
    const [from, to] = fault.kind === 'lost' ? [fault.from, fault.to] : [op.offset, end];
    for (let at = from; at < to; at++) stored[at - op.offset] = at < this.durableSize ? this.durable[at]! : 0;
    this.durable = applyWrite(this.durable, this.durableSize, op.offset, stored);
    this.durableSize = Math.max(this.durableSize, end);
    if (fault.kind === 'misdirected') fault.target.overwrite(fault.offset, op.bytes);
  }

  /** Bytes written over this file's existing blocks behind the page cache (a misdirected
   *  write landing here): durable, and seen by reads; never past either end of file. */
  overwrite(offset: number, bytes: Buffer): void {
    const durableEnd = Math.min(this.durableSize, offset + bytes.byteLength);
    if (durableEnd > offset) this.durable.set(bytes.subarray(0, durableEnd - offset), offset);
    const dataEnd = Math.min(this.size, offset + bytes.byteLength);
    if (dataEnd > offset) this.data.set(bytes.subarray(0, dataEnd - offset), offset);
  }

  /** The bytes a crash leaves behind, per `mode`; see the file comment for the model. */
  survivor(mode: CrashMode, random: SeededRandom): Buffer {
    let image: Buffer = Buffer.from(this.durable.subarray(0, this.durableSize));
    if (mode === 'lose-unsynced' || this.pending.length === 0) return image;
    const kept = random.between(0, this.pending.length);
    let size = image.byteLength;
    for (let i = 0; i < kept; i++) {
      const op = this.pending[i]!;
      if (op.kind === 'write') {
        image = applyWrite(image, size, op.offset, op.bytes);
        size = Math.max(size, op.offset + op.bytes.byteLength);
      } else {
        image = applyTruncate(image, size, op.size);
        size = op.size;
      }
    }
    const torn = this.pending[kept];
    if (torn !== undefined && torn.kind === 'write') ({ image, size } = tearWrite(image, size, torn, random));
    return Buffer.from(image.subarray(0, size));
  }
}

function applyWrite(buffer: Buffer, size: number, offset: number, bytes: Uint8Array): Buffer {
  const next = grow(buffer, offset + bytes.byteLength);
  if (offset > size) next.fill(0, size, offset);
  next.set(bytes, offset);
  return next;
}

function applyTruncate(buffer: Buffer, size: number, newSize: number): Buffer {
  const next = grow(buffer, newSize);
  if (newSize > size) next.fill(0, size, newSize);
  return next;
}

/** A write that reached the disk in part: some of its sectors, in no particular order. */
function tearWrite(image: Buffer, size: number, op: { offset: number; bytes: Buffer }, random: SeededRandom): { image: Buffer; size: number } {
  const end = op.offset + op.bytes.byteLength;
  const grows = random.chance(0.5);
  const newSize = grows ? Math.max(size, end) : size;
  let next = grow(image, newSize);
  if (newSize > size) {
    // Unwritten extents read as zeros, or (rarely) as whatever the blocks held before.
    if (random.chance(0.8)) next.fill(0, size, newSize);
    else random.fill(next.subarray(size, newSize));
  }
  const firstSector = Math.floor(op.offset / SECTOR_BYTES);
  const lastSector = Math.floor((end - 1) / SECTOR_BYTES);
  for (let sector = firstSector; sector <= lastSector; sector++) {
    if (!random.chance(0.5)) continue;
    const from = Math.max(op.offset, sector * SECTOR_BYTES);
    const to = Math.min(end, (sector + 1) * SECTOR_BYTES, newSize);
    if (to > from) next.set(op.bytes.subarray(from - op.offset, to - op.offset), from);
  }
  next = next.subarray(0, Math.max(newSize, 0));
  return { image: next, size: newSize };
}

class FaultFile implements StorageFile {
  private closed = false;

  constructor(
    private readonly fs: FaultFileSystem,
    private readonly inode: Inode,
    readonly path: string,
    private readonly writable: boolean,
    readonly dsync: boolean,
  ) {}

  write(bytes: Uint8Array, position: number): Promise<void> {
    let written: PendingOp | undefined;
    // Whole, but only pending: what a crash mid-write or an EIO may have left in the page cache.
    const inFlight = (): void => {
      if (!this.closed && this.writable) this.inode.write(position, bytes, this.dsync);
    };
    return this.fs.run(
      'write',
      this.path,
      () => {
        this.checkOpen(true);
        const result = this.fs.writeWithinCapacity(this.inode, bytes, position, this.dsync);
        written = result.written;
        if (written !== undefined && written.kind === 'write') this.fs.silentFaultFor(this.path, this.inode, written);
        if (!result.complete) throw fsError('ENOSPC', `no space left writing ${bytes.byteLength} bytes to ${this.path}`);
      },
      {
        interrupted: inFlight,
        failed: (code) => {
          if (code === 'EIO') inFlight();
        },
        // Success, or a short write then ENOSPC: what was written is durable under O_DSYNC.
        settled: () => {
          if (this.dsync && written !== undefined) this.inode.syncThrough(written);
        },
      },
    );
  }

  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return this.fs.run('read', this.path, () => {
      this.checkOpen(false);
      const n = Math.max(0, Math.min(length, this.inode.size - position));
      buffer.set(this.inode.data.subarray(position, position + n), offset);
      return n;
    });
  }

  datasync(): Promise<void> {
    return this.fs.run('datasync', this.path, () => {
      this.checkOpen(false);
      this.inode.sync();
    });
  }

  truncate(lengthBytes: number): Promise<void> {
    return this.fs.run('truncate', this.path, () => {
      this.checkOpen(true);
      this.inode.truncate(lengthBytes);
    });
  }

  sizeBytes(): Promise<number> {
    return this.fs.run('size', this.path, () => {
      this.checkOpen(false);
      return this.inode.size;
    });
  }

  close(): Promise<void> {
    return this.fs.run('close', this.path, () => {
      this.checkOpen(false);
      this.closed = true;
    });
  }

  private checkOpen(forWrite: boolean): void {
    if (this.closed) throw fsError('EBADF', `${this.path} is closed`);
    if (forWrite && !this.writable) throw fsError('EBADF', `${this.path} is open read-only`);
  }
}

/** See the file comment. Not safe to share between simulated machines. */
export class FaultFileSystem implements FileSystem {
  private readonly random: SeededRandom;
  private readonly dirs = new Set<string>(['/']);
  private names = new Map<string, Inode>();
  private durableNames = new Map<string, Inode>();
  private nameOps: NameOp[] = [];
  private faults: Array<InjectedFault & { remaining: number }> = [];
  private crashAt: { op: number; mode: CrashMode } | undefined;
  private crashedInto: FaultFileSystem | undefined;
  private capacityBytes: number;
  private readonly defer: (work: () => void, op: FsOp) => void;
  /** Operations attempted so far (the clock `armCrash` counts in). */
  opCount = 0;
  private readonly opCounts = new Map<FsOp, number>();
  /** Called with each operation before it takes effect (tests record orderings with it). */
  observer: ((op: FsOp, path: string) => void) | undefined;
  /** Silent faults that happened on this disk, in order (inherited by the disk after a crash). */
  silentFaults: SilentFault[] = [];
  /** Called with each silent fault as it happens (a simulation traces them). */
  onSilentFault: ((fault: SilentFault) => void) | undefined;
  private armedWriteFaults: ArmedWriteFault[] = [];

  constructor(options: FaultFsOptions) {
    this.random = new SeededRandom(options.seed);
    this.capacityBytes = options.capacityBytes ?? Number.MAX_SAFE_INTEGER;
    this.defer = options.defer ?? ((work) => setImmediate(work));
  }

  // ---- fault controls (tests) ----

  /** The operation `opsFromNow` calls from now (0 = the next one) crashes the machine. */
  armCrash(opsFromNow: number, mode: CrashMode): void {
    assert(Number.isInteger(opsFromNow) && opsFromNow >= 0, 'armCrash: opsFromNow must be a nonnegative integer');
    this.crashAt = { op: this.opCount + opsFromNow, mode };
  }

  /** The disk after the armed crash, once it has happened. */
  get afterCrash(): FaultFileSystem | undefined {
    return this.crashedInto;
  }

  get isCrashed(): boolean {
    return this.crashedInto !== undefined;
  }

  /** Power loss now: this instance dies; returns what survives on disk. */
  crashNow(mode: CrashMode): FaultFileSystem {
    assert(this.crashedInto === undefined, 'crashNow: already crashed');
    const next = this.imageAfter(mode);
    this.crashedInto = next;
    return next;
  }

  /**
   * A copy of what is durable now, while this instance runs on: a crash-consistent volume
   * snapshot or backup, to restore later as a data directory rolled back to an older copy.
   */
  durableCopy(): FaultFileSystem {
    assert(this.crashedInto === undefined, 'durableCopy: the disk crashed');
    return this.imageAfter('lose-unsynced');
  }

  private imageAfter(mode: CrashMode): FaultFileSystem {
    const next = new FaultFileSystem({ seed: this.random.nextU32(), capacityBytes: this.capacityBytes, defer: this.defer });
    const names = this.survivingNames(mode);
    const images = new Map<Inode, Inode>();
    for (const dir of this.dirs) next.dirs.add(dir);
    for (const [path, inode] of names) {
      let image = images.get(inode);
      if (image === undefined) {
        image = Inode.withContents(inode.survivor(mode, this.random));
        images.set(inode, image);
      }
      next.names.set(path, image);
      next.durableNames.set(path, image);
    }
    // The same hardware: its silent faults go on after a crash or a restore.
    next.silentFaults = this.silentFaults;
    next.onSilentFault = this.onSilentFault;
    return next;
  }

  /** How many calls of `op` were attempted so far. */
  countOf(op: FsOp): number {
    return this.opCounts.get(op) ?? 0;
  }

  inject(fault: InjectedFault): void {
    this.faults.push({ ...fault, remaining: fault.count ?? 1 });
  }

  setCapacityBytes(bytes: number): void {
    this.capacityBytes = bytes;
  }

  usedBytes(): number {
    let used = 0;
    for (const inode of new Set(this.names.values())) used += inode.size;
    return used;
  }

  /** Flips one bit of a file, in what reads see and in what survives a crash. */
  flipBit(path: string, byteOffset: number, bit = 0): void {
    const inode = this.names.get(path);
    assert(inode !== undefined, `flipBit: no file ${path}`);
    assert(byteOffset < inode.size, `flipBit: ${path} has ${inode.size} bytes, offset ${byteOffset}`);
    inode.data[byteOffset]! ^= 1 << bit;
    if (byteOffset < inode.durableSize) inode.durable[byteOffset]! ^= 1 << bit;
  }

  /**
   * A bit at rest changes: a seeded byte and bit of a seeded file among those whose path
   * includes `pathIncludes` (every non-empty file when absent). Returns what happened, or
   * undefined when no such file has a byte.
   */
  flipRandomBit(pathIncludes?: string): SilentFault | undefined {
    const paths = [...this.names.keys()].filter((p) => (pathIncludes === undefined || p.includes(pathIncludes)) && this.names.get(p)!.size > 0).sort();
    if (paths.length === 0) return undefined;
    const path = paths[this.random.below(paths.length)]!;
    const offset = this.random.below(this.names.get(path)!.size);
    const bit = this.random.below(8);
    this.flipBit(path, offset, bit);
    return this.noteSilentFault({ kind: 'bit-flip', path, offset, description: `bit ${bit} of byte ${offset} of ${path} flipped at rest` });
  }

  /**
   * The next write to a path including `pathIncludes` (any path when absent) is lost by the
   * disk: whole, or one page of it (`page`). See the file comment.
   */
  armLostWrite(options: { readonly pathIncludes?: string; readonly page?: boolean } = {}): void {
    this.armedWriteFaults.push({ kind: options.page === true ? 'lost-page' : 'lost-write', pathIncludes: options.pathIncludes });
  }

  /**
   * The next write to a path including `pathIncludes` (any path when absent) lands elsewhere:
   * a page before or after its offset in the same file ('offset'), or at its offset in another
   * file that has bytes there ('file'; when none has, the same file). See the file comment.
   */
  armMisdirectedWrite(options: { readonly pathIncludes?: string; readonly target: 'offset' | 'file' }): void {
    this.armedWriteFaults.push({ kind: options.target === 'file' ? 'misdirected-file' : 'misdirected-offset', pathIncludes: options.pathIncludes });
  }

  /** Silent faults armed and not yet landed on a write. */
  get armedSilentFaults(): number {
    return this.armedWriteFaults.length;
  }

  /** Attaches the first armed write fault matching `path` to `op` (FaultFile.write). */
  silentFaultFor(path: string, inode: Inode, op: PendingOp & { kind: 'write' }): void {
    const at = this.armedWriteFaults.findIndex((f) => f.pathIncludes === undefined || path.includes(f.pathIncludes));
    if (at < 0) return;
    const armed = this.armedWriteFaults[at]!;
    this.armedWriteFaults.splice(at, 1);
    const length = op.bytes.byteLength;
    const end = op.offset + length;
    const where = `${length} bytes at byte ${op.offset} of ${path}`;
    if (armed.kind === 'lost-write') {
      op.fault = { kind: 'lost', from: op.offset, to: end };
      this.noteSilentFault({ kind: armed.kind, path, offset: op.offset, description: `lost write: ${where} acknowledged, never stored` });
      return;
    }
    if (armed.kind === 'lost-page') {
      const firstPage = Math.floor(op.offset / PAGE_BYTES);
      const page = firstPage + this.random.below(Math.floor((end - 1) / PAGE_BYTES) - firstPage + 1);
      const from = Math.max(op.offset, page * PAGE_BYTES);
      const to = Math.min(end, (page + 1) * PAGE_BYTES);
      op.fault = { kind: 'lost', from, to };
      this.noteSilentFault({ kind: armed.kind, path, offset: from, description: `lost page: bytes ${from}..${to} of a write of ${where} acknowledged, never stored` });
      return;
    }
    let target = inode;
    let targetPath = path;
    let offset = op.offset;
    if (armed.kind === 'misdirected-file') {
      const others = [...this.names.entries()].filter(([p, other]) => p !== path && other !== inode && other.durableSize > op.offset).map(([p]) => p).sort();
      if (others.length > 0) {
        targetPath = others[this.random.below(others.length)]!;
        target = this.names.get(targetPath)!;
      }
    }
    if (target === inode) offset = op.offset >= PAGE_BYTES && this.random.chance(0.5) ? op.offset - PAGE_BYTES : op.offset + PAGE_BYTES;
    op.fault = { kind: 'misdirected', target, offset };
    const kind = target === inode ? 'misdirected-offset' : 'misdirected-file';
    this.noteSilentFault({ kind, path, offset: op.offset, description: `misdirected write: ${where} landed at byte ${offset} of ${targetPath}` });
  }

  private noteSilentFault(fault: SilentFault): SilentFault {
    this.silentFaults.push(fault);
    this.onSilentFault?.(fault);
    return fault;
  }

  /** What reads of `path` see now (a copy), or undefined. */
  contents(path: string): Buffer | undefined {
    const inode = this.names.get(path);
    return inode === undefined ? undefined : Buffer.from(inode.data.subarray(0, inode.size));
  }

  /** Replaces a file's contents outright, durable at once (for building corrupt fixtures). */
  setContents(path: string, bytes: Uint8Array): void {
    const inode = Inode.withContents(bytes);
    this.names.set(path, inode);
    this.durableNames.set(path, inode);
  }

  // ---- FileSystem ----

  open(path: string, mode: OpenMode): Promise<StorageFile> {
    return this.run('open', path, () => {
      this.requireDir(parentOf(path), path);
      let inode = this.names.get(path);
      if (mode === 'create' || mode === 'create-dsync') {
        if (inode !== undefined) throw fsError('EEXIST', `${path} exists`);
        inode = new Inode();
        this.names.set(path, inode);
        this.nameOps.push({ kind: 'link', path, inode });
      } else if (inode === undefined) {
        throw fsError('ENOENT', `no such file ${path}`);
      }
      return new FaultFile(this, inode, path, mode !== 'read', isDsyncMode(mode));
    });
  }

  mkdirp(path: string): Promise<void> {
    return this.run('mkdirp', path, () => {
      let dir = path;
      while (dir !== '/' && dir !== '.' && !this.dirs.has(dir)) {
        this.dirs.add(dir);
        dir = parentOf(dir);
      }
    });
  }

  readdir(path: string): Promise<string[]> {
    return this.run('readdir', path, () => {
      this.requireDir(path, path);
      const found: string[] = [];
      for (const name of this.names.keys()) if (parentOf(name) === path) found.push(name.slice(path.length + 1));
      for (const dir of this.dirs) if (dir !== path && parentOf(dir) === path) found.push(dir.slice(path.length + 1));
      return found.sort();
    });
  }

  rename(from: string, to: string): Promise<void> {
    return this.run('rename', from, () => {
      assert(parentOf(from) === parentOf(to), `rename across directories is not modelled: ${from} -> ${to}`);
      const inode = this.names.get(from);
      if (inode === undefined) throw fsError('ENOENT', `no such file ${from}`);
      this.names.delete(from);
      this.names.set(to, inode);
      this.nameOps.push({ kind: 'rename', from, to, inode });
    });
  }

  unlink(path: string): Promise<void> {
    return this.run('unlink', path, () => {
      if (!this.names.delete(path)) throw fsError('ENOENT', `no such file ${path}`);
      this.nameOps.push({ kind: 'unlink', path });
    });
  }

  syncDir(path: string): Promise<void> {
    return this.run('syncDir', path, () => {
      this.requireDir(path, path);
      const rest: NameOp[] = [];
      for (const op of this.nameOps) {
        if (nameOpDir(op) === path) applyNameOp(this.durableNames, op);
        else rest.push(op);
      }
      this.nameOps = rest;
    });
  }

  sizeBytes(path: string): Promise<number | undefined> {
    return this.run('size', path, () => this.names.get(path)?.size);
  }

  // ---- internals ----

  /**
   * Runs one operation: crash or injected fault first, then `effect` now, settling on a later
   * macrotask. `hooks.interrupted` runs when the armed crash lands on this operation, just
   * before the crash; `hooks.failed` when an injected fault fails it; `hooks.settled` when it
   * settles on a machine that has not crashed. An operation still in flight at a crash
   * rejects with ECRASHED.
   */
  run<T>(op: FsOp, path: string, effect: () => T, hooks?: RunHooks): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let outcome: { ok: true; value: T } | { ok: false; error: Error };
      try {
        this.beforeOp(op, path, hooks);
        outcome = { ok: true, value: effect() };
      } catch (error) {
        outcome = { ok: false, error: error instanceof Error ? error : new Error(String(error)) };
      }
      this.defer(() => {
        if (this.crashedInto !== undefined) {
          if (outcome.ok) reject(fsError('ECRASHED', `${op} ${path}: the machine crashed before it completed`));
          else reject(outcome.error);
          return;
        }
        hooks?.settled?.();
        if (outcome.ok) resolve(outcome.value);
        else reject(outcome.error);
      }, op);
    });
  }

  /** Like write(2) on a full disk: what fits is written (pending), then the caller fails
   *  with ENOSPC when `complete` is false. */
  writeWithinCapacity(inode: Inode, bytes: Uint8Array, position: number, dsync: boolean): { written: PendingOp | undefined; complete: boolean } {
    const growth = Math.max(0, position + bytes.byteLength - inode.size);
    const free = this.capacityBytes - this.usedBytes();
    if (growth <= free) return { written: inode.write(position, bytes, dsync), complete: true };
    const fits = Math.min(bytes.byteLength, Math.max(0, inode.size + free - position));
    return { written: fits > 0 ? inode.write(position, bytes.subarray(0, fits), dsync) : undefined, complete: false };
  }

  private beforeOp(op: FsOp, path: string, hooks: RunHooks | undefined): void {
    if (this.crashedInto !== undefined) throw fsError('ECRASHED', `${op} ${path} after the machine crashed`);
    const index = this.opCount++;
    this.opCounts.set(op, (this.opCounts.get(op) ?? 0) + 1);
    this.observer?.(op, path);
    if (this.crashAt !== undefined && index >= this.crashAt.op) {
      hooks?.interrupted?.();
      this.crashNow(this.crashAt.mode);
      throw fsError('ECRASHED', `${op} ${path}: the machine crashed`);
    }
    const fault = this.faults.find((f) => f.op === op && (f.pathIncludes === undefined || path.includes(f.pathIncludes)));
    if (fault !== undefined) {
      fault.remaining--;
      if (fault.remaining <= 0) this.faults = this.faults.filter((f) => f !== fault);
      hooks?.failed?.(fault.code);
      throw fsError(fault.code, `injected ${fault.code} on ${op} ${path}`);
    }
  }

  private requireDir(dir: string, path: string): void {
    if (!this.dirs.has(dir)) throw fsError('ENOENT', `no such directory ${dir} (for ${path})`);
  }

  private survivingNames(mode: CrashMode): Map<string, Inode> {
    const names = new Map(this.durableNames);
    if (mode === 'lose-unsynced') return names;
    const byDir = new Map<string, NameOp[]>();
    for (const op of this.nameOps) {
      const list = byDir.get(nameOpDir(op)) ?? [];
      list.push(op);
      byDir.set(nameOpDir(op), list);
    }
    for (const ops of byDir.values()) {
      const kept = this.random.between(0, ops.length);
      for (let i = 0; i < kept; i++) applyNameOp(names, ops[i]!);
    }
    return names;
  }
}

function nameOpDir(op: NameOp): string {
  return parentOf(op.kind === 'rename' ? op.from : op.path);
}

function applyNameOp(names: Map<string, Inode>, op: NameOp): void {
  switch (op.kind) {
    case 'link':
      names.set(op.path, op.inode);
      return;
    case 'unlink':
      names.delete(op.path);
      return;
    case 'rename':
      names.delete(op.from);
      names.set(op.to, op.inode);
      return;
  }
}
