// Original file: src/protocol/proto/dstore/v1/replica.proto

import type { Ballot as _dstore_v1_Ballot, Ballot__Output as _dstore_v1_Ballot__Output } from '../../dstore/v1/Ballot.ts';

/**
 * Phase 0: would the receiver promise `ballot` if asked? Changes no state.
 */
export interface PreVote {
  'ballot'?: (_dstore_v1_Ballot | null);
}

/**
 * Phase 0: would the receiver promise `ballot` if asked? Changes no state.
 */
export interface PreVote__Output {
  'ballot': (_dstore_v1_Ballot__Output | null);
}
