// Original file: src/protocol/proto/dstore/v1/replica.proto

import type { Ballot as _dstore_v1_Ballot, Ballot__Output as _dstore_v1_Ballot__Output } from '../../dstore/v1/Ballot.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * Phase 1a for every instance >= from_instance at once ("prepare to infinity").
 */
export interface Prepare {
  'ballot'?: (_dstore_v1_Ballot | null);
  /**
   * The candidate's first undecided instance.
   */
  'fromInstance'?: (number | string | Long);
}

/**
 * Phase 1a for every instance >= from_instance at once ("prepare to infinity").
 */
export interface Prepare__Output {
  'ballot': (_dstore_v1_Ballot__Output | null);
  /**
   * The candidate's first undecided instance.
   */
  'fromInstance': (number);
}
