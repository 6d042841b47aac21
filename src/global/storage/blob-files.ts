// Large blobs, one file each, named by hash: `<blobs>/large/<64 hex>.blob`.
//
// A blob is written to `<hash or "stream">.partial-<n>` (hashed as the bytes arrive when they
// stream in), fdatasynced, renamed to its hash's name and the directory fsynced; only then is
// it in the index. Stray partial files are deleted on open. A file's name is its claim, never
// trusted: every read re-hashes the bytes. A file that failed its hash is quarantined: renamed
// in place to `<hash>.corrupt-<suffix>` (a name the scan ignores), kept for the operator.

import { CorruptError, NotFoundError } from '../../protocol/errors.ts';
import { Hasher, isHash, verifyHash, type Hash } from '../../protocol/hash.ts';
import { DiskFullError, StorageFatalError, errnoCode, isDiskFull } from './errors.ts';
import type { FileSystem, StorageFile } from './fs.ts';
import { joinPath, readFully } from './fs.ts';

const SUFFIX = '.blob';
const PARTIAL_MARK = '.partial-';

/** A large blob being written: bytes go to a partial file until `publish` or `discard`. */
export interface PartialBlob {
  readonly path: string;
  readonly file: StorageFile;
  bytesWritten: number;
  closed: boolean;
}

export class BlobFiles {
  // Invariant: `sizes` lists exactly the published files (durable under their hash's name);
  // `bytesTotal` is their sum.
  private readonly sizes = new Map<Hash, number>();
  private bytesTotal = 0;
  private partialCounter = 0;

