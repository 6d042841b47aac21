// Original file: src/protocol/proto/dstore/v1/global.proto

import type { ValueSource as _dstore_v1_ValueSource, ValueSource__Output as _dstore_v1_ValueSource__Output } from '../../dstore/v1/ValueSource.ts';
import type { WriteId as _dstore_v1_WriteId, WriteId__Output as _dstore_v1_WriteId__Output } from '../../dstore/v1/WriteId.ts';

export interface SetRequest {
  'key'?: (string);
  'value'?: (_dstore_v1_ValueSource | null);
  /**
   * Optional: without one, a resent Set may run twice (see WriteId).
   */
  'writeId'?: (_dstore_v1_WriteId | null);
}

export interface SetRequest__Output {
  'key': (string);
  'value': (_dstore_v1_ValueSource__Output | null);
  /**
   * Optional: without one, a resent Set may run twice (see WriteId).
   */
  'writeId': (_dstore_v1_WriteId__Output | null);
}
