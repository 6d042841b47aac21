// The Local's strict hold (docs/coherence.md `strict`): keeps one Hold stream (global.proto)
// open at Global's leader while the Local serves some prefix in 'strict' mode, so that every
// write to a strict key waits until this Local dropped the key (or its hold ran out).
//
// - Registers with a new random holder id per registration and the strict prefixes; the
//   leader answers (Kept) once it applied every write that may have been decided, after
//   sending the invalidations of writes still in flight.
// - Keeps the hold alive every lease_ms / 4; each answered keep-alive extends the hold to its
//   SEND time + lease_ms on the lease clock (freshness.ts `held`), never from the answer.
// - Invalidate{id, keys}: the keys are dropped from the cache and their fills in flight voided
//   (the sink), marked uncacheable, and only then acked (Invalidated{id}). A mark is cleared by
//   Released{id, revision} once the Local's stream applied that revision: from then on a fill
//   reads the write or later. Not by "a newer change applied" alone: a change the stream
//   applies may be an older write than the one waiting (the stream lags), and caching the value
//   a fill reads before that write lands would serve it after the write was acknowledged. A
//   write that failed sends no Released: its keys stay uncached until the hold is replaced.
// - The stream breaking (or the hold running out unanswered) ends the hold at once: strict
//   keys are not served from the cache, every strict binding, fill in flight and mark goes, and
//   the driver registers anew (leader hints followed, else the next replica after backoff).
//   Bindings and fills of strict keys from before the new registration was answered are
//   dropped once it is: the leader did not wait for this Local meanwhile.
//
// Time: the lease clock (the time word, lease-clock.ts), which the hot path reads; timers
// from the injected Clock. Nothing here throws to the caller; close() stops every timer.

import { randomBytes } from 'node:crypto';
import { Backoff, type BackoffConfig, type Clock, type Random, type Timer } from '../../protocol/backoff.ts';
import { DstoreError, InvalidArgumentError, NotLeaderError, UnavailableError } from '../../protocol/errors.ts';
import type { HoldResponse__Output } from '../../protocol/generated/dstore/v1/HoldResponse.ts';
import type { GlobalClient, HoldCall } from '../client/client.ts';
import type { Freshness } from './freshness.ts';
import { asDstoreError } from '../client/retry.ts';

export interface StrictHoldSink {
  /** Drop these keys' bindings and void their fills in flight (an invalidation, before its ack). */
  forget(keys: readonly string[]): void;
  /** Drop every strict key's binding and void their fills in flight (hold lost, or registered anew). */
  forgetStrict(): void;
  /** The revision the Local applied from its stream (null before it knows). */
  appliedRevision(): number | null;
}

export type StrictHoldState = 'registering' | 'holding' | 'backoff' | 'refused' | 'closed';

export interface StrictHoldStatus {
  readonly state: StrictHoldState;
  /** The replica the hold is (being) registered at. */
  readonly address: string;
  /** Why the last transition happened. */
  readonly reason: string;
  /** How long the current registration has held; null while not holding. */
  readonly holdingForMs: number | null;
  /** How long the hold still runs (0 when it does not hold). */
  readonly holdLeftMs: number;
  /** Registrations answered so far. */
  readonly registrations: number;
  /** Invalidations dropped and acked. */
  readonly invalidationsAcked: number;
  /** Keys not cached now: invalidated, their write not yet applied here. */
  readonly uncachedKeys: number;
}

export interface StrictHoldConfig extends BackoffConfig {
  /** The prefixes served in 'strict' mode (non-empty). */
  readonly prefixes: readonly string[];
}

interface Mark {
  readonly keys: readonly string[];
  /** Released's revision, once it came. */
  releasedAt: number | null;
}

