// Snapshots of the state machine: opaque payload bytes (produced and consumed by the state
// machine, a later issue) plus metadata, one file per snapshot, written so that a crash leaves
// either the whole snapshot or none of it:
//   write `<through>.snap.partial-<n>` (payload streamed while hashing, then the header) ->
//   fdatasync -> rename to `<through>.snap` -> fsync the directory.
// Stray partial files are deleted on open.
//
// File format (little-endian; header covered by a CRC32C, payload by its BLAKE3-256):
//   0   8  magic "DSTSNAP1"          8   4  version 1          12  4  headerBytes (96 + m)
//   16  8  throughInstance           24  8  payloadBytes
//   32  32 payloadHash (BLAKE3-256)  64  4  metadataBytes (m)  68  24 reserved, zero
//   92  4  crc32c of bytes [0, 92) followed by the metadata
//   96  m  metadata (opaque)         96+m   payload
//
// End-to-end verification: the payload hash is computed when the snapshot is first written
// and travels with it. A reader (local restore or streaming to a peer) re-hashes as it reads
// and throws at the end on a mismatch; an installer (receiving from a peer) checks offsets,
// size and hash before the rename, so a snapshot that did not arrive intact never becomes
// visible. Consumers must not act on streamed bytes until the stream has ended without error.

import { CHUNK_BYTES_MAX } from '../../protocol/receive-limit.ts';
import { ClosedError, CorruptError, InvalidArgumentError, NotFoundError, TooLargeError } from '../../protocol/errors.ts';
import { HASH_BYTES, Hasher, hashFromBytes, hashToBytes, type Hash } from '../../protocol/hash.ts';
import { crc32c } from './crc32c.ts';
import { CorruptFileError, DiskFullError, StorageFatalError, isDiskFull } from './errors.ts';
import type { FileSystem, StorageFile } from './fs.ts';
import { joinPath, readFully } from './fs.ts';

export interface SnapshotMeta {
  /** Last consensus instance whose effect the payload includes. */
  readonly throughInstance: number;
  readonly payloadBytes: number;
  readonly payloadHash: Hash;
  /** Opaque bytes for the state machine (e.g. membership); small. */
  readonly metadata: Uint8Array;
}

/** A piece of a snapshot's payload in transit; `offset` counts from the payload's start. */
export interface SnapshotChunk {
  readonly offset: number;
  readonly bytes: Uint8Array;
}

export interface SnapshotConfig {
  /** Payload bytes per chunk when reading or streaming to a peer. */
  readonly chunkBytes: number;
  /** Complete snapshots kept on disk (the newest ones); at least 1. */
  readonly snapshotsRetained: number;
  readonly metadataBytesMax: number;
  readonly payloadBytesMax: number;
}

export const SNAPSHOT_CONFIG_DEFAULTS: SnapshotConfig = Object.freeze({
  chunkBytes: 1024 * 1024,
  snapshotsRetained: 2,
  metadataBytesMax: 64 * 1024,
  payloadBytesMax: 64 * 1024 * 1024 * 1024,
});

export function validateSnapshotConfig(partial: Partial<SnapshotConfig> = {}): SnapshotConfig {
  const config = { ...SNAPSHOT_CONFIG_DEFAULTS, ...partial };
  for (const [name, min] of [['chunkBytes', 1], ['snapshotsRetained', 1], ['metadataBytesMax', 0], ['payloadBytesMax', 0]] as const) {
    const value = config[name];
    if (!Number.isSafeInteger(value) || value < min) throw new InvalidArgumentError(`SnapshotConfig.${name} must be an integer >= ${min}, got ${value}`);
  }
  // A chunk is one FetchSnapshot message: it must fit every replica's receive limit.
  if (config.chunkBytes > CHUNK_BYTES_MAX) throw new InvalidArgumentError(`SnapshotConfig.chunkBytes must be at most ${CHUNK_BYTES_MAX}, got ${config.chunkBytes}`);
  return config;
}

const MAGIC = Buffer.from('DSTSNAP1', 'latin1');
const VERSION = 1;
const FIXED_HEADER_BYTES = 96;
const CRC_OFFSET = 92;
const U32 = 0x1_0000_0000;
const NAME_PATTERN = /^(\d{16})\.snap$/;
const PARTIAL_MARK = '.snap.partial-';

