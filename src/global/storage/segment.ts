// WAL segment files: names and the fixed header.
//
// A segment is `<firstLsn, 16 decimal digits>.wal`: the LSN of its first record, so the
// segments of a log sort by name and each covers [its firstLsn, the next one's firstLsn). The
// header (32 bytes, little-endian) is written and synced, with the directory, before any
// record goes into the segment:
//
//   0   8  magic      "DSTWALSG"
//   8   4  version    1
//   12  4  headerBytes 32
//   16  8  firstLsn   equals the name
//   24  4  reserved   0
//   28  4  crc32c     of bytes [0, 28)

import { crc32c } from './crc32c.ts';

export const SEGMENT_HEADER_BYTES = 32;
export const SEGMENT_VERSION = 1;
const MAGIC = Buffer.from('DSTWALSG', 'latin1');
const NAME_PATTERN = /^(\d{16})\.wal$/;
const U32 = 0x1_0000_0000;

export function segmentName(firstLsn: number): string {
  return `${String(firstLsn).padStart(16, '0')}.wal`;
}

/** The firstLsn a segment file name stands for, or undefined if it is not a segment name. */
export function parseSegmentName(name: string): number | undefined {
  const match = NAME_PATTERN.exec(name);
  if (match === null) return undefined;
  const lsn = Number(match[1]);
  return Number.isSafeInteger(lsn) && lsn >= 1 ? lsn : undefined;
}

export function encodeSegmentHeader(firstLsn: number): Buffer {
  const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
  MAGIC.copy(header, 0);
  header.writeUInt32LE(SEGMENT_VERSION, 8);
  header.writeUInt32LE(SEGMENT_HEADER_BYTES, 12);
  header.writeUInt32LE(firstLsn % U32, 16);
  header.writeUInt32LE(Math.floor(firstLsn / U32), 20);
  header.writeUInt32LE(crc32c(header.subarray(0, 28)), 28);
  return header;
}

/** What is wrong with a segment header, or undefined when it is valid for `firstLsn`. */
export function checkSegmentHeader(header: Buffer, firstLsn: number): string | undefined {
  if (header.byteLength < SEGMENT_HEADER_BYTES) return `segment header is ${header.byteLength} of ${SEGMENT_HEADER_BYTES} bytes`;
  if (!header.subarray(0, 8).equals(MAGIC)) return 'segment header magic is not DSTWALSG';
  if (crc32c(header.subarray(0, 28)) !== header.readUInt32LE(28)) return 'segment header CRC32C mismatch';
  const version = header.readUInt32LE(8);
  if (version !== SEGMENT_VERSION) return `segment version ${version} is not supported (expected ${SEGMENT_VERSION})`;
  const headerLsn = header.readUInt32LE(20) * U32 + header.readUInt32LE(16);
  if (headerLsn !== firstLsn) return `segment header says firstLsn ${headerLsn}, its name says ${firstLsn}`;
  return undefined;
}
