// The consensus core's clock: one tick per whole tickMs since start, on the monotonic clock
// (docs/consensus.md, "Time and the lease"). A timer only says when to look; the clock says
// how many ticks are due, so a stalled event loop (GC, a long synchronous step, a paused VM or
// process) resumes with every tick it missed instead of one.

import type { Clock, Timer } from '../../protocol/backoff.ts';

export class Ticks {
  private timer: Timer | null = null;
  private stopped = false;
  /** `clock.nowMs()` at start: ticks count whole tickMs from here. */
  private epochMs = 0;
  /** Ticks since start accounted for (fed to the core, or skipped in a capped burst). */
  private counted = 0;

  /** `onTicks` is handed the ticks due since the last call (Replica.tick). */
  constructor(
    private readonly clock: Clock,
    private readonly tickMs: number,
    private readonly onTicks: (missed: number) => void,
  ) {}

  start(): void {
    this.epochMs = this.clock.nowMs();
    const tick = (): void => {
      if (this.stopped) return;
      this.catchUp();
      // Aimed at the next tick boundary on the monotonic clock, so lateness does not add up.
      const nextMs = this.epochMs + (this.counted + 1) * this.tickMs;
      this.timer = this.clock.setTimer(tick, Math.max(1, nextMs - this.clock.nowMs()), false);
    };
    this.timer = this.clock.setTimer(tick, this.tickMs, false);
  }

  /**
   * Brings the core's tick count up to the clock. Called before anything that depends on
   * time: each timer, each lease read, `hasLiveLeader`. The core's lease counts every missed
   * tick; its election and check-quorum timers count one per call, so a stall reads the
   * messages queued meanwhile before it can look like silence (replica.ts, `tick`).
   */
  catchUp(): void {
    if (this.stopped || this.timer === null) return;
    const due = Math.floor((this.clock.nowMs() - this.epochMs) / this.tickMs);
    const missed = due - this.counted;
    if (missed <= 0) return;
    this.counted = due;
    this.onTicks(missed);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }
}
