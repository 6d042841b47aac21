// Proves that our BLAKE3-256 (both backends, one-shot and streaming, with any chunking)
// matches the official BLAKE3 test vectors, including inputs that cross the 1024-byte chunk
// boundaries and the backend switch at HASH_NATIVE_MIN_BYTES, and that a Hash can only be
// made from hashing or a validating parser.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CorruptError, InvalidArgumentError } from '../../src/protocol/errors.ts';
import {
  HASH_NATIVE_MIN_BYTES,
  Hasher,
  hashFromBytes,
  hashOf,
  hashOfWith,
  hashToBytes,
  isHash,
  parseHash,
  verifyHash,
} from '../../src/protocol/hash.ts';

interface VectorCase { input_len: number; hash: string }
const vectors = (JSON.parse(readFileSync(new URL('./fixtures/blake3-vectors.json', import.meta.url), 'utf8')) as { cases: VectorCase[] }).cases;

function vectorInput(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = i % 251;
  return bytes;
}

describe('BLAKE3 official test vectors', () => {
  it('has the vectors that cross chunk boundaries', () => {
    const lengths = vectors.map((v) => v.input_len);
    for (const n of [0, 1, 1023, 1024, 1025, 2048, 2049, 8193, 102400]) assert.ok(lengths.includes(n), `vector ${n}`);
  });

  for (const v of vectors) {
    it(`input of ${v.input_len} bytes`, () => {
      const input = vectorInput(v.input_len);
      assert.equal(hashOf(input), v.hash, 'hashOf');
      assert.equal(hashOfWith('wasm', input), v.hash, 'wasm backend');
      assert.equal(hashOfWith('native', input), v.hash, 'native backend');
      for (const backend of ['auto', 'wasm'] as const) {
        for (const chunk of [1, 63, 64, 1000, 1024, 4096]) {
          if (chunk > 1 && chunk >= v.input_len && v.input_len > 0) continue;
          const hasher = new Hasher(backend);
          for (let off = 0; off < input.length; off += chunk) hasher.update(input.subarray(off, off + chunk));
          assert.equal(hasher.byteLength, v.input_len);
          assert.equal(hasher.digest(), v.hash, `streamed in chunks of ${chunk} (${backend})`);
        }
      }
    });
  }
});

describe('Hash values', () => {
  it('agree across the backend switch', () => {
    for (const n of [HASH_NATIVE_MIN_BYTES - 1, HASH_NATIVE_MIN_BYTES, HASH_NATIVE_MIN_BYTES + 1]) {
      const input = vectorInput(n);
      assert.equal(hashOfWith('wasm', input), hashOfWith('native', input), `length ${n}`);
    }
  });

  it('hash a subarray by its own bytes, not its backing buffer', () => {
    const backing = vectorInput(200);
    assert.equal(hashOf(backing.subarray(10, 74)), hashOf(Uint8Array.from(backing.subarray(10, 74))));
  });

  it('round-trip through bytes and hex', () => {
    const h = hashOf(new TextEncoder().encode('dstore'));
    assert.equal(hashToBytes(h).length, 32);
    assert.equal(hashFromBytes(hashToBytes(h)), h);
    assert.equal(parseHash(h.toUpperCase()), h);
    assert.ok(isHash(h));
  });

  it('reject text that is not a hash, naming what was expected', () => {
    assert.throws(() => parseHash('abc'), (e: unknown) => e instanceof InvalidArgumentError && /64 hex characters/.test(e.message));
    assert.throws(() => parseHash('g'.repeat(64)), InvalidArgumentError);
    assert.throws(() => hashFromBytes(new Uint8Array(31)), /must be 32 bytes, got 31/);
    assert.equal(isHash('A'.repeat(64)), false, 'isHash accepts only the canonical lowercase form');
  });

  it('verify detects a flipped bit', () => {
    const bytes = vectorInput(5000);
    const h = hashOf(bytes);
    verifyHash(bytes, h, 'test');
    bytes[4321]! ^= 1;
    assert.throws(() => verifyHash(bytes, h, 'blob x'), (e: unknown) => e instanceof CorruptError && /blob x: content hash mismatch/.test(e.message));
  });

  it('interleaved WebAssembly streams and one-shot hashes do not disturb each other', () => {
    const a = vectorInput(3000);
    const b = vectorInput(5000);
    const ha = new Hasher('wasm');
    const hb = new Hasher('wasm');
    for (let off = 0; off < 5000; off += 500) {
      if (off < 3000) ha.update(a.subarray(off, off + 500));
      hashOf(vectorInput(10));
      hb.update(b.subarray(off, off + 500));
    }
    assert.equal(ha.digest(), hashOfWith('native', a));
    assert.equal(hb.digest(), hashOfWith('native', b));
  });

  it('a Hasher refuses reuse after digest', () => {
    const hasher = new Hasher().update(new Uint8Array(3));
    hasher.digest();
    assert.throws(() => hasher.update(new Uint8Array(1)), InvalidArgumentError);
    assert.throws(() => hasher.digest(), InvalidArgumentError);
  });
});
