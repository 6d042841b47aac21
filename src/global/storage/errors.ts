// Typed errors of the storage engine, built on the protocol vocabulary so
// callers above can still switch on `code`: a full disk is UNAVAILABLE (retryable: space may
// be freed, another replica may take the write), a failed fsync is INTERNAL (fatal here: the
// kernel may have dropped dirty pages, so nothing written since the last good sync is known
// to be safe), a bad record is CORRUPT and names where and what.

import { CorruptError, DstoreError } from '../../protocol/errors.ts';

/**
 * The disk is full (ENOSPC). Everything synced before stays intact and readable; the write
 * that failed was rolled back and may be retried once space is freed.
 */
export class DiskFullError extends DstoreError {
  override readonly name = 'DiskFullError';
  readonly code = 'UNAVAILABLE';
  readonly retryable = true;
}

/**
 * The storage engine can no longer make anything durable (fsync failed, or a rollback after
 * a failed write failed). The object that threw it rejects every later call; the process
 * should stop and recover from disk on restart. Never retried: after a failed fsync the
 * kernel may have marked dirty pages clean, so a retry could "succeed" without the data.
 */
export class StorageFatalError extends DstoreError {
  override readonly name = 'StorageFatalError';
  readonly code = 'INTERNAL';
  readonly retryable = false;
}

/**
 * A record, header or file that fails its checksum or structure, somewhere it cannot be a
 * torn write. Recovery stops on it: the message and fields name the file, the byte offset
 * and what failed. (Its `name` stays 'CorruptError': callers switch on the class or `code`.)
 */
export class CorruptFileError extends CorruptError {
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly what: string,
    options?: ErrorOptions,
  ) {
    super(`${file} at byte ${offset}: ${what}`, options);
  }
}

/**
 * Something other than a regular file (a FIFO, socket, device, directory or symbolic link)
 * where the engine expects one of its own files. Refused before it is opened: reading a FIFO
 * would block start-up forever, a device could be anything. The engine never makes such
 * things, so one in the data directory is foreign: the message names it.
 */
export class NotRegularFileError extends CorruptError {
  constructor(
    readonly file: string,
    readonly kind: string,
  ) {
    super(`${file} is a ${kind}, not a regular file: the storage engine only reads regular files it wrote itself; move it out of the data directory (and restore the file it replaced from a backup or a peer, see docs/operations.md "Damaged storage")`);
  }
}

/** The errno code of a file-system error (`ENOSPC`, `EIO`, ...), or undefined. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  const code = err.code;
  return typeof code === 'string' ? code : undefined;
}

export function isDiskFull(err: unknown): boolean {
  return errnoCode(err) === 'ENOSPC' || errnoCode(err) === 'EDQUOT';
}
