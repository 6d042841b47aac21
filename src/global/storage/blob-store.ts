// The content-addressed blob store (docs/architecture.md): blobs named by their
// BLAKE3-256 hash, small ones inline in a pack log (blob-pack.ts), large ones in files of
// their own (blob-files.ts). Put is idempotent; every read is verified against the hash;
// garbage collection deletes blobs no key references once their grace period is over (gc.ts).
//
// Concurrency: operations on different hashes run concurrently (small puts share group
// commits). Per hash, putting and deleting are serialized by a lock, so a collection can
// never delete a file that a concurrent put of the same bytes has just claimed as present.
//
// Corruption: a blob whose bytes fail their hash is taken out of the store when found and
// the read throws CorruptError. The bad copy is kept for the operator, never deleted: a large
// blob's file is renamed to `<hash>.corrupt-<ms>-<n>` beside the others; an inline blob's
// record stays in the pack log (until compaction drops it with other garbage). The store
// remembers the damage (`damage(hash)`), so that callers can answer DATA_LOSS rather than
// "not found" while it lasts; a later put of the same bytes (fetched from a peer, or uploaded
// again) repairs it. Bytes that fail their hash are never returned.

import { ClosedError, CorruptError, InvalidArgumentError, TooLargeError } from '../../protocol/errors.ts';
import { Hasher, hashOf, type Hash } from '../../protocol/hash.ts';
import { BlobFiles, type PartialBlob } from './blob-files.ts';
import { BlobPack } from './blob-pack.ts';
import { StorageFatalError } from './errors.ts';
import type { FileSystem } from './fs.ts';
import { joinPath } from './fs.ts';
import { selectGarbage, type GcReport } from './gc.ts';

/** Milliseconds from an injected source (the simulator's or the real one). */
export interface StorageClock {
  nowMs(): number;
}

export interface BlobStoreConfig {
  /** Blobs up to this size are stored inline in the pack log; larger ones get a file. */
  readonly inlineBytesMax: number;
  /** Largest blob accepted; larger puts reject with TooLargeError. */
  readonly blobBytesMax: number;
  /** An unreferenced blob put less than this long ago survives collection. */
  readonly graceMs: number;
  readonly packSegmentBytesTarget: number;
  /** Pack compaction runs when live inline blobs fill less than this fraction of sealed segments. */
  readonly packLiveRatioMin: number;
  /** Pack compaction never runs while sealed segments hold less than this. */
  readonly packCompactBytesMin: number;
}

export const BLOB_STORE_CONFIG_DEFAULTS: BlobStoreConfig = Object.freeze({
  inlineBytesMax: 16 * 1024,
  blobBytesMax: 1024 * 1024 * 1024,
  graceMs: 10 * 60 * 1000,
  packSegmentBytesTarget: 16 * 1024 * 1024,
  packLiveRatioMin: 0.5,
  packCompactBytesMin: 1024 * 1024,
});

/** Checks every field; throws InvalidArgumentError naming the first bad one. */
export function validateBlobStoreConfig(partial: Partial<BlobStoreConfig> = {}): BlobStoreConfig {
  const config = { ...BLOB_STORE_CONFIG_DEFAULTS, ...partial };
  const integer = (name: keyof BlobStoreConfig, min: number): void => {
    const value = config[name];
    if (!Number.isSafeInteger(value) || value < min) throw new InvalidArgumentError(`BlobStoreConfig.${name} must be an integer >= ${min}, got ${value}`);
  };
  integer('inlineBytesMax', 0);
  integer('blobBytesMax', 1);
  integer('graceMs', 0);
  integer('packSegmentBytesTarget', 4096);
  integer('packCompactBytesMin', 0);
  if (config.inlineBytesMax > config.blobBytesMax) {
    throw new InvalidArgumentError(`BlobStoreConfig.inlineBytesMax (${config.inlineBytesMax}) must not exceed blobBytesMax (${config.blobBytesMax})`);
  }
  if (!(config.packLiveRatioMin >= 0 && config.packLiveRatioMin <= 1)) {
    throw new InvalidArgumentError(`BlobStoreConfig.packLiveRatioMin must be a number in [0, 1], got ${config.packLiveRatioMin}`);
  }
  return config;
}

