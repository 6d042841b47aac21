// The driver of the invalidation stream: keeps one Subscribe stream open to some Global
// replica, hands its messages in order to the Local (the sink), resumes after a break from
// the revision after the last one applied (on the next replica, after backoff), and handles
// "history compacted" (from every replica it knows: their histories differ) by telling the
// sink and resubscribing from the oldest revision kept.
//
// It also earns the lease (freshness.ts owns the rule): every probeIntervalMs it sends a
// probe, a linearizable Get of LEASE_PROBE_KEY without its value, whose answer's revision is
// a read index (every write acknowledged before the probe was sent is at or below it). Once
// the stream has been applied through that revision the lease runs until sendTime + leaseMs.
// A stream that stays behind a proof for longer than leaseMs comes from a replica that lags
// (or is cut off from the leader, or recovering): it is dropped, and the stream moves to the
// next replica after backoff.
//
// Time for the lease comes from the time word (lease-clock.ts) so that the Local's hot path
// and this driver read one clock.
//
// Nothing here throws to the caller: stream failures are retried until close(). A failure
// of the sink (an assertion) is a bug and reaches `onFatal`.

import { Backoff, type BackoffConfig, type Clock, type Random, type Timer } from '../../protocol/backoff.ts';
import { ClosedError, CompactedError, DstoreError, UnavailableError } from '../../protocol/errors.ts';
import type { GetResult, SubscribeMessage } from '../client/client-types.ts';
import type { GlobalClient, Subscription } from '../client/client.ts';
import { Freshness } from './freshness.ts';
import { InvalidationState, type StreamState, type StreamStatus } from './invalidation-state.ts';

/** The key a lease probe reads (its value is not asked for; it need not exist). */
export const LEASE_PROBE_KEY = 'dstore.lease-probe';

export interface InvalidationSink {
  /** The last revision applied, or null before the Local knows where Global is. */
  appliedRevision(): number | null;
  /** From Status, before the first subscription: nothing at or below `revision` matters. */
  startAt(revision: number): void;
  /** One message, in stream order. */
  apply(message: SubscribeMessage): void;
  /** "History compacted": drop every key binding; resume from `oldestRevision` (0: unknown). */
  compacted(oldestRevision: number): void;
  /** The lease now ends at `untilMs` (time-word ms); called when it is extended or ran out. */
  leaseChanged(untilMs: number): void;
}

export interface InvalidationStreamConfig extends BackoffConfig {
  /** Only keys with this prefix ('' = all). */
  readonly prefix: string;
  /** Deadline of the Status call that learns the starting revision. */
  readonly statusDeadlineMs: number;
  /** How often a lease probe is sent (one at a time); null: never (a follower that needs no lease). */
  readonly probeIntervalMs: number | null;
}

export class InvalidationStream {
  private readonly fsm = new InvalidationState();
  private readonly backoff: Backoff;
  private subscription: Subscription | null = null;
  private sleepTimer: Timer | null = null;
  private wakeSleeper: (() => void) | null = null;
  private leaseTimer: Timer | null = null;
  private probeTimer: Timer | null = null;
  private probing = false;
  /** Set when the driver drops a stream itself (a lagging replica): move on after backoff. */
  private dropReason: string | null = null;
  private running: Promise<void> | null = null;
  private address: string;
  private reason = 'not started';
  private readonly listeners = new Set<(status: StreamStatus) => void>();
  /** Subscriptions opened after the first (resumes after a break or a compaction). */
  resubscribes = 0;
  compactions = 0;
  /** Replicas that answered COMPACTED for the revision this stream resumes from. */
  private readonly compactedAt = new Set<string>();
  /** Streams dropped because their replica stayed behind what Global had committed. */
  lagDrops = 0;
  lastError: DstoreError | null = null;
  /** Probes sent so far: a probe's number orders it exactly against nextProof's callers. */
  private probesSent = 0;
  /** Callers of nextProof, waiting for a probe numbered above `after`. */
  private proofWaiters: { readonly after: number; readonly settle: (answer: GetResult | Error) => void }[] = [];

  constructor(
    private readonly client: GlobalClient,
    private readonly sink: InvalidationSink,
    readonly freshness: Freshness,
    private readonly config: InvalidationStreamConfig,
    private readonly clock: Clock,
    /** The lease's clock (the time word's current value). */
    private readonly leaseNowMs: () => number,
    random: Random,
    private readonly onFatal: (err: unknown) => void,
  ) {
    this.backoff = new Backoff(config, random);
    this.address = client.currentAddress;
  }

  get status(): StreamStatus {
    return { state: this.fsm.state, address: this.address, reason: this.reason };
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
    if (this.config.probeIntervalMs !== null) {
      this.probe(); // the first proof at once, so a new Local holds its lease as soon as it caught up
      this.scheduleProbe(this.config.probeIntervalMs);
    }
  }

  /** Ends the stream and every timer; resolves once the loop has stopped. Idempotent. */
  async close(): Promise<void> {
    if (this.fsm.state !== 'closed') {
      this.fsm.close();
      this.reason = 'closed';
      this.freshness.revoke();
      this.subscription?.close();
      this.sleepTimer?.cancel();
      this.wakeSleeper?.();
      this.leaseTimer?.cancel();
      this.leaseTimer = null;
      this.probeTimer?.cancel();
      this.probeTimer = null;
      this.settleProofWaiters(() => true, new ClosedError('the Local is closed'));
      this.emit();
    }
    await this.running;
  }

