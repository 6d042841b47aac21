// Original file: src/protocol/proto/dstore/v1/replica.proto

import type { Ballot as _dstore_v1_Ballot, Ballot__Output as _dstore_v1_Ballot__Output } from '../../dstore/v1/Ballot.ts';
import type { VoteStamp as _dstore_v1_VoteStamp, VoteStamp__Output as _dstore_v1_VoteStamp__Output } from '../../dstore/v1/VoteStamp.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * Phase 2b: the sender accepted (durably) `count` instances from first_instance.
 */
export interface Accepted {
  'ballot'?: (_dstore_v1_Ballot | null);
  'firstInstance'?: (number | string | Long);
  /**
   * May be 0 when only decided_through is news.
   */
  'count'?: (number | string | Long);
  'decidedThrough'?: (number | string | Long);
  /**
   * The sender's stamp, these acceptances included.
   */
  'stamp'?: (_dstore_v1_VoteStamp | null);
}

/**
 * Phase 2b: the sender accepted (durably) `count` instances from first_instance.
 */
export interface Accepted__Output {
  'ballot': (_dstore_v1_Ballot__Output | null);
  'firstInstance': (number);
  /**
   * May be 0 when only decided_through is news.
   */
  'count': (number);
  'decidedThrough': (number);
  /**
   * The sender's stamp, these acceptances included.
   */
  'stamp': (_dstore_v1_VoteStamp__Output | null);
}