function snapshotName(throughInstance: number): string {
  return `${String(throughInstance).padStart(16, '0')}.snap`;
}

function encodeHeader(meta: SnapshotMeta): Buffer {
  const header = Buffer.alloc(FIXED_HEADER_BYTES + meta.metadata.byteLength);
  MAGIC.copy(header, 0);
  header.writeUInt32LE(VERSION, 8);
  header.writeUInt32LE(header.byteLength, 12);
  header.writeUInt32LE(meta.throughInstance % U32, 16);
  header.writeUInt32LE(Math.floor(meta.throughInstance / U32), 20);
  header.writeUInt32LE(meta.payloadBytes % U32, 24);
  header.writeUInt32LE(Math.floor(meta.payloadBytes / U32), 28);
  hashToBytes(meta.payloadHash).copy(header, 32);
  header.writeUInt32LE(meta.metadata.byteLength, 64);
  header.set(meta.metadata, FIXED_HEADER_BYTES);
  header.writeUInt32LE(headerCrc(header), CRC_OFFSET);
  return header;
}

function headerCrc(header: Buffer): number {
  return crc32c(header.subarray(FIXED_HEADER_BYTES), crc32c(header.subarray(0, CRC_OFFSET)));
}

/** Reads and checks a snapshot's header. Throws CorruptFileError naming what failed. */
async function readHeader(file: StorageFile, path: string, config: SnapshotConfig): Promise<{ meta: SnapshotMeta; headerBytes: number }> {
  const fixed = await readFully(file, 0, FIXED_HEADER_BYTES);
  if (fixed.byteLength < FIXED_HEADER_BYTES) throw new CorruptFileError(path, 0, `snapshot header cut short: ${fixed.byteLength} of ${FIXED_HEADER_BYTES} bytes`);
  if (!fixed.subarray(0, 8).equals(MAGIC)) throw new CorruptFileError(path, 0, 'snapshot magic is not DSTSNAP1');
  const metadataBytes = fixed.readUInt32LE(64);
  if (metadataBytes > config.metadataBytesMax) throw new CorruptFileError(path, 64, `snapshot metadata of ${metadataBytes} bytes exceeds metadataBytesMax ${config.metadataBytesMax}`);
  const header = Buffer.concat([fixed, await readFully(file, FIXED_HEADER_BYTES, metadataBytes)]);
  if (header.byteLength !== FIXED_HEADER_BYTES + metadataBytes) throw new CorruptFileError(path, FIXED_HEADER_BYTES, 'snapshot metadata cut short');
  if (headerCrc(header) !== header.readUInt32LE(CRC_OFFSET)) throw new CorruptFileError(path, 0, 'snapshot header CRC32C mismatch');
  const version = header.readUInt32LE(8);
  if (version !== VERSION) throw new CorruptFileError(path, 8, `snapshot version ${version} is not supported (expected ${VERSION})`);
  const meta: SnapshotMeta = {
    throughInstance: header.readUInt32LE(20) * U32 + header.readUInt32LE(16),
    payloadBytes: header.readUInt32LE(28) * U32 + header.readUInt32LE(24),
    payloadHash: hashFromBytes(header.subarray(32, 32 + HASH_BYTES)),
    metadata: Uint8Array.from(header.subarray(FIXED_HEADER_BYTES)),
  };
  return { meta, headerBytes: header.byteLength };
}

/** A complete snapshot on disk. */
interface StoredSnapshot {
  readonly meta: SnapshotMeta;
  readonly path: string;
  readonly headerBytes: number;
}

/**
 * Receives a snapshot's payload in order and makes it visible only when it is whole and its
 * hash matches. Obtain from `SnapshotStore.beginInstall` or `SnapshotStore.beginWrite`.
 */
export class SnapshotWriter {
  private received = 0;
  private readonly hasher = new Hasher();
  private settled = false;