/** Damaged blobs remembered at most (oldest forgotten first); damage is rare. */
const DAMAGED_REMEMBERED_MAX = 10_000;

export interface BlobStoreOptions {
  readonly fs: FileSystem;
  /** Directory of the blob store (`pack/` and `large/` are made inside). */
  readonly dir: string;
  readonly clock: StorageClock;
  readonly config?: Partial<BlobStoreConfig>;
}

export interface PutResult {
  readonly hash: Hash;
  readonly sizeBytes: number;
}

export class BlobStore {
  // Invariant: a hash is in at most one of pack and files; `lastPutMs` has every stored hash.
  private readonly lastPutMs = new Map<Hash, number>();
  private readonly locks = new Map<Hash, Promise<unknown>>();
  private failure: Error | undefined;
  /** Blobs found corrupt and not repaired since: hash -> where the bad copy went. Insertion order is age. */
  private readonly damaged = new Map<Hash, string>();
  private quarantined = 0;

  private constructor(
    private readonly pack: BlobPack,
    private readonly files: BlobFiles,
    private readonly clock: StorageClock,
    private readonly config: BlobStoreConfig,
  ) {}

  /**
   * Opens (recovering) the store. Blobs found on disk count as put now for the grace period.
   * Throws InvalidArgumentError (config), CorruptFileError (pack log), file-system errors.
   */
  static async open(options: BlobStoreOptions): Promise<BlobStore> {
    const config = validateBlobStoreConfig(options.config);
    const pack = await BlobPack.open(options.fs, joinPath(options.dir, 'pack'), {
      segmentBytesTarget: config.packSegmentBytesTarget,
      liveRatioMin: config.packLiveRatioMin,
      compactBytesMin: config.packCompactBytesMin,
      recordBytesMax: Math.max(1, config.inlineBytesMax + 32),
    });
    const files = await BlobFiles.open(options.fs, joinPath(options.dir, 'large'));
    const store = new BlobStore(pack, files, options.clock, config);
    const now = options.clock.nowMs();
    for (const hash of pack.hashes()) store.lastPutMs.set(hash, now);
    for (const hash of files.hashes()) {
      if (pack.has(hash)) await files.remove(hash); // one copy is enough (both are verified on read)
      else store.lastPutMs.set(hash, now);
    }
    return store;
  }

  /**
   * Stores `bytes` durably and returns their hash; a no-op (but a fresh grace period) when
   * already stored. `bytes` is not retained. Throws TooLargeError, DiskFullError (nothing
   * partial is kept), StorageFatalError (the store is dead), ClosedError.
   */
  async put(bytes: Uint8Array): Promise<Hash> {
    this.checkLive();
    if (bytes.byteLength > this.config.blobBytesMax) throw new TooLargeError(`blob of ${bytes.byteLength} bytes exceeds blobBytesMax ${this.config.blobBytesMax}`);
    const hash = hashOf(bytes);
    await this.withLock(hash, async () => {
      this.lastPutMs.set(hash, this.clock.nowMs());
      if (this.has(hash)) return;
      if (bytes.byteLength <= this.config.inlineBytesMax) {
        await this.pack.put(hash, bytes);
      } else {
        const partial = await this.files.begin(hash);
        try {
          await this.files.append(partial, bytes);
          await this.files.publish(partial, hash);
        } catch (err) {
          await this.files.discard(partial);
          throw err;
        }
      }
      this.damaged.delete(hash);
    });
    return hash;
  }

