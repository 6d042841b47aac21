// The driver of the invalidation stream: keeps one Subscribe stream open to some Global
// replica, hands its messages in order to the Local (the sink), resumes after a break from
// the revision after the last one applied (on the next replica, after backoff), and handles
// "history compacted" by telling the sink and resubscribing from the oldest revision kept.
// It also runs the lease timer. The states and the lease live in invalidation-state.ts.
//
// Nothing here throws to the caller: stream failures are retried until close(). A failure
// of the sink (an assertion) is a bug and reaches `onFatal`.

import { Backoff, type BackoffConfig, type Clock, type Random, type Timer } from '../protocol/backoff.ts';
import { ClosedError, CompactedError, DstoreError } from '../protocol/errors.ts';
import type { SubscribeMessage } from './client-types.ts';
import type { GlobalClient, Subscription } from './client.ts';
import { InvalidationState, type StreamState, type StreamStatus } from './invalidation-state.ts';

export interface InvalidationSink {
  /** The last revision applied, or null before the Local knows where Global is. */
  appliedRevision(): number | null;
  /** From Status, before the first subscription: nothing at or below `revision` matters. */
  startAt(revision: number): void;
  /** One message, in stream order. */
  apply(message: SubscribeMessage): void;
  /** "History compacted": drop every key binding; resume from `oldestRevision` (0: unknown). */
  compacted(oldestRevision: number): void;
  /** The lease was gained (true) or ran out (false). */
  leaseChanged(valid: boolean): void;
}

export interface InvalidationStreamConfig extends BackoffConfig {
  readonly leaseMs: number;
  /** Only keys with this prefix ('' = all). */
  readonly prefix: string;
  /** Deadline of the Status call that learns the starting revision. */
  readonly statusDeadlineMs: number;
}

export class InvalidationStream {
  private readonly fsm: InvalidationState;
  private readonly backoff: Backoff;
  private subscription: Subscription | null = null;
  private sleepTimer: Timer | null = null;
  private wakeSleeper: (() => void) | null = null;
  private leaseTimer: Timer | null = null;
  private running: Promise<void> | null = null;
  private address: string;
  private reason = 'not started';
  private readonly listeners = new Set<(status: StreamStatus) => void>();
  /** Subscriptions opened after the first (resumes after a break or a compaction). */
  resubscribes = 0;
  compactions = 0;
  lastError: DstoreError | null = null;

  constructor(
    private readonly client: GlobalClient,
    private readonly sink: InvalidationSink,
    private readonly config: InvalidationStreamConfig,
    private readonly clock: Clock,
    random: Random,
    private readonly onFatal: (err: unknown) => void,
  ) {
    this.fsm = new InvalidationState(config.leaseMs);
    this.backoff = new Backoff(config, random);
    this.address = client.currentAddress;
  }

  get status(): StreamStatus {
    return { state: this.fsm.state, address: this.address, reason: this.reason };
  }

  get leaseValid(): boolean {
    return this.fsm.leaseValid;
  }

  /** Calls `listener` after every state change; returns the unsubscribe function. */
  onStatus(listener: (status: StreamStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    if (this.running !== null) return;
    this.running = this.run().catch((err: unknown) => {
      if (this.fsm.state !== 'closed') this.onFatal(err);
    });
  }

  /** Ends the stream and every timer; resolves once the loop has stopped. Idempotent. */
  async close(): Promise<void> {
    if (this.fsm.state !== 'closed') {
      this.fsm.close();
      this.reason = 'closed';
      this.subscription?.close();
      this.sleepTimer?.cancel();
      this.wakeSleeper?.();
      this.leaseTimer?.cancel();
      this.leaseTimer = null;
      this.emit();
    }
    await this.running;
  }

  private closed(): boolean {
    return this.fsm.state === 'closed';
  }

  private moveTo(state: StreamState, reason: string): void {
    if (this.closed()) return;
    this.fsm.transition(state);
    this.reason = reason;
    this.emit();
  }

  private emit(): void {
    const status = this.status;
    for (const listener of this.listeners) listener(status);
  }

  private async run(): Promise<void> {
    let opened = 0;
    while (!this.closed()) {
      try {
        if (this.sink.appliedRevision() === null) {
          this.moveTo('syncing', `asking ${this.client.currentAddress} for the current revision`);
          const status = await this.client.status({ deadlineMs: this.config.statusDeadlineMs });
          if (this.closed()) break;
          this.sink.startAt(status.appliedRevision);
        }
        const from = (this.sink.appliedRevision() ?? 0) + 1;
        this.moveTo('connecting', `subscribing at ${this.address} from revision ${from}`);
        if (opened++ > 0) this.resubscribes++;
        await this.follow(this.client.subscribe({ fromRevision: from, prefix: this.config.prefix, address: this.address }));
      } catch (err) {
        if (this.closed() || err instanceof ClosedError) break;
        if (!(err instanceof DstoreError)) throw err;
        this.lastError = err;
        if (err instanceof CompactedError) {
          this.compactions++;
          this.sink.compacted(err.oldestRevision);
          continue;
        }
        const delayMs = this.backoff.nextDelayMs();
        this.moveTo('backoff', `${err.message} (retrying in ${delayMs} ms)`);
        this.address = this.nextAddress();
        await this.sleep(delayMs);
      }
    }
  }

  /** Reads one subscription until it fails (throws) or is closed by us (returns). */
  private async follow(subscription: Subscription): Promise<void> {
    this.subscription = subscription;
    try {
      for (;;) {
        const result = await subscription.next();
        if (result.done === true || this.closed()) return;
        const wasConnecting = this.fsm.state === 'connecting';
        if (this.fsm.heard(this.clock.nowMs())) {
          this.sink.leaseChanged(true);
          this.armLeaseTimer(this.config.leaseMs);
        }
        if (wasConnecting) {
          this.backoff.reset();
          this.reason = `streaming from ${subscription.address}`;
          this.emit();
        }
        this.sink.apply(result.value);
      }
    } finally {
      this.subscription = null;
      subscription.close();
    }
  }

  private nextAddress(): string {
    const known = this.client.config.addresses;
    const at = known.indexOf(this.address);
    return known[(at + 1) % known.length] ?? this.address;
  }

  private armLeaseTimer(delayMs: number): void {
    this.leaseTimer?.cancel();
    this.leaseTimer = this.clock.setTimer(() => this.onLeaseTimer(), delayMs, false);
  }

  private onLeaseTimer(): void {
    this.leaseTimer = null;
    const { expired, nextCheckMs } = this.fsm.check(this.clock.nowMs());
    if (expired) this.sink.leaseChanged(false);
    if (nextCheckMs !== null) this.armLeaseTimer(nextCheckMs);
  }

  private sleep(delayMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wakeSleeper = resolve;
      this.sleepTimer = this.clock.setTimer(resolve, delayMs, false);
    }).finally(() => {
      this.sleepTimer = null;
      this.wakeSleeper = null;
    });
  }
}
