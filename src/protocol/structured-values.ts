// Canonical encodings of structured values (global.proto: ListValue, MapValue, integers).
// Values are content-addressed, so equal contents must encode to equal bytes: maps are
// sorted by field with unique fields, and a decoder accepts only canonical bytes (it
// re-encodes and compares), so a value of the wrong shape is always detected.

import { InvalidArgumentError } from './errors.ts';
import { compareKeys } from './keys.ts';
import { dstoreRoot } from './proto.ts';

const ListValue = dstoreRoot().lookupType('dstore.v1.ListValue');
const MapValue = dstoreRoot().lookupType('dstore.v1.MapValue');

/**
 * Most items of a list, or fields of a map, in one stored value and in one op. Bounds the
 * work of a structured op at apply (decoding the value and encoding it again), which the
 * value's byte limit alone does not: 64 KiB holds 32,768 empty items.
 */
export const STRUCTURED_ENTRIES_MAX = 4096;

export const INTEGER_MIN = -(2n ** 63n);
export const INTEGER_MAX = 2n ** 63n - 1n;

export interface StructuredMapEntry {
  readonly field: string;
  readonly value: Uint8Array;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

export function encodeList(items: readonly Uint8Array[]): Uint8Array {
  return ListValue.encode({ items }).finish();
}

/** Throws InvalidArgumentError when `bytes` is not a canonical list; `what` names the value. */
export function decodeList(bytes: Uint8Array, what: string): Uint8Array[] {
  let items: Uint8Array[];
  try {
    items = (ListValue.decode(bytes) as unknown as { items: Uint8Array[] }).items;
  } catch {
    throw new InvalidArgumentError(`${what} is not a list (not a dstore.v1.ListValue)`);
  }
  if (!sameBytes(encodeList(items), bytes)) throw new InvalidArgumentError(`${what} is not a list (not canonical dstore.v1.ListValue bytes)`);
  return items;
}

/**
 * Encodes entries sorted by field (UTF-8 byte order); the last value given for a field wins.
 * Fields come from protobuf decoding, so they are well-formed and compareKeys orders them as
 * their UTF-8 bytes (without encoding each field at every comparison).
 */
export function encodeMap(entries: readonly StructuredMapEntry[]): Uint8Array {
  const byField = new Map<string, Uint8Array>();
  for (const e of entries) byField.set(e.field, e.value);
  const sorted = [...byField.entries()]
    .sort(([a], [b]) => compareKeys(a, b))
    .map(([field, value]) => ({ field, value }));
  return MapValue.encode({ entries: sorted }).finish();
}

export function decodeMap(bytes: Uint8Array, what: string): StructuredMapEntry[] {
  let entries: StructuredMapEntry[];
  try {
    entries = (MapValue.decode(bytes) as unknown as { entries: StructuredMapEntry[] }).entries;
  } catch {
    throw new InvalidArgumentError(`${what} is not a map (not a dstore.v1.MapValue)`);
  }
  if (!sameBytes(encodeMap(entries), bytes)) throw new InvalidArgumentError(`${what} is not a map (not canonical dstore.v1.MapValue bytes)`);
  return entries;
}

export function encodeInteger(value: bigint): Uint8Array {
  if (value < INTEGER_MIN || value > INTEGER_MAX) throw new InvalidArgumentError(`integer ${value} is outside signed 64-bit range`);
  return Buffer.from(value.toString(), 'ascii');
}

const INTEGER_TEXT = /^(0|-?[1-9][0-9]{0,18})$/;

export function decodeInteger(bytes: Uint8Array, what: string): bigint {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  if (!INTEGER_TEXT.test(text)) {
    throw new InvalidArgumentError(`${what} is not an integer (expected decimal text like "-42", got ${JSON.stringify(text.slice(0, 40))})`);
  }
  const value = BigInt(text);
  if (value < INTEGER_MIN || value > INTEGER_MAX) throw new InvalidArgumentError(`${what} is outside signed 64-bit range`);
  return value;
}