  /**
   * Stores a blob arriving in chunks, hashing as they come; large ones are written to disk as
   * they arrive, never held whole in memory. With `expectedHash` (a blob fetched by hash from
   * a peer), bytes that hash otherwise are refused with CorruptError and nothing is kept.
   * Chunks are not retained. Throws as `put`.
   */
  async putStream(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, expectedHash?: Hash): Promise<PutResult> {
    this.checkLive();
    const hasher = new Hasher();
    const small: Buffer[] = [];
    let partial: PartialBlob | undefined;
    let sizeBytes = 0;
    try {
      for await (const chunk of chunks) {
        sizeBytes += chunk.byteLength;
        if (sizeBytes > this.config.blobBytesMax) throw new TooLargeError(`blob stream passed blobBytesMax ${this.config.blobBytesMax}`);
        hasher.update(chunk);
        if (partial === undefined && sizeBytes <= this.config.inlineBytesMax) {
          small.push(Buffer.from(chunk));
          continue;
        }
        if (partial === undefined) {
          partial = await this.files.begin('stream');
          for (const piece of small) await this.files.append(partial, piece);
          small.length = 0;
        }
        await this.files.append(partial, chunk);
      }
      const hash = hasher.digest();
      if (expectedHash !== undefined && hash !== expectedHash) throw new CorruptError(`blob stream hashes to ${hash}, expected ${expectedHash} (${sizeBytes} bytes)`);
      if (partial === undefined) {
        await this.put(Buffer.concat(small));
        return { hash, sizeBytes };
      }
      const written = partial;
      await this.withLock(hash, async () => {
        this.lastPutMs.set(hash, this.clock.nowMs());
        if (this.has(hash)) return this.files.discard(written);
        await this.files.publish(written, hash);
        this.damaged.delete(hash);
      });
      return { hash, sizeBytes };
    } catch (err) {
      if (partial !== undefined) await this.files.discard(partial);
      throw this.noteFailure(err);
    }
  }

  /**
   * The blob's bytes, verified against `hash` (a new buffer the caller owns). Throws
   * NotFoundError, CorruptError (the bad copy is quarantined; see the file comment), ClosedError.
   */
  async get(hash: Hash): Promise<Buffer> {
    this.checkLive();
    try {
      return this.pack.has(hash) ? await this.pack.get(hash) : await this.files.get(hash);
    } catch (err) {
      if (err instanceof CorruptError) await this.withLock(hash, () => this.quarantine(hash, err));
      throw err;
    }
  }

