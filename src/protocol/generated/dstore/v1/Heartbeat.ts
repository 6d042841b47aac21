// Original file: src/protocol/proto/dstore/v1/replica.proto

import type { Ballot as _dstore_v1_Ballot, Ballot__Output as _dstore_v1_Ballot__Output } from '../../dstore/v1/Ballot.ts';
import type { SeenStamp as _dstore_v1_SeenStamp, SeenStamp__Output as _dstore_v1_SeenStamp__Output } from '../../dstore/v1/SeenStamp.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * Leader liveness, decisions, and lease / read-index rounds.
 */
export interface Heartbeat {
  'ballot'?: (_dstore_v1_Ballot | null);
  'decidedThrough'?: (number | string | Long);
  /**
   * Round number, increasing per leader; echoed in the reply.
   */
  'seq'?: (number | string | Long);
  /**
   * The highest stamp the leader saw from each member (its own durable one included).
   */
  'stamps'?: (_dstore_v1_SeenStamp)[];
}

/**
 * Leader liveness, decisions, and lease / read-index rounds.
 */
export interface Heartbeat__Output {
  'ballot': (_dstore_v1_Ballot__Output | null);
  'decidedThrough': (number);
  /**
   * Round number, increasing per leader; echoed in the reply.
   */
  'seq': (number);
  /**
   * The highest stamp the leader saw from each member (its own durable one included).
   */
  'stamps': (_dstore_v1_SeenStamp__Output)[];
}
