// The one place dstore errors become gRPC status and back.
//
// The gRPC code alone is meaningful to any client (a Go or Python client generated from the
// .proto files needs nothing else); metadata refines it for clients that know dstore:
//   dstore-error            our ErrorCode, when the gRPC code is shared by several of ours
//   dstore-leader-hint      NOT_LEADER: address of the replica believed to lead, or empty
//   dstore-oldest-revision  COMPACTED: oldest revision still subscribable, decimal
//   dstore-outcome-unknown  "true": a write that may or may not have run (forwarded by a
//                           follower, and no answer came back); retry with the same WriteId

import { Metadata, status as GrpcCode } from '@grpc/grpc-js';
import { assertNever } from './assert.ts';
import { classifyConnectFailure } from './connect-failure.ts';
import {
  CancelledError,
  ClosedError,
  CompactedError,
  CorruptError,
  DeadlineExceededError,
  DstoreError,
  InternalError,
  InvalidArgumentError,
  KeyOccupiedError,
  NotFoundError,
  NotLeaderError,
  ResourceExhaustedError,
  SessionExpiredError,
  TooLargeError,
  UnauthenticatedError,
  UnavailableError,
  type ErrorCode,
} from './errors.ts';

export const ERROR_CODE_METADATA = 'dstore-error';
export const LEADER_HINT_METADATA = 'dstore-leader-hint';
export const OLDEST_REVISION_METADATA = 'dstore-oldest-revision';
export const OUTCOME_UNKNOWN_METADATA = 'dstore-outcome-unknown';

/** What a server sends for a failed call: pass to `callback(status)` or `call.emit('error')`. */
export interface GrpcStatus {
  code: GrpcCode;
  details: string;
  metadata: Metadata;
}

function grpcCodeOf(code: ErrorCode): GrpcCode {
  switch (code) {
    case 'NOT_FOUND': return GrpcCode.NOT_FOUND;
    case 'KEY_OCCUPIED': return GrpcCode.ALREADY_EXISTS;
    case 'INVALID_ARGUMENT': return GrpcCode.INVALID_ARGUMENT;
    case 'NOT_LEADER': return GrpcCode.UNAVAILABLE;
    case 'UNAVAILABLE': return GrpcCode.UNAVAILABLE;
    case 'TOO_LARGE': return GrpcCode.INVALID_ARGUMENT;
    case 'CORRUPT': return GrpcCode.DATA_LOSS;
    case 'CLOSED': return GrpcCode.CANCELLED;
    case 'COMPACTED': return GrpcCode.OUT_OF_RANGE;
    case 'UNAUTHENTICATED': return GrpcCode.UNAUTHENTICATED;
    case 'INTERNAL': return GrpcCode.INTERNAL;
    case 'RESOURCE_EXHAUSTED': return GrpcCode.RESOURCE_EXHAUSTED;
    case 'SESSION_EXPIRED': return GrpcCode.FAILED_PRECONDITION;
    case 'DEADLINE_EXCEEDED': return GrpcCode.DEADLINE_EXCEEDED;
    case 'CANCELLED': return GrpcCode.CANCELLED;
    default: return assertNever(code, 'error code');
  }
}

/** Maps any thrown value to a gRPC status. Non-dstore errors become INTERNAL. */
export function toGrpcStatus(err: unknown): GrpcStatus {
  const metadata = new Metadata();
  if (!(err instanceof DstoreError)) {
    const details = err instanceof Error ? `internal error: ${err.message}` : `internal error: ${String(err)}`;
    metadata.set(ERROR_CODE_METADATA, 'INTERNAL');
    return { code: GrpcCode.INTERNAL, details, metadata };
  }
  metadata.set(ERROR_CODE_METADATA, err.code);
  if (err instanceof NotLeaderError) metadata.set(LEADER_HINT_METADATA, err.leaderHint);
  if (err instanceof CompactedError) metadata.set(OLDEST_REVISION_METADATA, err.oldestRevision.toString());
  if (err.outcomeUnknown) metadata.set(OUTCOME_UNKNOWN_METADATA, 'true');
  return { code: grpcCodeOf(err.code), details: err.message, metadata };
}

/** The shape of a grpc-js ServiceError, or anything carrying a code and details. */
export interface GrpcErrorLike {
  code?: number;
  details?: string;
  message?: string;
  metadata?: Metadata;
}

function metadataString(metadata: Metadata | undefined, key: string): string | undefined {
  const value = metadata?.get(key)[0];
  return typeof value === 'string' ? value : undefined;
}

