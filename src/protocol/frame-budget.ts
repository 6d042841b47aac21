// What one request adds to a Session frame, counted as a replica counts it: its elements
// (src/global/server/request-prescan.ts refuses a frame of more than REQUEST_ELEMENTS_MAX) and its
// size on the wire (the request guard refuses a frame over limits.request_bytes_max). A
// client that builds frames within both never has its Session closed for a frame's size;
// a replica uses the byte bound for what a frame holds when its wire size is not known.

import type protobuf from 'protobufjs';
import type { ClientRequest, ClientRequest__Output } from './generated/dstore/v1/ClientRequest.ts';
import { dstoreRoot } from './proto.ts';

/**
 * request_bytes_max is never below this (src/global/server/global-service.ts REQUEST_BYTES_MAX_MIN):
 * a client that does not know a server's limits yet sends frames no larger.
 */
export const REQUEST_BYTES_MAX_GUARANTEED = 64 * 1024;

/**
 * Most elements (requests, compares, ops, structured entries, missing_blobs hashes) in one
 * request message: a unary Txn or MissingBlobs, or a whole Session frame. Counted on the wire
 * before decoding (request-prescan.ts), so decoding any accepted message costs milliseconds.
 */
export const REQUEST_ELEMENTS_MAX = 65_536;

type AnyRequest = ClientRequest | ClientRequest__Output;
type AnyOp = NonNullable<NonNullable<AnyRequest['txn']>['success']>[number];

function opEntries(op: AnyOp): number {
  return (op.listAppend?.items?.length ?? 0) + (op.mapStore?.entries?.length ?? 0) + (op.mapDelete?.fields?.length ?? 0);
}

/** The elements `request` adds to a frame, as request-prescan.ts counts them (the request itself included). */
export function requestElements(request: AnyRequest): number {
  let n = 1;
  const txn = request.txn;
  if (txn) {
    n += txn.compares?.length ?? 0;
    for (const ops of [txn.success, txn.failure]) {
      for (const op of ops ?? []) n += 1 + opEntries(op);
    }
  }
  n += request.missingBlobs?.hashes?.length ?? 0;
  return n;
}

// A field's tag is at most 2 bytes (field numbers below 2,048), a length or varint at most 10.
const TAG_BYTES_MAX = 2;
const LENGTH_BYTES_MAX = 5;
const VARINT_BYTES_MAX = 10;

/**
 * An upper bound on the bytes `value` takes on the wire as one field of a protobuf message
 * (as one element of a repeated field for an array's items): every field is counted as if
 * set, with its longest tag and length prefix. Walks the plain object; strings are counted
 * as UTF-8. Cost: one pass over the fields, no encoding.
 */
export function encodedBytesBound(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'string') return TAG_BYTES_MAX + LENGTH_BYTES_MAX + Buffer.byteLength(value);
  if (value instanceof Uint8Array) return TAG_BYTES_MAX + LENGTH_BYTES_MAX + value.byteLength;
  if (typeof value === 'number' || typeof value === 'bigint') return TAG_BYTES_MAX + VARINT_BYTES_MAX;
  if (typeof value === 'boolean') return TAG_BYTES_MAX + 1;
  if (Array.isArray(value)) {
    let sum = 0;
    for (const item of value) sum += encodedBytesBound(item);
    return sum;
  }
  if (typeof value === 'object') {
    let sum = TAG_BYTES_MAX + LENGTH_BYTES_MAX;
    for (const field of Object.values(value)) sum += encodedBytesBound(field);
    return sum;
  }
  return 0;
}

// What V8 holds for decoded protobufjs objects, at most (measured on Node 20: an op of a
// decoded frame takes about 150 bytes with its strings): object headers and field slots,
// array headers and slots, a Buffer slice's object (its bytes stay in the message's buffer,
// counted with the message), and strings at two bytes per UTF-16 unit.
const OBJECT_BYTES = 64;
const ARRAY_BYTES = 32;
const SLOT_BYTES = 8;
const BUFFER_OBJECT_BYTES = 160;
const STRING_BYTES = 16;

/**
 * An upper bound on the heap a decoded message takes besides its wire bytes (which its
 * Buffer fields share): one pass over its fields. A replica charges a Session frame its
 * wire bytes plus this while the frame's requests are in flight.
 */
export function decodedBytesBound(value: unknown): number {
  if (value === null || value === undefined || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return 0;
  if (typeof value === 'string') return STRING_BYTES + 2 * value.length;
  if (value instanceof Uint8Array) return BUFFER_OBJECT_BYTES;
  if (Array.isArray(value)) {
    let sum = ARRAY_BYTES + SLOT_BYTES * value.length;
    for (const item of value) sum += decodedBytesBound(item);
    return sum;
  }
  if (typeof value === 'object') {
    let sum = OBJECT_BYTES;
    for (const field of Object.values(value)) sum += SLOT_BYTES + decodedBytesBound(field);
    return sum;
  }
  return 0;
}

let clientRequestType: protobuf.Type | null = null;

/**
 * The exact bytes `request` takes in a frame (encoded, with its tag and length prefix). Costs
 * an encoding: for the rare request whose `encodedBytesBound` is over a limit.
 */
export function encodedRequestBytes(request: ClientRequest): number {
  clientRequestType ??= dstoreRoot().lookupType('dstore.v1.ClientRequest');
  const t = clientRequestType;
  return TAG_BYTES_MAX + LENGTH_BYTES_MAX + t.encode(t.fromObject(request)).finish().byteLength;
}
