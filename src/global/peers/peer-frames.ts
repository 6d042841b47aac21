// Cutting consensus traffic into PeerFrames that fit the receiver's message limit
// (src/protocol/receive-limit.ts), so a replica never has to accept a message larger than
// its clients may send.
//
// - Frames are filled up to PEER_FRAME_BYTES_TARGET (estimated, an upper bound).
// - An Accept or CatchUp over the target is split into consecutive Accepts or CatchUps (at
//   least one value or entry each). Every part but the last carries a decided prefix no
//   higher than its own last instance: a lower decided prefix is still true, and the
//   receiver does not ask for instances the next part brings.
// - A message still over the target (one large value, a Promise or RecoveryReply, which
//   cannot be split without changing their meaning) is sent as fragments: the encoding of a
//   PeerFrame carrying only it, in pieces, reassembled by the receiver (`Reassembly`) up to
//   PEER_MESSAGE_BYTES_MAX. A forwarded client request over the target travels the same way.

import { TooLargeError } from '../../protocol/errors.ts';
import type { ConsensusMessage } from '../../protocol/generated/dstore/v1/ConsensusMessage.ts';
import type { ForwardedRequest } from '../../protocol/generated/dstore/v1/ForwardedRequest.ts';
import type { LogEntry } from '../../protocol/generated/dstore/v1/LogEntry.ts';
import type { PeerFrame, PeerFrame__Output } from '../../protocol/generated/dstore/v1/PeerFrame.ts';
import type { Value } from '../../protocol/generated/dstore/v1/Value.ts';
import { dstoreProto } from '../../protocol/proto.ts';
import { CHUNK_BYTES_MAX } from '../../protocol/receive-limit.ts';

/** A frame takes no further message once its estimated size reaches this; fragments are this size. */
export const PEER_FRAME_BYTES_TARGET = CHUNK_BYTES_MAX;
/** Largest consensus message a replica reassembles from fragments. */
export const PEER_MESSAGE_BYTES_MAX = 256 * 1024 * 1024;

/** Upper bounds of the encoding besides command bytes: a message, a value or entry, a command. */
const MESSAGE_OVERHEAD_BYTES = 128;
const ENTRY_OVERHEAD_BYTES = 64;
const COMMAND_OVERHEAD_BYTES = 8;

function valueBytes(v: Value | null | undefined): number {
  let bytes = ENTRY_OVERHEAD_BYTES;
  for (const c of v?.commands ?? []) bytes += (typeof c === 'string' ? Buffer.byteLength(c) : c.byteLength) + COMMAND_OVERHEAD_BYTES;
  return bytes;
}

const entryBytes = (e: LogEntry): number => valueBytes(e.value);

/** An upper bound of `m`'s encoded size. */
export function messageBytesEstimate(m: ConsensusMessage): number {
  let bytes = MESSAGE_OVERHEAD_BYTES;
  for (const v of m.accept?.values ?? []) bytes += valueBytes(v);
  for (const e of m.promise?.entries ?? []) bytes += entryBytes(e);
  for (const e of m.catchUp?.entries ?? []) bytes += entryBytes(e);
  for (const e of m.recoveryReply?.entries ?? []) bytes += entryBytes(e);
  return bytes;
}

/** Consecutive runs of `items`, each within `budget` by `size` (a run holds at least one item). */
function runs<T>(items: readonly T[], size: (item: T) => number, budget: number): T[][] {
  const out: T[][] = [];
  let run: T[] = [];
  let bytes = MESSAGE_OVERHEAD_BYTES;
  for (const item of items) {
    const b = size(item);
    if (run.length > 0 && bytes + b > budget) {
      out.push(run);
      run = [];
      bytes = MESSAGE_OVERHEAD_BYTES;
    }
    run.push(item);
    bytes += b;
  }
  if (run.length > 0) out.push(run);
  return out;
}

