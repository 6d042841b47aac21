// Time, randomness and retry delays, shared by the Global client and the replica driver.
//
// The client never reads the wall clock or Math.random directly: it is handed a `Clock` and
// a `Random`, so tests drive retries and deadlines deterministically (a fake clock whose
// timers fire only when the test advances it, a seeded random). `Backoff` is a small pure
// class: it computes the next delay and remembers how many it has handed out; it schedules
// nothing itself.

import { checkInteger } from './config-check.ts';
import { InvalidArgumentError } from './errors.ts';

/** A scheduled callback; `cancel` is idempotent and safe after the timer fired. */
export interface Timer {
  cancel(): void;
}

/** Monotonic time and timers. */
export interface Clock {
  /** Milliseconds on a monotonic scale (not wall-clock time); only differences matter. */
  nowMs(): number;
  /**
   * Calls `callback` once after `delayMs`. `keepAlive: false` lets the process exit while the
   * timer is pending (for housekeeping timers that never carry a caller's outcome).
   */
  setTimer(callback: () => void, delayMs: number, keepAlive: boolean): Timer;
  /**
   * A word that always holds the current time on this clock's scale, for hot paths that check
   * a deadline with one memory load (a test clock updates it as it advances). Clocks without
   * one are served by the system's monotonic time word (src/local/cache/lease-clock.ts).
   */
  readonly timeWord?: Float64Array;
}

/** Uniform randomness in [0, 1). */
export interface Random {
  next(): number;
}

export const systemClock: Clock = {
  nowMs: () => performance.now(),
  setTimer(callback, delayMs, keepAlive) {
    const handle = setTimeout(callback, delayMs);
    if (!keepAlive) handle.unref();
    return { cancel: () => clearTimeout(handle) };
  },
};

export const systemRandom: Random = { next: () => Math.random() };

export interface BackoffConfig {
  /** Upper bound of the first delay. */
  readonly backoffInitialMs: number;
  /** Upper bound of every delay; the bound doubles per attempt until it reaches this. */
  readonly backoffMaxMs: number;
}

export const BACKOFF_DEFAULTS: BackoffConfig = { backoffInitialMs: 25, backoffMaxMs: 1000 };

/** Longest backoff delay accepted in a configuration: ten minutes. */
export const BACKOFF_MS_LIMIT = 600_000;

/** Throws InvalidArgumentError naming the first bad field. */
export function checkBackoffConfig(config: BackoffConfig): void {
  checkInteger('backoffInitialMs', config.backoffInitialMs, 1, BACKOFF_MS_LIMIT);
  checkInteger('backoffMaxMs', config.backoffMaxMs, 1, BACKOFF_MS_LIMIT);
  if (config.backoffMaxMs < config.backoffInitialMs) {
    throw new InvalidArgumentError(
      `backoffMaxMs (${config.backoffMaxMs}) must be >= backoffInitialMs (${config.backoffInitialMs})`,
    );
  }
}

/**
 * Exponential backoff with "equal jitter": attempt n (from 0) waits a delay drawn uniformly
 * from [bound/2, bound) where bound = min(backoffMaxMs, backoffInitialMs * 2^n). The lower
 * half keeps retries from hammering a replica; the random half spreads clients apart so they
 * do not retry in lockstep after a leader change.
 */
export class Backoff {
  private attempt = 0;

  /** `config` must have passed checkBackoffConfig. */
  constructor(
    private readonly config: BackoffConfig,
    private readonly random: Random,
  ) {}

  /** How many delays were handed out since construction or the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  /** The delay before the next retry, in whole milliseconds (at least 1). */
  nextDelayMs(): number {
    const exponent = Math.min(this.attempt, 30); // 2^30 * 1 ms is far above any bound
    this.attempt++;
    const boundMs = Math.min(this.config.backoffMaxMs, this.config.backoffInitialMs * 2 ** exponent);
    const r = this.random.next();
    const delayMs = Math.floor(boundMs / 2 + (r * boundMs) / 2);
    return Math.max(1, Math.min(delayMs, this.config.backoffMaxMs));
  }

  /** Starts over from the initial delay (after a success). */
  reset(): void {
    this.attempt = 0;
  }
}
