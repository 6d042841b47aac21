// Original file: src/protocol/proto/dstore/v1/replica.proto

import type { Ballot as _dstore_v1_Ballot, Ballot__Output as _dstore_v1_Ballot__Output } from '../../dstore/v1/Ballot.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * The leader's liveness beacon; also a read-index round when read_id is set.
 */
export interface Heartbeat {
  'ballot'?: (_dstore_v1_Ballot | null);
  'decidedThrough'?: (number | string | Long);
  'readId'?: (number | string | Long);
}

/**
 * The leader's liveness beacon; also a read-index round when read_id is set.
 */
export interface Heartbeat__Output {
  'ballot': (_dstore_v1_Ballot__Output | null);
  'decidedThrough': (number);
  'readId': (number);
}
