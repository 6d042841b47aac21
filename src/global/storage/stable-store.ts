// Stable state for consensus: the promised ballot, the decided prefix and the accepted log
// entries, persisted through the WAL in the order the core's `Ready` hands them over, and read
// back as a `RecoveredState` (src/consensus/types.ts) on start.
//
// One `persist` call is one WAL record (a Ready record holding the optional HardState and
// the entries): a record is all or nothing after a crash, so a recovered state never has an
// entry accepted at a ballot above the promise that allowed it, nor a `decidedThrough` that
// runs past entries that were written with it. Records are durable in call order, so the
// latest record for an instance (or for the hard state) is the one recovery keeps.
//
// Compaction below a snapshot: `compact(snapshotThrough)` appends a Checkpoint record (the
// snapshot point and the current hard state) and a Ready record carrying every live entry
// (instance above the snapshot) whose latest record sits in a sealed segment, waits for both
// to be durable, then removes the sealed segments. Nothing still needed lives only in a
// removed segment, and a crash at any point leaves a log that recovers the same state.
// The caller must have made the snapshot through `snapshotThrough` durable first.
//
// The mark (wal-mark.ts, with `markPath`): on open the recovered log is checked against it. A
// log that ends below the mark's end, starts above its first LSN, or lost the hard state the
// mark says it held has lost records: `loss` describes it, and the mark is left alone until
// the owner resolves it (`recoverFromLoss`), so a refused start is refused again next time.
// A torn tail cut at or above the mark's end is `tailCut`: the mark cannot say whether that
// last write had finished (its Promise or Accepted may have been sent, then a bit flipped) or
// was torn by the crash, so a replica with peers recovers after it too (`recoverFromLoss`),
// and a single replica takes it for torn (docs/storage.md, "A cut tail").
//
// Deferred records: a Ready that only moves decisions (the core's `mustSync` false) need not
// be durable at any time, since a crash that loses it loses nothing a peer cannot tell again.
// `persist(update, true)` therefore holds it and writes it as the head of the next record (one
// record, so the order of records is kept), or on `compact`/`close`, or when it has waited
// through two `ageDeferred` calls (a consensus tick each) with nothing else written. Writing it
// at once cost a second durable write per proposal: the next proposal's accept waited behind it.
//
// Failure: after any failed append (DiskFullError, StorageFatalError) the store refuses all
// later calls with that error. The consensus core has already moved on in memory as if the
// write succeeded, so the only safe continuation is a restart that recovers from disk.

import { assert } from '../../protocol/assert.ts';
import { ClosedError, InvalidArgumentError } from '../../protocol/errors.ts';
import { INITIAL_HARD_STATE, type HardState, type LogEntry, type RecoveredState } from '../../consensus/types.ts';
import { decodeCheckpoint, decodeReady, encodeCheckpoint, encodeReady } from './consensus-codec.ts';
import { CorruptFileError } from './errors.ts';
import type { FileSystem } from './fs.ts';
import { joinPath } from './fs.ts';
import { segmentName } from './segment.ts';
import { Wal, type WalConfig } from './wal.ts';
import { readWalMark, writeWalMark, type WalMark } from './wal-mark.ts';

const RECORD_READY = 1;
const RECORD_CHECKPOINT = 2;

/** What the core's `Ready` asks to persist. */
export interface PersistUpdate {
  readonly hardState?: HardState;
  readonly entries: readonly LogEntry[];
}

export interface StableStoreOptions {
  readonly fs: FileSystem;
  /** Directory of the consensus WAL (created if missing). */
  readonly dir: string;
  readonly wal?: Partial<WalConfig>;
  /** The log's mark file (wal-mark.ts), checked on open and kept up to date; none if absent. */
  readonly markPath?: string;
}

/** What the mark says the log held and what was found instead (see the file comment). */
export interface WalLoss {
  readonly markPath: string;
  readonly walDir: string;
  readonly expected: WalMark;
  readonly found: WalMark;
  /** One sentence naming the files and what is missing. */
  readonly description: string;
}

