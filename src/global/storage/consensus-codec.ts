// Byte encodings of the consensus state the stable store writes to the WAL (little-endian;
// integers are safe integers written as two u32 halves; docs/storage.md has the layouts):
//
//   Ready payload       u8 flags (bit 0: has hard state, bit 1: it is recovering, bit 2: has
//                       stamps) | [HardState] | [Stamps] | u32 entryCount | LogEntry*
//   Checkpoint payload  u64 snapshotThrough | HardState | [u8 flags (bit 0: recovering, bit 1:
//                       has stamps) | [Stamps]]
//   HardState           u64 promised.round | u32 promised.replicaId | u64 decidedThrough
//   Stamps              u64 incarnation | u64 voteSeq | u32 seenCount |
//                       (u32 replicaId | u64 incarnation | u64 voteSeq)*
// HardState.recovering travels in a flags bit, so records written before it existed (no bit
// 1, no checkpoint flags byte) read back as not recovering, which is what they were. The vote
// stamps (HardState.stamp, stampsSeen) are optional the same way: records written before them
// read back without, which the core takes as incarnation 0, vote 0, nothing seen.
//   LogEntry            u64 instance | u64 ballot.round | u32 ballot.replicaId | u8 decided |
//                       u8 kind (0 noop, 1 commands) | [u32 count | (u32 length | bytes)*]
//
// Decoding checks every length against the bytes present and throws a plain Error naming the
// field; the caller (which knows the file and offset) wraps it in a CorruptFileError. A
// record's CRC has already passed by then, so a failure here means a bug or a format change,
// not a torn write.

import type { Ballot, HardState, LogEntry, SeenStamp, Value } from '../../consensus/types.ts';

const U32 = 0x1_0000_0000;
const HARD_STATE_BYTES = 20;
const ENTRY_FIXED_BYTES = 22;
const READY_FLAG_HAS_HARD_STATE = 1;
const READY_FLAG_RECOVERING = 2;
const READY_FLAG_HAS_STAMPS = 4;
const CHECKPOINT_FLAG_RECOVERING = 1;
const CHECKPOINT_FLAG_HAS_STAMPS = 2;
const STAMP_BYTES = 16;
const SEEN_STAMP_BYTES = 20;

export interface ReadyRecord {
  readonly hardState?: HardState;
  readonly entries: readonly LogEntry[];
}

export interface CheckpointRecord {
  readonly snapshotThrough: number;
  readonly hardState: HardState;
}

function writeU64(target: Buffer, offset: number, value: number): void {
  target.writeUInt32LE(value % U32, offset);
  target.writeUInt32LE(Math.floor(value / U32), offset + 4);
}

function entryBytes(entry: LogEntry): number {
  let bytes = ENTRY_FIXED_BYTES;
  if (entry.value.kind === 'commands') {
    bytes += 4;
    for (const command of entry.value.commands) bytes += 4 + command.byteLength;
  }
  return bytes;
}

function writeHardState(target: Buffer, offset: number, state: HardState): number {
  writeU64(target, offset, state.promised.round);
  target.writeUInt32LE(state.promised.replicaId, offset + 8);
  writeU64(target, offset + 12, state.decidedThrough);
  return offset + HARD_STATE_BYTES;
}

function hasStamps(state: HardState): boolean {
  return state.stamp !== undefined || state.stampsSeen !== undefined;
}

function stampsBytes(state: HardState): number {
  return hasStamps(state) ? STAMP_BYTES + 4 + SEEN_STAMP_BYTES * (state.stampsSeen?.length ?? 0) : 0;
}

function writeStamps(target: Buffer, offset: number, state: HardState): number {
  writeU64(target, offset, state.stamp?.incarnation ?? 0);
  writeU64(target, offset + 8, state.stamp?.voteSeq ?? 0);
  const seen = state.stampsSeen ?? [];
  target.writeUInt32LE(seen.length, offset + 16);
  let at = offset + 20;
  for (const s of seen) {
    target.writeUInt32LE(s.replicaId, at);
    writeU64(target, at + 4, s.incarnation);
    writeU64(target, at + 12, s.voteSeq);
    at += SEEN_STAMP_BYTES;
  }
  return at;
}

