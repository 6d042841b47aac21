// Original file: src/protocol/proto/dstore/v1/common.proto

import type { Long } from '@grpc/proto-loader';

/**
 * A problem reported inside a batched frame (the stream itself stays open). `code` is
 * the dstore error code; the gRPC status a unary call would have failed with is in
 * parentheses:
 * NOT_FOUND (NOT_FOUND), KEY_OCCUPIED (ALREADY_EXISTS), INVALID_ARGUMENT
 * (INVALID_ARGUMENT), NOT_LEADER (UNAVAILABLE; leader_hint says where to go),
 * UNAVAILABLE (UNAVAILABLE), TOO_LARGE (INVALID_ARGUMENT), CORRUPT (DATA_LOSS),
 * CLOSED (CANCELLED), COMPACTED (OUT_OF_RANGE), UNAUTHENTICATED (UNAUTHENTICATED),
 * INTERNAL (INTERNAL), RESOURCE_EXHAUSTED (RESOURCE_EXHAUSTED; a cap on open streams,
 * transfers or forwarded requests, retryable), SESSION_EXPIRED (FAILED_PRECONDITION; a
 * write whose client session was forgotten: it did not run now, may have run before, never
 * runs twice), DEADLINE_EXCEEDED (DEADLINE_EXCEEDED; a forwarded request's deadline passed
 * before the leader answered), CANCELLED (CANCELLED).
 */
export interface ErrorDetail {
  /**
   * One of the codes above.
   */
  'code'?: (string);
  /**
   * What was wrong and what to do, for people.
   */
  'message'?: (string);
  /**
   * NOT_LEADER: "host:port" of the replica believed to lead, or empty when unknown (a
   * follower that knows the leader forwards instead, unless asked not to: global.proto).
   */
  'leaderHint'?: (string);
  /**
   * COMPACTED: the oldest revision that can still be subscribed from.
   */
  'oldestRevision'?: (number | string | Long);
  /**
   * True when the same request may succeed if retried (after backoff, possibly elsewhere).
   */
  'retryable'?: (boolean);
  /**
   * A write that may or may not have run: it reached the leader (through a follower that
   * forwarded it) and no answer came back before the link broke, the leader changed or the
   * deadline passed. Retry it with the same WriteId (it runs at most once) or read the key.
   * Unary calls carry the same in metadata `dstore-outcome-unknown: true`.
   */
  'outcomeUnknown'?: (boolean);
}

/**
 * A problem reported inside a batched frame (the stream itself stays open). `code` is
 * the dstore error code; the gRPC status a unary call would have failed with is in
 * parentheses:
 * NOT_FOUND (NOT_FOUND), KEY_OCCUPIED (ALREADY_EXISTS), INVALID_ARGUMENT
 * (INVALID_ARGUMENT), NOT_LEADER (UNAVAILABLE; leader_hint says where to go),
 * UNAVAILABLE (UNAVAILABLE), TOO_LARGE (INVALID_ARGUMENT), CORRUPT (DATA_LOSS),
 * CLOSED (CANCELLED), COMPACTED (OUT_OF_RANGE), UNAUTHENTICATED (UNAUTHENTICATED),
 * INTERNAL (INTERNAL), RESOURCE_EXHAUSTED (RESOURCE_EXHAUSTED; a cap on open streams,
 * transfers or forwarded requests, retryable), SESSION_EXPIRED (FAILED_PRECONDITION; a
 * write whose client session was forgotten: it did not run now, may have run before, never
 * runs twice), DEADLINE_EXCEEDED (DEADLINE_EXCEEDED; a forwarded request's deadline passed
 * before the leader answered), CANCELLED (CANCELLED).
 */
export interface ErrorDetail__Output {
  /**
   * One of the codes above.
   */
  'code': (string);
  /**
   * What was wrong and what to do, for people.
   */
  'message': (string);
  /**
   * NOT_LEADER: "host:port" of the replica believed to lead, or empty when unknown (a
   * follower that knows the leader forwards instead, unless asked not to: global.proto).
   */
  'leaderHint': (string);
  /**
   * COMPACTED: the oldest revision that can still be subscribed from.
   */
  'oldestRevision': (number);
  /**
   * True when the same request may succeed if retried (after backoff, possibly elsewhere).
   */
  'retryable': (boolean);
  /**
   * A write that may or may not have run: it reached the leader (through a follower that
   * forwarded it) and no answer came back before the link broke, the leader changed or the
   * deadline passed. Retry it with the same WriteId (it runs at most once) or read the key.
   * Unary calls carry the same in metadata `dstore-outcome-unknown: true`.
   */
  'outcomeUnknown': (boolean);
}
