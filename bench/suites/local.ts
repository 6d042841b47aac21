// Suite `local`: the Local cache (issue 6, "Figures to reach").
//
// - hit_per_s: `Local.getCached` of one cached key with a 1 KiB value, in-process, the lease
//   held; lru_raw_get_per_s: the same lookup on a bare lru-cache configured like the Local's
//   (byte budget, size calculation), in the same run, same loop.
// - hit_per_s_zipf / lru_raw_get_per_s_zipf: the same two lookups over ZIPF_KEYS cached keys of
//   256 B, in a Zipf(0.99) key order (one precomputed sequence, the same for both sides): the
//   Local's side checks its lease on every hit (one load of the time word, lease-clock.ts).
//   On both sides the keys looked up are other string objects than the keys stored, as with
//   keys that arrive from the network or are built by the caller: a lookup then compares
//   characters. (A bare lru-cache holding the very objects it is asked for compares pointers
//   only, a best case no cache filled from Global can be in.)
// - hit_vs_raw / hit_vs_raw_zipf: the median over run pairs of hit/raw (each pair measured back
//   to back), the figure the 0.9x target is checked on.
// - miss_p50_ms: `Local.get` of a key not cached (4 KiB value) from a 3-replica Global, one
//   at a time; each key is read once.
// - invalidation_p99_ms: a DEL issued on one Local until the binding is gone at 8 other
//   Locals (all in this process, each with its own stream), per DEL, over many DELs.
// - strict_put_p50_ms / strict_put_p99_ms: a put (from a Global client) to a key that 8 Locals
//   hold in coherence mode 'strict' (each has it cached before the put): the write waits for
//   every holder's ack (docs/coherence.md). put_p50_ms: the same put to a key no Local holds,
//   in the same run on the same cluster (replicas started with --holder-lease-ms).
// - node_shared_copies: 8 worker processes attached to one Local read the same 64 MiB blob;
//   copies of it held in the node (the Local's cache plus every worker's own cache).
//
// Global is 3 replica processes (fsync on, loopback), as a node's Local would reach it;
// the Locals and this driver share one process. Each hit-path run is a fresh process (see
// measureHitsIn).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LRUCache } from 'lru-cache';
import { ENTRY_OVERHEAD_BYTES } from '../../src/local/cache/cache.ts';
import { GlobalClient } from '../../src/local/client/client.ts';
import { Local, LOCAL_DEFAULTS } from '../../src/local/local.ts';
import { LocalServer } from '../../src/local/node/local-server.ts';
import { startCluster, type BenchCluster } from '../global/cluster.ts';
import { REPLICA_NODE_FLAGS } from '../../src/global/replica/replica-node-flags.ts';
import { RUNS_MIN, nowNs, percentile, repeat, report, secondsSince, type MetricRuns } from '../harness.ts';

const HIT_RUN_SECONDS = 1;
// Both sides are measured in steady state: after one warm-up call, the next often runs in code
// V8 compiled on-stack (OSR) for its outer loop, where the inlining budget runs out before
// lru-cache's private #get (docs/local.md); after a few calls the loop function itself is
// optimized, as a long-running worker's would be.
const WARMUP_CALLS = 3;
// Lookups between two yields to the event loop. A Local's lease is renewed by probe answers,
// which arrive only when its thread yields: a loop that never yields for longer than the lease
// stops hitting (docs/coherence.md). Both sides yield alike.
const BATCH_CALLS = 100_000;
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const WARMUP_SECONDS = 0.3;
const MISS_KEYS_PER_RUN = 300;
const INVALIDATION_DELS_PER_RUN = 200;
const OTHER_LOCALS = 8;
const SHARED_BLOB_BYTES = 64 * 1024 * 1024;
const WORKERS = 8;

const ZIPF_KEYS = 100_000;
const ZIPF_EXPONENT = 0.99;
const ZIPF_SEQUENCE_LENGTH = 1 << 20;
const ZIPF_FILL_IN_FLIGHT = 512;

const oneKiB = new Uint8Array(1024).map((_, i) => i % 251);
const value256 = new Uint8Array(256).map((_, i) => (i * 7) % 253);
const zipfKey = (i: number): string => `bench/zipf/${i}`;
const fourKiB = new Uint8Array(4096).map((_, i) => i % 241);

