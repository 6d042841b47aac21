// Reads a WAL directory back on start: every intact record in LSN order, a torn tail cut off,
// corruption anywhere else refused with a CorruptFileError naming file, offset and problem.
//
// Why a bad record can be told apart from a torn tail: the WAL writes one batch at a time,
// each with one O_DSYNC write that is durable when it returns, and issues the next write only
// after the previous one returned (wal.ts); after an ENOSPC it syncs the cut before writing
// again. So after a crash at most one write is incomplete, it is the last bytes of the last
// segment, and it began with a record flagged BATCH_FIRST. A bad record at offset X of the
// last segment is therefore a torn tail exactly when no intact BATCH_FIRST record (a later
// write) starts after X; intact records of the torn write itself may follow X (sectors
// persist in any order) and are dropped with it. Every other bad record is corruption of
// synced data.
//
// What this cannot tell: a bit flip inside the very last synced write, with nothing written
// after it, looks exactly like a torn write and is truncated. `tailCutLsn` says where a cut
// began, so the owner can judge it: the consensus log's mark tells a cut into records it knows
// were durable (a loss), and a replica with peers recovers after any other cut
// (stable-store.ts, docs/storage.md).

import { CorruptFileError } from './errors.ts';
import type { FileSystem, StorageFile } from './fs.ts';
import { joinPath, readFully } from './fs.ts';
import {
  RECORD_FLAG_BATCH_FIRST,
  RECORD_HEADER_BYTES,
  checkHead,
  crcMatches,
  readLsn,
  readPayloadBytes,
} from './record-codec.ts';
import { SEGMENT_HEADER_BYTES, checkSegmentHeader, parseSegmentName } from './segment.ts';

export interface SegmentInfo {
  readonly firstLsn: number;
  readonly path: string;
  /** Bytes in the segment; for the last one, where the next write goes. */
  sizeBytes: number;
}

/** Called once per intact record, in LSN order. `payload` is a view valid during the call only. */
export type RecordVisitor = (type: number, payload: Buffer, lsn: number, segmentFirstLsn: number, offset: number) => void;

export interface RecoveredLog {
  /** Ascending by firstLsn; empty when the directory holds no segment. */
  readonly segments: SegmentInfo[];
  /** LSN the next appended record gets. */
  readonly nextLsn: number;
  /** What recovery repaired (torn tail cut, half-created segment removed), for the log. */
  readonly repairs: string[];
  /** The LSN of the first record a torn-tail cut removed; undefined when nothing was cut. */
  readonly tailCutLsn: number | undefined;
}

export interface RecoveryOptions {
  readonly recordBytesMax: number;
  readonly readChunkBytes: number;
}

interface ScanResult {
  /** Offset just past the last intact record. */
  endOffset: number;
  nextLsn: number;
  sizeBytes: number;
  /** The first bad record, when the scan stopped before the end of the file. */
  problem?: string;
}

/**
 * Recovers the log in `dir` (which must exist), calling `visit` for each intact record.
 * Repairs a torn tail in place (truncate + datasync) and removes a last segment whose header
 * never became durable (unlink + directory sync).
 * Throws CorruptFileError for corruption that is not a torn tail, and the file system's
 * errors as they come.
 */
