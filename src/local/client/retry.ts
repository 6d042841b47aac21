// The retry budget of one call made outside the session (blob transfers): backoff, deadline,
// and where to go next. The session path (connection.ts) applies the same rules per queued
// request; this is the same policy for a call that owns its own gRPC stream:
// - time is the budget (the deadline); an attempt count ends the call only when the client
//   was configured with retriesMax;
// - a NOT_LEADER hint to a replica that is not backing off is followed at once, but not twice
//   in a row: every other retry waits the call's backoff (jittered, doubling);
// - after a failure the next replica is the next one in the round robin not backing off.

import { DstoreError, InternalError, NotLeaderError, UnavailableError } from '../../protocol/errors.ts';
import { fromGrpcError, type GrpcErrorLike } from '../../protocol/grpc-status.ts';
import { Backoff, type BackoffConfig, type Clock, type Random } from '../../protocol/backoff.ts';

/** Any thrown value as a DstoreError: ours as they are, gRPC failures mapped, the rest INTERNAL. */
export function asDstoreError(err: unknown): DstoreError {
  if (err instanceof DstoreError) return err;
  if (typeof err === 'object' && err !== null && 'code' in err && typeof (err as GrpcErrorLike).code === 'number') {
    return fromGrpcError(err as GrpcErrorLike);
  }
  return new InternalError(`unexpected error: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

export interface RetryConfig extends BackoffConfig {
  /** null: retry until the deadline. A number: also give up after this many retries. */
  readonly retriesMax: number | null;
}

/** What the budget asks of the client's replica list (the Connection provides it). */
export interface ReplicaChooser {
  /** The replica to try after `address` failed. */
  addressAfter(address: string): string;
  /** Whether `address` failed recently and must not be tried again before its backoff ends. */
  isBackingOff(address: string): boolean;
}

export interface NextAttempt {
  readonly address: string;
  /** 0 when following a leader hint (another replica, no reason to wait). */
  readonly delayMs: number;
}

export class RetryBudget {
  private attempts = 0;
  /** The last retry followed a leader hint at once: the next one waits a backoff. */
  private redirected = false;
  private readonly backoff: Backoff;
  private readonly startedAtMs: number;

  constructor(
    /** Names the operation in errors, e.g. `putBlob 3fa2...`. */
    private readonly what: string,
    private readonly config: RetryConfig,
    private readonly clock: Clock,
    random: Random,
    readonly deadlineAtMs: number,
    /** For the advice in the final error, e.g. "127.0.0.1:50051, 127.0.0.1:50052". */
    private readonly addressesText: () => string,
  ) {
    this.backoff = new Backoff(config, random);
    this.startedAtMs = clock.nowMs();
  }

  /** Milliseconds left before the deadline (at least 1, for gRPC call deadlines). */
  remainingMs(): number {
    return Math.max(1, Math.ceil(this.deadlineAtMs - this.clock.nowMs()));
  }

  /**
   * After attempt at `address` failed with `error`: where to try next and after how long.
   * Throws `error` itself when it is not retryable, or UnavailableError naming the attempts,
   * the last error and what to do when the attempts or the deadline are used up.
   */
  afterFailure(error: DstoreError, address: string, replicas: ReplicaChooser): NextAttempt {
    this.attempts++;
    if (!error.retryable) throw error;
    if (this.config.retriesMax !== null && this.attempts > this.config.retriesMax) throw this.giveUp(error, address, 'gave up after');
    const hint = error instanceof NotLeaderError && error.leaderHint !== address ? error.leaderHint : '';
    if (hint !== '' && !this.redirected && !replicas.isBackingOff(hint)) {
      this.redirected = true;
      return { address: hint, delayMs: 0 };
    }
    this.redirected = false;
    const delayMs = this.backoff.nextDelayMs();
    // The next attempt could not start before the deadline: say so now rather than sleep first.
    if (this.clock.nowMs() + delayMs >= this.deadlineAtMs) throw this.giveUp(error, address, 'deadline reached after');
    const next = hint !== '' && !replicas.isBackingOff(hint) ? hint : replicas.addressAfter(address);
    return { address: next, delayMs };
  }

  private giveUp(error: DstoreError, address: string, why: string): UnavailableError {
    const elapsedMs = Math.round(this.clock.nowMs() - this.startedAtMs);
    return new UnavailableError(
      `${this.what}: ${why} ${this.attempts} attempts in ${elapsedMs} ms; last error from ${address}: ${error.code}: ${error.message}. ` +
        `Check that a majority of the Global replicas (${this.addressesText()}) are running and reachable, or raise retriesMax/blobDeadlineMs`,
      { cause: error, reason: error instanceof UnavailableError ? error.reason : 'unavailable' },
    );
  }
}
