// The write-ahead log: CRC32C-framed records (record-codec.ts) in segment files (segment.ts)
// with group commit, size-based rotation and removal of segments below a point.
//
// Group commit. Appends are framed into an in-memory batch at once (the payload is copied,
// so the caller may reuse it). The flusher writes the whole batch with one positional write()
// to a segment opened with O_DSYNC (fs.ts 'write-dsync'): when that write returns, the batch
// is durable, contents and file size, so a flush costs one thread-pool round trip and one
// event-loop wake-up instead of two (write, then fdatasync). Whatever was appended meanwhile
// waits in the next batch, written as soon as the landed batch's callers have been woken (a
// microtask, not an event-loop turn). The records of a batch share one promise. Exactly one
// durable write is in flight at a time, never two: that is what lets recovery tell a torn
// last write from corruption (recovery.ts), and it costs nothing at load because the next
// batch simply grows while the write runs.
//
// Failure policy (issue 4, item 2):
// - ENOSPC while writing a batch or creating a segment: the partial write is truncated away
//   and the cut synced before the callers hear of it (under O_DSYNC what fit before ENOSPC
//   is already durable; an unsynced cut could bring the failed batch back after a crash), or
//   the new segment is removed; the batch's callers get DiskFullError, and the log carries on
//   from its last durable byte; LSNs are handed out only when a batch is written, so the next
//   batch reuses the failed one's. Nothing acknowledged is touched.
// - Any other failure of a write, fdatasync, or a directory sync: the WAL is failed for good.
//   Every pending and later call rejects with StorageFatalError; the process must restart and
//   recover from disk. An EIO from an O_DSYNC write is a failed sync like any other. No
//   retry: after a failed sync Linux may have dropped the dirty pages and reports success on
//   the next one, so a retry could claim durability it lacks.

import { assert } from '../../protocol/assert.ts';
import { ClosedError, InvalidArgumentError, NotFoundError, TooLargeError } from '../../protocol/errors.ts';
import { CorruptFileError, DiskFullError, StorageFatalError, isDiskFull } from './errors.ts';
import type { FileSystem, OpenMode, StorageFile } from './fs.ts';
import { joinPath, readFully } from './fs.ts';
import {
  RECORD_FLAG_BATCH_FIRST,
  RECORD_HEADER_BYTES,
  RECORD_TYPE_MAX,
  RECORD_TYPE_MIN,
  checkHead,
  crcMatches,
  readLsn,
  sealRecord,
  writeRecordHead,
} from './record-codec.ts';
import type { RecordVisitor, RecoveredLog, SegmentInfo } from './recovery.ts';
import { recoverLog } from './recovery.ts';
import { SEGMENT_HEADER_BYTES, encodeSegmentHeader, segmentName } from './segment.ts';

export interface WalConfig {
  /** A new segment starts when the next write would take the active one past this. A single
   *  write larger than this still goes whole into one (fresh) segment. */
  readonly segmentBytesTarget: number;
  /** Largest payload of one record; larger appends reject with TooLargeError. */
  readonly recordBytesMax: number;
  /** Recovery reads segments in pieces of this size. */
  readonly readChunkBytes: number;
  /** A batch buffer that grew past this is dropped after use instead of kept for reuse. */
  readonly batchBufferBytesRetainedMax: number;
}

export const WAL_CONFIG_DEFAULTS: WalConfig = Object.freeze({
  segmentBytesTarget: 64 * 1024 * 1024,
  recordBytesMax: 64 * 1024 * 1024,
  readChunkBytes: 4 * 1024 * 1024,
  batchBufferBytesRetainedMax: 8 * 1024 * 1024,
});

const RECORD_PAYLOAD_LIMIT_BYTES = 0xffff_ffff;
const BATCH_BUFFER_INITIAL_BYTES = 256 * 1024;

/** Checks every field; throws InvalidArgumentError naming the first bad one. */
export function validateWalConfig(partial: Partial<WalConfig> = {}): WalConfig {
  const config: WalConfig = { ...WAL_CONFIG_DEFAULTS, ...partial };
  positiveInteger('segmentBytesTarget', config.segmentBytesTarget, SEGMENT_HEADER_BYTES + RECORD_HEADER_BYTES);
  positiveInteger('recordBytesMax', config.recordBytesMax, 1);
  if (config.recordBytesMax > RECORD_PAYLOAD_LIMIT_BYTES) {
    throw new InvalidArgumentError(`WalConfig.recordBytesMax must be at most ${RECORD_PAYLOAD_LIMIT_BYTES} (the frame's 32-bit length), got ${config.recordBytesMax}`);
  }
  positiveInteger('readChunkBytes', config.readChunkBytes, 4096);
  positiveInteger('batchBufferBytesRetainedMax', config.batchBufferBytesRetainedMax, BATCH_BUFFER_INITIAL_BYTES);
  return config;
}

