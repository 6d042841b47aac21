// Original file: src/protocol/proto/dstore/v1/replica.proto

import type { VoteStamp as _dstore_v1_VoteStamp, VoteStamp__Output as _dstore_v1_VoteStamp__Output } from '../../dstore/v1/VoteStamp.ts';
import type { Long } from '@grpc/proto-loader';

export interface StampCheckReply {
  'nonce'?: (number | string | Long);
  /**
   * `seen` is above the stamp asked about: the asker's data directory was rolled back.
   */
  'rolledBack'?: (boolean);
  /**
   * The highest stamp the receiver saw from the asker.
   */
  'seen'?: (_dstore_v1_VoteStamp | null);
}

export interface StampCheckReply__Output {
  'nonce': (number);
  /**
   * `seen` is above the stamp asked about: the asker's data directory was rolled back.
   */
  'rolledBack': (boolean);
  /**
   * The highest stamp the receiver saw from the asker.
   */
  'seen': (_dstore_v1_VoteStamp__Output | null);
}
