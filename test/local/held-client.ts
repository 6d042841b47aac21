// A real Global client whose answers a test can hold back: the one place where a stand-in is
// the point. Requests still go to Global and are applied there at once; only their results
// (and, when asked, the invalidation stream's messages) wait at a gate until the test opens it.
// That turns races between an answer and the stream into sequences a test can write down.
import type { SubscribeMessage } from '../../src/local/client/client-types.ts';
import { LEASE_PROBE_KEY } from '../../src/local/cache/invalidation-stream.ts';
import { GlobalClient, type GlobalClientConfig, type HoldCall, type SubscribeOptions, type Subscription } from '../../src/local/client/client.ts';
import type { HoldResponse__Output } from '../../src/protocol/generated/dstore/v1/HoldResponse.ts';
import { UnavailableError } from '../../src/protocol/errors.ts';

/** A gate: `wait()` resolves once `open()` was called (at once if it already was). */
export class Gate {
  private opened = false;
  private waiters: (() => void)[] = [];
  /** How many callers are waiting now. */
  get waiting(): number {
    return this.waiters.length;
  }
  get isOpen(): boolean {
    return this.opened;
  }
  wait(): Promise<void> {
    if (this.opened) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  open(): void {
    this.opened = true;
    for (const w of this.waiters.splice(0)) w();
  }
  /** Closes it again: later callers wait. */
  close(): void {
    this.opened = false;
  }
}

/**
 * 'probe' is the lease probe (a Get of LEASE_PROBE_KEY); 'get' every other Get. On the strict
 * hold's stream: 'ack' holds the Local's Invalidated messages; 'hold' everything both ways (a
 * Local frozen, or cut off from the leader without the stream breaking).
 */
export type HeldCall = 'get' | 'probe' | 'set' | 'delete' | 'txn' | 'stream' | 'ack' | 'hold';

export class HeldClient extends GlobalClient {
  readonly gates = new Map<HeldCall, Gate>();
  /** Answers still to lose, per call (see loseAnswers). */
  private readonly losses = new Map<HeldCall, number>();

  constructor(config: GlobalClientConfig) {
    super(config);
  }

  /** Holds the results of `call` (and stream messages for 'stream') until the gate opens. */
  hold(call: HeldCall): Gate {
    let gate = this.gates.get(call);
    if (gate === undefined) {
      gate = new Gate();
      this.gates.set(call, gate);
    }
    gate.close();
    return gate;
  }

  /**
   * The next `count` answers of `call` are lost: the request is applied on Global, then the
   * caller gets a retryable UnavailableError instead of its result (the outcome is unknown).
   */
  loseAnswers(call: HeldCall, count: number): void {
    this.losses.set(call, count);
  }

  private async held<T>(call: HeldCall, result: Promise<T>): Promise<T> {
    const value = await result;
    await this.gates.get(call)?.wait();
    const lose = this.losses.get(call) ?? 0;
    if (lose > 0) {
      this.losses.set(call, lose - 1);
      throw new UnavailableError(`${call}: the answer was lost after Global applied it (held-client.ts)`);
    }
    return value;
  }

  override get(...args: Parameters<GlobalClient['get']>): ReturnType<GlobalClient['get']> {
    return this.held(args[0] === LEASE_PROBE_KEY ? 'probe' : 'get', super.get(...args));
  }

  override set(...args: Parameters<GlobalClient['set']>): ReturnType<GlobalClient['set']> {
    return this.held('set', super.set(...args));
  }

  override delete(...args: Parameters<GlobalClient['delete']>): ReturnType<GlobalClient['delete']> {
    return this.held('delete', super.delete(...args));
  }

  override txn(...args: Parameters<GlobalClient['txn']>): ReturnType<GlobalClient['txn']> {
    return this.held('txn', super.txn(...args));
  }

  /** Hold streams opened and not cut (strict-hold.ts's). */
  readonly holdCalls = new Set<HoldCall>();
  /** While set, opening a Hold stream fails (the Local cannot register anew). */
  refuseHolds = false;

