// Original file: src/protocol/proto/dstore/v1/global.proto

import type { WriteId as _dstore_v1_WriteId, WriteId__Output as _dstore_v1_WriteId__Output } from '../../dstore/v1/WriteId.ts';

export interface DeleteRequest {
  'key'?: (string);
  /**
   * Optional: without one, a resent Delete may run twice (see WriteId).
   */
  'writeId'?: (_dstore_v1_WriteId | null);
}

export interface DeleteRequest__Output {
  'key': (string);
  /**
   * Optional: without one, a resent Delete may run twice (see WriteId).
   */
  'writeId': (_dstore_v1_WriteId__Output | null);
}
