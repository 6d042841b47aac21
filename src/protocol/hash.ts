// Content hashes: BLAKE3-256, the identity of every blob (docs/architecture.md).
//
// A `Hash` is 64 lowercase hex characters, branded so that it can only come from hashing
// (`hashOf`, `Hasher.digest`) or from a validating parser (`parseHash`, `hashFromBytes`).
// Hex rather than bytes because hashes are map keys, cache keys and log fields everywhere;
// the wire carries the 32 raw bytes and converts at the boundary.
//
// Implementation chosen by measurement (bench/suites/hash.ts): a reused
// WebAssembly hasher (hash-wasm) has the lowest per-call cost for small inputs, the native
// binding (@napi-rs/blake-hash, SIMD and multi-lane) is ~8x faster for large ones. The
// crossover on our machines is ~2 KiB.
//
// The native binding is loaded from its prebuilt platform package directly: the umbrella
// package @napi-rs/blake-hash lists platform packages the registry we install from does
// not carry, which breaks `npm ci`. Where no prebuilt binary exists (not Linux x64), every
// input goes to WebAssembly: same results, slower on large values (`nativeHashAvailable`).

import { createRequire } from 'node:module';
import { createBLAKE3 } from 'hash-wasm';
import { CorruptError, InvalidArgumentError } from './errors.ts';

interface NativeBlake3Hasher {
  update(input: Uint8Array): unknown;
  digestBuffer(): Buffer;
}
interface NativeBinding {
  blake3(input: Uint8Array): Buffer;
  Blake3Hasher: new () => NativeBlake3Hasher;
}

function loadNative(): NativeBinding | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64') return undefined;
  const require = createRequire(import.meta.url);
  for (const name of ['@napi-rs/blake-hash-linux-x64-gnu', '@napi-rs/blake-hash-linux-x64-musl']) {
    try {
      return require(name) as NativeBinding;
    } catch {
      // Wrong libc or not installed: try the next, then fall back to WebAssembly.
    }
  }
  return undefined;
}

const native = loadNative();
/** False where no native BLAKE3 binary is installed; hashing then uses WebAssembly only. */
export const nativeHashAvailable = native !== undefined;

declare const hashBrand: unique symbol;
export type Hash = string & { readonly [hashBrand]: true };

export const HASH_BYTES = 32;
export const HASH_HEX_CHARS = HASH_BYTES * 2;
/** Inputs shorter than this go to the WebAssembly hasher; the rest to the native one. */
export const HASH_NATIVE_MIN_BYTES = 2048;

// One reused WebAssembly hasher: safe because hashOf is synchronous (no interleaving).
const wasmHasher = await createBLAKE3();
const HEX_PATTERN = /^[0-9a-f]{64}$/;

// Hex encoding through a reused scratch buffer and a latin1 slice: ~100 ns for 32 bytes,
// a third less than Buffer#toString('hex'), which matters at millions of small hashes/s.
const HEX_DIGITS = '0123456789abcdef';
const HEX_HIGH = Uint8Array.from({ length: 256 }, (_, i) => HEX_DIGITS.charCodeAt(i >> 4));
const HEX_LOW = Uint8Array.from({ length: 256 }, (_, i) => HEX_DIGITS.charCodeAt(i & 15));
const hexScratch = Buffer.alloc(HASH_HEX_CHARS);

function bytesToHex(bytes: Uint8Array): string {
  if (bytes.byteLength !== HASH_BYTES) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
  for (let i = 0; i < HASH_BYTES; i++) {
    const byte = bytes[i]!;
    hexScratch[2 * i] = HEX_HIGH[byte]!;
    hexScratch[2 * i + 1] = HEX_LOW[byte]!;
  }
  return hexScratch.toString('latin1', 0, HASH_HEX_CHARS);
}

function hashWasm(bytes: Uint8Array): Hash {
  wasmHasher.init();
  wasmHasher.update(bytes);
  return bytesToHex(wasmHasher.digest('binary')) as Hash;
}

/** BLAKE3-256 of `bytes`. Does not retain `bytes`. */
export function hashOf(bytes: Uint8Array): Hash {
  if (native !== undefined && bytes.byteLength >= HASH_NATIVE_MIN_BYTES) return native.blake3(bytes).toString('hex') as Hash;
  return hashWasm(bytes);
}

