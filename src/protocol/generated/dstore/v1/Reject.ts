// Original file: src/protocol/proto/dstore/v1/replica.proto

import type { Ballot as _dstore_v1_Ballot, Ballot__Output as _dstore_v1_Ballot__Output } from '../../dstore/v1/Ballot.ts';

/**
 * The acceptor refuses `ballot` because it promised `promised`.
 */
export interface Reject {
  'ballot'?: (_dstore_v1_Ballot | null);
  'promised'?: (_dstore_v1_Ballot | null);
}

/**
 * The acceptor refuses `ballot` because it promised `promised`.
 */
export interface Reject__Output {
  'ballot': (_dstore_v1_Ballot__Output | null);
  'promised': (_dstore_v1_Ballot__Output | null);
}