function writeEntry(target: Buffer, offset: number, entry: LogEntry): number {
  writeU64(target, offset, entry.instance);
  writeU64(target, offset + 8, entry.ballot.round);
  target.writeUInt32LE(entry.ballot.replicaId, offset + 16);
  target[offset + 20] = entry.decided ? 1 : 0;
  let at = offset + ENTRY_FIXED_BYTES;
  if (entry.value.kind === 'noop') {
    target[offset + 21] = 0;
    return at;
  }
  target[offset + 21] = 1;
  target.writeUInt32LE(entry.value.commands.length, at);
  at += 4;
  for (const command of entry.value.commands) {
    target.writeUInt32LE(command.byteLength, at);
    target.set(command, at + 4);
    at += 4 + command.byteLength;
  }
  return at;
}

/** Encodes a Ready update into a new Buffer the caller owns. */
export function encodeReady(record: ReadyRecord): Buffer {
  const hardState = record.hardState;
  let bytes = 1 + 4 + (hardState === undefined ? 0 : HARD_STATE_BYTES + stampsBytes(hardState));
  for (const entry of record.entries) bytes += entryBytes(entry);
  const out = Buffer.allocUnsafe(bytes);
  out[0] = hardState === undefined
    ? 0
    : READY_FLAG_HAS_HARD_STATE | (hardState.recovering ? READY_FLAG_RECOVERING : 0) | (hasStamps(hardState) ? READY_FLAG_HAS_STAMPS : 0);
  let at = 1;
  if (hardState !== undefined) {
    at = writeHardState(out, at, hardState);
    if (hasStamps(hardState)) at = writeStamps(out, at, hardState);
  }
  out.writeUInt32LE(record.entries.length, at);
  at += 4;
  for (const entry of record.entries) at = writeEntry(out, at, entry);
  if (at !== bytes) throw new Error(`encodeReady: wrote ${at} of ${bytes} bytes`);
  return out;
}

export function encodeCheckpoint(record: CheckpointRecord): Buffer {
  const state = record.hardState;
  const out = Buffer.allocUnsafe(8 + HARD_STATE_BYTES + 1 + stampsBytes(state));
  writeU64(out, 0, record.snapshotThrough);
  const at = writeHardState(out, 8, state);
  out[at] = (state.recovering ? CHECKPOINT_FLAG_RECOVERING : 0) | (hasStamps(state) ? CHECKPOINT_FLAG_HAS_STAMPS : 0);
  if (hasStamps(state)) writeStamps(out, at + 1, state);
  return out;
}

/** Sequential reader that checks every length against the bytes left. */
class Reader {
  private at = 0;
  constructor(private readonly bytes: Buffer) {}

  need(count: number, what: string): void {
    if (this.at + count > this.bytes.byteLength) {
      throw new Error(`${what}: needs ${count} bytes at byte ${this.at}, record has ${this.bytes.byteLength}`);
    }
  }

  u8(what: string): number {
    this.need(1, what);
    return this.bytes[this.at++]!;
  }

  u32(what: string): number {
    this.need(4, what);
    const value = this.bytes.readUInt32LE(this.at);
    this.at += 4;
    return value;
  }

  u64(what: string): number {
    this.need(8, what);
    const value = this.bytes.readUInt32LE(this.at + 4) * U32 + this.bytes.readUInt32LE(this.at);
    this.at += 8;
    if (!Number.isSafeInteger(value)) throw new Error(`${what}: ${value} is not a safe integer`);
    return value;
  }

  /** Copies: the record buffer is reused once the visitor returns. */
  copy(count: number, what: string): Uint8Array {
    this.need(count, what);
    const out = new Uint8Array(count);
    out.set(this.bytes.subarray(this.at, this.at + count));
    this.at += count;
    return out;
  }

  get atEnd(): boolean {
    return this.at === this.bytes.byteLength;
  }

  end(what: string): void {
    if (this.at !== this.bytes.byteLength) throw new Error(`${what}: ${this.bytes.byteLength - this.at} bytes left over`);
  }
}

function readBallot(reader: Reader, what: string): Ballot {
  const round = reader.u64(`${what}.round`);
  return { round, replicaId: reader.u32(`${what}.replicaId`) };
}

