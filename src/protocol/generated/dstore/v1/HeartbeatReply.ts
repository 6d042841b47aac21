// Original file: src/protocol/proto/dstore/v1/replica.proto

import type { Ballot as _dstore_v1_Ballot, Ballot__Output as _dstore_v1_Ballot__Output } from '../../dstore/v1/Ballot.ts';
import type { Long } from '@grpc/proto-loader';

export interface HeartbeatReply {
  'ballot'?: (_dstore_v1_Ballot | null);
  'seq'?: (number | string | Long);
  'decidedThrough'?: (number | string | Long);
}

export interface HeartbeatReply__Output {
  'ballot': (_dstore_v1_Ballot__Output | null);
  'seq': (number);
  'decidedThrough': (number);
}