async function untilLease(local: Local): Promise<void> {
  if (!(await local.ready(10_000))) throw new Error(`the Local did not get its lease: ${local.streamStatus.reason}`);
}

// Two copies of one loop, so each call site sees one function (a shared loop taking the
// lookup as an argument would make both sides pay for a polymorphic call).
async function timedLocalHits(local: Local, key: string, seconds: number): Promise<number> {
  let calls = 0;
  const start = nowNs();
  let elapsed = 0;
  do {
    for (let i = 0; i < BATCH_CALLS; i++) if (local.getCached(key) === undefined) throw new Error('lookup missed');
    calls += BATCH_CALLS;
    await yieldToEventLoop();
    elapsed = secondsSince(start);
  } while (elapsed < seconds);
  return calls / elapsed;
}

async function timedRawHits(raw: LRUCache<string, Uint8Array>, key: string, seconds: number): Promise<number> {
  let calls = 0;
  const start = nowNs();
  let elapsed = 0;
  do {
    for (let i = 0; i < BATCH_CALLS; i++) if (raw.get(key) === undefined) throw new Error('lookup missed');
    calls += BATCH_CALLS;
    await yieldToEventLoop();
    elapsed = secondsSince(start);
  } while (elapsed < seconds);
  return calls / elapsed;
}

/** Key indices in [0, n) with P(i) proportional to 1 / (i + 1)^s, from a fixed seed. */
function zipfSequence(n: number, s: number, length: number): Int32Array {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) cdf[i] = total += 1 / Math.pow(i + 1, s);
  let seed = 0x9e3779b9;
  const out = new Int32Array(length);
  for (let j = 0; j < length; j++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0; // LCG: fixed, same for both sides
    const u = (seed / 2 ** 32) * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    out[j] = lo;
  }
  return out;
}

async function timedLocalZipf(local: Local, keys: readonly string[], order: Int32Array, seconds: number): Promise<number> {
  let calls = 0;
  let at = 0;
  const start = nowNs();
  let elapsed = 0;
  do {
    for (let i = 0; i < BATCH_CALLS; i++) {
      if (local.getCached(keys[order[at]!]!) === undefined) throw new Error('lookup missed');
      at = (at + 1) & (ZIPF_SEQUENCE_LENGTH - 1);
    }
    calls += BATCH_CALLS;
    await yieldToEventLoop();
    elapsed = secondsSince(start);
  } while (elapsed < seconds);
  return calls / elapsed;
}

async function timedRawZipf(raw: LRUCache<string, Uint8Array>, keys: readonly string[], order: Int32Array, seconds: number): Promise<number> {
  let calls = 0;
  let at = 0;
  const start = nowNs();
  let elapsed = 0;
  do {
    for (let i = 0; i < BATCH_CALLS; i++) {
      if (raw.get(keys[order[at]!]!) === undefined) throw new Error('lookup missed');
      at = (at + 1) & (ZIPF_SEQUENCE_LENGTH - 1);
    }
    calls += BATCH_CALLS;
    await yieldToEventLoop();
    elapsed = secondsSince(start);
  } while (elapsed < seconds);
  return calls / elapsed;
}

/** Binds the Zipf keys in Global (once per bench run). */
async function loadZipfKeys(cluster: BenchCluster): Promise<void> {
  const writer = new GlobalClient({ addresses: cluster.addresses });
  const perTxn = 1000;
  const txns: Promise<unknown>[] = [];
  for (let first = 0; first < ZIPF_KEYS; first += perTxn) {
    const success = Array.from({ length: Math.min(perTxn, ZIPF_KEYS - first) }, (_, i) => ({ kind: 'put' as const, key: zipfKey(first + i), value: value256 }));
    txns.push(writer.txn({ success }));
    if (txns.length >= 8) await Promise.all(txns.splice(0));
  }
  await Promise.all(txns);
  await writer.close();
}

