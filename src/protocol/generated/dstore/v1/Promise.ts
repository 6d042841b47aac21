// Original file: src/protocol/proto/dstore/v1/replica.proto

import type { Ballot as _dstore_v1_Ballot, Ballot__Output as _dstore_v1_Ballot__Output } from '../../dstore/v1/Ballot.ts';
import type { LogEntry as _dstore_v1_LogEntry, LogEntry__Output as _dstore_v1_LogEntry__Output } from '../../dstore/v1/LogEntry.ts';
import type { VoteStamp as _dstore_v1_VoteStamp, VoteStamp__Output as _dstore_v1_VoteStamp__Output } from '../../dstore/v1/VoteStamp.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * Phase 1b: the sender promised `ballot` (durably) and reports every entry it holds
 * above its decided prefix or the candidate's, ascending.
 */
export interface Promise {
  'ballot'?: (_dstore_v1_Ballot | null);
  'decidedThrough'?: (number | string | Long);
  'entries'?: (_dstore_v1_LogEntry)[];
  /**
   * The sender's stamp, this promise included.
   */
  'stamp'?: (_dstore_v1_VoteStamp | null);
}

/**
 * Phase 1b: the sender promised `ballot` (durably) and reports every entry it holds
 * above its decided prefix or the candidate's, ascending.
 */
export interface Promise__Output {
  'ballot': (_dstore_v1_Ballot__Output | null);
  'decidedThrough': (number);
  'entries': (_dstore_v1_LogEntry__Output)[];
  /**
   * The sender's stamp, this promise included.
   */
  'stamp': (_dstore_v1_VoteStamp__Output | null);
}
