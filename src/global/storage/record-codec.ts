// The frame of one WAL record (little-endian; docs/storage.md has the diagram):
//
//   offset  size  field
//   0       4     crc32c    CRC32C of bytes [4, 20 + length): the rest of the header and the payload
//   4       4     length    payload bytes
//   8       1     type      1..255, owned by the log's user; 0 never occurs (zeros never parse)
//   9       1     flags     bit 0 BATCH_FIRST: first record of a group-commit write
//   10      2     reserved  0
//   12      8     lsn       log sequence number: +1 per record across segments, from 1
//   20      n     payload
//
// Why each field: the CRC catches torn and flipped bytes; the LSN makes stale or misplaced
// bytes (a torn write's leftovers, a segment out of order) fail even when their CRC is intact;
// BATCH_FIRST lets recovery tell a torn last write (nothing intact after it but its own
// records) from corruption in the middle (an intact later write follows), see recovery.ts.

import { crc32c } from './crc32c.ts';

export const RECORD_HEADER_BYTES = 20;
export const RECORD_FLAG_BATCH_FIRST = 1;
export const RECORD_TYPE_MIN = 1;
export const RECORD_TYPE_MAX = 255;
const U32 = 0x1_0000_0000;

/** Writes the header fields known at append time; lsn, flags and crc come at `sealRecord`. */
export function writeRecordHead(target: Buffer, offset: number, type: number, payloadBytes: number): void {
  target.writeUInt32LE(payloadBytes, offset + 4);
  target[offset + 8] = type;
  target[offset + 9] = 0;
  target.writeUInt16LE(0, offset + 10);
}

/**
 * Completes the record at `offset` (head written, payload in place): sets its lsn and flags
 * and computes its CRC. Returns the offset just past the record.
 */
export function sealRecord(target: Buffer, offset: number, lsn: number, flags: number): number {
  const payloadBytes = target.readUInt32LE(offset + 4);
  target[offset + 9] = flags;
  target.writeUInt32LE(lsn % U32, offset + 12);
  target.writeUInt32LE(Math.floor(lsn / U32), offset + 16);
  const end = offset + RECORD_HEADER_BYTES + payloadBytes;
  target.writeUInt32LE(crc32c(target.subarray(offset + 4, end)), offset);
  return end;
}

/** A record read back; `payload` is a view into the caller's buffer. */
export interface DecodedRecord {
  type: number;
  flags: number;
  lsn: number;
  payloadBytes: number;
  /** Total bytes of the frame, header included. */
  frameBytes: number;
}

/** Why a frame does not parse, for the error message; undefined when it does. */
export type FrameProblem = string;

/**
 * Checks the header fields that need no CRC (cheap, done first): type, reserved bits, length
 * bound. Returns the problem or undefined. `available` is how many bytes follow `offset`.
 */
export function checkHead(bytes: Buffer, offset: number, recordBytesMax: number): FrameProblem | undefined {
  const type = bytes[offset + 8]!;
  if (type < RECORD_TYPE_MIN) return `record type ${type} is not valid`;
  if ((bytes[offset + 9]! & ~RECORD_FLAG_BATCH_FIRST) !== 0 || bytes.readUInt16LE(offset + 10) !== 0) return 'reserved header bits are not zero';
  const length = bytes.readUInt32LE(offset + 4);
  if (length > recordBytesMax) return `record length ${length} exceeds recordBytesMax ${recordBytesMax}`;
  return undefined;
}

export function readLsn(bytes: Buffer, offset: number): number {
  return bytes.readUInt32LE(offset + 16) * U32 + bytes.readUInt32LE(offset + 12);
}

export function readPayloadBytes(bytes: Buffer, offset: number): number {
  return bytes.readUInt32LE(offset + 4);
}

/** True when the CRC of the whole frame at `offset` (which must be in `bytes`) matches. */
export function crcMatches(bytes: Buffer, offset: number): boolean {
  const end = offset + RECORD_HEADER_BYTES + bytes.readUInt32LE(offset + 4);
  return crc32c(bytes.subarray(offset + 4, end)) === bytes.readUInt32LE(offset);
}

/** Fills `out` from a header already checked with `checkHead` and `crcMatches`. */
export function decodeHead(bytes: Buffer, offset: number, out: DecodedRecord): DecodedRecord {
  out.type = bytes[offset + 8]!;
  out.flags = bytes[offset + 9]!;
  out.lsn = readLsn(bytes, offset);
  out.payloadBytes = bytes.readUInt32LE(offset + 4);
  out.frameBytes = RECORD_HEADER_BYTES + out.payloadBytes;
  return out;
}

/** Frame bytes for a payload of `payloadBytes`. */
export function frameBytesFor(payloadBytes: number): number {
  return RECORD_HEADER_BYTES + payloadBytes;
}
