// The committed key space: keys in byte order bound to values, and the values themselves
// with reference counts. Values up to the inline limit are held here (they travel in the
// log and are part of snapshots); larger ones live in the blob store, and only their hash,
// size and reference count are held here.

import sortedBtree from 'sorted-btree';
import { assert } from '../../protocol/assert.ts';
import type { Hash } from '../../protocol/hash.ts';
import { compareKeys, prefixEnd } from '../../protocol/keys.ts';
import type { Binding, KeyBinding, RangeSpec } from './types.ts';

const BTree = sortedBtree.default;

export interface StoredValue {
  readonly size: number;
  /** Number of keys bound to this value. Invariant: > 0 while the value is held. */
  refs: number;
  /** The bytes when held here (small values); null for blobs in the blob store. */
  readonly bytes: Uint8Array | null;
}

/** [low, high) of a range spec in key order; high '' means unbounded. */
export function rangeBounds(spec: RangeSpec): { low: string; high: string } {
  if (spec.prefix !== '') return { low: spec.prefix, high: prefixEnd(spec.prefix) };
  return { low: spec.start, high: spec.end };
}

export function inRange(key: string, low: string, high: string): boolean {
  return compareKeys(key, low) >= 0 && (high === '' || compareKeys(key, high) < 0);
}

export class Keyspace {
  // Point lookups and overwrites (nearly every write) go to the Map; the B-tree holds only
  // the key order, for scans, and changes only when a key appears or goes. A B-tree lookup
  // with the byte-order comparator costs several times a Map lookup.
  private readonly bindings = new Map<string, Binding>();
  private readonly order = new BTree<string, undefined>(undefined, compareKeys);
  private readonly values = new Map<Hash, StoredValue>();

  get keyCount(): number {
    return this.bindings.size;
  }

  get(key: string): Binding | undefined {
    return this.bindings.get(key);
  }

  value(hash: Hash): StoredValue | undefined {
    return this.values.get(hash);
  }

  isReferenced(hash: Hash): boolean {
    return this.values.has(hash);
  }

  /** Bindings with low <= key < high (high '' = no bound), in key order. */
  *scan(low: string, high: string): Generator<KeyBinding> {
    for (const key of this.order.keys(low)) {
      if (high !== '' && compareKeys(key, high) >= 0) return;
      yield { key, ...this.bindings.get(key)! };
    }
  }

  /**
   * Binds `key`, taking a reference on the value (held as `bytes` when given). Releases
   * the reference of the value it was bound to before.
   */
  bind(key: string, binding: Binding, bytes: Uint8Array | null): void {
    assert(bytes === null || bytes.byteLength === binding.size, `bind ${key}: ${bytes?.byteLength} bytes for size ${binding.size}`);
    const stored = this.values.get(binding.hash);
    if (stored === undefined) {
      this.values.set(binding.hash, { size: binding.size, refs: 1, bytes });
    } else {
      assert(stored.size === binding.size, `value ${binding.hash} bound with size ${binding.size}, held with ${stored.size}`);
      stored.refs++;
    }
    const previous = this.bindings.get(key);
    this.bindings.set(key, binding);
    if (previous !== undefined) this.release(previous.hash);
    else this.order.set(key, undefined);
  }

  unbind(key: string): void {
    const previous = this.bindings.get(key);
    assert(previous !== undefined, `unbind of unbound key ${key}`);
    this.bindings.delete(key);
    this.order.delete(key);
    this.release(previous.hash);
  }

  private release(hash: Hash): void {
    const stored = this.values.get(hash);
    assert(stored !== undefined && stored.refs > 0, `release of unreferenced value ${hash}`);
    stored.refs--;
    if (stored.refs === 0) this.values.delete(hash);
  }

  /** Every binding in key order; for snapshots and checksums. */
  *entries(): Generator<[string, Binding]> {
    for (const key of this.order.keys()) yield [key, this.bindings.get(key)!];
  }

  /** Every value, sorted by hash so the order is the same on every replica. */
  sortedValues(): [Hash, StoredValue][] {
    return [...this.values.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  clear(): void {
    this.bindings.clear();
    this.order.clear();
    this.values.clear();
  }

  /** Restores a value's record from a snapshot before its bindings are restored. */
  restoreValue(hash: Hash, size: number, bytes: Uint8Array | null): void {
    assert(!this.values.has(hash), `snapshot holds value ${hash} twice`);
    this.values.set(hash, { size, refs: 0, bytes });
  }

  restoreBinding(key: string, binding: Binding): void {
    const stored = this.values.get(binding.hash);
    assert(stored !== undefined, `snapshot binds ${key} to missing value ${binding.hash}`);
    stored.refs++;
    assert(!this.bindings.has(key), `snapshot binds ${key} twice`);
    this.bindings.set(key, binding);
    this.order.set(key, undefined);
  }
}
