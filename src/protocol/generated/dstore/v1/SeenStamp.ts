// Original file: src/protocol/proto/dstore/v1/replica.proto

import type { VoteStamp as _dstore_v1_VoteStamp, VoteStamp__Output as _dstore_v1_VoteStamp__Output } from '../../dstore/v1/VoteStamp.ts';

/**
 * The highest stamp seen from one replica.
 */
export interface SeenStamp {
  'replicaId'?: (number);
  'stamp'?: (_dstore_v1_VoteStamp | null);
}

/**
 * The highest stamp seen from one replica.
 */
export interface SeenStamp__Output {
  'replicaId': (number);
  'stamp': (_dstore_v1_VoteStamp__Output | null);
}
