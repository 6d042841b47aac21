// The one error vocabulary of dstore's protocol layer.
//
// Every operating error a caller can see is one of these classes; callers switch on `code`
// or `instanceof`, never on message text. `retryable` says whether the same request may
// succeed if sent again (possibly to another replica, after backoff). Bugs are not here:
// they are AssertionError (assert.ts). grpc-status.ts maps these to and from gRPC status.

export type ErrorCode =
  | 'NOT_FOUND'
  | 'KEY_OCCUPIED'
  | 'INVALID_ARGUMENT'
  | 'NOT_LEADER'
  | 'UNAVAILABLE'
  | 'TOO_LARGE'
  | 'CORRUPT'
  | 'CLOSED'
  | 'COMPACTED'
  | 'UNAUTHENTICATED'
  | 'INTERNAL'
  | 'RESOURCE_EXHAUSTED'
  | 'SESSION_EXPIRED'
  | 'DEADLINE_EXCEEDED'
  | 'CANCELLED';

export interface DstoreErrorOptions extends ErrorOptions {
  /** See DstoreError.outcomeUnknown. Default false. */
  readonly outcomeUnknown?: boolean;
}

export abstract class DstoreError extends Error {
  abstract readonly code: ErrorCode;
  abstract readonly retryable: boolean;
  /**
   * True when the failed call was a write that may or may not have been applied (it was
   * sent, and no answer came before the client gave up): read the key to learn which, or
   * retry it only where the write is idempotent. False when the error says it was not
   * applied, or the call was a read.
   */
  readonly outcomeUnknown: boolean;

  constructor(message?: string, options?: DstoreErrorOptions) {
    super(message, options);
    this.outcomeUnknown = options?.outcomeUnknown ?? false;
  }
}

/** A key, blob or revision that does not exist. */
export class NotFoundError extends DstoreError {
  override readonly name = 'NotFoundError';
  readonly code = 'NOT_FOUND';
  readonly retryable = false;
}

/** A put-if-absent (plain SET) of a key that is already bound. */
export class KeyOccupiedError extends DstoreError {
  override readonly name = 'KeyOccupiedError';
  readonly code = 'KEY_OCCUPIED';
  readonly retryable = false;
}

/** The request itself is wrong; the message says what and how to fix it. */
export class InvalidArgumentError extends DstoreError {
  override readonly name = 'InvalidArgumentError';
  readonly code = 'INVALID_ARGUMENT';
  readonly retryable = false;
}

/**
 * This replica is not the leader. `leaderHint` is the address of the replica believed to
 * lead (empty when unknown); clients retry there without surfacing the error.
 */
