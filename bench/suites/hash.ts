// Suite `hash`: BLAKE3-256 throughput through our own API (src/protocol/hash.ts), so the
// numbers include the backend choice and the hex conversion every caller pays.
import { HASH_NATIVE_MIN_BYTES, Hasher, hashOf, nativeHashAvailable } from '../../src/protocol/hash.ts';
import { RUNS_MIN, nowNs, repeat, report, secondsSince } from '../harness.ts';

const SMALL_BYTES = 64;
const LARGE_BYTES = 1 << 20;
const RUN_SECONDS = 1;

function timed(bytes: Uint8Array, hash: (b: Uint8Array) => unknown): number {
  let calls = 0;
  const start = nowNs();
  let elapsed = 0;
  do {
    for (let i = 0; i < 256; i++) hash(bytes);
    calls += 256;
    elapsed = secondsSince(start);
  } while (elapsed < RUN_SECONDS);
  return calls / elapsed;
}

const small = new Uint8Array(SMALL_BYTES).map((_, i) => i % 251);
const large = new Uint8Array(LARGE_BYTES).map((_, i) => i % 251);
const streamChunkBytes = 64 * 1024;

const smallPerS = await repeat(RUNS_MIN + 2, () => timed(small, hashOf));
const largeMBps = await repeat(RUNS_MIN + 2, () => (timed(large, hashOf) * LARGE_BYTES) / 1e6);
const streamMBps = await repeat(RUNS_MIN + 2, () =>
  (timed(large, (b) => {
    const h = new Hasher();
    for (let off = 0; off < b.byteLength; off += streamChunkBytes) h.update(b.subarray(off, off + streamChunkBytes));
    return h.digest();
  }) * LARGE_BYTES) / 1e6,
);

report(
  'hash',
  {
    blake3_64B_hashes_per_s: { runs: smallPerS, unit: 'hashes/s', target: { atLeast: 1_500_000 } },
    blake3_1MiB_MBps: { runs: largeMBps, unit: 'MB/s', target: { atLeast: 4000 } },
    blake3_1MiB_streamed_64KiB_chunks_MBps: { runs: streamMBps, unit: 'MB/s' },
  },
  { runSeconds: RUN_SECONDS, nativeMinBytes: HASH_NATIVE_MIN_BYTES, backends: nativeHashAvailable ? 'hash-wasm < nativeMinBytes <= @napi-rs/blake-hash (native)' : 'hash-wasm only (no native binary here)' },
);