  /** Ends every Hold stream as a broken connection would (the Local sees CANCELLED). */
  cutHolds(): void {
    for (const call of [...this.holdCalls]) call.cancel();
    this.holdCalls.clear();
  }

  override openHold(address: string): HoldCall {
    if (this.refuseHolds) throw new UnavailableError(`openHold at ${address}: refused by the test (held-client.ts)`);
    const call = super.openHold(address);
    this.holdCalls.add(call);
    call.once('close', () => this.holdCalls.delete(call));
    call.once('error', () => this.holdCalls.delete(call));
    const gate = (name: HeldCall): Promise<void> => this.gates.get(name)?.wait() ?? Promise.resolve();
    // Both directions stay in order, each waiting at its gates.
    let outgoing = Promise.resolve();
    const write = call.write.bind(call) as (msg: unknown) => boolean;
    call.write = ((msg: { invalidated?: unknown }) => {
      outgoing = outgoing.then(() => gate('hold')).then(() => (msg.invalidated === undefined ? undefined : gate('ack'))).then(() => {
        if (this.holdCalls.has(call)) write(msg);
      });
      return true;
    }) as HoldCall['write'];
    let incoming = Promise.resolve();
    const on = call.on.bind(call) as (event: string, listener: (...args: unknown[]) => void) => HoldCall;
    call.on = ((event: string, listener: (...args: unknown[]) => void) => {
      if (event !== 'data') return on(event, listener);
      return on('data', (msg: unknown) => {
        incoming = incoming.then(() => gate('hold')).then(() => listener(msg as HoldResponse__Output));
      });
    }) as HoldCall['on'];
    return call;
  }

  /**
   * Makes every stream lag at `revision`, as a replica that fell behind but still sends
   * progress notices at its own applied revision: events past it are queued (not delivered),
   * and progress notices past it claim `revision` (or are dropped when `silent`: a Local cut
   * off from its replica). `release(n)` delivers queued messages.
   */
  lagAt(revision: number, silent = false): void {
    this.lagRevision = revision;
    this.lagSilent = silent;
  }

  /** Delivers up to `count` queued messages in order (each at the stream's next read). */
  release(count = Infinity): void {
    this.releasable += count;
  }

  /** Ends the lag: queued messages are delivered, then the live stream. */
  catchUp(): void {
    this.lagRevision = null;
  }

  /** Messages queued by the lag on the newest stream, not yet delivered. */
  get lagging(): number {
    return this.lagQueue.length;
  }

  private lagRevision: number | null = null;
  private lagSilent = false;
  private lagQueue: SubscribeMessage[] = [];
  private releasable = 0;

  /**
   * The 'stream' gate holds only the first stream this client opened (a Local's own), not the
   * ones opened later (a node server's forwarded Subscribes): a node whose cache lags behind
   * the watch streams it forwards.
   */
  holdFirstStreamOnly = false;
  private streamsOpened = 0;

  override subscribe(options: SubscribeOptions): Subscription {
    const subscription = super.subscribe(options);
    const first = this.streamsOpened++ === 0;
    const next = subscription.next.bind(subscription);
    const queue: SubscribeMessage[] = []; // this stream's own (a resubscription starts afresh)
    this.lagQueue = queue;
    subscription.next = async () => {
      for (;;) {
        if (queue.length > 0 && (this.lagRevision === null || this.releasable > 0)) {
          if (this.lagRevision !== null) this.releasable--;
          return { done: false, value: queue.shift()! };
        }
        const result = await next();
        if (first || !this.holdFirstStreamOnly) await this.gates.get('stream')?.wait();
        if (result.done === true) return result;
        const lag = this.lagRevision;
        if (lag !== null && result.value.revision > lag) {
          if (result.value.kind === 'events') queue.push(result.value);
          else if (!this.lagSilent) return { done: false, value: { kind: 'progress', revision: lag } };
        } else if (queue.length > 0) {
          queue.push(result.value); // after a catch-up, behind what is still queued
        } else {
          return result;
        }
      }
    };
    return subscription;
  }
}