function readHardState(reader: Reader, recovering: boolean): HardState {
  const promised = readBallot(reader, 'hardState.promised');
  return { promised, decidedThrough: reader.u64('hardState.decidedThrough'), recovering };
}

/** The hard state with the stamps that follow it in the record. */
function readStamps(reader: Reader, state: HardState): HardState {
  const stamp = { incarnation: reader.u64('stamp.incarnation'), voteSeq: reader.u64('stamp.voteSeq') };
  const count = reader.u32('stampsSeen.count');
  reader.need(count * SEEN_STAMP_BYTES, 'stampsSeen');
  const stampsSeen: SeenStamp[] = [];
  for (let i = 0; i < count; i++) {
    stampsSeen.push({ replicaId: reader.u32('seen.replicaId'), incarnation: reader.u64('seen.incarnation'), voteSeq: reader.u64('seen.voteSeq') });
  }
  return { ...state, stamp, stampsSeen };
}

function readValue(reader: Reader, kind: number): Value {
  if (kind === 0) return { kind: 'noop' };
  if (kind !== 1) throw new Error(`entry value kind ${kind} is not 0 (noop) or 1 (commands)`);
  const count = reader.u32('commands.count');
  const commands: Uint8Array[] = [];
  for (let i = 0; i < count; i++) commands.push(reader.copy(reader.u32(`command ${i} length`), `command ${i}`));
  return { kind: 'commands', commands };
}

function readEntry(reader: Reader): LogEntry {
  const instance = reader.u64('entry.instance');
  const ballot = readBallot(reader, 'entry.ballot');
  const decided = reader.u8('entry.decided');
  if (decided > 1) throw new Error(`entry.decided is ${decided}, not 0 or 1`);
  const value = readValue(reader, reader.u8('entry.kind'));
  return { instance, ballot, value, decided: decided === 1 };
}

/** Decodes a Ready payload. `bytes` may be reused by the caller afterwards. Throws Error. */
export function decodeReady(bytes: Buffer): ReadyRecord {
  const reader = new Reader(bytes);
  const flags = reader.u8('ready.flags');
  if ((flags & ~(READY_FLAG_HAS_HARD_STATE | READY_FLAG_RECOVERING | READY_FLAG_HAS_STAMPS)) !== 0) throw new Error(`ready.flags ${flags} has unknown bits`);
  const hasHardState = (flags & READY_FLAG_HAS_HARD_STATE) !== 0;
  const recovering = (flags & READY_FLAG_RECOVERING) !== 0;
  const stamped = (flags & READY_FLAG_HAS_STAMPS) !== 0;
  if (recovering && !hasHardState) throw new Error(`ready.flags ${flags}: recovering without a hard state`);
  if (stamped && !hasHardState) throw new Error(`ready.flags ${flags}: vote stamps without a hard state`);
  let hardState = hasHardState ? readHardState(reader, recovering) : undefined;
  if (hardState !== undefined && stamped) hardState = readStamps(reader, hardState);
  const count = reader.u32('ready.entryCount');
  const entries: LogEntry[] = [];
  for (let i = 0; i < count; i++) entries.push(readEntry(reader));
  reader.end('ready');
  return hardState === undefined ? { entries } : { hardState, entries };
}

export function decodeCheckpoint(bytes: Buffer): CheckpointRecord {
  const reader = new Reader(bytes);
  const snapshotThrough = reader.u64('checkpoint.snapshotThrough');
  const promised = readBallot(reader, 'checkpoint.hardState.promised');
  const decidedThrough = reader.u64('checkpoint.hardState.decidedThrough');
  // Checkpoints written before HardState.recovering existed end here.
  const flags = reader.atEnd ? 0 : reader.u8('checkpoint.flags');
  if ((flags & ~(CHECKPOINT_FLAG_RECOVERING | CHECKPOINT_FLAG_HAS_STAMPS)) !== 0) throw new Error(`checkpoint.flags ${flags} has unknown bits`);
  let hardState: HardState = { promised, decidedThrough, recovering: (flags & CHECKPOINT_FLAG_RECOVERING) !== 0 };
  if ((flags & CHECKPOINT_FLAG_HAS_STAMPS) !== 0) hardState = readStamps(reader, hardState);
  reader.end('checkpoint');
  return { snapshotThrough, hardState };
}
