// Strings and JSON beside bytes in the Local API: the one place that converts. A string is
// stored as its UTF-8 bytes; JSON as the UTF-8 of JSON.stringify. Reading decodes strictly
// (invalid UTF-8 or JSON is an error naming the key, never a replacement character).

import { InvalidArgumentError } from '../protocol/errors.ts';
import type { ValueInput } from './client/client-types.ts';

/** A value given to a write of the Local API: bytes, a blob by hash, or a string (UTF-8). */
export type ValueLike = ValueInput | string;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function toValueInput(value: ValueLike): ValueInput {
  return typeof value === 'string' ? encoder.encode(value) : value;
}

export function jsonValue(key: string, value: unknown): Uint8Array {
  const text = JSON.stringify(value);
  if (text === undefined) throw new InvalidArgumentError(`putJson(${JSON.stringify(key)}): the value has no JSON form (undefined, a function or a symbol); pass a JSON-serializable value`);
  return encoder.encode(text);
}

export function textOf(key: string, bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes);
  } catch (err) {
    throw new InvalidArgumentError(`the value of ${JSON.stringify(key)} (${bytes.byteLength} bytes) is not valid UTF-8: read it with get() for its bytes`, { cause: err });
  }
}

export function jsonOf<T>(key: string, bytes: Uint8Array): T {
  const text = textOf(key, bytes);
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new InvalidArgumentError(`the value of ${JSON.stringify(key)} is not valid JSON (${(err as Error).message}): read it with getText() or get()`, { cause: err });
  }
}
