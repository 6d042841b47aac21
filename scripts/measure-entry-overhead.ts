// Measures what one cached key binding costs in memory beyond the bytes the cache charges by
// length (the value's bytes and twice the key's length), which is what cache.ts
// ENTRY_OVERHEAD_BYTES must be for the byte budget to be true. Run:
//   node --expose-gc --import tsx scripts/measure-entry-overhead.ts [entries] [valueBytes] [keyChars]
//
// Places `entries` bindings as a fill does (a KeyBinding as decoded, with its own key and hash
// strings; a value with its own buffer), drops every reference but the cache's, and compares
// heap plus array-buffer usage with the empty cache's, a full GC on either side. Prints one
// JSON line: `overheadBytes` per entry, and the constant in use for comparison.
import { ENTRY_OVERHEAD_BYTES, LocalCache } from '../src/local/cache/cache.ts';
import type { KeyBinding } from '../src/local/client/client-types.ts';
import { hashOf } from '../src/protocol/hash.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with: node --expose-gc --import tsx scripts/measure-entry-overhead.ts');
const entries = Number(process.argv[2] ?? 100_000);
const valueBytes = Number(process.argv[3] ?? 16);
const keyChars = Number(process.argv[4] ?? 16);

function used(): number {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** A key of `keyChars` characters decoded from bytes (a fresh flat string, as a decoded message has). */
function keyOf(i: number): string {
  const digits = String(i);
  return Buffer.from(`k${'0'.repeat(Math.max(0, keyChars - 1 - digits.length))}${digits}`).toString('utf8');
}

function fillCache(cache: LocalCache): void {
  for (let i = 0; i < entries; i++) {
    const value = new Uint8Array(valueBytes);
    new DataView(value.buffer).setUint32(0, i);
    const key = keyOf(i);
    const kv: KeyBinding = { key, hash: hashOf(value), size: valueBytes, createRevision: i + 1, modRevision: i + 1, version: 1 };
    const fill = cache.beginFill(key);
    if (!cache.placeFill(fill, kv, value)) throw new Error(`binding ${i} was not placed`);
    cache.endFill(key, fill);
  }
}

const cache = new LocalCache({ cacheBytesMax: 2 ** 40 });
const before = used();
fillCache(cache);
const after = used();
const stats = cache.stats();
if (stats.bindings !== entries) throw new Error(`${stats.bindings} bindings held, expected ${entries}`);
const perEntryBytes = (after - before) / entries;
const chargedByLength = valueBytes + 2 * keyChars;
console.log(JSON.stringify({
  entries,
  valueBytes,
  keyChars,
  perEntryBytes: Math.round(perEntryBytes),
  overheadBytes: Math.round(perEntryBytes - chargedByLength),
  entryOverheadBytesConstant: ENTRY_OVERHEAD_BYTES,
}));