/** Updates held by `persist(update, true)` until the next record (see the file comment). */
interface Deferred {
  hardState: HardState | undefined;
  readonly entries: LogEntry[];
  /** What every `persist` call that deferred into this update was given: settles with its write. */
  readonly written: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
  /** `ageDeferred` was called since it was first held. */
  aged: boolean;
}

interface LiveEntry {
  readonly entry: LogEntry;
  /** LSN of the record holding this entry's latest version. */
  readonly lsn: number;
}

export class StableStore {
  // Invariant: `live` holds exactly the instances above `snapshotThrough`, each with its
  // latest entry in append order; `hardState` is the latest appended, or INITIAL_HARD_STATE
  // (recovering) when none ever was: a replica whose log holds no hard state may have lost
  // one, so it must recover before it votes (docs/consensus.md).
  private readonly live = new Map<number, LiveEntry>();
  private hardState: HardState = INITIAL_HARD_STATE;
  private snapshotThrough = 0;
  private failure: Error | undefined;
  private compacting: Promise<unknown> = Promise.resolve();
  private wal!: Wal;
  private fs!: FileSystem;
  /** Whether the log holds a hard state (one was replayed or appended). */
  private hardStateRecorded = false;
  private markPath: string | undefined;
  /** What the mark file says now (the last written or read); undefined without one. */
  private marked: WalMark | undefined;
  private markWork: Promise<unknown> = Promise.resolve();
  /** A refresh asked for by `persist` is queued or running: it asks for no other. */
  private markRefreshing = false;
  private lossFound: WalLoss | undefined;
  private tailCutFound: string | undefined;
  private deferred: Deferred | undefined;

  private constructor() {}

  /**
   * Recovers the stable state from `options.dir` and opens it for writing. Throws
   * CorruptFileError when a record is bad outside a torn tail or does not decode, and
   * whatever Wal.open throws.
   */
  static async open(options: StableStoreOptions): Promise<StableStore> {
    const store = new StableStore();
    store.fs = options.fs;
    store.wal = await Wal.open({
      fs: options.fs,
      dir: options.dir,
      ...(options.wal === undefined ? {} : { config: options.wal }),
      visit: (type, payload, lsn, segmentFirstLsn, offset) => {
        try {
          store.replay(type, payload, lsn);
        } catch (err) {
          const what = err instanceof Error ? err.message : String(err);
          throw new CorruptFileError(joinPath(options.dir, segmentName(segmentFirstLsn)), offset, `record LSN ${lsn}: ${what}`, { cause: err });
        }
      },
    });
    if (options.markPath !== undefined) await store.checkMark(options.markPath, options.dir);
    return store;
  }

  /**
   * Set when the log is shorter than its mark says (see the file comment): records, possibly
   * promises and accepts among them, were lost. Cleared by `recoverFromLoss`.
   */
  get loss(): WalLoss | undefined {
    return this.lossFound;
  }

  /**
   * Set when recovery cut a torn tail the mark did not cover (see the file comment): one
   * sentence naming the log and the LSN cut from. The records cut may have been durable.
   */
  get tailCut(): string | undefined {
    return this.tailCutFound;
  }

  /**
   * Resolves a `loss` or `tailCut` by recovering from peers: durably records the current hard
   * state with `recovering` set (the replica then votes on nothing until its peers told it what
   * it may have promised and accepted, docs/consensus.md), then rewrites the mark to the log as
   * it is. A crash in between recovers again (the recovering hard state is durable first;
   * the mark does not move past a tail cut before).
   */
  async recoverFromLoss(): Promise<void> {
    if (this.lossFound === undefined && this.tailCutFound === undefined) return;
    await this.persist({ hardState: { ...this.hardState, recovering: true }, entries: [] });
    this.lossFound = undefined;
    this.tailCutFound = undefined;
    await this.refreshMark();
  }

