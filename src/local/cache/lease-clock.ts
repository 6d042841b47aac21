// A clock the cache's hot path can read for the price of one memory load.
//
// Why: the lease must hold at the moment a binding is served, not only when a timer last ran.
// A worker in a tight `await local.get(k)` loop never yields to timers or I/O, so a lease kept
// by a timer alone stays valid for as long as the loop runs (issue 12, fault 5). Reading the
// monotonic clock on every hit costs about 100 ns in Node (performance.now() crosses into C++),
// ten times a whole cache hit. So a ticker thread writes the monotonic time in milliseconds into
// one word of shared memory every TICK_MS, and the hit path compares that word with the lease's
// end. The ticker runs on its own thread, so it keeps time while the main thread is busy.
//
// The word may trail the true time by TICK_MS plus however long the OS keeps the ticker thread
// off a core; docs/coherence.md counts that in the staleness bound. One ticker serves every
// Local of a thread; it stops when the last one is closed (and never holds the process open).

import { Worker } from 'node:worker_threads';

/** How often the ticker writes the time. */
export const TICK_MS = 1;

/** Milliseconds of the system's monotonic clock (CLOCK_MONOTONIC: the same in every thread). */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint() / 1000n) / 1000;
}

/** A word holding the current monotonic time in ms; `release` when no longer read. */
export interface TimeWord {
  readonly word: Float64Array;
  release(): void;
}

// Runs in the ticker thread (CommonJS, evaluated from this string: no file to resolve).
const TICKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const word = new Float64Array(workerData, 0, 1);
const stop = new Int32Array(workerData, 8, 1);
const now = () => Number(process.hrtime.bigint() / 1000n) / 1000;
while (stop[0] === 0) {
  word[0] = now();
  Atomics.wait(stop, 0, 0, ${TICK_MS});
}
`;

interface Ticker {
  readonly word: Float64Array;
  readonly stop: Int32Array;
  readonly worker: Worker;
  users: number;
}

let ticker: Ticker | null = null;

/** The shared time word, ticking while at least one holder has not released it. */
export function acquireTimeWord(): TimeWord {
  if (ticker === null) {
    const shared = new SharedArrayBuffer(16);
    const word = new Float64Array(shared, 0, 1);
    word[0] = monotonicMs(); // valid before the thread's first tick
    const worker = new Worker(TICKER_SOURCE, { eval: true, workerData: shared });
    worker.unref();
    ticker = { word, stop: new Int32Array(shared, 8, 1), worker, users: 0 };
  }
  const held = ticker;
  held.users++;
  let released = false;
  return {
    word: held.word,
    release: () => {
      if (released) return;
      released = true;
      held.users--;
      if (held.users > 0 || ticker !== held) return;
      ticker = null;
      Atomics.store(held.stop, 0, 1);
      Atomics.notify(held.stop, 0);
    },
  };
}