function positiveInteger(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new InvalidArgumentError(`WalConfig.${name} must be an integer >= ${min}, got ${value}`);
  }
}

/** Where a record lives, for `readAt`. */
export interface RecordLocation {
  readonly segmentFirstLsn: number;
  /** Byte offset of the record's frame in its segment. */
  readonly offset: number;
  readonly lsn: number;
  readonly payloadBytes: number;
}

export interface WalOpenOptions {
  readonly fs: FileSystem;
  /** Directory holding only this log's segments; created if missing. */
  readonly dir: string;
  readonly config?: Partial<WalConfig>;
  /** Receives every recovered record in LSN order before `open` resolves. */
  readonly visit: RecordVisitor;
}

type Reject = (error: unknown) => void;

/** A record that asked where it went (`appendLocated`): its index in the batch, its settlers. */
interface LocatedWaiter {
  readonly index: number;
  readonly resolve: (location: RecordLocation) => void;
  readonly reject: Reject;
}

/** Where a batch's write went, or why it failed (the error its callers get). */
type Landing = { readonly ok: true; readonly segmentFirstLsn: number; readonly position: number; readonly firstLsn: number } | { readonly ok: false; readonly error: unknown };

/** Batches in circulation: the one filling and the one in flight; one more is kept. */
const BATCHES_SPARE_MAX = 1;

/**
 * Records framed in memory, waiting to be written together. The records of a batch become
 * durable (or fail) together, so plain appends and barriers share one promise per batch:
 * no promise, closure or resolver per record on the hot path, which at
 * 50k records/s was half the garbage and so half the scavenges that stall the event loop.
 */
class Batch {
  buffer: Buffer;
  bytes = 0;
  readonly offsets: number[] = [];
  readonly located: LocatedWaiter[] = [];
  private done: Promise<void> | undefined;
  private resolveDone: (() => void) | undefined;
  private rejectDone: Reject | undefined;

  constructor(initialBytes: number) {
    this.buffer = Buffer.allocUnsafe(initialBytes);
  }

  get count(): number {
    return this.offsets.length;
  }

  /** Frames one record (copying `payload`); returns its index in the batch. */
  add(type: number, payload: Uint8Array): number {
    const frameBytes = RECORD_HEADER_BYTES + payload.byteLength;
    if (this.bytes + frameBytes > this.buffer.byteLength) this.growTo(this.bytes + frameBytes);
    writeRecordHead(this.buffer, this.bytes, type, payload.byteLength);
    this.buffer.set(payload, this.bytes + RECORD_HEADER_BYTES);
    this.bytes += frameBytes;
    return this.offsets.push(this.bytes - frameBytes) - 1;
  }

  /** Settles when the whole batch is durable, or rejects with the batch's error. */
  settled(): Promise<void> {
    if (this.done === undefined) {
      this.done = new Promise<void>((resolve, reject) => {
        this.resolveDone = resolve;
        this.rejectDone = reject;
      });
    }
    return this.done;
  }

  /** Gives every record its LSN (from `firstLsn`) and CRC. */
  seal(firstLsn: number): void {
    for (let i = 0; i < this.offsets.length; i++) sealRecord(this.buffer, this.offsets[i]!, firstLsn + i, i === 0 ? RECORD_FLAG_BATCH_FIRST : 0);
  }

  resolveAll(segmentFirstLsn: number, position: number, firstLsn: number): void {
    for (const waiter of this.located) {
      const offset = this.offsets[waiter.index]!;
      const payloadBytes = this.buffer.readUInt32LE(offset + 4);
      waiter.resolve({ segmentFirstLsn, offset: position + offset, lsn: firstLsn + waiter.index, payloadBytes });
    }
    this.resolveDone?.();
  }

  rejectAll(error: unknown): void {
    for (const waiter of this.located) waiter.reject(error);
    this.rejectDone?.(error);
  }

