// Original file: src/protocol/proto/dstore/v1/common.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Identifies a write for exactly-once execution: a retried request with the same
 * (client_id, request_id) gets the first attempt's result instead of running twice.
 * A client picks a random client_id once and opens its session with an empty write (a Txn
 * with no compares and no ops) at request id 1, answered before it sends any other write,
 * which it numbers from 2. A write from a client the server holds no session for is refused
 * with SESSION_EXPIRED (its session was forgotten, and it may have run under it), unless it
 * is request id 1 and either empty or without first_incomplete (0: taken for a new client).
 * Optional in every write request: a write without one (or with an empty client_id) runs
 * each time it is sent, so a retry of it may apply it twice.
 */
export interface WriteId {
  /**
   * Random, at least 16 bytes of entropy, at most 64 bytes.
   */
  'clientId'?: (string);
  /**
   * Increasing per client_id. The server remembers results of recent request ids.
   */
  'requestId'?: (number | string | Long);
  /**
   * Every request of this client with a lower id has had its answer, so the server may
   * forget those results (a retry of one is then refused, never run twice). 0 = not said.
   */
  'firstIncomplete'?: (number | string | Long);
}

/**
 * Identifies a write for exactly-once execution: a retried request with the same
 * (client_id, request_id) gets the first attempt's result instead of running twice.
 * A client picks a random client_id once and opens its session with an empty write (a Txn
 * with no compares and no ops) at request id 1, answered before it sends any other write,
 * which it numbers from 2. A write from a client the server holds no session for is refused
 * with SESSION_EXPIRED (its session was forgotten, and it may have run under it), unless it
 * is request id 1 and either empty or without first_incomplete (0: taken for a new client).
 * Optional in every write request: a write without one (or with an empty client_id) runs
 * each time it is sent, so a retry of it may apply it twice.
 */
export interface WriteId__Output {
  /**
   * Random, at least 16 bytes of entropy, at most 64 bytes.
   */
  'clientId': (string);
  /**
   * Increasing per client_id. The server remembers results of recent request ids.
   */
  'requestId': (number);
  /**
   * Every request of this client with a lower id has had its answer, so the server may
   * forget those results (a retry of one is then refused, never run twice). 0 = not said.
   */
  'firstIncomplete': (number);
}
