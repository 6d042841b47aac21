// Proves the cache's rules without any I/O: a binding is replaced or dropped only by a newer
// change; a fill loses to a change applied while it was in flight and to a compaction; blobs
// outlive their bindings (invalidation keeps them, compaction keeps them); the byte budget
// evicts entries not used since the eviction hand last passed (CLOCK); the hot path finds
// bindings, never blob entries.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LocalCache, ENTRY_OVERHEAD_BYTES } from '../../src/local/cache/cache.ts';
import type { KeyBinding } from '../../src/local/client/client-types.ts';
import { hashOf } from '../../src/protocol/hash.ts';
import { InvalidArgumentError } from '../../src/protocol/errors.ts';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
function binding(key: string, value: Uint8Array, modRevision: number): KeyBinding {
  return { key, hash: hashOf(value), size: value.byteLength, createRevision: modRevision, modRevision, version: 1 };
}

/** A write of this Local whose answer arrives with no change in between: placed. */
function ownWrite(cache: LocalCache, kv: KeyBinding, value: Uint8Array): void {
  const tracked = cache.beginFill(kv.key);
  cache.applyOwnWrite(kv, value, tracked);
  cache.endFill(kv.key, tracked);
}

describe('LocalCache', () => {
  it('does not place an own write when a newer change arrived while it was out', () => {
    const cache = new LocalCache({ cacheBytesMax: 1 << 20 });
    const v1 = bytes('one');
    const tracked = cache.beginFill('k');
    assert.equal(cache.applyChange('k', 6, null), 'none'); // a delete at 6 applied by the stream
    cache.applyOwnWrite(binding('k', v1, 5), v1, tracked); // the answer of a put at 5
    cache.endFill('k', tracked);
    assert.equal(cache.value('k'), undefined);
    assert.equal(cache.peekBinding('k'), null);
  });

  it('replaces a binding only with a newer change, and keeps the old value as a blob', () => {
    const cache = new LocalCache({ cacheBytesMax: 1 << 20 });
    const v1 = bytes('one');
    const v2 = bytes('two');
    ownWrite(cache, binding('k', v1, 5), v1);
    assert.equal(cache.value('k'), v1);
    assert.equal(cache.applyChange('k', 4, null), 'older');
    assert.equal(cache.applyChange('k', 5, null), 'older');
    assert.equal(cache.value('k'), v1);
    cache.putBlob(hashOf(v2), v2);
    assert.equal(cache.applyChange('k', 7, binding('k', v2, 7)), 'updated', 'rebound to a value cached here');
    assert.equal(cache.value('k'), v2);
    assert.equal(cache.blob(hashOf(v1)), v1, 'the old value stays as a blob');
    assert.equal(cache.applyChange('k', 8, binding('k', bytes('three'), 8)), 'dropped', 'rebound to a value not cached');
    assert.equal(cache.value('k'), undefined);
    assert.equal(cache.blob(hashOf(v2)), v2);
    assert.equal(cache.applyChange('absent', 9, null), 'none');
  });

  it('lets a change applied during a fill win over the fill', () => {
    const cache = new LocalCache({ cacheBytesMax: 1 << 20 });
    const v = bytes('v');
    const fill = cache.beginFill('k');
    cache.applyChange('k', 10, null); // a delete at 10 arrives while the fill is out
    assert.equal(cache.placeFill(fill, binding('k', v, 9), v), false);
    cache.endFill('k', fill);
    const later = cache.beginFill('k');
    cache.applyChange('k', 10, null); // an older or equal event does not void a newer fill
    assert.equal(cache.placeFill(later, binding('k', v, 11), v), true);
    cache.endFill('k', later);
    assert.equal(cache.value('k'), v);
  });

  it('drops every binding on compaction, voids fills in flight, and keeps blobs', () => {
    const cache = new LocalCache({ cacheBytesMax: 1 << 20 });
    const a = bytes('a');
    const b = bytes('b');
    ownWrite(cache, binding('a', a, 1), a);
    ownWrite(cache, binding('b', b, 2), b);
    const fill = cache.beginFill('c');
    assert.equal(cache.dropAllBindings(), 2);
    assert.equal(cache.value('a'), undefined);
    assert.equal(cache.peekBinding('b'), null);
    assert.equal(cache.blob(hashOf(a)), a);
    assert.equal(cache.blob(hashOf(b)), b);
    assert.equal(cache.placeFill(fill, binding('c', a, 3), a), false);
    cache.endFill('c', fill);
    assert.deepEqual({ bindings: cache.stats().bindings, blobs: cache.stats().blobs }, { bindings: 0, blobs: 2 });
  });

  it('evicts entries not used since the last sweep to stay within its byte budget', () => {
    const valueBytes = 1000;
    const cache = new LocalCache({ cacheBytesMax: 4 * (valueBytes + ENTRY_OVERHEAD_BYTES + 8) });
    const values = Array.from({ length: 6 }, (_, i) => new Uint8Array(valueBytes).fill(i));
    for (let i = 0; i < 4; i++) ownWrite(cache, binding(`k${i}`, values[i]!, i + 1), values[i]!);
    assert.equal(cache.value('k0'), values[0]); // k0 is now the most recently used
    for (let i = 4; i < 6; i++) ownWrite(cache, binding(`k${i}`, values[i]!, i + 1), values[i]!);
    assert.equal(cache.value('k0'), values[0]);
    assert.equal(cache.value('k1'), undefined);
    assert.equal(cache.value('k2'), undefined);
    assert.equal(cache.peekBinding('k1'), null, 'an evicted binding is forgotten too');
    const s = cache.stats();
    assert.ok(s.bytes <= 4 * (valueBytes + ENTRY_OVERHEAD_BYTES + 8));
    assert.equal(s.evictions, 2);
    assert.equal(s.bindings, 4);
  });

  it('shares one copy of a value between a blob and the bindings to it', () => {
    const cache = new LocalCache({ cacheBytesMax: 1 << 20 });
    const v = new Uint8Array(10_000).fill(7);
    cache.putBlob(hashOf(v), v);
    const before = cache.stats().bytes;
    ownWrite(cache, binding('k', new Uint8Array(v), 3), new Uint8Array(v));
    assert.equal(cache.value('k'), v, 'the binding uses the copy already cached');
    assert.ok(cache.stats().bytes < before + 200, 'the value is charged once');
  });

  it('keeps finding a value by hash while any of several keys bound to it is held', () => {
    const cache = new LocalCache({ cacheBytesMax: 1 << 20 });
    const v = bytes('shared');
    const hash = hashOf(v);
    for (const [i, key] of ['a', 'b', 'c'].entries()) ownWrite(cache, binding(key, v, i + 1), v);
    assert.equal(cache.stats().blobs, 1);
    cache.applyChange('a', 10, null);
    cache.applyChange('c', 11, null);
    assert.equal(cache.value('b'), v);
    assert.equal(cache.blob(hash), v);
    cache.applyChange('b', 12, null);
    assert.equal(cache.value('b'), undefined);
    assert.equal(cache.blob(hash), v, 'the value stays as a blob');
    ownWrite(cache, binding('d', v, 13), v);
    assert.equal(cache.value('d'), v);
    assert.equal(cache.stats().blobs, 1);
  });

  it('never answers a key lookup with a blob entry', () => {
    const cache = new LocalCache({ cacheBytesMax: 1 << 20 });
    const v = bytes('blob');
    const hash = hashOf(v);
    cache.putBlob(hash, v);
    assert.equal(cache.value(hash), undefined);
    assert.equal(cache.blob(hash), v);
  });

  it('refuses a budget that is not a sane integer', () => {
    assert.throws(() => new LocalCache({ cacheBytesMax: 1.5 }), InvalidArgumentError);
    assert.throws(() => new LocalCache({ cacheBytesMax: 100 }), /cacheBytesMax/);
  });
});