async function measureZipfHere(kind: string, global: string): Promise<number> {
  const keys = Array.from({ length: ZIPF_KEYS }, (_, i) => zipfKey(i));
  const order = zipfSequence(ZIPF_KEYS, ZIPF_EXPONENT, ZIPF_SEQUENCE_LENGTH);
  if (kind === 'raw-zipf') {
    const raw = new LRUCache<string, Uint8Array>({ maxSize: LOCAL_DEFAULTS.cacheBytesMax, sizeCalculation: (v, k) => ENTRY_OVERHEAD_BYTES + v.byteLength + 2 * k.length });
    for (let i = 0; i < ZIPF_KEYS; i++) raw.set(zipfKey(i), value256.slice()); // other objects than `keys`, see the header
    for (let i = 0; i < WARMUP_CALLS; i++) await timedRawZipf(raw, keys, order, WARMUP_SECONDS);
    return timedRawZipf(raw, keys, order, HIT_RUN_SECONDS);
  }
  const local = Local.open({ global: [global] });
  await untilLease(local);
  for (let first = 0; first < ZIPF_KEYS; first += ZIPF_FILL_IN_FLIGHT) {
    await Promise.all(keys.slice(first, first + ZIPF_FILL_IN_FLIGHT).map((k) => local.get(k)));
  }
  for (const key of keys) if (local.getCached(key) === undefined) throw new Error(`${key} is not cached`);
  for (let i = 0; i < WARMUP_CALLS; i++) await timedLocalZipf(local, keys, order, WARMUP_SECONDS);
  const perS = await timedLocalZipf(local, keys, order, HIT_RUN_SECONDS);
  await local.close();
  return perS;
}

/**
 * One hit-path measurement in a fresh process (`--measure local|raw`), so neither side
 * inherits the other's JIT state in lru-cache's shared code (that swings either figure by 2x).
 */
async function measureHitsIn(kind: 'local' | 'raw' | 'local-zipf' | 'raw-zipf', global: string): Promise<number> {
  const self = fileURLToPath(import.meta.url);
  return new Promise<number>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', self, '--measure', kind, global], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(Number(out.trim())) : reject(new Error(`hit measurement (${kind}) exited ${code}`))));
  });
}

async function measureHitsHere(kind: string, global: string): Promise<number> {
  if (kind.endsWith('-zipf')) return measureZipfHere(kind, global);
  if (kind === 'raw') {
    const raw = new LRUCache<string, Uint8Array>({ maxSize: LOCAL_DEFAULTS.cacheBytesMax, sizeCalculation: (v, k) => ENTRY_OVERHEAD_BYTES + v.byteLength + 2 * k.length });
    raw.set('bench/hit', oneKiB);
    for (let i = 0; i < WARMUP_CALLS; i++) await timedRawHits(raw, 'bench/hit', WARMUP_SECONDS);
    return timedRawHits(raw, 'bench/hit', HIT_RUN_SECONDS);
  }
  const local = Local.open({ global: [global] });
  await untilLease(local);
  await local.set('bench/hit', oneKiB).catch(() => local.get('bench/hit'));
  if (local.getCached('bench/hit') === undefined) throw new Error('the key is not cached');
  for (let i = 0; i < WARMUP_CALLS; i++) await timedLocalHits(local, 'bench/hit', WARMUP_SECONDS);
  const perS = await timedLocalHits(local, 'bench/hit', HIT_RUN_SECONDS);
  await local.close();
  return perS;
}

/**
 * hit/raw of each run pair. The two sides of a pair run back to back, so a machine that drifts
 * (shared, 1.5x from one hour to the next) moves both alike: the median of the pair ratios is
 * steadier than the ratio of the two medians.
 */
function pairedRatios({ hit, raw }: { hit: number[]; raw: number[] }): number[] {
  return hit.map((h, i) => h / raw[i]!);
}

async function hitPath(global: string, zipf: boolean): Promise<{ hit: number[]; raw: number[] }> {
  const hit: number[] = [];
  const raw: number[] = [];
  for (let run = 0; run < RUNS_MIN + 4; run++) {
    hit.push(await measureHitsIn(zipf ? 'local-zipf' : 'local', global));
    raw.push(await measureHitsIn(zipf ? 'raw-zipf' : 'raw', global));
  }
  return { hit, raw };
}