/** Hash computed by one specific backend; for tests that check both against the vectors. */
export function hashOfWith(backend: 'wasm' | 'native', bytes: Uint8Array): Hash {
  if (backend === 'wasm') return hashWasm(bytes);
  if (native === undefined) throw new InvalidArgumentError('no native BLAKE3 binding on this platform');
  return native.blake3(bytes).toString('hex') as Hash;
}

/** Streams into the native hasher where there is one. */
interface StreamingBackend {
  update(chunk: Uint8Array): unknown;
  digest(): Hash;
}

// Without a native binding, streams share the one WebAssembly instance by saving and
// restoring each stream's state around every call (all synchronous, so no interleaving).
function newWasmStream(): StreamingBackend {
  wasmHasher.init();
  let state = wasmHasher.save();
  return {
    update(chunk) {
      wasmHasher.load(state);
      wasmHasher.update(chunk);
      state = wasmHasher.save();
    },
    digest() {
      wasmHasher.load(state);
      return bytesToHex(wasmHasher.digest('binary')) as Hash;
    },
  };
}

function newStreamingBackend(choice: 'auto' | 'wasm'): StreamingBackend {
  if (native === undefined || choice === 'wasm') return newWasmStream();
  const hasher = new native.Blake3Hasher();
  return {
    update: (chunk) => hasher.update(chunk),
    digest: () => hasher.digestBuffer().subarray(0, HASH_BYTES).toString('hex') as Hash,
  };
}

/**
 * Streaming BLAKE3-256 for values that arrive in chunks (blob uploads, files).
 * `update` copies nothing it keeps: chunks may be reused by the caller after it returns.
 */
export class Hasher {
  private readonly backend: StreamingBackend;
  private bytesSeen = 0;
  private done = false;

  /** `backend: 'wasm'` forces the WebAssembly path (tests use it to cover the fallback). */
  constructor(backend: 'auto' | 'wasm' = 'auto') {
    this.backend = newStreamingBackend(backend);
  }

  update(chunk: Uint8Array): this {
    if (this.done) throw new InvalidArgumentError('Hasher.update after digest: create a new Hasher');
    this.backend.update(chunk);
    this.bytesSeen += chunk.byteLength;
    return this;
  }

  get byteLength(): number {
    return this.bytesSeen;
  }

  digest(): Hash {
    if (this.done) throw new InvalidArgumentError('Hasher.digest called twice: create a new Hasher');
    this.done = true;
    return this.backend.digest();
  }
}

/** Parses 64 hex characters (either case). Throws InvalidArgumentError naming the problem. */
export function parseHash(text: string): Hash {
  const lower = text.toLowerCase();
  if (!HEX_PATTERN.test(lower)) {
    throw new InvalidArgumentError(
      `not a BLAKE3-256 hash: expected ${HASH_HEX_CHARS} hex characters, got ${JSON.stringify(text.slice(0, 80))}`,
    );
  }
  return lower as Hash;
}

export function isHash(text: string): text is Hash {
  return HEX_PATTERN.test(text);
}

/** Parses the 32 raw bytes carried on the wire. */
export function hashFromBytes(bytes: Uint8Array): Hash {
  if (bytes.byteLength !== HASH_BYTES) {
    throw new InvalidArgumentError(`hash must be ${HASH_BYTES} bytes, got ${bytes.byteLength}`);
  }
  return bytesToHex(bytes) as Hash;
}

/** The 32 raw bytes of `hash`, for the wire. Returns a new Buffer owned by the caller. */
export function hashToBytes(hash: Hash): Buffer {
  return Buffer.from(hash, 'hex');
}

export function matchesHash(bytes: Uint8Array, hash: Hash): boolean {
  return hashOf(bytes) === hash;
}

/** Throws CorruptError when `bytes` do not hash to `hash`; `where` names the source. */
export function verifyHash(bytes: Uint8Array, hash: Hash, where: string): void {
  const actual = hashOf(bytes);
  if (actual !== hash) {
    throw new CorruptError(`${where}: content hash mismatch: expected ${hash}, got ${actual} (${bytes.byteLength} bytes)`);
  }
}
