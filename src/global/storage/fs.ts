// The narrow file-system interface the storage engine does all its I/O through, and its real
// implementation over node:fs. The twin for tests that injects crashes, torn writes, bit
// flips, ENOSPC and EIO is fault-fs.ts.
//
// Contract shared by every implementation:
// - Errors are Node-style: an Error with `code` ('ENOENT', 'EEXIST', 'ENOSPC', 'EIO', ...).
// - `open` refuses anything but a regular file (FIFO, socket, device, directory, symlink)
//   with NotRegularFileError naming it (the open never follows a symlink nor blocks on a FIFO).
// - Nothing is durable until `datasync` (file contents and size) or `syncDir` (names created,
//   renamed or removed in that directory) has resolved. A crash may keep any part of what
//   was written since, in any sector order.
// - Except on a file opened in a '-dsync' mode (O_DSYNC): there each `write` is durable,
//   contents and the file size they need, when it resolves, as if a `datasync` followed it.
//   While it is in flight, and after it rejected, any part of it may be on disk (durable or
//   not). Truncates are not covered: `datasync` after one.
// - `write` writes all of `bytes` or rejects; after a rejection an unknown part of it may
//   have been written (the caller truncates back if it wants to continue).
// - Buffers passed in are only read (write) or filled (read) until the promise settles;
//   the caller owns them before and after.
//
// Why callbacks rather than fs.promises: the callback API costs one request object per call;
// FileHandle adds a promise, a refcount and a close-on-GC tracker per call. Measured here
// (256-byte positional writes, one at a time, loaded machine): median 26k calls/s vs 22k. At
// 1 call per group commit it barely matters (bench/suites/storage.ts measures the whole path);
// a synchronous fast path was rejected because it would block the event loop for each fsync.

import fs from 'node:fs';
import { NotRegularFileError } from './errors.ts';

/** 'read': existing file, read only. 'write': existing file, read and write, not truncated.
 *  'create': a new file, read and write; rejects with EEXIST when the name exists.
 *  'write-dsync' / 'create-dsync': the same, opened with O_DSYNC, so each write is durable
 *  when it resolves (the file comment has the contract). Part of the mode, not an option,
 *  so a wrapper that passes the mode along cannot drop it. */
export type OpenMode = 'read' | 'write' | 'create' | 'write-dsync' | 'create-dsync';

export function isDsyncMode(mode: OpenMode): boolean {
  return mode === 'write-dsync' || mode === 'create-dsync';
}

export interface StorageFile {
  /** True when opened in a '-dsync' mode: a resolved `write` is durable. Callers that rely
   *  on it assert it, so a wrapper that opened the file some other way fails loudly. */
  readonly dsync: boolean;
  /** Writes all of `bytes` at `position`; on a dsync file, durable when it resolves. */
  write(bytes: Uint8Array, position: number): Promise<void>;
  /** Reads up to `length` bytes at `position` into `buffer[offset..]`; 0 means end of file. */
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  /** Makes the contents and size written so far durable (fdatasync). */
  datasync(): Promise<void>;
  truncate(lengthBytes: number): Promise<void>;
  sizeBytes(): Promise<number>;
  close(): Promise<void>;
}

export interface FileSystem {
  open(path: string, mode: OpenMode): Promise<StorageFile>;
  /** Creates `path` and its parents; durable before it resolves. */
  mkdirp(path: string): Promise<void>;
  /** Names in the directory, sorted. */
  readdir(path: string): Promise<string[]>;
  /** Atomically replaces `to` with `from` (both in the same directory). */
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** fsync of the directory: makes the creates, renames and unlinks in it durable. */
  syncDir(path: string): Promise<void>;
  /** Size in bytes, or undefined when nothing is at `path`. */
  sizeBytes(path: string): Promise<number | undefined>;
}

/** Files the engine creates hold values, blobs and the log: owner only. Existing files keep
 *  their mode (they still open); `chmod -R go= DIR` tightens a data dir made before. */
export const DATA_FILE_MODE = 0o600;
/** Directories the engine creates: owner only. */
export const DATA_DIR_MODE = 0o700;

const { O_RDONLY, O_RDWR, O_CREAT, O_EXCL } = fs.constants;
/** Undefined where the platform lacks it (Windows); NodeFile then syncs after each write. */
const O_DSYNC: number | undefined = fs.constants.O_DSYNC;
/** Against a FIFO or symlink swapped in between the type check and the open (no effect on
 *  regular files): the open fails or returns at once instead of following or blocking. */
const O_GUARD = (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0);
const OPEN_FLAGS: Record<OpenMode, number> = {
  read: O_RDONLY | O_GUARD,
  write: O_RDWR | O_GUARD,
  create: O_RDWR | O_CREAT | O_EXCL | O_GUARD,
  'write-dsync': O_RDWR | (O_DSYNC ?? 0) | O_GUARD,
  'create-dsync': O_RDWR | O_CREAT | O_EXCL | (O_DSYNC ?? 0) | O_GUARD,
};

/** What `st` is, in words, for NotRegularFileError. */
function kindOf(st: fs.Stats): string {
  return st.isFIFO() ? 'FIFO' : st.isSocket() ? 'socket' : st.isCharacterDevice() ? 'character device' : st.isBlockDevice() ? 'block device' : st.isDirectory() ? 'directory' : st.isSymbolicLink() ? 'symbolic link' : 'special file';
}