const medianOf = (runs: number[]): number => runs.slice().sort((a, b) => a - b)[runs.length >> 1] ?? 0;

async function missLatency(cluster: BenchCluster, run: number): Promise<number> {
  const writer = new GlobalClient({ addresses: cluster.addresses });
  const keys = Array.from({ length: MISS_KEYS_PER_RUN }, (_, i) => `bench/miss/${run}/${i}`);
  await Promise.all(keys.map((k) => writer.set(k, fourKiB)));
  await writer.close();
  const local = Local.open({ global: cluster.addresses });
  await local.get(keys[0]!); // connect first: the figure is a miss, not a connection set-up
  const ms: number[] = [];
  for (const key of keys.slice(1)) {
    const start = nowNs();
    const got = await local.get(key);
    ms.push(Number(nowNs() - start) / 1e6);
    if (got?.source !== 'global') throw new Error('expected a miss');
  }
  await local.close();
  return percentile(ms, 50);
}

async function invalidationP99(cluster: BenchCluster, run: number): Promise<number> {
  const open = (): Local => Local.open({ global: cluster.addresses });
  const writer = open();
  const others = Array.from({ length: OTHER_LOCALS }, open);
  await Promise.all([writer, ...others].map(untilLease));
  const ms: number[] = [];
  for (let i = 0; i < INVALIDATION_DELS_PER_RUN; i++) {
    const key = `bench/inv/${run}/${i}`;
    await writer.set(key, oneKiB);
    await Promise.all(others.map((o) => o.get(key)));
    let pending = OTHER_LOCALS;
    let startNs = 0n;
    const done = new Promise<number>((resolve) => {
      const stops = others.map((o) =>
        o.watch(key, (e) => {
          if (e.type !== 'delete' || o.held(key) !== null) return;
          if (--pending === 0) {
            for (const stop of stops) stop();
            resolve(Number(nowNs() - startNs) / 1e6);
          }
        }),
      );
    });
    startNs = nowNs();
    await writer.del(key);
    ms.push(await done);
  }
  await Promise.all([writer, ...others].map((l) => l.close()));
  return percentile(ms, 99);
}

const HOLDER_LEASE_MS = 1000;
const STRICT_PREFIX = 'bench/strict/';
const PUTS_PER_RUN = 200;

/** Put latencies (ms) of `puts` keys, each first read (and cached) by every Local in `readers`. */
async function putLatencies(cluster: BenchCluster, prefix: string, readers: readonly Local[], run: number): Promise<number[]> {
  const writer = new GlobalClient({ addresses: cluster.addresses });
  const ms: number[] = [];
  for (let i = -1; i < PUTS_PER_RUN; i++) {
    const key = `${prefix}${run}/${i}`;
    await writer.txn({ success: [{ kind: 'put', key, value: oneKiB }] });
    await Promise.all(readers.map((r) => r.get(key)));
    const start = nowNs();
    await writer.txn({ success: [{ kind: 'put', key, value: oneKiB }] });
    if (i >= 0) ms.push(Number(nowNs() - start) / 1e6); // i = -1 connects the writer first
  }
  await writer.close();
  return ms;
}

/** p50 and p99 of puts to strict keys held by OTHER_LOCALS Locals; p50 of puts nobody holds. */
async function strictPuts(cluster: BenchCluster, run: number): Promise<{ strictP50: number; strictP99: number; plainP50: number }> {
  const holders = Array.from({ length: OTHER_LOCALS }, () => Local.open({ global: cluster.addresses, coherenceByPrefix: { [STRICT_PREFIX]: 'strict' } }));
  for (const h of holders) if (!(await h.ready(10_000))) throw new Error(`a strict Local did not get its lease and hold: ${JSON.stringify(h.stats().strictHold)}`);
  const strict = await putLatencies(cluster, STRICT_PREFIX, holders, run);
  const plain = await putLatencies(cluster, 'bench/put/', [], run);
  await Promise.all(holders.map((h) => h.close()));
  return { strictP50: percentile(strict, 50), strictP99: percentile(strict, 99), plainP50: percentile(plain, 50) };
}

