// Original file: src/protocol/proto/dstore/v1/replica.proto

import type { Ballot as _dstore_v1_Ballot, Ballot__Output as _dstore_v1_Ballot__Output } from '../../dstore/v1/Ballot.ts';
import type { Value as _dstore_v1_Value, Value__Output as _dstore_v1_Value__Output } from '../../dstore/v1/Value.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * Phase 2a for instances first_instance .. first_instance + len(values) - 1.
 */
export interface Accept {
  'ballot'?: (_dstore_v1_Ballot | null);
  'firstInstance'?: (number | string | Long);
  'values'?: (_dstore_v1_Value)[];
  /**
   * Piggybacked decisions: instances <= this held with exactly `ballot` are decided.
   */
  'decidedThrough'?: (number | string | Long);
}

/**
 * Phase 2a for instances first_instance .. first_instance + len(values) - 1.
 */
export interface Accept__Output {
  'ballot': (_dstore_v1_Ballot__Output | null);
  'firstInstance': (number);
  'values': (_dstore_v1_Value__Output)[];
  /**
   * Piggybacked decisions: instances <= this held with exactly `ballot` are decided.
   */
  'decidedThrough': (number);
}