/** `m` as consecutive messages within `budget` where it can be split (Accept, CatchUp), else `[m]`. */
export function splitMessage(m: ConsensusMessage, budget: number): ConsensusMessage[] {
  const accept = m.accept;
  if (accept !== undefined && accept !== null) {
    const parts = runs(accept.values ?? [], valueBytes, budget);
    if (parts.length <= 1) return [m];
    const decided = Number(accept.decidedThrough ?? 0);
    let first = Number(accept.firstInstance ?? 0);
    return parts.map((values, i) => {
      const last = first + values.length - 1;
      const part: ConsensusMessage = { ...m, accept: { ...accept, firstInstance: first, values, decidedThrough: i === parts.length - 1 ? decided : Math.min(decided, last) } };
      first = last + 1;
      return part;
    });
  }
  const catchUp = m.catchUp;
  if (catchUp !== undefined && catchUp !== null) {
    const parts = runs(catchUp.entries ?? [], entryBytes, budget);
    if (parts.length <= 1) return [m];
    const decided = Number(catchUp.decidedThrough ?? 0);
    return parts.map((entries, i) => {
      const last = Number(entries[entries.length - 1]!.instance ?? 0);
      return { ...m, catchUp: { entries, decidedThrough: i === parts.length - 1 ? decided : Math.min(decided, last) } };
    });
  }
  return [m];
}

const exchange = (): { requestSerialize: (f: PeerFrame) => Buffer; requestDeserialize: (b: Buffer) => PeerFrame__Output } =>
  dstoreProto().dstore.v1.Replica.service.Exchange;

/** The frames that carry `messages` in order, each within `target` bytes (estimated). */
export function framesOf(messages: readonly ConsensusMessage[], target = PEER_FRAME_BYTES_TARGET): PeerFrame[] {
  const frames: PeerFrame[] = [];
  let batch: ConsensusMessage[] = [];
  let bytes = 0;
  const close = (): void => {
    if (batch.length > 0) frames.push({ messages: batch });
    batch = [];
    bytes = 0;
  };
  for (const message of messages) {
    for (const part of messageBytesEstimate(message) > target ? splitMessage(message, target) : [message]) {
      const b = messageBytesEstimate(part);
      if (b > target) {
        close();
        const encoded = exchange().requestSerialize({ messages: [part] });
        for (let at = 0; at < encoded.byteLength; at += target) {
          frames.push({ messages: [], fragment: encoded.subarray(at, at + target), fragmentLast: at + target >= encoded.byteLength });
        }
        continue;
      }
      if (bytes + b > target) close();
      batch.push(part);
      bytes += b;
    }
  }
  close();
  return frames;
}

/** An upper bound of the encoded size of a message object (bytes, strings, numbers, nesting). */
function objectBytesEstimate(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'string') return Buffer.byteLength(value) + 16;
  if (value instanceof Uint8Array) return value.byteLength + 16;
  if (typeof value !== 'object') return 16;
  let bytes = 16;
  for (const v of Array.isArray(value) ? value : Object.values(value)) bytes += objectBytesEstimate(v);
  return bytes;
}

/**
 * The frames that carry one forwarded request: one frame, or (over `target` bytes,
 * estimated) the fragments of a frame carrying only it, reassembled like a consensus message.
 */
export function forwardFrames(forwarded: ForwardedRequest, target = PEER_FRAME_BYTES_TARGET): PeerFrame[] {
  const frame: PeerFrame = { messages: [], forwarded: [forwarded] };
  if (objectBytesEstimate(forwarded) <= target) return [frame];
  const encoded = exchange().requestSerialize(frame);
  const frames: PeerFrame[] = [];
  for (let at = 0; at < encoded.byteLength; at += target) {
    frames.push({ messages: [], fragment: encoded.subarray(at, at + target), fragmentLast: at + target >= encoded.byteLength });
  }
  return frames;
}

/** The receiving side of fragments on one stream. */
export class Reassembly {
  private pieces: Buffer[] = [];
  private bytes = 0;

  /** True when `frame` carries a fragment (and nothing else counts in it). */
  static isFragment(frame: PeerFrame__Output): boolean {
    return frame.fragment.byteLength > 0 || frame.fragmentLast;
  }

  /**
   * Adds a fragment; returns the whole frame after the last one, else null. Throws
   * TooLargeError past PEER_MESSAGE_BYTES_MAX, and the decoder's error for bytes that do not
   * decode as a PeerFrame.
   */
  add(frame: PeerFrame__Output): PeerFrame__Output | null {
    this.bytes += frame.fragment.byteLength;
    if (this.bytes > PEER_MESSAGE_BYTES_MAX) throw new TooLargeError(`a fragmented consensus message passed ${PEER_MESSAGE_BYTES_MAX} bytes (PEER_MESSAGE_BYTES_MAX)`);
    this.pieces.push(frame.fragment);
    if (!frame.fragmentLast) return null;
    const whole = Buffer.concat(this.pieces, this.bytes);
    this.pieces = [];
    this.bytes = 0;
    return exchange().requestDeserialize(whole);
  }
}