export class StrictHold {
  private stateValue: StrictHoldState = 'backoff';
  private reasonText = 'not started';
  private address: string;
  private call: HoldCall | null = null;
  private readonly backoff: Backoff;
  private retryTimer: Timer | null = null;
  private keepTimer: Timer | null = null;
  private seq = 0;
  /** Send times (lease clock) of the register and keep-alives not answered yet, by seq. */
  private readonly sentMs = new Map<number, number>();
  private registerSeq = 0;
  private holdingSince: number | null = null;
  /** The leader's lease_ms, from the registration's Kept. */
  private leaseMs = 0;
  /** Followed a leader hint at once since the last backoff: the next redirect waits. */
  private redirected = false;
  private readonly marks = new Map<number, Mark>();
  /** Marks per key (a key may wait for several writes). */
  private readonly markedKeys = new Map<string, number>();
  private releasedPending = 0;
  private registrationCount = 0;
  private ackCount = 0;
  private refusal: DstoreError | null = null;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly client: Pick<GlobalClient, 'openHold' | 'currentAddress' | 'config'>,
    private readonly sink: StrictHoldSink,
    private readonly freshness: Freshness,
    private readonly config: StrictHoldConfig,
    private readonly clock: Clock,
    /** The lease clock (the time word's current value). */
    private readonly leaseNowMs: () => number,
    random: Random,
  ) {
    this.backoff = new Backoff(config, random);
    this.address = client.currentAddress;
  }

  get status(): StrictHoldStatus {
    return {
      state: this.stateValue,
      address: this.address,
      reason: this.reasonText,
      holdingForMs: this.holdingSince === null ? null : this.leaseNowMs() - this.holdingSince,
      holdLeftMs: Math.max(0, this.freshness.strictHoldUntilMs - this.leaseNowMs()),
      registrations: this.registrationCount,
      invalidationsAcked: this.ackCount,
      uncachedKeys: this.markedKeys.size,
    };
  }

  start(): void {
    if (this.call === null && this.stateValue !== 'closed') this.register();
  }

  /** Ends the stream and every timer. Idempotent. */
  close(): void {
    if (this.stateValue === 'closed') return;
    this.stateValue = 'closed';
    this.reasonText = 'closed';
    this.endCall();
    this.retryTimer?.cancel();
    this.retryTimer = null;
    this.freshness.dropHold();
    this.notify();
  }

  /** Whether `key` may be placed in the cache now (no invalidation of it waits for its write). */
  mayCache(key: string): boolean {
    return this.markedKeys.size === 0 || !this.markedKeys.has(key);
  }

  /** The Local applied its stream through `revision`: marks released at or below it clear. */
  applied(revision: number): void {
    if (this.releasedPending === 0) return;
    for (const [id, mark] of this.marks) if (mark.releasedAt !== null && mark.releasedAt <= revision) this.unmark(id, mark);
  }

  /**
   * Resolves true once the hold is held, false after `timeoutMs` or on close; rejects with
   * Global's refusal (holds off on the cluster, a bad prefix) if it refuses.
   */
  whenHolding(timeoutMs: number): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      const check = (): boolean => {
        if (this.stateValue === 'holding') finish(() => resolve(true));
        else if (this.stateValue === 'closed') finish(() => resolve(false));
        else if (this.refusal !== null) {
          const err = this.refusal;
          finish(() => reject(err));
        } else return false;
        return true;
      };
      const finish = (settle: () => void): void => {
        timer?.cancel();
        this.listeners.delete(listener);
        settle();
      };
      const listener = (): void => {
        check();
      };
      let timer: Timer | null = null;
      if (check()) return;
      timer = this.clock.setTimer(() => finish(() => resolve(this.stateValue === 'holding')), timeoutMs, false);
      this.listeners.add(listener);
    });
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  private moveTo(state: StrictHoldState, reason: string): void {
    this.stateValue = state;
    this.reasonText = reason;
    this.notify();
  }

  // ---- the stream ----------------------------------------------------------------------

  private register(): void {
    this.retryTimer = null;
    if (this.stateValue === 'closed') return;
    const address = this.address;
    let call: HoldCall;
    try {
      call = this.client.openHold(address);
    } catch (err) {
      this.lost(asDstoreError(err)); // the client is closed: the Local is closing too
      return;
    }
    this.call = call;
    this.moveTo('registering', `registering strict prefixes ${this.config.prefixes.map((p) => JSON.stringify(p)).join(', ')} at ${address}`);
    call.on('data', (msg: HoldResponse__Output) => {
      if (this.call === call) this.receive(msg);
    });
    call.on('error', (err: unknown) => {
      if (this.call === call) this.lost(asDstoreError(err));
    });
    call.on('end', () => {
      if (this.call === call) this.lost(new UnavailableError(`the Hold stream at ${address} was ended by the server`));
    });
    this.registerSeq = this.send(call, (seq) => ({ register: { holderId: randomBytes(12).toString('hex'), prefixes: [...this.config.prefixes], seq } }));
  }

  /** Sends a register or keep-alive, noting its send time on the lease clock. Returns its seq. */
  private send(call: HoldCall, message: (seq: number) => Parameters<HoldCall['write']>[0]): number {
    const seq = ++this.seq;
    this.sentMs.set(seq, this.leaseNowMs());
    call.write(message(seq));
    return seq;
  }

  private receive(msg: HoldResponse__Output): void {
    if (msg.kept) this.kept(Number(msg.kept.seq), msg.kept.leaseMs);
    else if (msg.invalidate) this.invalidate(Number(msg.invalidate.id), msg.invalidate.keys);
    else if (msg.released) this.released(Number(msg.released.id), Number(msg.released.revision));
  }

  private kept(seq: number, leaseMs: number): void {
    const sentMs = this.sentMs.get(seq);
    if (sentMs === undefined) return; // answered before, or of an earlier stream
    for (const s of this.sentMs.keys()) if (s <= seq) this.sentMs.delete(s);
    if (seq === this.registerSeq) {
      if (!Number.isInteger(leaseMs) || leaseMs <= 0) {
        this.lost(new UnavailableError(`the Hold at ${this.address} answered with lease_ms ${leaseMs}: retrying`));
        return;
      }
      // Whatever was cached or being filled before this answer, the leader did not wait for.
      this.sink.forgetStrict();
      this.leaseMs = leaseMs;
      this.holdingSince = this.leaseNowMs();
      this.registrationCount++;
      this.backoff.reset();
      this.redirected = false;
      this.refusal = null;
      this.freshness.held(sentMs, leaseMs);
      this.moveTo('holding', `holding strict prefixes at ${this.address} (lease ${leaseMs} ms)`);
      this.scheduleKeepAlive();
      return;
    }
    if (this.stateValue === 'holding') this.freshness.held(sentMs, this.leaseMs);
  }

  private scheduleKeepAlive(): void {
    this.keepTimer = this.clock.setTimer(() => {
      this.keepTimer = null;
      const call = this.call;
      if (call === null || this.stateValue !== 'holding') return;
      // Four keep-alives went unanswered: the leader is gone or cut off. Register anew.
      if (this.leaseNowMs() >= this.freshness.strictHoldUntilMs) {
        this.lost(new UnavailableError(`no keep-alive answered at ${this.address} within the hold's ${this.leaseMs} ms`));
        return;
      }
      this.send(call, (seq) => ({ keepAlive: { seq } }));
      this.scheduleKeepAlive();
    }, Math.max(1, Math.floor(this.leaseMs / 4)), false);
  }

  private invalidate(id: number, keys: readonly string[]): void {
    const call = this.call;
    if (call === null) return;
    if (!this.marks.has(id)) {
      this.sink.forget(keys);
      this.marks.set(id, { keys, releasedAt: null });
      for (const key of keys) this.markedKeys.set(key, (this.markedKeys.get(key) ?? 0) + 1);
    }
    call.write({ invalidated: { id } });
    this.ackCount++;
  }

  private released(id: number, revision: number): void {
    const mark = this.marks.get(id);
    if (mark === undefined || mark.releasedAt !== null) return;
    mark.releasedAt = revision;
    this.releasedPending++;
    const applied = this.sink.appliedRevision();
    if (applied !== null && applied >= revision) this.unmark(id, mark);
  }

  private unmark(id: number, mark: Mark): void {
    if (mark.releasedAt !== null) this.releasedPending--;
    this.marks.delete(id);
    for (const key of mark.keys) {
      const n = (this.markedKeys.get(key) ?? 1) - 1;
      if (n === 0) this.markedKeys.delete(key);
      else this.markedKeys.set(key, n);
    }
  }

  /** The hold is gone: nothing strict is served or kept, and it registers anew. */
  private lost(err: DstoreError): void {
    if (this.stateValue === 'closed') return;
    this.endCall();
    this.freshness.dropHold();
    this.sink.forgetStrict();
    this.marks.clear();
    this.markedKeys.clear();
    this.releasedPending = 0;
    const hint = err instanceof NotLeaderError ? err.leaderHint : '';
    if (hint !== '' && hint !== this.address && !this.redirected) {
      this.redirected = true;
      this.address = hint;
      this.moveTo('registering', `${err.message}: following the leader hint`);
      this.register();
      return;
    }
    this.redirected = false;
    // Refused by Global (holds off on this cluster, a bad prefix): say so, and ask again slowly
    // (replicas may be restarted with holderLeaseMs).
    const refused = err instanceof InvalidArgumentError;
    if (refused) this.refusal = err;
    const delayMs = refused ? this.config.backoffMaxMs : this.backoff.nextDelayMs();
    this.address = this.nextAddress();
    this.moveTo(refused ? 'refused' : 'backoff', `${err.message} (${refused ? 'strict keys are read from Global; ' : ''}registering again in ${delayMs} ms)`);
    this.retryTimer = this.clock.setTimer(() => this.register(), delayMs, false);
  }

  private endCall(): void {
    const call = this.call;
    this.call = null;
    this.keepTimer?.cancel();
    this.keepTimer = null;
    this.sentMs.clear();
    this.holdingSince = null;
    if (call !== null) {
      call.on('error', () => {}); // the cancel's own error, after we stopped listening
      call.cancel();
    }
  }

  private nextAddress(): string {
    const known = this.client.config.addresses;
    const at = known.indexOf(this.address);
    return known[(at + 1) % known.length] ?? this.address;
  }
}
