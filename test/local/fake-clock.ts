// A Clock whose time moves only when a test advances it, and a seeded Random: retry delays
// and deadlines become exact and repeatable.

import type { Clock, Random, Timer } from '../../src/protocol/backoff.ts';

interface FakeTimer {
  readonly atMs: number;
  readonly delayMs: number;
  readonly keepAlive: boolean;
  readonly callback: () => void;
  cancelled: boolean;
}

export class FakeClock implements Clock {
  private nowValue = 1000;
  private timers: FakeTimer[] = [];
  /** Always holds nowMs() (the Local's hot path reads it). */
  readonly timeWord = new Float64Array([1000]);

  private get now(): number {
    return this.nowValue;
  }

  private set now(ms: number) {
    this.nowValue = ms;
    this.timeWord[0] = ms;
  }

  nowMs(): number {
    return this.now;
  }

  setTimer(callback: () => void, delayMs: number, keepAlive: boolean): Timer {
    const timer: FakeTimer = { atMs: this.now + delayMs, delayMs, keepAlive, callback, cancelled: false };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Delays of the timers pending now, optionally only those that keep a process alive (retries). */
  pending(keepAliveOnly = false): number[] {
    return this.timers.filter((t) => !t.cancelled && (!keepAliveOnly || t.keepAlive)).map((t) => t.delayMs);
  }

  /** Moves time forward by `ms`, firing every due timer in time order. */
  advance(ms: number): void {
    const target = this.now + ms;
    for (;;) {
      const due = this.timers.filter((t) => !t.cancelled && t.atMs <= target).sort((a, b) => a.atMs - b.atMs)[0];
      if (due === undefined) break;
      due.cancelled = true;
      this.now = Math.max(this.now, due.atMs);
      due.callback();
    }
    this.now = target;
    this.timers = this.timers.filter((t) => !t.cancelled);
  }
}

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export class SeededRandom implements Random {
  constructor(private state: number) {}

  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}
