// Original file: src/protocol/proto/dstore/v1/replica.proto

import type { Ballot as _dstore_v1_Ballot, Ballot__Output as _dstore_v1_Ballot__Output } from '../../dstore/v1/Ballot.ts';
import type { LogEntry as _dstore_v1_LogEntry, LogEntry__Output as _dstore_v1_LogEntry__Output } from '../../dstore/v1/LogEntry.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * Phase 1b: the acceptor promised `ballot` and reports what it accepted at or above
 * from_instance.
 */
export interface Promise {
  'ballot'?: (_dstore_v1_Ballot | null);
  'fromInstance'?: (number | string | Long);
  'accepted'?: (_dstore_v1_LogEntry)[];
  /**
   * The acceptor's decided prefix, so the new leader can skip or fetch it.
   */
  'decidedThrough'?: (number | string | Long);
}

/**
 * Phase 1b: the acceptor promised `ballot` and reports what it accepted at or above
 * from_instance.
 */
export interface Promise__Output {
  'ballot': (_dstore_v1_Ballot__Output | null);
  'fromInstance': (number);
  'accepted': (_dstore_v1_LogEntry__Output)[];
  /**
   * The acceptor's decided prefix, so the new leader can skip or fetch it.
   */
  'decidedThrough': (number);
}