const WORKER_SCRIPT = `
import { attach } from './src/local/node/attach.ts';
const local = await attach(process.argv[1]);
const bytes = await local.getBlob(process.argv[2]);
if (bytes.byteLength !== ${SHARED_BLOB_BYTES}) throw new Error('short blob');
console.log(JSON.stringify(local.stats()));
await local.close();
`;

async function sharedCopies(cluster: BenchCluster): Promise<number> {
  const blob = new Uint8Array(SHARED_BLOB_BYTES).map((_, i) => (i * 31) % 256);
  const writer = new GlobalClient({ addresses: cluster.addresses });
  const { hash } = await writer.putBlob(blob);
  await writer.close();
  const local = Local.open({ global: cluster.addresses });
  const server = await LocalServer.listen(local, '127.0.0.1:0');
  const stats = await Promise.all(
    Array.from({ length: WORKERS }, () =>
      new Promise<{ blobs: number }>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', WORKER_SCRIPT, server.address, hash], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as { blobs: number }) : reject(new Error(`worker exited ${code}`))));
      }),
    ),
  );
  const copies = (local.hasBlob(hash) ? 1 : 0) + stats.reduce((n, s) => n + s.blobs, 0);
  await server.stop();
  await local.close();
  return copies;
}

const measureAt = process.argv.indexOf('--measure');
if (measureAt !== -1) {
  console.log(await measureHitsHere(process.argv[measureAt + 1] ?? '', process.argv[measureAt + 2] ?? ''));
  process.exit(0);
}

const cluster = await startCluster(3, ['--holder-lease-ms', String(HOLDER_LEASE_MS)]);
const hits = await hitPath(cluster.addresses[0]!, false);
await loadZipfKeys(cluster);
const zipfHits = await hitPath(cluster.addresses[0]!, true);
const strictRuns: { strictP50: number; strictP99: number; plainP50: number }[] = [];
for (let run = 0; run < RUNS_MIN; run++) strictRuns.push(await strictPuts(cluster, run));
const metrics: Record<string, MetricRuns> = {
  hit_per_s: { runs: hits.hit, unit: 'gets/s', target: { atLeast: Math.max(3_000_000, 0.9 * medianOf(hits.raw)) } },
  lru_raw_get_per_s: { runs: hits.raw, unit: 'gets/s' },
  hit_per_s_zipf: { runs: zipfHits.hit, unit: 'gets/s', target: { atLeast: 0.9 * medianOf(zipfHits.raw) } },
  lru_raw_get_per_s_zipf: { runs: zipfHits.raw, unit: 'gets/s' },
  hit_vs_raw: { runs: pairedRatios(hits), unit: 'x', target: { atLeast: 0.9 } },
  hit_vs_raw_zipf: { runs: pairedRatios(zipfHits), unit: 'x', target: { atLeast: 0.9 } },
  miss_p50_ms: { runs: await repeat(RUNS_MIN, (run) => missLatency(cluster, run), false), unit: 'ms', target: { atMost: 0.5 } },
  invalidation_p99_ms: { runs: await repeat(RUNS_MIN, (run) => invalidationP99(cluster, run), false), unit: 'ms', target: { atMost: 2 } },
  strict_put_p50_ms: { runs: strictRuns.map((r) => r.strictP50), unit: 'ms' },
  strict_put_p99_ms: { runs: strictRuns.map((r) => r.strictP99), unit: 'ms' },
  put_p50_ms: { runs: strictRuns.map((r) => r.plainP50), unit: 'ms' },
  node_shared_copies: { runs: await repeat(RUNS_MIN, () => sharedCopies(cluster), false), unit: 'copies', target: { atMost: 1 } },
};
await cluster.stop();
report('local', metrics, { replicas: 3, global: 'one process per replica, fsync on', replicaNodeFlags: REPLICA_NODE_FLAGS.join(' '), otherLocals: OTHER_LOCALS, strictHolders: OTHER_LOCALS, holderLeaseMs: HOLDER_LEASE_MS, workers: WORKERS, valueBytes: { hit: 1024, zipf: 256, miss: 4096 }, zipf: { keys: ZIPF_KEYS, exponent: ZIPF_EXPONENT } });
process.exit(0);
