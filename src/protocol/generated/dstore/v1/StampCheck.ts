// Original file: src/protocol/proto/dstore/v1/replica.proto

import type { VoteStamp as _dstore_v1_VoteStamp, VoteStamp__Output as _dstore_v1_VoteStamp__Output } from '../../dstore/v1/VoteStamp.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * A replica restarted on its stable state (not recovering) asks whether the receiver saw a
 * later vote of it than `stamp`; it votes once a majority (itself included) said no.
 */
export interface StampCheck {
  /**
   * Random per start, echoed in the reply.
   */
  'nonce'?: (number | string | Long);
  'stamp'?: (_dstore_v1_VoteStamp | null);
}

/**
 * A replica restarted on its stable state (not recovering) asks whether the receiver saw a
 * later vote of it than `stamp`; it votes once a majority (itself included) said no.
 */
export interface StampCheck__Output {
  /**
   * Random per start, echoed in the reply.
   */
  'nonce': (number);
  'stamp': (_dstore_v1_VoteStamp__Output | null);
}