export async function recoverLog(fs: FileSystem, dir: string, options: RecoveryOptions, visit: RecordVisitor): Promise<RecoveredLog> {
  const names = await fs.readdir(dir);
  const firstLsns = names.map(parseSegmentName).filter((lsn): lsn is number => lsn !== undefined).sort((a, b) => a - b);
  const segments: SegmentInfo[] = [];
  const repairs: string[] = [];
  let nextLsn = firstLsns[0] ?? 1;
  let tailCutLsn: number | undefined;
  for (let i = 0; i < firstLsns.length; i++) {
    const firstLsn = firstLsns[i]!;
    const path = joinPath(dir, segmentNameOf(names, firstLsn));
    const isLast = i === firstLsns.length - 1;
    if (firstLsn !== nextLsn) {
      throw new CorruptFileError(path, 0, `segment starts at LSN ${firstLsn} but the previous one ends before LSN ${nextLsn} (a segment is missing or misnamed)`);
    }
    const file = await fs.open(path, isLast ? 'write' : 'read');
    // Closed exactly once: closing a file descriptor twice could close a reused one.
    let open = true;
    try {
      const headerProblem = checkSegmentHeader(await readFully(file, 0, SEGMENT_HEADER_BYTES), firstLsn);
      if (headerProblem !== undefined) {
        if (!isLast || (await recordFollowsHeader(file, firstLsn, options))) throw new CorruptFileError(path, 0, headerProblem);
        open = false;
        await file.close();
        await fs.unlink(path);
        await fs.syncDir(dir);
        repairs.push(`${path}: removed a segment whose header never became durable (${headerProblem})`);
        break;
      }
      const scan = await scanSegment(file, firstLsn, options, visit);
      if (scan.problem !== undefined) {
        if (!isLast) throw new CorruptFileError(path, scan.endOffset, scan.problem);
        const laterWrite = await findLaterWrite(file, scan.endOffset, scan.sizeBytes, scan.nextLsn - 1, options);
        if (laterWrite !== undefined) {
          throw new CorruptFileError(path, scan.endOffset, `${scan.problem}; an intact later write starts at byte ${laterWrite}, so this is not a torn tail`);
        }
        await file.truncate(scan.endOffset);
        await file.datasync();
        tailCutLsn = scan.nextLsn;
        repairs.push(`${path}: cut a torn tail of ${scan.sizeBytes - scan.endOffset} bytes at byte ${scan.endOffset} (${scan.problem})`);
      }
      segments.push({ firstLsn, path, sizeBytes: scan.endOffset });
      nextLsn = scan.nextLsn;
    } finally {
      if (open) await file.close().catch(() => undefined);
    }
  }
  return { segments, nextLsn, repairs, tailCutLsn };
}

function segmentNameOf(names: readonly string[], firstLsn: number): string {
  const name = names.find((n) => parseSegmentName(n) === firstLsn);
  if (name === undefined) throw new Error(`segment for LSN ${firstLsn} vanished from the listing`);
  return name;
}

/** Reads records from just past the header; stops at the end or at the first bad record. */
async function scanSegment(file: StorageFile, firstLsn: number, options: RecoveryOptions, visit: RecordVisitor): Promise<ScanResult> {
  const sizeBytes = await file.sizeBytes();
  let buffer = Buffer.allocUnsafe(Math.max(options.readChunkBytes, RECORD_HEADER_BYTES));
  let bufferStart = SEGMENT_HEADER_BYTES; // file offset of buffer[0]
  let bufferEnd = 0; // valid bytes in buffer
  let position = SEGMENT_HEADER_BYTES;
  let lsn = firstLsn;

  // Makes [position, position + needed) available in the buffer when the file has it.
  const ensure = async (needed: number): Promise<boolean> => {
    const have = bufferStart + bufferEnd - position;
    if (have >= needed) return true;
    if (position + needed > sizeBytes) return false;
    const keep = buffer.subarray(position - bufferStart, bufferEnd);
    if (needed > buffer.byteLength) {
      const bigger = Buffer.allocUnsafe(Math.max(needed, buffer.byteLength * 2));
      keep.copy(bigger, 0);
      buffer = bigger;
    } else {
      keep.copy(buffer, 0);
    }
    bufferStart = position;
    bufferEnd = keep.byteLength;
    const want = Math.min(buffer.byteLength - bufferEnd, sizeBytes - (bufferStart + bufferEnd));
    const read = await readInto(file, buffer, bufferEnd, want, bufferStart + bufferEnd);
    bufferEnd += read;
    return bufferStart + bufferEnd - position >= needed;
  };

  for (;;) {
    if (position === sizeBytes) return { endOffset: position, nextLsn: lsn, sizeBytes };
    if (!(await ensure(RECORD_HEADER_BYTES))) {
      return { endOffset: position, nextLsn: lsn, sizeBytes, problem: `record header cut short: ${sizeBytes - position} of ${RECORD_HEADER_BYTES} bytes` };
    }
    let at = position - bufferStart;
    const headProblem = checkHead(buffer, at, options.recordBytesMax);
    if (headProblem !== undefined) return { endOffset: position, nextLsn: lsn, sizeBytes, problem: headProblem };
    const recordLsn = readLsn(buffer, at);
    if (recordLsn !== lsn) return { endOffset: position, nextLsn: lsn, sizeBytes, problem: `record has LSN ${recordLsn}, expected ${lsn}` };
    const frameBytes = RECORD_HEADER_BYTES + readPayloadBytes(buffer, at);
    if (!(await ensure(frameBytes))) {
      return { endOffset: position, nextLsn: lsn, sizeBytes, problem: `record cut short: ${sizeBytes - position} of ${frameBytes} bytes` };
    }
    at = position - bufferStart;
    if (!crcMatches(buffer, at)) return { endOffset: position, nextLsn: lsn, sizeBytes, problem: `record LSN ${lsn}: CRC32C mismatch` };
    visit(buffer[at + 8]!, buffer.subarray(at + RECORD_HEADER_BYTES, at + frameBytes), lsn, firstLsn, position);
    position += frameBytes;
    lsn++;
  }
}