  /** @internal created by SnapshotStore */
  constructor(
    private readonly store: SnapshotStore,
    private readonly file: StorageFile,
    private readonly partialPath: string,
    private readonly throughInstance: number,
    private readonly metadata: Uint8Array,
    /** Size and hash the payload must have (install from a peer); undefined = computed (local write). */
    private readonly expected: { payloadBytes: number; payloadHash: Hash } | undefined,
    private readonly payloadBytesMax: number,
  ) {}

  /**
   * Appends the next piece of payload. `chunk.offset` must equal the bytes received so far.
   * Throws InvalidArgumentError (out of order), TooLargeError / CorruptError (more bytes than
   * announced), DiskFullError; on any throw the partial file is removed and this writer is
   * dead. `chunk.bytes` is not retained.
   */
  async write(chunk: SnapshotChunk): Promise<void> {
    this.checkLive();
    try {
      if (chunk.offset !== this.received) throw new InvalidArgumentError(`snapshot ${this.throughInstance}: chunk at offset ${chunk.offset}, expected ${this.received}`);
      const end = this.received + chunk.bytes.byteLength;
      if (this.expected !== undefined && end > this.expected.payloadBytes) {
        throw new CorruptError(`snapshot ${this.throughInstance}: ${end} bytes received, ${this.expected.payloadBytes} announced`);
      }
      if (end > this.payloadBytesMax) throw new TooLargeError(`snapshot ${this.throughInstance}: payload exceeds payloadBytesMax ${this.payloadBytesMax}`);
      this.hasher.update(chunk.bytes);
      await this.file.write(chunk.bytes, FIXED_HEADER_BYTES + this.metadata.byteLength + this.received);
      this.received = end;
    } catch (err) {
      throw await this.abortWith(err);
    }
  }

  /**
   * Checks size and hash, writes the header, syncs, renames into place and syncs the
   * directory. Resolves with the snapshot's meta once it is durable and visible. Throws
   * CorruptError (size or hash mismatch), DiskFullError, StorageFatalError (a sync failed).
   */
  async finish(): Promise<SnapshotMeta> {
    this.checkLive();
    try {
      const payloadHash = this.hasher.digest();
      const meta: SnapshotMeta = { throughInstance: this.throughInstance, payloadBytes: this.received, payloadHash, metadata: this.metadata };
      if (this.expected !== undefined) {
        if (this.received !== this.expected.payloadBytes) throw new CorruptError(`snapshot ${this.throughInstance}: ${this.received} bytes received, ${this.expected.payloadBytes} announced`);
        if (payloadHash !== this.expected.payloadHash) throw new CorruptError(`snapshot ${this.throughInstance}: payload BLAKE3 ${payloadHash}, announced ${this.expected.payloadHash}`);
      }
      const header = encodeHeader(meta);
      await this.file.write(header, 0);
      await this.file.datasync().catch((err: unknown) => {
        throw new StorageFatalError(`fdatasync of ${this.partialPath} failed: ${String(err)}`, { cause: err });
      });
      this.settled = true; // before close: abortWith must not close a second time
      await this.file.close();
      return await this.store.publish(this.partialPath, meta, header.byteLength);
    } catch (err) {
      throw await this.abortWith(err);
    }
  }

  /** Gives up: removes the partial file. Safe to call more than once. */
  async abort(): Promise<void> {
    if (this.settled) return;
    await this.abortWith(new ClosedError('aborted'));
  }

  private checkLive(): void {
    if (this.settled) throw new ClosedError(`snapshot ${this.throughInstance} writer is finished or aborted`);
  }

  private async abortWith(err: unknown): Promise<unknown> {
    if (!this.settled) {
      this.settled = true;
      await this.file.close().catch(() => undefined);
      await this.store.discard(this.partialPath);
    }
    if (isDiskFull(err)) return new DiskFullError(`disk full writing snapshot ${this.throughInstance}`, { cause: err });
    return err;
  }
}

export interface SnapshotStoreOptions {
  readonly fs: FileSystem;
  readonly dir: string;
  readonly config?: Partial<SnapshotConfig>;
}