  reset(retainedMaxBytes: number): void {
    this.bytes = 0;
    this.offsets.length = 0;
    this.located.length = 0;
    this.done = undefined;
    this.resolveDone = undefined;
    this.rejectDone = undefined;
    if (this.buffer.byteLength > retainedMaxBytes) this.buffer = Buffer.allocUnsafe(BATCH_BUFFER_INITIAL_BYTES);
  }

  private growTo(needed: number): void {
    const next = Buffer.allocUnsafe(Math.max(needed, this.buffer.byteLength * 2));
    this.buffer.copy(next, 0, 0, this.bytes);
    this.buffer = next;
  }
}

interface ActiveSegment {
  readonly info: SegmentInfo;
  readonly file: StorageFile;
}

interface ReadHandle {
  readonly file: Promise<StorageFile>;
  users: number;
  removed: boolean;
}

/**
 * One write-ahead log in one directory. Not shared between processes. All methods may be
 * called concurrently; appends are durable in the order they were called.
 */
export class Wal {
  // Invariant: `segments` ascends by firstLsn; the last one is `active`; segments before it
  // are complete and synced.
  private readonly segments: SegmentInfo[];
  private active: ActiveSegment | undefined;
  /** LSN of the first record of the next batch written. */
  private nextLsn: number;
  private pending: Batch;
  /** Settled batches kept for reuse (buffers and arrays), at most BATCHES_SPARE_MAX. */
  private readonly spares: Batch[] = [];
  /** True from the first append after idle until no write is in flight and none waits. */
  private flushing = false;
  /** Records in the batch being written now (their LSNs start at `nextLsn`). */
  private inFlightCount = 0;
  // Invariant: at most one batch is in flight (being written); `inFlight` is it.
  private inFlight: Batch | undefined;
  private idleWaiters: Array<() => void> = [];
  private failure: StorageFatalError | undefined;
  private closing = false;
  private readonly readHandles = new Map<number, ReadHandle>();
  private maintenance: Promise<unknown> = Promise.resolve();
  /** Repairs recovery made on open (torn tail cut, half-made segment removed). */
  readonly repairs: readonly string[];
  /** The LSN of the first record recovery cut off as a torn tail; undefined when none. */
  readonly tailCutLsn: number | undefined;

