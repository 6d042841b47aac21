// Waiting for a monotonic counter (applied instance, applied revision) to reach a value:
// linearizable reads wait for their read point to be applied, `minRevision` reads for a
// revision. Waiters are kept sorted by target so each advance resolves a prefix.

import type { Clock, Timer } from '../../protocol/backoff.ts';
import { ClosedError, UnavailableError } from '../../protocol/errors.ts';

interface Waiter {
  readonly target: number;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
  timer: Timer | null;
}

export class ProgressWaiters {
  private waiters: Waiter[] = [];
  private current = 0;

  /** `what` names the counter in timeout messages ("applied revision"). */
  constructor(
    private readonly what: string,
    private readonly clock: Clock,
  ) {}

  get value(): number {
    return this.current;
  }

  /** Resolves once the counter is >= target; rejects with UnavailableError after `timeoutMs`. */
  wait(target: number, timeoutMs: number): Promise<void> {
    if (this.current >= target) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { target, resolve, reject, timer: null };
      waiter.timer = this.clock.setTimer(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new UnavailableError(`timed out after ${timeoutMs} ms waiting for ${this.what} ${target} (at ${this.current}): this replica is behind or cut off; retry or ask another replica`));
      }, timeoutMs, true);
      let i = this.waiters.length;
      while (i > 0 && this.waiters[i - 1]!.target > target) i--;
      this.waiters.splice(i, 0, waiter);
    });
  }

  /** The counter moved to `value` (never backwards). */
  advance(value: number): void {
    if (value < this.current) return;
    this.current = value;
    let n = 0;
    while (n < this.waiters.length && this.waiters[n]!.target <= value) n++;
    if (n === 0) return;
    const done = this.waiters.splice(0, n);
    for (const w of done) {
      w.timer?.cancel();
      w.resolve();
    }
  }

  /** Sets the counter without waking anyone up (after a snapshot install it may go back). */
  reset(value: number): void {
    this.current = value;
    this.advance(value);
  }

  close(): void {
    const all = this.waiters;
    this.waiters = [];
    for (const w of all) {
      w.timer?.cancel();
      w.reject(new ClosedError(`replica is shutting down while waiting for ${this.what}`));
    }
  }
}
