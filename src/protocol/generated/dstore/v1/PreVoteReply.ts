// Original file: src/protocol/proto/dstore/v1/replica.proto

import type { Ballot as _dstore_v1_Ballot, Ballot__Output as _dstore_v1_Ballot__Output } from '../../dstore/v1/Ballot.ts';

export interface PreVoteReply {
  /**
   * Echo of PreVote.ballot.
   */
  'ballot'?: (_dstore_v1_Ballot | null);
  /**
   * True when the receiver has not heard from a live leader for its election timeout.
   */
  'granted'?: (boolean);
  /**
   * The receiver's promised ballot, so the candidate picks a higher round.
   */
  'promised'?: (_dstore_v1_Ballot | null);
}

export interface PreVoteReply__Output {
  /**
   * Echo of PreVote.ballot.
   */
  'ballot': (_dstore_v1_Ballot__Output | null);
  /**
   * True when the receiver has not heard from a live leader for its election timeout.
   */
  'granted': (boolean);
  /**
   * The receiver's promised ballot, so the candidate picks a higher round.
   */
  'promised': (_dstore_v1_Ballot__Output | null);
}