  /** What the core starts from: latest hard state, live entries ascending, snapshot point. */
  recovered(): RecoveredState {
    const entries = [...this.live.values()].map((l) => l.entry).sort((a, b) => a.instance - b.instance);
    return { hardState: this.hardState, entries, snapshotThrough: this.snapshotThrough };
  }

  /**
   * Persists one Ready's state as one record; resolves when it is durable, with everything
   * persisted before it. With `mustSync` false the caller may go on without awaiting, but
   * must still handle a rejection. Rejects with DiskFullError, StorageFatalError or
   * ClosedError; after a rejection every later call rejects too (see the file comment).
   * Keeps references to `update`'s entries (they are immutable by contract). `deferrable`
   * (only for updates that need never be durable: decisions) holds the update for the next
   * record (see the file comment); the promise resolves when that is durable.
   */
  persist(update: PersistUpdate, deferrable = false): Promise<void> {
    if (this.failure !== undefined) {
      const failure = this.failure;
      this.deferred?.reject(failure);
      this.deferred = undefined;
      return Promise.reject(failure);
    }
    if (deferrable) return this.defer(update);
    const held = this.deferred;
    this.deferred = undefined;
    const merged = held === undefined ? update : withDeferred(held, update);
    // Nothing to write still means "everything before is durable" to the caller.
    const written = merged.hardState === undefined && merged.entries.length === 0 ? this.wal.barrier().catch((err: unknown) => this.failWith(err)) : this.append(merged);
    if (held !== undefined) written.then(held.resolve, held.reject);
    return written;
  }

  /**
   * Called once per consensus tick: writes a deferred update that was already held at the
   * previous call (nothing else was written for a whole tick). Its failure reaches the
   * callers of `persist` that deferred it.
   */
  ageDeferred(): void {
    const held = this.deferred;
    if (held === undefined) return;
    if (held.aged) this.writeDeferred();
    else held.aged = true;
  }

  private defer(update: PersistUpdate): Promise<void> {
    const held = (this.deferred ??= newDeferred());
    if (update.hardState !== undefined) held.hardState = update.hardState;
    for (const entry of update.entries) held.entries.push(entry);
    return held.written;
  }

  /** Appends the deferred update now, if there is one (its callers hear how it went). */
  private writeDeferred(): void {
    if (this.deferred !== undefined) this.persist({ entries: [] }).catch(() => undefined);
  }

  private append(update: PersistUpdate): Promise<void> {
    const lsn = this.wal.lsnNext;
    const written = this.wal.append(RECORD_READY, encodeReady(update));
    this.remember(update, lsn);
    // Rarely true: the first hard state, or the WAL moved to a new segment (file comment).
    if (this.marked !== undefined && !this.markRefreshing && (this.hardStateRecorded !== this.marked.hardState || this.wal.activeSegmentFirstLsn > this.marked.lsnEnd)) {
      this.markRefreshing = true;
      this.refreshMark().then(
        () => {
          this.markRefreshing = false;
        },
        (err: unknown) => {
          this.failure ??= err instanceof Error ? err : new Error(String(err));
        },
      );
    }
    return written.catch((err: unknown) => this.failWith(err));
  }