/**
 * Opens `path` and refuses anything but a regular file with NotRegularFileError. The open
 * itself is guarded (O_GUARD: it fails on a symlink and never blocks on a FIFO), and the type
 * is read from the open descriptor (fstat), so no check-then-open window is left and a
 * regular file costs one open and one fstat.
 */
async function openRegular(path: string, flags: number): Promise<number> {
  let fd: number;
  try {
    fd = await new Promise<number>((resolve, reject) => fs.open(path, flags, DATA_FILE_MODE, (err, opened) => (err !== null ? reject(err) : resolve(opened))));
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    // The guarded open's own refusals: what is there is not a regular file; name it.
    if (code === 'ELOOP' || code === 'EISDIR' || code === 'ENXIO' || code === 'ENODEV') throw new NotRegularFileError(path, kindOf(await fs.promises.lstat(path)));
    throw err;
  }
  let st: fs.Stats;
  try {
    st = await new Promise<fs.Stats>((resolve, reject) => fs.fstat(fd, (err, stats) => (err !== null ? reject(err) : resolve(stats))));
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  if (!st.isFile()) {
    fs.closeSync(fd);
    throw new NotRegularFileError(path, kindOf(st));
  }
  return fd;
}

class NodeFile implements StorageFile {
  private closed = false;
  /** Without O_DSYNC from the platform, a dsync file's write is write + fdatasync. */
  private readonly syncAfterWrite: boolean;

  constructor(
    private readonly fd: number,
    readonly dsync: boolean,
  ) {
    this.syncAfterWrite = dsync && O_DSYNC === undefined;
  }

  write(bytes: Uint8Array, position: number): Promise<void> {
    return new Promise((resolve, reject) => {
      let done = 0;
      const finish = (): void => {
        if (!this.syncAfterWrite) return resolve();
        fs.fdatasync(this.fd, (err) => (err !== null ? reject(err) : resolve()));
      };
      // With O_DSYNC each write(2) below is durable when it returns, short ones included.
      const step = (): void => {
        fs.write(this.fd, bytes, done, bytes.byteLength - done, position + done, (err, written) => {
          if (err !== null) return reject(err);
          done += written;
          if (done >= bytes.byteLength) return finish();
          step();
        });
      };
      if (bytes.byteLength === 0) resolve();
      else step();
    });
  }

  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return new Promise((resolve, reject) => {
      fs.read(this.fd, buffer, offset, length, position, (err, bytesRead) => (err !== null ? reject(err) : resolve(bytesRead)));
    });
  }

  datasync(): Promise<void> {
    return new Promise((resolve, reject) => fs.fdatasync(this.fd, (err) => (err !== null ? reject(err) : resolve())));
  }

  truncate(lengthBytes: number): Promise<void> {
    return new Promise((resolve, reject) => fs.ftruncate(this.fd, lengthBytes, (err) => (err !== null ? reject(err) : resolve())));
  }

  sizeBytes(): Promise<number> {
    return new Promise((resolve, reject) => fs.fstat(this.fd, (err, st) => (err !== null ? reject(err) : resolve(st.size))));
  }

  /** Idempotent: a second close must never reach close(2), whose fd number may be reused. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve, reject) => fs.close(this.fd, (err) => (err !== null && err !== undefined ? reject(err) : resolve())));
  }
}

/** The real file system. Stateless; one instance may serve every store. */
export class NodeFileSystem implements FileSystem {
  async open(path: string, mode: OpenMode): Promise<StorageFile> {
    return new NodeFile(await openRegular(path, OPEN_FLAGS[mode]), isDsyncMode(mode));
  }

  async mkdirp(path: string): Promise<void> {
    await fs.promises.mkdir(path, { recursive: true, mode: DATA_DIR_MODE });
    // Make the new directory's own entry durable too: sync it and its parent.
    await this.syncDir(path);
    await this.syncDir(parentOf(path));
  }

  async readdir(path: string): Promise<string[]> {
    return (await fs.promises.readdir(path)).sort();
  }

  rename(from: string, to: string): Promise<void> {
    return fs.promises.rename(from, to);
  }

  unlink(path: string): Promise<void> {
    return fs.promises.unlink(path);
  }

  async syncDir(path: string): Promise<void> {
    const handle = await fs.promises.open(path, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  async sizeBytes(path: string): Promise<number | undefined> {
    try {
      return (await fs.promises.stat(path)).size;
    } catch (err) {
      if ((err as { code?: unknown }).code === 'ENOENT') return undefined;
      throw err;
    }
  }
}

/** `dir/name` with exactly one slash; paths in the engine are always built with this. */
export function joinPath(dir: string, name: string): string {
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

/** The directory part of `path` ('/' for top-level names, '.' for bare names). */
export function parentOf(path: string): string {
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  const slash = trimmed.lastIndexOf('/');
  if (slash < 0) return '.';
  return slash === 0 ? '/' : trimmed.slice(0, slash);
}

/** Reads exactly `length` bytes at `position` into a new buffer, or fewer at end of file. */
export async function readFully(file: StorageFile, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const n = await file.read(buffer, done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done === length ? buffer : buffer.subarray(0, done);
}
