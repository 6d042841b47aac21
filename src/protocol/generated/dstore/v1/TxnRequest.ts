// Original file: src/protocol/proto/dstore/v1/global.proto

import type { Compare as _dstore_v1_Compare, Compare__Output as _dstore_v1_Compare__Output } from '../../dstore/v1/Compare.ts';
import type { TxnOp as _dstore_v1_TxnOp, TxnOp__Output as _dstore_v1_TxnOp__Output } from '../../dstore/v1/TxnOp.ts';
import type { WriteId as _dstore_v1_WriteId, WriteId__Output as _dstore_v1_WriteId__Output } from '../../dstore/v1/WriteId.ts';
import type { ReadConsistency as _dstore_v1_ReadConsistency, ReadConsistency__Output as _dstore_v1_ReadConsistency__Output } from '../../dstore/v1/ReadConsistency.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * Applied atomically at one revision. Ops in one branch see the effects of the ops
 * before them. A structured op on a value of the wrong shape, or a failed
 * put_if_absent, fails the whole transaction and changes nothing. A transaction whose ops
 * (both branches) are all gets and ranges only reads: it does not enter the log and is
 * served like a Range, at `consistency` once `min_revision` is applied. The ranges of one
 * transaction share one budget: limits.range_keys_max keys and 16 MiB in all, beyond which
 * they are cut short with `more` set.
 */
export interface TxnRequest {
  /**
   * All must hold for `success` to run; otherwise `failure` runs.
   */
  'compares'?: (_dstore_v1_Compare)[];
  'success'?: (_dstore_v1_TxnOp)[];
  'failure'?: (_dstore_v1_TxnOp)[];
  /**
   * Optional. Writes with a WriteId run exactly once: a retry gets the first run's result;
   * without one (or with an empty client_id) a write runs each time it is sent. A retry
   * older than the results kept for that client fails with INVALID_ARGUMENT ("may or may
   * not have run") instead of running twice; a write from a client whose session expired
   * (too many other clients since) fails with FAILED_PRECONDITION (SESSION_EXPIRED, "may or
   * may not have run before"), also never running twice.
   */
  'writeId'?: (_dstore_v1_WriteId | null);
  /**
   * Read-only transactions only (see above); a transaction that writes is linearizable, and
   * the consistency and min_revision of its range ops are ignored.
   */
  'consistency'?: (_dstore_v1_ReadConsistency);
  'minRevision'?: (number | string | Long);
}

/**
 * Applied atomically at one revision. Ops in one branch see the effects of the ops
 * before them. A structured op on a value of the wrong shape, or a failed
 * put_if_absent, fails the whole transaction and changes nothing. A transaction whose ops
 * (both branches) are all gets and ranges only reads: it does not enter the log and is
 * served like a Range, at `consistency` once `min_revision` is applied. The ranges of one
 * transaction share one budget: limits.range_keys_max keys and 16 MiB in all, beyond which
 * they are cut short with `more` set.
 */
export interface TxnRequest__Output {
  /**
   * All must hold for `success` to run; otherwise `failure` runs.
   */
  'compares': (_dstore_v1_Compare__Output)[];
  'success': (_dstore_v1_TxnOp__Output)[];
  'failure': (_dstore_v1_TxnOp__Output)[];
  /**
   * Optional. Writes with a WriteId run exactly once: a retry gets the first run's result;
   * without one (or with an empty client_id) a write runs each time it is sent. A retry
   * older than the results kept for that client fails with INVALID_ARGUMENT ("may or may
   * not have run") instead of running twice; a write from a client whose session expired
   * (too many other clients since) fails with FAILED_PRECONDITION (SESSION_EXPIRED, "may or
   * may not have run before"), also never running twice.
   */
  'writeId': (_dstore_v1_WriteId__Output | null);
  /**
   * Read-only transactions only (see above); a transaction that writes is linearizable, and
   * the consistency and min_revision of its range ops are ignored.
   */
  'consistency': (_dstore_v1_ReadConsistency__Output);
  'minRevision': (number);
}