export class NotLeaderError extends DstoreError {
  override readonly name = 'NotLeaderError';
  readonly code = 'NOT_LEADER';
  readonly retryable = true;
  constructor(
    message: string,
    readonly leaderHint: string,
    options?: DstoreErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * Why a replica could not be used, when the client can tell (connect-failure.ts):
 * - `name-not-resolved`: the host name does not resolve (DNS);
 * - `connection-refused`: nothing listens on the port;
 * - `connect-timeout`: no connection in time, or the host is unreachable;
 * - `server-needs-tls`: the server speaks TLS and this client is plaintext;
 * - `server-not-tls`: this client uses TLS and the server does not;
 * - `certificate-untrusted`: the server's certificate is not signed by the client's CA;
 * - `certificate-name-mismatch`: the server's certificate does not name the host dialled;
 * - `certificate-refused`: the server refused this client's certificate (mutual TLS);
 * - `connection-closed`: accepted and closed before HTTP/2 started, cause unknown;
 * - `not-dstore`: something answered that is not a dstore Global (HTTP, another gRPC service);
 * - `unavailable`: anything else (a replica starting, no quorum, a broken stream).
 */
export type UnavailableReason =
  | 'name-not-resolved'
  | 'connection-refused'
  | 'connect-timeout'
  | 'server-needs-tls'
  | 'server-not-tls'
  | 'certificate-untrusted'
  | 'certificate-name-mismatch'
  | 'certificate-refused'
  | 'connection-closed'
  | 'not-dstore'
  | 'unavailable';

export interface UnavailableErrorOptions extends DstoreErrorOptions {
  /** See UnavailableError.reason. Default 'unavailable'. */
  readonly reason?: UnavailableReason;
}

/**
 * No quorum, a peer that vanished, a connection that failed: try again later. `reason` says
 * which, when the client could tell; the message says what to check.
 */
export class UnavailableError extends DstoreError {
  override readonly name = 'UnavailableError';
  readonly code = 'UNAVAILABLE';
  readonly retryable = true;
  readonly reason: UnavailableReason;

  constructor(message?: string, options?: UnavailableErrorOptions) {
    super(message, options);
    this.reason = options?.reason ?? 'unavailable';
  }
}

/** A key, value, frame or request over its size limit. The message names the limit. */
export class TooLargeError extends DstoreError {
  override readonly name = 'TooLargeError';
  readonly code = 'TOO_LARGE';
  readonly retryable = false;
}

/** Bytes that fail their checksum or content hash. Never returned as data. */
export class CorruptError extends DstoreError {
  override readonly name = 'CorruptError';
  readonly code = 'CORRUPT';
  readonly retryable = false;
}

/** The client, stream or store was closed by its owner. */
export class ClosedError extends DstoreError {
  override readonly name = 'ClosedError';
  readonly code = 'CLOSED';
  readonly retryable = false;
}

/** A subscription asked for a revision older than the history kept. */
export class CompactedError extends DstoreError {
  override readonly name = 'CompactedError';
  readonly code = 'COMPACTED';
  readonly retryable = false;
  constructor(
    message: string,
    /** The oldest revision that can still be subscribed from. */
    readonly oldestRevision: number,
    options?: DstoreErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * The call carried no credentials, or ones the server does not accept (a missing or unknown
 * token). The server did nothing with the request. Not retryable: fix the credentials.
 */
export class UnauthenticatedError extends DstoreError {
  override readonly name = 'UnauthenticatedError';
  readonly code = 'UNAUTHENTICATED';
  readonly retryable = false;
}

/** The server failed in a way the caller cannot fix (a bug on the far side). */
export class InternalError extends DstoreError {
  override readonly name = 'InternalError';
  readonly code = 'INTERNAL';
  readonly retryable = false;
}

/**
 * A server-side cap on open streams or transfers is reached (per connection or in all); the
 * message names the cap. Retryable: a slot frees when another stream ends.
 */
export class ResourceExhaustedError extends DstoreError {
  override readonly name = 'ResourceExhaustedError';
  readonly code = 'RESOURCE_EXHAUSTED';
  readonly retryable = true;
}

/**
 * A write whose client session the replicated state no longer holds (too many other clients
 * were active since): it did not run now, and may have run before the session expired; it
 * never runs twice. Not retryable as it is: check the state, then write anew (the client's
 * later writes run exactly once again).
 */
export class SessionExpiredError extends DstoreError {
  override readonly name = 'SessionExpiredError';
  readonly code = 'SESSION_EXPIRED';
  readonly retryable = false;
}

/**
 * A call's own deadline (`deadlineMs` of that call) passed before its answer came. A write
 * that was sent says so in `outcomeUnknown`. Retryable: the same call may succeed with more time.
 */
export class DeadlineExceededError extends DstoreError {
  override readonly name = 'DeadlineExceededError';
  readonly code = 'DEADLINE_EXCEEDED';
  readonly retryable = true;
}

/**
 * The caller cancelled the call (its AbortSignal fired). A write that was sent says so in
 * `outcomeUnknown`: it may still be applied. Not retryable: the caller asked to stop.
 */
export class CancelledError extends DstoreError {
  override readonly name = 'CancelledError';
  readonly code = 'CANCELLED';
  readonly retryable = false;
}

export function isRetryable(err: unknown): boolean {
  return err instanceof DstoreError && err.retryable;
}
