// The `--cluster` parent's supervision of its replica processes (examples/global.ts): a
// replica that exits while the cluster is not stopping is started again on the same data
// directory and command line, after a backoff that doubles from RESTART_DELAY_INITIAL_MS up to
// RESTART_DELAY_MAX_MS and starts over once a replica stayed up RESTART_RESET_AFTER_MS. Each
// restart is said on the console with the command line, so an operator can also run it by
// hand. `stop` ends every replica (SIGTERM, then SIGKILL after a grace) and cancels pending
// restarts. Process spawning and time are injected, so a test can drive it.

import { Backoff, systemClock, systemRandom, type Clock, type Random, type Timer } from '../../protocol/backoff.ts';

export const RESTART_DELAY_INITIAL_MS = 500;
export const RESTART_DELAY_MAX_MS = 30_000;
/** A replica that ran this long before exiting is restarted after the initial delay again. */
export const RESTART_RESET_AFTER_MS = 60_000;
/** The environment variable telling a replica how often it was restarted (Status `restarts`). */
export const RESTARTS_ENV = 'DSTORE_RESTARTS';

/** What the supervisor needs of a child process (node's ChildProcess has it). */
export interface SupervisedProcess {
  readonly pid?: number | undefined;
  kill(signal: NodeJS.Signals): boolean;
  on(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): unknown;
}

export interface SupervisorConfig {
  readonly ids: readonly number[];
  /** The command line of replica `id`: [executable, ...args]. */
  readonly command: (id: number) => readonly string[];
  /** Starts replica `id` with `restarts` restarts so far. */
  readonly spawn: (id: number, restarts: number) => SupervisedProcess;
  /** Where restarts and forced kills are said (the console's stderr). */
  readonly error: (line: string) => void;
  /** How long `stop` waits for a replica to exit after SIGTERM before SIGKILL. */
  readonly stopGraceMs: number;
  readonly clock?: Clock;
  readonly random?: Random;
}

interface Replica {
  process: SupervisedProcess | null;
  startedMs: number;
  restarts: number;
  readonly backoff: Backoff;
  restartTimer: Timer | null;
}

export class Supervisor {
  private readonly replicas = new Map<number, Replica>();
  private readonly clock: Clock;
  private stopping = false;
  private killTimer: Timer | null = null;
  private readonly stopWaiters: (() => void)[] = [];

  constructor(private readonly config: SupervisorConfig) {
    this.clock = config.clock ?? systemClock;
    const random = config.random ?? systemRandom;
    for (const id of config.ids) {
      this.replicas.set(id, { process: null, startedMs: 0, restarts: 0, backoff: new Backoff({ backoffInitialMs: RESTART_DELAY_INITIAL_MS, backoffMaxMs: RESTART_DELAY_MAX_MS }, random), restartTimer: null });
    }
  }

  /** Starts every replica. */
  start(): void {
    for (const id of this.replicas.keys()) this.launch(id);
  }

  /** Restarts of replica `id` so far. */
  restartsOf(id: number): number {
    return this.replicas.get(id)?.restarts ?? 0;
  }

  /** Replicas running now. */
  get running(): number {
    let n = 0;
    for (const r of this.replicas.values()) if (r.process !== null) n++;
    return n;
  }

  /** SIGTERM to every replica (SIGKILL after stopGraceMs); resolves once all exited. */
  stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      for (const r of this.replicas.values()) {
        r.restartTimer?.cancel();
        r.restartTimer = null;
        r.process?.kill('SIGTERM');
      }
      this.killTimer = this.clock.setTimer(() => {
        for (const [id, r] of this.replicas) {
          if (r.process === null) continue;
          this.config.error(`[${id}] did not stop within ${this.config.stopGraceMs} ms: killing it`);
          r.process.kill('SIGKILL');
        }
      }, this.config.stopGraceMs, false);
    }
    const done = new Promise<void>((resolve) => this.stopWaiters.push(resolve));
    this.checkStopped();
    return done;
  }

  private checkStopped(): void {
    if (!this.stopping || this.running > 0) return;
    this.killTimer?.cancel();
    for (const resolve of this.stopWaiters.splice(0)) resolve();
  }

  private launch(id: number): void {
    const r = this.replicas.get(id)!;
    r.restartTimer = null;
    if (this.stopping) return;
    const child = this.config.spawn(id, r.restarts);
    r.process = child;
    r.startedMs = this.clock.nowMs();
    child.on('exit', (code, signal) => {
      r.process = null;
      if (this.stopping) return this.checkStopped();
      const ranMs = this.clock.nowMs() - r.startedMs;
      if (ranMs >= RESTART_RESET_AFTER_MS) r.backoff.reset();
      const delayMs = r.backoff.nextDelayMs();
      r.restarts++;
      this.config.error(`[${id}] exited (${signal ?? `code ${code}`}) after ${Math.round(ranMs)} ms; restart ${r.restarts} in ${delayMs} ms: ${this.config.command(id).join(' ')}`);
      r.restartTimer = this.clock.setTimer(() => this.launch(id), delayMs, false);
    });
  }
}
