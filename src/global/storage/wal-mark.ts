// The consensus log's mark: a small file beside the WAL directory (`<data>/consensus.mark`)
// recording how far the log is known to reach, so that a log found shorter on start (a
// segment truncated, emptied or deleted, the whole directory gone) is noticed instead of
// trusted. Without it a shortened log is indistinguishable from one that never held more:
// a torn tail is cut silently, and a log with no records reads as a new replica.
//
// It is written rarely, never on the write path: on open, when the first hard state becomes
// durable, when the WAL moves to a new segment, before compaction removes segments, and on
// close. Each write is atomic (partial file, fdatasync, rename, directory fsync) and claims
// only what is already durable. So after a clean stop it holds the log's exact end; after a
// crash, records written since its last write are not covered (cutting them looks like a
// torn tail, the known limit in docs/storage.md).
//
// Format (36 bytes, little-endian): magic "DSTWMRK1" (8) | version u32 = 1 | flags u32 (bit 0:
// the log holds a hard state) | lsnFirst u64 (the log starts at or below it) | lsnEnd u64
// (every record below it is in the log) | crc32c u32 of [0, 32).

import { crc32c } from './crc32c.ts';
import { CorruptFileError, errnoCode } from './errors.ts';
import type { FileSystem } from './fs.ts';
import { parentOf, readFully } from './fs.ts';

export interface WalMark {
  /** The log's first segment starts at or below this LSN (compaction moves it up). */
  readonly lsnFirst: number;
  /** Every record below this LSN was durable in the log. */
  readonly lsnEnd: number;
  /** The log held a consensus hard state (so it can never again be empty). */
  readonly hardState: boolean;
}

const MAGIC = Buffer.from('DSTWMRK1', 'latin1');
const VERSION = 1;
const MARK_BYTES = 36;
const CRC_OFFSET = 32;
const FLAG_HARD_STATE = 1;

function encode(mark: WalMark): Buffer {
  const out = Buffer.alloc(MARK_BYTES);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(VERSION, 8);
  out.writeUInt32LE(mark.hardState ? FLAG_HARD_STATE : 0, 12);
  out.writeBigUInt64LE(BigInt(mark.lsnFirst), 16);
  out.writeBigUInt64LE(BigInt(mark.lsnEnd), 24);
  out.writeUInt32LE(crc32c(out.subarray(0, CRC_OFFSET)), CRC_OFFSET);
  return out;
}

/**
 * The mark at `path`, or undefined when there is none. Throws CorruptFileError when the file
 * is not a mark (a damaged mark cannot vouch for anything, and ignoring it would trust the
 * log it was there to check), NotRegularFileError, and file-system errors.
 */
export async function readWalMark(fs: FileSystem, path: string): Promise<WalMark | undefined> {
  let file;
  try {
    file = await fs.open(path, 'read');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const bytes = await readFully(file, 0, MARK_BYTES + 1);
    const problem = bytes.byteLength !== MARK_BYTES ? `${bytes.byteLength} bytes, a mark has ${MARK_BYTES}`
      : !bytes.subarray(0, 8).equals(MAGIC) ? 'magic is not DSTWMRK1'
      : crc32c(bytes.subarray(0, CRC_OFFSET)) !== bytes.readUInt32LE(CRC_OFFSET) ? 'CRC32C mismatch'
      : bytes.readUInt32LE(8) !== VERSION ? `version ${bytes.readUInt32LE(8)} is not supported (expected ${VERSION})`
      : undefined;
    if (problem !== undefined) {
      throw new CorruptFileError(path, 0, `consensus log mark: ${problem}; if the consensus log beside it is intact (or the replica has peers to recover from), delete this file and start again`);
    }
    const lsnFirst = Number(bytes.readBigUInt64LE(16));
    const lsnEnd = Number(bytes.readBigUInt64LE(24));
    if (!Number.isSafeInteger(lsnFirst) || !Number.isSafeInteger(lsnEnd)) throw new CorruptFileError(path, 16, 'consensus log mark: LSN out of range');
    return { lsnFirst, lsnEnd, hardState: (bytes.readUInt32LE(12) & FLAG_HARD_STATE) !== 0 };
  } finally {
    await file.close();
  }
}

/** Replaces the mark at `path` atomically and durably. Throws file-system errors. */
export async function writeWalMark(fs: FileSystem, path: string, mark: WalMark): Promise<void> {
  const partial = `${path}.partial`;
  await fs.unlink(partial).catch((err: unknown) => {
    if (errnoCode(err) !== 'ENOENT') throw err;
  });
  const file = await fs.open(partial, 'create');
  try {
    await file.write(encode(mark), 0);
    await file.datasync();
  } finally {
    await file.close();
  }
  await fs.rename(partial, path);
  await fs.syncDir(parentOf(path));
}