  /**
   * The answer of the first lease probe sent from now on: a linearizable read that began after
   * this call, so its revision is a read index for the caller too (every write acknowledged
   * before the call is at or below it). A node's Local answers its workers' probes with it
   * (local-server.ts): no probe of theirs reaches Global. Rejects with UnavailableError when
   * no probe was answered within `waitMs`, ClosedError on close.
   */
  nextProof(waitMs: number): Promise<GetResult> {
    if (this.closed()) return Promise.reject(new ClosedError('the Local is closed'));
    if (this.config.probeIntervalMs === null) return Promise.reject(new UnavailableError('this stream sends no lease probes'));
    return new Promise<GetResult>((resolve, reject) => {
      const timer = this.clock.setTimer(() => {
        this.proofWaiters = this.proofWaiters.filter((w) => w !== waiter);
        reject(new UnavailableError(`no lease probe of this Local was answered by Global within ${waitMs} ms`));
      }, waitMs, false);
      const waiter = {
        after: this.probesSent,
        settle: (answer: GetResult | Error): void => {
          timer.cancel();
          if (answer instanceof Error) reject(answer);
          else resolve(answer);
        },
      };
      this.proofWaiters.push(waiter);
    });
  }

  private settleProofWaiters(due: (after: number) => boolean, answer: GetResult | Error): void {
    if (this.proofWaiters.length === 0) return;
    const waiting = this.proofWaiters;
    this.proofWaiters = waiting.filter((w) => !due(w.after));
    for (const w of waiting) if (due(w.after)) w.settle(answer);
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
          this.noteApplied();
        }
        const from = (this.sink.appliedRevision() ?? 0) + 1;
        this.moveTo('connecting', `subscribing at ${this.address} from revision ${from}`);
        if (opened++ > 0) this.resubscribes++;
        await this.follow(this.client.subscribe({ fromRevision: from, prefix: this.config.prefix, address: this.address }));
        if (this.dropReason !== null) throw new UnavailableError(this.dropReason);
      } catch (err) {
        this.dropReason = null;
        if (this.closed() || err instanceof ClosedError) break;
        if (!(err instanceof DstoreError)) throw err;
        this.lastError = err;
        if (err instanceof CompactedError) {
          // Replicas keep histories of different lengths (one just restarted from a snapshot
          // keeps less): try each before dropping every binding.
          this.compactedAt.add(this.address);
          const untried = this.client.config.addresses.find((address) => !this.compactedAt.has(address));
          if (untried !== undefined) {
            this.address = untried;
            continue;
          }
          this.compactedAt.clear();
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
        this.fsm.heard();
        if (wasConnecting) {
          this.backoff.reset();
          this.compactedAt.clear();
          this.reason = `streaming from ${subscription.address}`;
          this.emit();
        }
        this.sink.apply(result.value);
        this.noteApplied();
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

  // ---- the lease ---------------------------------------------------------------------------

  private noteApplied(): void {
    const applied = this.sink.appliedRevision();
    if (applied !== null && this.freshness.applied(applied)) this.leaseExtended();
  }

  private leaseExtended(): void {
    if (this.closed()) return;
    this.sink.leaseChanged(this.freshness.leaseUntilMs);
    this.armLeaseTimer();
  }

  /** Tells the sink when the lease has run out (the hot path checks the time word itself). */
  private armLeaseTimer(): void {
    this.leaseTimer?.cancel();
    const leftMs = this.freshness.leaseUntilMs - this.leaseNowMs();
    this.leaseTimer = this.clock.setTimer(() => {
      this.leaseTimer = null;
      if (this.freshness.validAt(this.leaseNowMs())) this.armLeaseTimer();
      else this.sink.leaseChanged(this.freshness.leaseUntilMs);
    }, Math.max(1, Math.ceil(leftMs)), false);
  }

  private scheduleProbe(intervalMs: number): void {
    if (this.closed()) return;
    this.probeTimer = this.clock.setTimer(() => {
      this.probeTimer = null;
      this.probe();
      this.scheduleProbe(intervalMs);
    }, intervalMs, false);
  }

  private probe(): void {
    this.dropIfLagging();
    if (this.probing || this.closed()) return;
    this.probing = true;
    const sentMs = this.leaseNowMs();
    const number = ++this.probesSent;
    this.client.get(LEASE_PROBE_KEY, { withValue: false, deadlineMs: this.freshness.leaseMs }).then(
      (answer) => {
        if (this.closed()) return;
        if (this.freshness.proved({ revision: answer.revision, sentMs, receivedMs: this.leaseNowMs() })) this.leaseExtended();
        this.settleProofWaiters((after) => after < number, answer);
      },
      () => {}, // no proof this time: the lease runs out unless a later probe succeeds
    ).finally(() => {
      this.probing = false;
    });
  }

  /** Drops a stream that stayed behind a proof for longer than leaseMs (see the file comment). */
  private dropIfLagging(): void {
    const since = this.freshness.behindSinceMs();
    if (since === null || this.fsm.state !== 'streaming' || this.subscription === null) return;
    const behindMs = this.leaseNowMs() - since;
    if (behindMs <= this.freshness.leaseMs) return;
    this.lagDrops++;
    this.dropReason = `replica ${this.subscription.address} stayed ${Math.round(behindMs)} ms behind a revision Global had committed (it lags, is cut off from the leader or is recovering): moving to another replica`;
    this.subscription.close();
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