  private constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
    private readonly config: WalConfig,
    recovered: RecoveredLog,
  ) {
    this.segments = recovered.segments;
    this.nextLsn = recovered.nextLsn;
    this.repairs = recovered.repairs;
    this.tailCutLsn = recovered.tailCutLsn;
    this.pending = new Batch(BATCH_BUFFER_INITIAL_BYTES);
    this.spares.push(new Batch(BATCH_BUFFER_INITIAL_BYTES));
  }

  /**
   * Recovers the log in `options.dir` (see recovery.ts) and opens it for appends.
   * Throws InvalidArgumentError for a bad config, CorruptFileError for corruption that is not
   * a torn tail, and file-system errors (a full disk while creating the first segment is a
   * DiskFullError).
   */
  static async open(options: WalOpenOptions): Promise<Wal> {
    const config = validateWalConfig(options.config);
    await options.fs.mkdirp(options.dir);
    const recovered = await recoverLog(options.fs, options.dir, config, options.visit);
    const wal = new Wal(options.fs, options.dir, config, recovered);
    await wal.openActive();
    return wal;
  }

  /**
   * Appends one record. Resolves once it is durable (and every record appended before it);
   * rejects with DiskFullError (nothing of it was kept; retry later), StorageFatalError (the
   * WAL is dead), ClosedError, TooLargeError or InvalidArgumentError (bad type).
   * `payload` is copied before this returns. Appends that share a write get the same
   * promise object.
   */
  append(type: number, payload: Uint8Array): Promise<void> {
    const refused = this.refusal(type, payload.byteLength);
    if (refused !== undefined) return Promise.reject(refused);
    this.pending.add(type, payload);
    this.kick();
    return this.pending.settled();
  }

  /** Like `append`, resolving with where the record was written (for `readAt`). */
  appendLocated(type: number, payload: Uint8Array): Promise<RecordLocation> {
    const refused = this.refusal(type, payload.byteLength);
    if (refused !== undefined) return Promise.reject(refused);
    const batch = this.pending;
    const index = batch.add(type, payload);
    const done = new Promise<RecordLocation>((resolve, reject) => batch.located.push({ index, resolve, reject }));
    this.kick();
    return done;
  }

  /**
   * Reads back a durable record's payload (a new Buffer the caller owns), checking its frame
   * and CRC. Throws CorruptFileError when the bytes fail, NotFoundError when the segment was
   * removed, StorageFatalError / ClosedError as `append`.
   */
  async readAt(location: RecordLocation): Promise<Buffer> {
    if (this.failure !== undefined) throw this.failure;
    if (this.closing) throw new ClosedError('WAL is closed');
    const segment = this.segments.find((s) => s.firstLsn === location.segmentFirstLsn);
    if (segment === undefined) throw new NotFoundError(`WAL segment ${segmentName(location.segmentFirstLsn)} was removed`);
    const handle = this.readHandle(segment);
    handle.users++;
    try {
      const frameBytes = RECORD_HEADER_BYTES + location.payloadBytes;
      const frame = await readFully(await handle.file, location.offset, frameBytes);
      const problem = checkFrame(frame, frameBytes, location, this.config.recordBytesMax);
      if (problem !== undefined) throw new CorruptFileError(segment.path, location.offset, problem);
      return frame.subarray(RECORD_HEADER_BYTES);
    } finally {
      handle.users--;
      if (handle.removed && handle.users === 0) await this.closeReadHandle(location.segmentFirstLsn);
    }
  }

  /**
   * Removes every segment whose records all have LSNs below `lsn` (never the active one),
   * oldest first, then syncs the directory; returns how many went. A crash part-way leaves
   * a contiguous suffix of segments. Failure is fatal (StorageFatalError).
   */
  removeSegmentsBelow(lsn: number): Promise<number> {
    const run = this.maintenance.then(() => this.removeBelow(lsn));
    this.maintenance = run.catch(() => undefined);
    return run;
  }

  /**
   * Resolves when every record appended so far is durable; rejects as their appends did if
   * any of them failed (and with StorageFatalError / ClosedError as `append`).
   */
  barrier(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const batch = this.pending.count > 0 ? this.pending : this.inFlight;
    if (batch === undefined) return Promise.resolve();
    return batch.settled();
  }

  /** Resolves when every record appended so far is durable (or failed). */
  flushed(): Promise<void> {
    if (!this.flushing && this.pending.count === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Flushes what was appended, then closes every file. Later calls reject with ClosedError. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await this.flushed();
    await this.maintenance;
    await this.active?.file.close().catch(() => undefined);
    this.active = undefined;
    for (const firstLsn of [...this.readHandles.keys()]) await this.closeReadHandle(firstLsn);
  }

  /** The LSN the next record will get, once the records pending now are written. */
  get lsnNext(): number {
    return this.nextLsn + this.inFlightCount + this.pending.count;
  }

  /** A copy of the segment list, oldest first. */
  segmentInfos(): SegmentInfo[] {
    return this.segments.map((s) => ({ ...s }));
  }

  /** First LSN of the active segment: every record below it is in a sealed segment. */
  get activeSegmentFirstLsn(): number {
    assert(this.active !== undefined, 'WAL has no active segment');
    return this.active.info.firstLsn;
  }

  get failed(): StorageFatalError | undefined {
    return this.failure;
  }

  // ---- internals ----

  private refusal(type: number, payloadBytes: number): Error | undefined {
    if (this.failure !== undefined) return this.failure;
    if (this.closing) return new ClosedError('WAL is closed');
    if (!Number.isInteger(type) || type < RECORD_TYPE_MIN || type > RECORD_TYPE_MAX) {
      return new InvalidArgumentError(`WAL record type must be an integer in [${RECORD_TYPE_MIN}, ${RECORD_TYPE_MAX}], got ${type}`);
    }
    if (payloadBytes > this.config.recordBytesMax) {
      return new TooLargeError(`WAL record of ${payloadBytes} bytes exceeds recordBytesMax ${this.config.recordBytesMax}`);
    }
    return undefined;
  }

  private kick(): void {
    if (this.flushing) return;
    this.flushing = true;
    // After the current synchronous turn, not now: every append made in this turn rides the
    // same write. A microtask rather than the next macrotask: on a busy event loop a whole
    // turn of I/O callbacks would otherwise sit between a caller's append and its write.
    // Later arrivals batch up behind the write in flight (one at a time).
    queueMicrotask(() => this.flushPending());
  }

  /**
   * Issues the write of the pending batch when records wait; returns whether one is now in
   * flight. Precondition: none is. After a fatal failure, pending batches are rejected here.
   */
  private startNextWrite(): boolean {
    assert(this.inFlight === undefined, 'WAL: a second write would be in flight');
    while (this.pending.count > 0) {
      const batch = this.pending;
      this.pending = this.spares.pop() ?? new Batch(BATCH_BUFFER_INITIAL_BYTES);
      if (this.failure !== undefined) {
        batch.rejectAll(this.failure);
        this.recycle(batch);
        continue;
      }
      this.inFlight = batch;
      this.inFlightCount = batch.count;
      void this.writeBatch(batch);
      return true;
    }
    return false;
  }

  /** A batch's write finished: wake its callers, then write whatever waits. */
  private landed(batch: Batch, landing: Landing): void {
    this.inFlight = undefined;
    this.inFlightCount = 0;
    if (landing.ok) batch.resolveAll(landing.segmentFirstLsn, landing.position, landing.firstLsn);
    else batch.rejectAll(landing.error);
    this.recycle(batch);
    // No event-loop turn before the next write, only the callers' continuations (queued just
    // above): what they append at once rides that write instead of the one after. Issuing the
    // next write before waking them was measured: no latency gain, and closed-loop writers
    // then split into two half-size cohorts.
    queueMicrotask(() => this.flushPending());
  }

  private flushPending(): void {
    if (!this.startNextWrite()) this.becomeIdle();
  }

  private becomeIdle(): void {
    this.flushing = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }

  private recycle(batch: Batch): void {
    batch.reset(this.config.batchBufferBytesRetainedMax);
    if (this.spares.length < BATCHES_SPARE_MAX) this.spares.push(batch);
  }

  /**
   * Writes one batch durably (one O_DSYNC write), advances the log past it and hands the
   * outcome to `landed` in the same synchronous step, so `lsnNext` and `barrier` never see
   * the batch both written and in flight. A failure is what its callers get (fatal ones also
   * fail the WAL); it only throws on a failed assertion.
   */
  private async writeBatch(batch: Batch): Promise<void> {
    let landing: Landing;
    try {
      // Common case synchronous up to the write() call: no rotation to wait for.
      const active = this.rotationDue(batch.bytes) ? await this.rotate() : this.activeSegment();
      const firstLsn = this.nextLsn;
      const position = active.info.sizeBytes;
      batch.seal(firstLsn);
      try {
        await active.file.write(batch.buffer.subarray(0, batch.bytes), position);
      } catch (err) {
        if (!isDiskFull(err)) throw this.fail(`durable write of ${batch.bytes} bytes at byte ${position} of ${active.info.path}`, err);
        await this.rollBack(active, position);
        throw new DiskFullError(`disk full writing ${batch.count} WAL records (${batch.bytes} bytes) to ${active.info.path}`, { cause: err });
      }
      active.info.sizeBytes = position + batch.bytes;
      this.nextLsn = firstLsn + batch.count;
      landing = { ok: true, segmentFirstLsn: active.info.firstLsn, position, firstLsn };
    } catch (err) {
      landing = { ok: false, error: err };
    }
    this.landed(batch, landing);
  }

  private activeSegment(): ActiveSegment {
    assert(this.active !== undefined, 'WAL has no active segment');
    return this.active;
  }

  /** Whether `bytes` more would take the active segment past the target (an empty one
   *  takes any batch whole). */
  private rotationDue(bytes: number): boolean {
    const used = this.activeSegment().info.sizeBytes;
    return used !== SEGMENT_HEADER_BYTES && used + bytes > this.config.segmentBytesTarget;
  }

  /** Seals the active segment and makes a new one, starting at `nextLsn`, the active one. */
  private async rotate(): Promise<ActiveSegment> {
    const active = this.activeSegment();
    const next = await this.createSegment(this.nextLsn);
    await active.file.close().catch(() => undefined);
    this.active = next;
    this.segments.push(next.info);
    return next;
  }

  /** Creates a segment: header written durably (O_DSYNC), then the directory synced. */
  private async createSegment(firstLsn: number): Promise<ActiveSegment> {
    const path = joinPath(this.dir, segmentName(firstLsn));
    let file: StorageFile | undefined;
    try {
      file = await this.openDsync(path, 'create-dsync');
      await file.write(encodeSegmentHeader(firstLsn), 0);
      await this.fs.syncDir(this.dir);
      return { info: { firstLsn, path, sizeBytes: SEGMENT_HEADER_BYTES }, file };
    } catch (err) {
      if (!isDiskFull(err)) throw this.fail(`creating segment ${path}`, err);
      await this.removeHalfMade(path, file);
      throw new DiskFullError(`disk full creating WAL segment ${path}`, { cause: err });
    }
  }

  private async removeHalfMade(path: string, file: StorageFile | undefined): Promise<void> {
    try {
      await file?.close();
      if (file !== undefined) await this.fs.unlink(path);
      await this.fs.syncDir(this.dir);
    } catch (err) {
      throw this.fail(`removing half-created segment ${path} after ENOSPC`, err);
    }
  }

  /**
   * After ENOSPC mid-write: cut the file back to its last acknowledged byte, durably. What
   * fit before ENOSPC is already durable (O_DSYNC), and the next write may come much later
   * or never: with the cut unsynced, a crash in between would bring back records whose
   * callers were told they failed (DiskFullError).
   */
  private async rollBack(active: ActiveSegment, position: number): Promise<void> {
    try {
      await active.file.truncate(position);
      await active.file.datasync();
    } catch (err) {
      throw this.fail(`truncating ${active.info.path} back to byte ${position} after ENOSPC`, err);
    }
  }

  /** Marks the WAL failed for good and returns the error to throw. */
  private fail(what: string, cause: unknown): StorageFatalError {
    if (this.failure === undefined) {
      const reason = cause instanceof Error ? cause.message : String(cause);
      this.failure = new StorageFatalError(`WAL failed: ${what}: ${reason}; nothing since the last good sync is known to be durable, restart to recover`, { cause });
    }
    return this.failure;
  }

  private async openActive(): Promise<void> {
    const last = this.segments[this.segments.length - 1];
    if (last === undefined) {
      const created = await this.createSegment(this.nextLsn);
      this.segments.push(created.info);
      this.active = created;
      return;
    }
    this.active = { info: last, file: await this.openDsync(last.path, 'write-dsync') };
  }

  /** Opens a segment for appending; its writes must be durable on return (the group commit
   *  acknowledges on them), so a file system that opened it otherwise is a bug. */
  private async openDsync(path: string, mode: OpenMode): Promise<StorageFile> {
    const file = await this.fs.open(path, mode);
    if (!file.dsync) {
      await file.close().catch(() => undefined);
      assert(false, `WAL: ${path} opened ${mode} but its writes are not durable on return (a FileSystem wrapper dropped the mode?)`);
    }
    return file;
  }

  private async removeBelow(lsn: number): Promise<number> {
    if (this.failure !== undefined) throw this.failure;
    const doomed: SegmentInfo[] = [];
    while (this.segments.length >= 2 && this.segments[1]!.firstLsn <= lsn) doomed.push(this.segments.shift()!);
    try {
      for (const segment of doomed) {
        await this.fs.unlink(segment.path);
        const handle = this.readHandles.get(segment.firstLsn);
        if (handle !== undefined) {
          handle.removed = true;
          if (handle.users === 0) await this.closeReadHandle(segment.firstLsn);
        }
      }
      if (doomed.length > 0) await this.fs.syncDir(this.dir);
    } catch (err) {
      throw this.fail(`removing segments below LSN ${lsn}`, err);
    }
    return doomed.length;
  }

  private readHandle(segment: SegmentInfo): ReadHandle {
    let handle = this.readHandles.get(segment.firstLsn);
    if (handle === undefined) {
      handle = { file: this.fs.open(segment.path, 'read'), users: 0, removed: false };
      // A failed open is reported to the reader that awaits it; do not leave it unhandled.
      void handle.file.catch(() => undefined);
      this.readHandles.set(segment.firstLsn, handle);
    }
    return handle;
  }

  private async closeReadHandle(firstLsn: number): Promise<void> {
    const handle = this.readHandles.get(firstLsn);
    if (handle === undefined) return;
    this.readHandles.delete(firstLsn);
    await handle.file.then((f) => f.close()).catch(() => undefined);
  }
}

function checkFrame(frame: Buffer, frameBytes: number, location: RecordLocation, recordBytesMax: number): string | undefined {
  if (frame.byteLength < frameBytes) return `record cut short: ${frame.byteLength} of ${frameBytes} bytes`;
  const head = checkHead(frame, 0, recordBytesMax);
  if (head !== undefined) return head;
  if (frame.readUInt32LE(4) !== location.payloadBytes) return `record length ${frame.readUInt32LE(4)}, expected ${location.payloadBytes}`;
  if (readLsn(frame, 0) !== location.lsn) return `record has LSN ${readLsn(frame, 0)}, expected ${location.lsn}`;
  if (!crcMatches(frame, 0)) return `record LSN ${location.lsn}: CRC32C mismatch`;
  return undefined;
}
