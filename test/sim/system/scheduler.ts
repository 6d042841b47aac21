// The whole-system simulation's one scheduler: virtual time, and every timer, I/O completion,
// message delivery and deferred loop step of every simulated process as an event in one queue,
// ordered by (time, sequence). Nothing in the simulated code reads real time or schedules real
// macrotasks: `Scheduler.run` executes one event, then lets the microtasks it started run out
// (one real setImmediate turn, during which nothing else is queued), then takes the next. So a
// seed always produces the same interleaving.
//
// A process (one incarnation of a replica, or a client) owns its events: a crashed process's
// events are dropped, a paused one's are held and run, in order, when it resumes (a frozen
// process while time goes on), and its clock runs at its own rate (drift) from its own origin.

import type { Clock, Timer } from '../../../src/protocol/backoff.ts';

export class SimProcess {
  alive = true;
  paused = false;
  held: SimEvent[] = [];

  constructor(
    readonly name: string,
    /** Virtual time the process started at; its monotonic clock reads 0 then plus `originMs`. */
    readonly startedAtMs: number,
    /** Its clock's rate against true time (1: exact). */
    public rate: number,
    /** Its clock's reading at start (monotonic clocks start anywhere). */
    public originMs: number,
  ) {}
}

interface SimEvent {
  readonly atMs: number;
  readonly seq: number;
  readonly owner: SimProcess | null;
  readonly run: () => void;
  cancelled: boolean;
}

/** Lets every pending microtask run: resolves on the next real macrotask turn. */
function drainMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class Scheduler {
  nowMs = 0;
  private seq = 0;
  private heap: SimEvent[] = [];
  /** Events run so far. */
  steps = 0;
  /** Set by a check that failed: the run stops at the next event. */
  stopped: string | null = null;
  /** Runs after every event and the microtasks it started (the simulation's invariant checks). */
  onStep: () => void = () => undefined;

  /** Runs `run` after `delayMs` of true time on `owner`'s behalf (null: the simulation's own). */
  at(delayMs: number, owner: SimProcess | null, run: () => void): { cancel: () => void } {
    const event: SimEvent = { atMs: this.nowMs + Math.max(0, delayMs), seq: this.seq++, owner, run, cancelled: false };
    this.push(event);
    return { cancel: () => { event.cancelled = true; } };
  }

  /** A process's clock: drifted, from its own origin; timers fire at the true time its rate implies. */
  clockOf(process: SimProcess): Clock {
    return {
      nowMs: () => process.originMs + (this.nowMs - process.startedAtMs) * process.rate,
      setTimer: (callback: () => void, delayMs: number): Timer => this.at(delayMs / process.rate, process, callback),
    };
  }

  /** Freezes `process`: its events wait until `resume`. */
  pause(process: SimProcess): void {
    process.paused = true;
  }

  resume(process: SimProcess): void {
    process.paused = false;
    const held = process.held;
    process.held = [];
    for (const e of held) if (!e.cancelled) this.push({ ...e, atMs: this.nowMs, seq: this.seq++ });
  }

  /** Runs events until time passes `endMs`, `done()` holds or a check stops the run. */
  async run(endMs: number, done: () => boolean = () => false): Promise<void> {
    while (this.stopped === null && !done()) {
      const event = this.pop();
      if (event === undefined) {
        this.nowMs = endMs;
        return;
      }
      if (event.atMs > endMs) {
        this.push(event);
        this.nowMs = endMs;
        return;
      }
      this.nowMs = Math.max(this.nowMs, event.atMs);
      if (event.cancelled) continue;
      const owner = event.owner;
      if (owner !== null) {
        if (!owner.alive) continue;
        if (owner.paused) {
          owner.held.push(event);
          continue;
        }
      }
      this.steps++;
      event.run();
      await drainMicrotasks();
      this.onStep();
    }
  }

  // ---- a binary min-heap on (atMs, seq) ----

  private before(a: SimEvent, b: SimEvent): boolean {
    return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
  }

  private push(event: SimEvent): void {
    const h = this.heap;
    h.push(event);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  private pop(): SimEvent | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.before(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
