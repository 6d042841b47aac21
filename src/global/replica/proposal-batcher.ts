// DB-level batching (docs/architecture.md): client transactions that arrive while earlier
// proposals are in flight wait here and go out together as one proposal when one of
// those decides. No timer: under light load every command is proposed the moment it
// arrives, so batching adds no latency; under heavy load batches grow by themselves.
//
// The batcher owns the promises of submitted commands. The driver tells it which log
// instance each proposal got (`proposed`) and what was decided there (`decided`); a
// command whose instance decided a different value (leadership moved) is rejected with
// UnavailableError, which clients retry with the same WriteId (exactly-once).

import { assert } from '../../protocol/assert.ts';
import { checkInteger } from '../../protocol/config-check.ts';
import { NotLeaderError, UnavailableError } from '../../protocol/errors.ts';

export interface BatcherConfig {
  /** Proposals in flight before new commands start to queue. */
  readonly proposalsInFlightMax: number;
  readonly batchCommandsMax: number;
  readonly batchBytesMax: number;
  /** Commands queued at most; beyond, submit fails with UnavailableError (back off). */
  readonly queuedCommandsMax: number;
}

export const BATCHER_DEFAULTS: BatcherConfig = Object.freeze({
  proposalsInFlightMax: 2,
  batchCommandsMax: 4096,
  batchBytesMax: 4 * 1024 * 1024,
  queuedCommandsMax: 100_000,
});

/** What proposing a batch did: the instance it went to, or why it could not be proposed. */
export type ProposeOutcome =
  | { readonly outcome: 'proposed'; readonly instance: number }
  | { readonly outcome: 'not-leader'; readonly leaderHint: string }
  | { readonly outcome: 'window-full' };

interface Waiter<R> {
  readonly command: Uint8Array;
  readonly resolve: (result: R) => void;
  readonly reject: (err: Error) => void;
}

/** `R`: what a decided command resolves to (the state machine's result). */
export class ProposalBatcher<R> {
  private queue: Waiter<R>[] = [];
  private readonly inFlight = new Map<number, Waiter<R>[]>();

  /** `propose` hands a batch to consensus synchronously. */
  constructor(
    private readonly propose: (commands: readonly Uint8Array[]) => ProposeOutcome,
    private readonly config: BatcherConfig = BATCHER_DEFAULTS,
  ) {
    checkInteger('proposalsInFlightMax', config.proposalsInFlightMax, 1);
    checkInteger('batchCommandsMax', config.batchCommandsMax, 1);
    checkInteger('batchBytesMax', config.batchBytesMax, 1);
    checkInteger('queuedCommandsMax', config.queuedCommandsMax, 1);
  }

  get queuedCount(): number {
    return this.queue.length;
  }

  get proposalsInFlight(): number {
    return this.inFlight.size;
  }

  /** Resolves with the command's result once its instance is decided and applied. */
  submit(command: Uint8Array): Promise<R> {
    if (this.queue.length >= this.config.queuedCommandsMax) {
      return Promise.reject(new UnavailableError(`leader has ${this.queue.length} commands queued: back off and retry`));
    }
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ command, resolve, reject });
      this.flush();
    });
  }

  /** Proposes queued commands while there is room in flight. Call after decisions too. */
  flush(): void {
    while (this.queue.length > 0 && this.inFlight.size < this.config.proposalsInFlightMax) {
      const batch = this.takeBatch();
      const outcome = this.propose(batch.map((w) => w.command));
      switch (outcome.outcome) {
        case 'proposed':
          assert(!this.inFlight.has(outcome.instance), `instance ${outcome.instance} proposed twice`);
          this.inFlight.set(outcome.instance, batch);
          break;
        case 'window-full':
          this.queue = batch.concat(this.queue);
          return;
        case 'not-leader':
          this.failAll(batch, new NotLeaderError('this replica is no longer the leader', outcome.leaderHint));
          this.failQueued(new NotLeaderError('this replica is no longer the leader', outcome.leaderHint));
          return;
      }
    }
  }

  private takeBatch(): Waiter<R>[] {
    let bytes = 0;
    let count = 0;
    while (count < this.queue.length && count < this.config.batchCommandsMax) {
      const size = this.queue[count]!.command.byteLength;
      if (count > 0 && bytes + size > this.config.batchBytesMax) break;
      bytes += size;
      count++;
    }
    return this.queue.splice(0, count);
  }

  /**
   * Instance `instance` was decided with `commands` and applied with `results` (one per
   * command). Resolves the waiters when it was our proposal, rejects them when another
   * value won the instance; then proposes what queued meanwhile.
   */
  decided(instance: number, commands: readonly Uint8Array[], results: readonly R[]): void {
    const batch = this.inFlight.get(instance);
    if (batch !== undefined) {
      this.inFlight.delete(instance);
      if (sameCommands(batch, commands)) {
        assert(results.length === batch.length, `instance ${instance}: ${results.length} results for ${batch.length} commands`);
        batch.forEach((w, i) => w.resolve(results[i]!));
      } else {
        this.failAll(batch, new UnavailableError(`instance ${instance} was decided with another leader's value: retry`));
      }
    }
    this.flush();
  }

  /**
   * A snapshot installed from a peer replaced the state through `throughInstance`: the
   * instances at or below it are never handed to `decided`, so their waiters are settled
   * here, or they would wait forever and hold their places in flight. A waiter whose command's
   * result the new state knows (`answer`: it ran) gets it; every other one fails with
   * `unknown(instance)` (another value may have won its instance). Then proposes what queued.
   */
  coveredBySnapshot(throughInstance: number, answer: (command: Uint8Array) => R | undefined, unknown: (instance: number) => Error): void {
    for (const [instance, batch] of [...this.inFlight]) {
      if (instance > throughInstance) continue;
      this.inFlight.delete(instance);
      let err: Error | undefined;
      for (const w of batch) {
        const result = answer(w.command);
        if (result !== undefined) w.resolve(result);
        else w.reject((err ??= unknown(instance)));
      }
    }
    this.flush();
  }

  /** Leadership lost: everything in flight or queued fails with a retryable error. */
  failAllPending(err: Error): void {
    for (const batch of this.inFlight.values()) this.failAll(batch, err);
    this.inFlight.clear();
    this.failQueued(err);
  }

  private failQueued(err: Error): void {
    const queued = this.queue;
    this.queue = [];
    this.failAll(queued, err);
  }

  private failAll(batch: readonly Waiter<R>[], err: Error): void {
    for (const w of batch) w.reject(err);
  }
}

function sameCommands<R>(batch: readonly Waiter<R>[], commands: readonly Uint8Array[]): boolean {
  if (batch.length !== commands.length) return false;
  return batch.every((w, i) => Buffer.compare(w.command, commands[i]!) === 0);
}