  /**
   * Drops everything at or below `snapshotThrough` from the log (see the file comment).
   * Resolves once the obsolete segments are gone. The snapshot must already be durable.
   * Throws InvalidArgumentError when `snapshotThrough` goes backwards, and the errors of
   * `persist`.
   */
  compact(snapshotThrough: number): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (!Number.isSafeInteger(snapshotThrough) || snapshotThrough < this.snapshotThrough) {
      return Promise.reject(new InvalidArgumentError(`compact: snapshotThrough must be a safe integer >= ${this.snapshotThrough}, got ${snapshotThrough}`));
    }
    // The checkpoint records the hard state and the live entries as of now: deferred ones first.
    this.writeDeferred();
    // Appended now, not after an await: records stay in call order with `persist`.
    this.advanceSnapshot(snapshotThrough);
    const cutLsn = this.wal.activeSegmentFirstLsn;
    const carried = [...this.live.values()].filter((l) => l.lsn < cutLsn).map((l) => l.entry);
    const checkpoint = this.wal.append(RECORD_CHECKPOINT, encodeCheckpoint({ snapshotThrough, hardState: this.hardState }));
    const carriedLsn = this.wal.lsnNext;
    const carry = carried.length === 0 ? Promise.resolve() : this.wal.append(RECORD_READY, encodeReady({ entries: carried }));
    if (carried.length > 0) this.remember({ entries: carried }, carriedLsn);
    assert([...this.live.values()].every((l) => l.lsn >= cutLsn), 'compact: a live entry would be left in a removed segment');
    // The mark moves its first LSN up before segments go, so it never claims a segment that
    // a crash after the removal would find missing.
    const run = Promise.all([checkpoint, carry]).then(
      () => this.refreshMark(cutLsn).then(() => this.wal.removeSegmentsBelow(cutLsn)),
      (err: unknown) => this.failWith(err),
    );
    const done = run.then(() => undefined).catch((err: unknown) => this.failWith(err));
    this.compacting = done.catch(() => undefined);
    return done;
  }

  /** Closes the WAL after flushing what was persisted. */
  async close(): Promise<void> {
    if (this.failure === undefined) this.writeDeferred();
    await this.compacting;
    if (this.failure === undefined) await this.refreshMark().catch(() => undefined);
    await this.wal.close();
    this.failure ??= new ClosedError('stable store is closed');
  }

  /** Whether the log holds a consensus hard state (false for a new, wiped or restored one). */
  get holdsHardState(): boolean {
    return this.hardStateRecorded;
  }

  /** What recovery of the WAL repaired on open (torn tail cut, half-made segment removed). */
  walRepairs(): readonly string[] {
    return this.wal.repairs;
  }

  /** For tests and metrics: the WAL's segments. */
  segmentCount(): number {
    return this.wal.segmentInfos().length;
  }

  /** Bytes the WAL's segments take on disk (status and metrics). */
  walBytes(): number {
    return this.wal.segmentInfos().reduce((sum, s) => sum + s.sizeBytes, 0);
  }

  // ---- internals ----

  private replay(type: number, payload: Buffer, lsn: number): void {
    if (type === RECORD_READY) {
      this.remember(decodeReady(payload), lsn);
    } else if (type === RECORD_CHECKPOINT) {
      const checkpoint = decodeCheckpoint(payload);
      this.hardState = checkpoint.hardState;
      this.hardStateRecorded = true;
      this.advanceSnapshot(checkpoint.snapshotThrough);
    } else {
      throw new Error(`unknown stable-store record type ${type}`);
    }
  }

  private remember(update: PersistUpdate, lsn: number): void {
    if (update.hardState !== undefined) {
      this.hardState = update.hardState;
      this.hardStateRecorded = true;
    }
    for (const entry of update.entries) {
      if (entry.instance > this.snapshotThrough) this.live.set(entry.instance, { entry, lsn });
    }
  }

  private advanceSnapshot(snapshotThrough: number): void {
    if (snapshotThrough <= this.snapshotThrough) return;
    this.snapshotThrough = snapshotThrough;
    for (const instance of this.live.keys()) if (instance <= snapshotThrough) this.live.delete(instance);
  }

  /** Compares the recovered log with its mark; sets `loss`, or brings the mark up to date. */
  private async checkMark(markPath: string, walDir: string): Promise<void> {
    this.markPath = markPath;
    const expected = await readWalMark(this.fs, markPath);
    const found: WalMark = { lsnFirst: this.wal.segmentInfos()[0]?.firstLsn ?? this.wal.lsnNext, lsnEnd: this.wal.lsnNext, hardState: this.hardStateRecorded };
    if (expected !== undefined) {
      const missing: string[] = [];
      if (found.lsnEnd < expected.lsnEnd) missing.push(`it ends before LSN ${found.lsnEnd}, the mark says it reached LSN ${expected.lsnEnd} (${expected.lsnEnd - found.lsnEnd} records missing at the end)`);
      if (found.lsnFirst > expected.lsnFirst) missing.push(`it starts at LSN ${found.lsnFirst}, the mark says at or below LSN ${expected.lsnFirst} (segments missing at the start)`);
      if (expected.hardState && !found.hardState) missing.push('it holds no consensus hard state, the mark says it did');
      if (missing.length > 0) {
        const segments = this.wal.segmentInfos().map((s) => `${s.path} (${s.sizeBytes} bytes)`);
        const description = `the consensus log in ${walDir} is shorter than ${markPath} records: ${missing.join('; ')}. `
          + `Segments found: ${segments.length === 0 ? 'none' : segments.join(', ')}. The log was truncated, emptied or deleted`;
        this.lossFound = { markPath, walDir, expected, found, description };
        this.marked = expected;
        return;
      }
    }
    const cutLsn = this.wal.tailCutLsn;
    if (cutLsn !== undefined) {
      this.tailCutFound = `the consensus log in ${walDir} ended in a damaged record at LSN ${cutLsn}, past what ${markPath} vouches for (LSN ${expected?.lsnEnd ?? 0}), and was cut there. `
        + 'A write torn by a crash looks the same as a finished write whose bytes were damaged after its Promise or Accepted was sent';
    }
    this.marked = expected ?? { lsnFirst: 0, lsnEnd: 0, hardState: false };
    // The mark moves past a tail cut only once the owner resolved it (recovering is durable).
    if (this.tailCutFound === undefined) await this.refreshMark();
  }

  /** Resolves a `tailCut` by taking it for torn (a single replica: no one to ask); moves the mark. */
  async acceptTailCut(): Promise<void> {
    if (this.tailCutFound === undefined) return;
    this.tailCutFound = undefined;
    await this.refreshMark();
  }

  /**
   * Rewrites the mark to what is durable now (after a WAL barrier), with `lsnFirst` when
   * compaction is about to move the start. Serialized; a no-op without a mark file, while a
   * loss is unresolved (the mark must keep saying what was lost), or when nothing changed.
   */
  private refreshMark(lsnFirst?: number): Promise<void> {
    const run = this.markWork.then(async () => {
      const markPath = this.markPath;
      if (markPath === undefined || this.lossFound !== undefined || this.tailCutFound !== undefined) return;
      const next: WalMark = {
        lsnFirst: lsnFirst ?? this.wal.segmentInfos()[0]?.firstLsn ?? this.wal.lsnNext,
        lsnEnd: this.wal.lsnNext,
        hardState: this.hardStateRecorded,
      };
      await this.wal.barrier();
      const old = this.marked;
      if (old !== undefined && old.lsnFirst === next.lsnFirst && old.lsnEnd === next.lsnEnd && old.hardState === next.hardState) return;
      await writeWalMark(this.fs, markPath, next);
      this.marked = next;
    });
    this.markWork = run.catch(() => undefined);
    return run;
  }

  private failWith(err: unknown): never {
    this.failure ??= err instanceof Error ? err : new Error(String(err));
    throw err;
  }
}

/** `held` as the head of `update`: one record, the later hard state winning. */
function newDeferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const written = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { hardState: undefined, entries: [], written, resolve, reject, aged: false };
}

function withDeferred(held: Deferred, update: PersistUpdate): PersistUpdate {
  const entries = held.entries.length === 0 ? update.entries : [...held.entries, ...update.entries];
  const hardState = update.hardState ?? held.hardState;
  return hardState === undefined ? { entries } : { hardState, entries };
}
