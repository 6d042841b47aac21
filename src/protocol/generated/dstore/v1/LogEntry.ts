// Original file: src/protocol/proto/dstore/v1/replica.proto

import type { Ballot as _dstore_v1_Ballot, Ballot__Output as _dstore_v1_Ballot__Output } from '../../dstore/v1/Ballot.ts';
import type { Value as _dstore_v1_Value, Value__Output as _dstore_v1_Value__Output } from '../../dstore/v1/Value.ts';
import type { Long } from '@grpc/proto-loader';

export interface LogEntry {
  'instance'?: (number | string | Long);
  'ballot'?: (_dstore_v1_Ballot | null);
  'value'?: (_dstore_v1_Value | null);
  /**
   * The sender knows this value was chosen.
   */
  'decided'?: (boolean);
}

export interface LogEntry__Output {
  'instance': (number);
  'ballot': (_dstore_v1_Ballot__Output | null);
  'value': (_dstore_v1_Value__Output | null);
  /**
   * The sender knows this value was chosen.
   */
  'decided': (boolean);
}