async function readInto(file: StorageFile, buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
  let done = 0;
  while (done < length) {
    const n = await file.read(buffer, offset + done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/**
 * The offset of an intact record flagged BATCH_FIRST with an LSN above `lastGoodLsn`
 * somewhere after `badOffset`, i.e. a write that began after the bad one was synced; or
 * undefined. Checks every byte offset (cheap fields first, CRC last): only runs on the rare
 * bad tail, over at most the rest of one segment.
 */
async function findLaterWrite(file: StorageFile, badOffset: number, sizeBytes: number, lastGoodLsn: number, options: RecoveryOptions): Promise<number | undefined> {
  const tail = await readFully(file, badOffset, sizeBytes - badOffset);
  const lsnMax = lastGoodLsn + Math.floor(tail.byteLength / RECORD_HEADER_BYTES) + 1;
  for (let at = 1; at + RECORD_HEADER_BYTES <= tail.byteLength; at++) {
    if (tail[at + 9] !== RECORD_FLAG_BATCH_FIRST || tail[at + 8] === 0) continue;
    if (checkHead(tail, at, options.recordBytesMax) !== undefined) continue;
    const lsn = readLsn(tail, at);
    if (lsn <= lastGoodLsn || lsn > lsnMax) continue;
    if (at + RECORD_HEADER_BYTES + readPayloadBytes(tail, at) > tail.byteLength) continue;
    if (crcMatches(tail, at)) return badOffset + at;
  }
  return undefined;
}

/** Whether an intact first record sits right after a bad segment header (so it is not torn). */
async function recordFollowsHeader(file: StorageFile, firstLsn: number, options: RecoveryOptions): Promise<boolean> {
  const sizeBytes = await file.sizeBytes();
  if (sizeBytes < SEGMENT_HEADER_BYTES + RECORD_HEADER_BYTES) return false;
  const head = await readFully(file, SEGMENT_HEADER_BYTES, RECORD_HEADER_BYTES);
  if (checkHead(head, 0, options.recordBytesMax) !== undefined || readLsn(head, 0) !== firstLsn) return false;
  const frameBytes = RECORD_HEADER_BYTES + readPayloadBytes(head, 0);
  if (SEGMENT_HEADER_BYTES + frameBytes > sizeBytes) return false;
  return crcMatches(await readFully(file, SEGMENT_HEADER_BYTES, frameBytes), 0);
}
