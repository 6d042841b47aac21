// Original file: src/protocol/proto/dstore/v1/replica.proto

import type { Ballot as _dstore_v1_Ballot, Ballot__Output as _dstore_v1_Ballot__Output } from '../../dstore/v1/Ballot.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * A decision announcement when no Accept or Heartbeat is going that way.
 */
export interface Decided {
  'ballot'?: (_dstore_v1_Ballot | null);
  'decidedThrough'?: (number | string | Long);
}

/**
 * A decision announcement when no Accept or Heartbeat is going that way.
 */
export interface Decided__Output {
  'ballot': (_dstore_v1_Ballot__Output | null);
  'decidedThrough': (number);
}
