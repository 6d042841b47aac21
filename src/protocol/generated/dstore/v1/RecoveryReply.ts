// Original file: src/protocol/proto/dstore/v1/replica.proto

import type { Ballot as _dstore_v1_Ballot, Ballot__Output as _dstore_v1_Ballot__Output } from '../../dstore/v1/Ballot.ts';
import type { LogEntry as _dstore_v1_LogEntry, LogEntry__Output as _dstore_v1_LogEntry__Output } from '../../dstore/v1/LogEntry.ts';
import type { VoteStamp as _dstore_v1_VoteStamp, VoteStamp__Output as _dstore_v1_VoteStamp__Output } from '../../dstore/v1/VoteStamp.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * The receiver's state when it answered.
 */
export interface RecoveryReply {
  'nonce'?: (number | string | Long);
  /**
   * The highest ballot it promised.
   */
  'promised'?: (_dstore_v1_Ballot | null);
  'decidedThrough'?: (number | string | Long);
  /**
   * Every entry it holds above decided_through, ascending (as in a Promise).
   */
  'entries'?: (_dstore_v1_LogEntry)[];
  /**
   * It is recovering itself (informational).
   */
  'recovering'?: (boolean);
  /**
   * The highest stamp it saw from the asker: the asker's next incarnation goes above it.
   */
  'known'?: (_dstore_v1_VoteStamp | null);
}

/**
 * The receiver's state when it answered.
 */
export interface RecoveryReply__Output {
  'nonce': (number);
  /**
   * The highest ballot it promised.
   */
  'promised': (_dstore_v1_Ballot__Output | null);
  'decidedThrough': (number);
  /**
   * Every entry it holds above decided_through, ascending (as in a Promise).
   */
  'entries': (_dstore_v1_LogEntry__Output)[];
  /**
   * It is recovering itself (informational).
   */
  'recovering': (boolean);
  /**
   * The highest stamp it saw from the asker: the asker's next incarnation goes above it.
   */
  'known': (_dstore_v1_VoteStamp__Output | null);
}
