// Sequential awaited gets of one cached key, the loop behind linked_get_per_s (a linked Local),
// attached_hit_per_s (a worker process attached to a node's Local) and
// attached_thread_hit_per_s (a worker thread attached to it): bench/suites/local.ts. Run as a
// worker thread (workerData.benchAttachedGets), it attaches and posts its figure.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { DstoreApi, LocalStats } from '../../src/local/local.ts';
import { attach } from '../../src/local/node/attach.ts';
import { nowNs, secondsSince } from '../harness.ts';

export const GETS_KEY = 'bench/gets';
export const GETS_VALUE = new Uint8Array(256).map((_, i) => (i * 7) % 253);
export const GETS_RUN_SECONDS = 1;
const WARMUP_CALLS = 3;
const WARMUP_SECONDS = 0.3;
// Gets between two yields to the event loop: the lease is renewed by probe answers, which
// arrive only when the thread yields (docs/coherence.md).
const BATCH_CALLS = 10_000;
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function timedGets(api: DstoreApi, key: string, seconds: number): Promise<number> {
  let gets = 0;
  const start = nowNs();
  do {
    for (let i = 0; i < BATCH_CALLS; i++) await api.get(key);
    gets += BATCH_CALLS;
    await yieldToEventLoop();
  } while (secondsSince(start) < seconds);
  return gets / secondsSince(start);
}

/**
 * Gets/s of `await api.get(key)` once the key is cached and the lease held, in steady state
 * (after WARMUP_CALLS calls of the loop). Throws when more than 1 % of the measured gets were
 * misses: the figure is of cached reads.
 */
export async function measureGets(api: DstoreApi & { stats(): LocalStats }, key: string = GETS_KEY): Promise<number> {
  if (!(await api.ready(10_000))) throw new Error('no lease within 10 s');
  await api.get(key);
  if (api.getCached(key) === undefined) throw new Error(`${key} is not cached`);
  for (let i = 0; i < WARMUP_CALLS; i++) await timedGets(api, key, WARMUP_SECONDS);
  const missesBefore = api.stats().misses;
  const start = nowNs();
  const perS = await timedGets(api, key, GETS_RUN_SECONDS);
  const misses = api.stats().misses - missesBefore;
  if (misses > 0.01 * perS * secondsSince(start)) throw new Error(`${misses} of the measured gets missed: not a hit figure`);
  return perS;
}

if (!isMainThread && (workerData as { benchAttachedGets?: string } | null)?.benchAttachedGets !== undefined) {
  const worker = await attach((workerData as { benchAttachedGets: string }).benchAttachedGets);
  const perS = await measureGets(worker);
  await worker.close();
  parentPort!.postMessage(perS);
}