/** Maps a failed call's status back to a dstore error; the original is kept as `cause`. */
export function fromGrpcError(err: GrpcErrorLike): DstoreError {
  // grpc-js ends a failed connection's details with "Resolution note: " and nothing after it.
  const details = (err.details ?? err.message ?? 'no details').replace(/\.? Resolution note: ?$/, '.');
  const options = { cause: err, outcomeUnknown: metadataString(err.metadata, OUTCOME_UNKNOWN_METADATA) === 'true' };
  const ours = metadataString(err.metadata, ERROR_CODE_METADATA);
  // Without our metadata: a connection that failed, or a server that is not dstore.
  const failure = ours === undefined ? classifyConnectFailure(err.code, details) : null;
  if (failure !== null) return new UnavailableError(failure.text, { ...options, reason: failure.reason });
  switch (ours) {
    case 'NOT_LEADER':
      return new NotLeaderError(details, metadataString(err.metadata, LEADER_HINT_METADATA) ?? '', options);
    case 'TOO_LARGE':
      return new TooLargeError(details, options);
    case 'CLOSED':
      return new ClosedError(details, options);
    case 'INTERNAL':
      return new InternalError(details, options);
    case 'RESOURCE_EXHAUSTED':
      return new ResourceExhaustedError(details, options);
    case 'DEADLINE_EXCEEDED':
      return new DeadlineExceededError(details, options);
    case 'CANCELLED':
      return new CancelledError(details, options);
    case 'COMPACTED': {
      const oldest = metadataString(err.metadata, OLDEST_REVISION_METADATA);
      return new CompactedError(details, oldest !== undefined && /^\d+$/.test(oldest) ? Number(oldest) : 0, options);
    }
    default:
      break;
  }
  switch (err.code) {
    case GrpcCode.NOT_FOUND: return new NotFoundError(details, options);
    case GrpcCode.ALREADY_EXISTS: return new KeyOccupiedError(details, options);
    case GrpcCode.INVALID_ARGUMENT: return new InvalidArgumentError(details, options);
    case GrpcCode.RESOURCE_EXHAUSTED: return new TooLargeError(details, options);
    case GrpcCode.DATA_LOSS: return new CorruptError(details, options);
    case GrpcCode.OUT_OF_RANGE: return new CompactedError(details, 0, options);
    case GrpcCode.UNAVAILABLE:
    case GrpcCode.DEADLINE_EXCEEDED:
      return new UnavailableError(details, options);
    case GrpcCode.CANCELLED: return new ClosedError(details, options);
    case GrpcCode.UNAUTHENTICATED: return new UnauthenticatedError(details, options);
    case GrpcCode.FAILED_PRECONDITION: return new SessionExpiredError(details, options);
    default:
      return new InternalError(`gRPC status ${err.code ?? 'unknown'}: ${details}`, options);
  }
}

/** The in-band form of an error inside a batched frame (dstore.v1.ErrorDetail). */
export interface ErrorDetailFields {
  code: string;
  message: string;
  leaderHint: string;
  oldestRevision: number;
  retryable: boolean;
  /** A write that may or may not have run (DstoreError.outcomeUnknown); absent: false. */
  outcomeUnknown?: boolean;
}

export function toErrorDetail(err: unknown): ErrorDetailFields {
  if (!(err instanceof DstoreError)) {
    const message = err instanceof Error ? err.message : String(err);
    return { code: 'INTERNAL', message: `internal error: ${message}`, leaderHint: '', oldestRevision: 0, retryable: false, outcomeUnknown: false };
  }
  return {
    code: err.code,
    message: err.message,
    leaderHint: err instanceof NotLeaderError ? err.leaderHint : '',
    oldestRevision: err instanceof CompactedError ? err.oldestRevision : 0,
    retryable: err.retryable,
    outcomeUnknown: err.outcomeUnknown,
  };
}

export function fromErrorDetail(detail: ErrorDetailFields): DstoreError {
  const code = detail.code as ErrorCode;
  const o = { outcomeUnknown: detail.outcomeUnknown === true };
  switch (code) {
    case 'NOT_FOUND': return new NotFoundError(detail.message, o);
    case 'KEY_OCCUPIED': return new KeyOccupiedError(detail.message, o);
    case 'INVALID_ARGUMENT': return new InvalidArgumentError(detail.message, o);
    case 'NOT_LEADER': return new NotLeaderError(detail.message, detail.leaderHint, o);
    case 'UNAVAILABLE': return new UnavailableError(detail.message, o);
    case 'TOO_LARGE': return new TooLargeError(detail.message, o);
    case 'CORRUPT': return new CorruptError(detail.message, o);
    case 'CLOSED': return new ClosedError(detail.message, o);
    case 'COMPACTED': return new CompactedError(detail.message, detail.oldestRevision, o);
    case 'UNAUTHENTICATED': return new UnauthenticatedError(detail.message, o);
    case 'INTERNAL': return new InternalError(detail.message, o);
    case 'RESOURCE_EXHAUSTED': return new ResourceExhaustedError(detail.message, o);
    case 'SESSION_EXPIRED': return new SessionExpiredError(detail.message, o);
    case 'DEADLINE_EXCEEDED': return new DeadlineExceededError(detail.message, o);
    case 'CANCELLED': return new CancelledError(detail.message, o);
    default: return new InternalError(`unknown error code ${JSON.stringify(detail.code)}: ${detail.message}`, o);
  }
}