  /**
   * The blob in pieces of at most `chunkBytes` (for sending to a peer without holding a large
   * blob whole); each piece is a new buffer the consumer owns. Verified: for a large blob the
   * last piece is withheld and CorruptError thrown instead when the bytes do not match (the
   * bad copy is quarantined, as in `get`). Consumers must not act on the pieces before the end.
   * Throws NotFoundError, ClosedError.
   */
  async *read(hash: Hash, chunkBytes = 1024 * 1024): AsyncGenerator<Uint8Array> {
    this.checkLive();
    if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1) throw new InvalidArgumentError(`read: chunkBytes must be a positive integer, got ${chunkBytes}`);
    if (this.pack.has(hash)) {
      const bytes = await this.get(hash);
      for (let offset = 0; offset < bytes.byteLength; offset += chunkBytes) yield bytes.subarray(offset, offset + chunkBytes);
      if (bytes.byteLength === 0) yield bytes;
      return;
    }
    try {
      yield* this.files.read(hash, chunkBytes);
    } catch (err) {
      if (err instanceof CorruptError) await this.withLock(hash, () => this.quarantine(hash, err));
      throw err;
    }
  }

  has(hash: Hash): boolean {
    return this.pack.has(hash) || this.files.has(hash);
  }

  /**
   * When this store's copy of `hash` failed its hash check and was not repaired since: what
   * happened and where the bad copy is (one sentence). Forgotten on restart.
   */
  damage(hash: Hash): string | undefined {
    return this.damaged.get(hash);
  }

  sizeBytes(hash: Hash): number | undefined {
    return this.pack.sizeBytes(hash) ?? this.files.sizeBytes(hash);
  }

  /** Bytes of blob content held (status and metrics); kept as blobs come and go, not walked. */
  totalBytes(): number {
    return this.pack.totalBytes() + this.files.totalBytes();
  }

  /** Every stored hash (a snapshot of the moment). */
  hashes(): Hash[] {
    return [...this.pack.hashes(), ...this.files.hashes()];
  }

  /**
   * Deletes every blob that `isReferenced` says no key references and that was last put at
   * least `graceMs` ago by the injected clock; then compacts the pack log if it is mostly
   * garbage. `isReferenced` is called synchronously, before any deletion. Throws
   * StorageFatalError (a sync failed: the store is dead) and file-system errors.
   */
  async collectGarbage(isReferenced: (hash: Hash) => boolean): Promise<GcReport> {
    this.checkLive();
    const nowMs = this.clock.nowMs();
    const candidates = [...this.lastPutMs.entries()].filter(([hash]) => this.has(hash)).map(([hash, lastPutMs]) => ({ hash, lastPutMs }));
    const garbage = selectGarbage(candidates, isReferenced, nowMs, this.config.graceMs);
    let blobsRemoved = 0;
    let bytesRemoved = 0;
    let filesRemoved = 0;
    try {
      for (const hash of garbage) {
        await this.withLock(hash, async () => {
          // A put of the same bytes since the selection restarted the grace period.
          if (nowMs - (this.lastPutMs.get(hash) ?? Number.NEGATIVE_INFINITY) < this.config.graceMs) return;
          this.lastPutMs.delete(hash);
          const inline = this.pack.remove(hash);
          const size = inline ?? (await this.files.remove(hash));
          if (size === undefined) return;
          if (inline === undefined) filesRemoved++;
          blobsRemoved++;
          bytesRemoved += size;
        });
      }
      if (filesRemoved > 0) await this.files.syncDir();
      const compaction = await this.pack.compact();
      return { blobsRemoved, bytesRemoved, inlineBlobsMoved: compaction.moved, packSegmentsRemoved: compaction.segmentsRemoved };
    } catch (err) {
      throw this.noteFailure(err);
    }
  }

  async close(): Promise<void> {
    if (this.failure instanceof ClosedError) return;
    await Promise.allSettled([...this.locks.values()]);
    await this.pack.close();
    this.failure ??= new ClosedError('blob store is closed');
  }

  // ---- internals ----

  private checkLive(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  private noteFailure(err: unknown): unknown {
    if (err instanceof StorageFatalError) this.failure ??= err;
    return err;
  }

  private async quarantine(hash: Hash, err: CorruptError): Promise<void> {
    if (!this.has(hash)) return; // a concurrent read found it first
    this.lastPutMs.delete(hash);
    let where: string;
    if (this.pack.remove(hash) !== undefined) {
      where = 'its record stays in the inline-blob log until compaction';
    } else {
      try {
        const to = await this.files.quarantine(hash, `${this.clock.nowMs()}-${++this.quarantined}`);
        where = to === undefined ? 'it was gone already' : `the bad copy was moved to ${to}`;
      } catch (moveErr) {
        // Out of the index already: the read fails as it would have; say why the file stayed.
        where = `the bad copy could not be moved aside (${moveErr instanceof Error ? moveErr.message : String(moveErr)})`;
      }
    }
    this.damaged.delete(hash);
    this.damaged.set(hash, `${err.message}; ${where}`);
    if (this.damaged.size > DAMAGED_REMEMBERED_MAX) this.damaged.delete(this.damaged.keys().next().value!);
  }

  /** Runs `fn` after every earlier holder of `hash`'s lock; records fatal failures. */
  private async withLock<T>(hash: Hash, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(hash) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.locks.set(hash, tail);
    try {
      return await run;
    } catch (err) {
      throw this.noteFailure(err);
    } finally {
      if (this.locks.get(hash) === tail) this.locks.delete(hash);
    }
  }
}
