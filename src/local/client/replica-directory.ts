// The replicas the Global client knows and, per replica, whether it may be dialled now.
// Pure: no I/O and no timers; the caller passes the time in.
//
// Every replica has its own connection backoff (`Backoff`, jittered, doubling). A failed
// connection, or a session that broke, puts the replica in backoff until `retryAtMs`; a
// replica that answered anything is healthy again (its backoff starts over). What this buys:
// - a dead replica is dialled at most once per its backoff delay, whatever points at it
//   (a follower's stale NOT_LEADER hint, a status naming it leader, the round robin);
// - a live replica is never delayed by another one's failures, so failing over to it and
//   following a hint to it stay immediate;
// - with every replica down, dialling slows to one attempt per replica per backoffMaxMs.

import { assert } from '../../protocol/assert.ts';
import { Backoff, type BackoffConfig, type Random } from '../../protocol/backoff.ts';
import type { DstoreError } from '../../protocol/errors.ts';

interface Replica {
  readonly backoff: Backoff;
  /** Dial no earlier than this (clock ms); 0 when healthy or never tried. */
  retryAtMs: number;
  /** Why it could not be used last time; null once it answered, after a mere broken session, or never tried. */
  failure: DstoreError | null;
}

/** Where to connect next and when (`atMs` <= now: at once). */
export interface DialPlan {
  readonly address: string;
  readonly atMs: number;
}

export class ReplicaDirectory {
  // Invariant: `order` lists every key of `replicas` once, configured addresses first, then
  // those learned from leader hints in the order learned.
  private readonly order: string[] = [];
  private readonly replicas = new Map<string, Replica>();

  /** `addresses` must be non-empty; `config` must have passed checkBackoffConfig. */
  constructor(
    addresses: readonly string[],
    private readonly config: BackoffConfig,
    private readonly random: Random,
  ) {
    assert(addresses.length > 0, 'replica directory: no addresses');
    for (const address of addresses) this.add(address);
  }

  /** Every address known, in round-robin order. */
  get addresses(): readonly string[] {
    return this.order;
  }

  /** Adds `address` (learned from a leader hint) at the end of the round robin; no-op if known. */
  add(address: string): void {
    if (this.replicas.has(address)) return;
    this.order.push(address);
    this.replicas.set(address, { backoff: new Backoff(this.config, this.random), retryAtMs: 0, failure: null });
  }

  /**
   * A connection to `address` failed or its session broke at `nowMs`: back off from it.
   * `error` says why when the replica cannot be used (a connection that failed, a server that
   * is not dstore); null when it was reachable (a session that broke: it may be back at once).
   */
  noteFailure(address: string, nowMs: number, error: DstoreError | null): void {
    const replica = this.replica(address);
    replica.retryAtMs = nowMs + replica.backoff.nextDelayMs();
    replica.failure = error;
  }

  /** `address` answered a request: dial it freely again, from the initial backoff next time. */
  noteHealthy(address: string): void {
    const replica = this.replica(address);
    replica.backoff.reset();
    replica.retryAtMs = 0;
    replica.failure = null;
  }

  /**
   * When every known replica's latest connection or session failed and none answered since:
   * each address with its failure, in round-robin order. Otherwise null (some replica answered
   * last time, or was never tried).
   */
  failures(): [string, DstoreError][] | null {
    const out: [string, DstoreError][] = [];
    for (const address of this.order) {
      const failure = this.replica(address).failure;
      if (failure === null) return null;
      out.push([address, failure]);
    }
    return out;
  }

  /** Whether `address` failed recently and its backoff has not run out at `nowMs`. Unknown: false. */
  isBackingOff(address: string, nowMs: number): boolean {
    const replica = this.replicas.get(address);
    return replica !== undefined && nowMs < replica.retryAtMs;
  }

  /** The address after `address` in the round robin (the first one when `address` is unknown). */
  after(address: string): string {
    const i = this.order.indexOf(address);
    return this.order[(i + 1) % this.order.length]!;
  }

  /**
   * The next replica to dial after `address`: the first one in round-robin order from the one
   * after it (wrapping round to `address` itself last) that is not backing off at `nowMs`;
   * when all are, the one whose backoff ends first (ties: round-robin order).
   */
  nextAfter(address: string, nowMs: number): DialPlan {
    const start = this.order.indexOf(address) + 1; // 0 when unknown
    let best: DialPlan | null = null;
    for (let k = 0; k < this.order.length; k++) {
      const candidate = this.order[(start + k) % this.order.length]!;
      const atMs = this.replica(candidate).retryAtMs;
      if (atMs <= nowMs) return { address: candidate, atMs: nowMs };
      if (best === null || atMs < best.atMs) best = { address: candidate, atMs };
    }
    return best!;
  }

  private replica(address: string): Replica {
    const replica = this.replicas.get(address);
    assert(replica !== undefined, `replica directory: unknown address ${address}`);
    return replica;
  }
}