  private constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
  ) {}

  /** Scans `dir` (created if missing), deleting partial files. Throws file-system errors. */
  static async open(fs: FileSystem, dir: string): Promise<BlobFiles> {
    const files = new BlobFiles(fs, dir);
    await fs.mkdirp(dir);
    let removed = 0;
    for (const name of await fs.readdir(dir)) {
      const path = joinPath(dir, name);
      if (name.includes(PARTIAL_MARK)) {
        await fs.unlink(path);
        removed++;
        continue;
      }
      const hash = name.endsWith(SUFFIX) ? name.slice(0, -SUFFIX.length) : '';
      if (!isHash(hash)) continue;
      files.place(hash, (await fs.sizeBytes(path)) ?? 0);
    }
    if (removed > 0) await fs.syncDir(dir);
    return files;
  }

  has(hash: Hash): boolean {
    return this.sizes.has(hash);
  }

  hashes(): IterableIterator<Hash> {
    return this.sizes.keys();
  }

  sizeBytes(hash: Hash): number | undefined {
    return this.sizes.get(hash);
  }

  /** Bytes of every published blob. */
  totalBytes(): number {
    return this.bytesTotal;
  }

  private place(hash: Hash, size: number): void {
    this.bytesTotal += size - (this.sizes.get(hash) ?? 0);
    this.sizes.set(hash, size);
  }

  /** Starts a partial file. Throws DiskFullError or file-system errors. */
  async begin(label: string): Promise<PartialBlob> {
    const path = joinPath(this.dir, `${label}${PARTIAL_MARK}${++this.partialCounter}`);
    try {
      return { path, file: await this.fs.open(path, 'create'), bytesWritten: 0, closed: false };
    } catch (err) {
      throw diskFullOr(err, `creating ${path}`);
    }
  }

  /** Appends to a partial file. Throws DiskFullError or StorageFatalError; the caller discards. */
  async append(partial: PartialBlob, bytes: Uint8Array): Promise<void> {
    try {
      await partial.file.write(bytes, partial.bytesWritten);
    } catch (err) {
      throw diskFullOr(err, `writing ${partial.path}`);
    }
    partial.bytesWritten += bytes.byteLength;
  }

  /**
   * Makes the partial file the blob `hash`: datasync, close, rename, directory fsync. The
   * caller has checked the bytes hash to `hash` and holds the hash's lock. Throws
   * DiskFullError or StorageFatalError (a sync failed); the caller then discards.
   */
  async publish(partial: PartialBlob, hash: Hash): Promise<void> {
    const path = joinPath(this.dir, `${hash}${SUFFIX}`);
    try {
      await partial.file.datasync();
      partial.closed = true;
      await partial.file.close();
      await this.fs.rename(partial.path, path);
      await this.fs.syncDir(this.dir);
    } catch (err) {
      throw diskFullOr(err, `publishing ${path}`);
    }
    this.place(hash, partial.bytesWritten);
  }

  /** Best-effort removal of a partial file (open() removes leftovers). */
  async discard(partial: PartialBlob): Promise<void> {
    if (!partial.closed) {
      partial.closed = true;
      await partial.file.close().catch(() => undefined);
    }
    await this.fs.unlink(partial.path).catch(() => undefined);
  }

  /** Opens a blob file; NotFoundError when it was removed meanwhile (GC). */
  private async openForRead(hash: Hash, path: string): Promise<StorageFile> {
    try {
      return await this.fs.open(path, 'read');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw new NotFoundError(`blob ${hash} not found (removed)`);
      throw err;
    }
  }

  /** The blob's bytes, verified against `hash`. Throws NotFoundError, CorruptError. */
  async get(hash: Hash): Promise<Buffer> {
    const expected = this.sizes.get(hash);
    if (expected === undefined) throw new NotFoundError(`blob ${hash} not found`);
    const path = joinPath(this.dir, `${hash}${SUFFIX}`);
    const file = await this.openForRead(hash, path);
    try {
      const sizeBytes = await file.sizeBytes();
      const bytes = await readFully(file, 0, sizeBytes);
      verifyHash(bytes, hash, `blob file ${path}`);
      return bytes;
    } finally {
      await file.close();
    }
  }

  /**
   * The blob's bytes in pieces of `chunkBytes` (new buffers the consumer owns), re-hashed as
   * they are read; the last piece is withheld and CorruptError thrown instead when the bytes
   * do not match. Throws NotFoundError.
   */
  async *read(hash: Hash, chunkBytes: number): AsyncGenerator<Buffer> {
    if (!this.sizes.has(hash)) throw new NotFoundError(`blob ${hash} not found`);
    const path = joinPath(this.dir, `${hash}${SUFFIX}`);
    const file = await this.openForRead(hash, path);
    try {
      const sizeBytes = await file.sizeBytes();
      const hasher = new Hasher();
      let offset = 0;
      do {
        const bytes = await readFully(file, offset, Math.min(chunkBytes, sizeBytes - offset));
        hasher.update(bytes);
        offset += bytes.byteLength;
        if (offset >= sizeBytes || bytes.byteLength === 0) {
          const actual = hasher.digest();
          if (actual !== hash) throw new CorruptError(`blob file ${path}: content hash mismatch: expected ${hash}, got ${actual} (${offset} bytes)`);
          yield bytes;
          return;
        }
        yield bytes;
      } while (offset < sizeBytes);
    } finally {
      await file.close();
    }
  }

  /**
   * Deletes the blob's file (the caller holds the hash's lock). The directory sync comes from
   * `syncDir`, once per collection. Returns the size removed, or undefined.
   */
  async remove(hash: Hash): Promise<number | undefined> {
    const size = this.sizes.get(hash);
    if (size === undefined) return undefined;
    this.sizes.delete(hash);
    this.bytesTotal -= size;
    await this.fs.unlink(joinPath(this.dir, `${hash}${SUFFIX}`)).catch((err: unknown) => {
      if (errnoCode(err) !== 'ENOENT') throw err;
    });
    return size;
  }

  /**
   * Takes a blob that failed its hash out of the index and renames its file to
   * `<hash>.corrupt-<suffix>` (then syncs the directory); returns that path, or undefined when
   * the blob is not held. The caller holds the hash's lock. Throws file-system errors.
   */
  async quarantine(hash: Hash, suffix: string): Promise<string | undefined> {
    const size = this.sizes.get(hash);
    if (size === undefined) return undefined;
    this.sizes.delete(hash);
    this.bytesTotal -= size;
    const to = joinPath(this.dir, `${hash}.corrupt-${suffix}`);
    await this.fs.rename(joinPath(this.dir, `${hash}${SUFFIX}`), to);
    await this.fs.syncDir(this.dir);
    return to;
  }

  async syncDir(): Promise<void> {
    await this.fs.syncDir(this.dir);
  }
}

function diskFullOr(err: unknown, what: string): Error {
  if (isDiskFull(err)) return new DiskFullError(`disk full ${what}`, { cause: err });
  if (err instanceof Error && errnoCode(err) === undefined) return err;
  return new StorageFatalError(`${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}
