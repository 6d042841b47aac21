// Keys: UTF-8 names, compared in the byte order of their UTF-8 encoding (what the protocol
// promises for ranges, and what a client in any language computes).

import { InvalidArgumentError, TooLargeError } from './errors.ts';

/** Longest key accepted, in UTF-8 bytes. */
export const KEY_BYTES_MAX = 1024;

/**
 * Throws InvalidArgumentError for an empty or malformed key, TooLargeError for one over
 * KEY_BYTES_MAX. `what` names the key's role in the message ("key", "range start").
 */
export function validateKey(key: string, what = 'key'): void {
  if (key.length === 0) throw new InvalidArgumentError(`${what} is empty: keys are 1..${KEY_BYTES_MAX} bytes of UTF-8`);
  if (!key.isWellFormed()) throw new InvalidArgumentError(`${what} is not valid Unicode (lone surrogate): keys are UTF-8 text`);
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > KEY_BYTES_MAX) {
    throw new TooLargeError(`${what} is ${bytes} bytes of UTF-8, over the limit of ${KEY_BYTES_MAX}: use a shorter key`);
  }
}

function isSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdfff;
}

/**
 * Orders keys by their UTF-8 bytes. JavaScript's `<` compares UTF-16 code units, which
 * agrees except between a surrogate pair (U+10000 and up) and U+E000..U+FFFF.
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const sx = isSurrogate(x);
    if (sx !== isSurrogate(y) && (sx ? y : x) >= 0xe000) return sx ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/** The smallest key greater than every key starting with `prefix`, or '' when none exists. */
export function prefixEnd(prefix: string): string {
  // Byte-wise successor: drop trailing U+10FFFF, then bump the last code point.
  const points = Array.from(prefix);
  while (points.length > 0) {
    const last = points.pop()!.codePointAt(0)!;
    if (last < 0x10ffff) {
      let next = last + 1;
      if (next === 0xd800) next = 0xe000; // skip the surrogate range, which has no UTF-8
      return points.join('') + String.fromCodePoint(next);
    }
  }
  return '';
}