export class SnapshotStore {
  // Invariant: `snapshots` ascends by throughInstance and lists exactly the complete files.
  private snapshots: StoredSnapshot[] = [];
  private partialCounter = 0;
  private maintenance: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
    private readonly config: SnapshotConfig,
  ) {}

  /**
   * Opens the snapshot directory: removes partial files, checks every snapshot's header.
   * Throws CorruptFileError for a damaged header (never skips to an older snapshot: the WAL
   * behind the newer one may be gone), InvalidArgumentError for a bad config.
   */
  static async open(options: SnapshotStoreOptions): Promise<SnapshotStore> {
    const store = new SnapshotStore(options.fs, options.dir, validateSnapshotConfig(options.config));
    await options.fs.mkdirp(options.dir);
    const names = await options.fs.readdir(options.dir);
    const partials = names.filter((n) => n.includes(PARTIAL_MARK));
    for (const name of partials) await options.fs.unlink(joinPath(options.dir, name));
    if (partials.length > 0) await options.fs.syncDir(options.dir);
    for (const name of names) {
      const match = NAME_PATTERN.exec(name);
      if (match === null) continue;
      const path = joinPath(options.dir, name);
      const file = await options.fs.open(path, 'read');
      try {
        const { meta, headerBytes } = await readHeader(file, path, store.config);
        if (meta.throughInstance !== Number(match[1])) throw new CorruptFileError(path, 16, `snapshot header says through ${meta.throughInstance}, its name says ${Number(match[1])}`);
        store.snapshots.push({ meta, path, headerBytes });
      } finally {
        await file.close();
      }
    }
    store.snapshots.sort((a, b) => a.meta.throughInstance - b.meta.throughInstance);
    return store;
  }

  /** The newest complete snapshot, or undefined. */
  latest(): SnapshotMeta | undefined {
    return this.snapshots[this.snapshots.length - 1]?.meta;
  }

  /** Every complete snapshot, oldest first. */
  list(): SnapshotMeta[] {
    return this.snapshots.map((s) => s.meta);
  }

  /** Starts writing a snapshot produced locally; size and hash are computed as it streams. */
  beginWrite(throughInstance: number, metadata: Uint8Array = new Uint8Array(0)): Promise<SnapshotWriter> {
    return this.begin(throughInstance, metadata, undefined);
  }

  /**
   * Starts installing a snapshot received from a peer, announced by `meta`; `finish` refuses
   * it unless exactly `meta.payloadBytes` arrive and hash to `meta.payloadHash`.
   */
  beginInstall(meta: SnapshotMeta): Promise<SnapshotWriter> {
    if (meta.payloadBytes > this.config.payloadBytesMax) {
      return Promise.reject(new TooLargeError(`snapshot ${meta.throughInstance} of ${meta.payloadBytes} bytes exceeds payloadBytesMax ${this.config.payloadBytesMax}`));
    }
    return this.begin(meta.throughInstance, meta.metadata, { payloadBytes: meta.payloadBytes, payloadHash: meta.payloadHash });
  }

  /** Writes a whole snapshot from `payload` (chunks in order); resolves once durable. */
  async write(throughInstance: number, payload: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, metadata?: Uint8Array): Promise<SnapshotMeta> {
    const writer = await this.beginWrite(throughInstance, metadata);
    let offset = 0;
    try {
      for await (const bytes of payload) {
        await writer.write({ offset, bytes });
        offset += bytes.byteLength;
      }
    } catch (err) {
      await writer.abort();
      throw err;
    }
    return writer.finish();
  }

  /**
   * Streams a snapshot's payload (the newest when `throughInstance` is absent) in chunks of
   * `config.chunkBytes`, each a new buffer the consumer owns. Re-hashes as it goes and throws
   * CorruptFileError after the last chunk if the bytes do not match; NotFoundError when there
   * is no such snapshot. For restoring locally and for sending to a peer alike.
   */
  async *read(throughInstance?: number): AsyncGenerator<SnapshotChunk, SnapshotMeta> {
    const stored = throughInstance === undefined ? this.snapshots[this.snapshots.length - 1] : this.snapshots.find((s) => s.meta.throughInstance === throughInstance);
    if (stored === undefined) throw new NotFoundError(`no snapshot${throughInstance === undefined ? '' : ` through ${throughInstance}`}`);
    const file = await this.fs.open(stored.path, 'read');
    try {
      const hasher = new Hasher();
      for (let offset = 0; offset < stored.meta.payloadBytes; ) {
        const want = Math.min(this.config.chunkBytes, stored.meta.payloadBytes - offset);
        const bytes = await readFully(file, stored.headerBytes + offset, want);
        if (bytes.byteLength !== want) throw new CorruptFileError(stored.path, stored.headerBytes + offset + bytes.byteLength, `snapshot payload cut short: ${offset + bytes.byteLength} of ${stored.meta.payloadBytes} bytes`);
        hasher.update(bytes);
        const last = offset + want === stored.meta.payloadBytes;
        if (last) checkHash(hasher.digest(), stored);
        yield { offset, bytes };
        offset += want;
      }
      if (stored.meta.payloadBytes === 0) checkHash(hasher.digest(), stored);
      return stored.meta;
    } finally {
      await file.close();
    }
  }

  /** @internal SnapshotWriter: rename into place, sync the directory, apply retention. */
  publish(partialPath: string, meta: SnapshotMeta, headerBytes: number): Promise<SnapshotMeta> {
    const run = this.maintenance.then(async () => {
      const path = joinPath(this.dir, snapshotName(meta.throughInstance));
      try {
        await this.fs.rename(partialPath, path);
        await this.fs.syncDir(this.dir);
      } catch (err) {
        if (isDiskFull(err)) throw new DiskFullError(`disk full publishing snapshot ${path}`, { cause: err });
        throw new StorageFatalError(`publishing snapshot ${path}: ${String(err)}`, { cause: err });
      }
      this.snapshots = this.snapshots.filter((s) => s.meta.throughInstance !== meta.throughInstance);
      this.snapshots.push({ meta, path, headerBytes });
      this.snapshots.sort((a, b) => a.meta.throughInstance - b.meta.throughInstance);
      await this.applyRetention();
      return meta;
    });
    this.maintenance = run.catch(() => undefined);
    return run;
  }

  /** @internal SnapshotWriter: best-effort removal of a partial file (open() retries it). */
  async discard(partialPath: string): Promise<void> {
    await this.fs.unlink(partialPath).catch(() => undefined);
  }

  private async begin(throughInstance: number, metadata: Uint8Array, expected: { payloadBytes: number; payloadHash: Hash } | undefined): Promise<SnapshotWriter> {
    if (!Number.isSafeInteger(throughInstance) || throughInstance < 1) throw new InvalidArgumentError(`snapshot throughInstance must be a positive safe integer, got ${throughInstance}`);
    if (metadata.byteLength > this.config.metadataBytesMax) throw new TooLargeError(`snapshot metadata of ${metadata.byteLength} bytes exceeds metadataBytesMax ${this.config.metadataBytesMax}`);
    const partialPath = joinPath(this.dir, `${snapshotName(throughInstance)}${PARTIAL_MARK.slice(5)}${++this.partialCounter}`);
    let file: StorageFile;
    try {
      file = await this.fs.open(partialPath, 'create');
    } catch (err) {
      if (isDiskFull(err)) throw new DiskFullError(`disk full creating ${partialPath}`, { cause: err });
      throw err;
    }
    return new SnapshotWriter(this, file, partialPath, throughInstance, Uint8Array.from(metadata), expected, this.config.payloadBytesMax);
  }

  private async applyRetention(): Promise<void> {
    const excess = this.snapshots.length - this.config.snapshotsRetained;
    if (excess <= 0) return;
    const doomed = this.snapshots.slice(0, excess);
    this.snapshots = this.snapshots.slice(excess);
    for (const s of doomed) await this.fs.unlink(s.path);
    await this.fs.syncDir(this.dir);
  }
}

function checkHash(actual: Hash, stored: StoredSnapshot): void {
  if (actual !== stored.meta.payloadHash) {
    throw new CorruptFileError(stored.path, stored.headerBytes, `snapshot payload BLAKE3 is ${actual}, header says ${stored.meta.payloadHash}: the file is damaged. `
      + 'For a replica in a cluster: stop it, move the data directory aside and start it on an empty one; it recovers from its peers (docs/operations.md, "Damaged storage"). For a single replica: restore the data directory from a backup');
  }
}
