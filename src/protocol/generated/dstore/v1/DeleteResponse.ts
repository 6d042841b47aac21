// Original file: src/protocol/proto/dstore/v1/global.proto

import type { ResponseHeader as _dstore_v1_ResponseHeader, ResponseHeader__Output as _dstore_v1_ResponseHeader__Output } from '../../dstore/v1/ResponseHeader.ts';
import type { KeyValue as _dstore_v1_KeyValue, KeyValue__Output as _dstore_v1_KeyValue__Output } from '../../dstore/v1/KeyValue.ts';

export interface DeleteResponse {
  'header'?: (_dstore_v1_ResponseHeader | null);
  /**
   * False when the key was not bound.
   */
  'deleted'?: (boolean);
  /**
   * The binding that was removed (value not included).
   */
  'prevKv'?: (_dstore_v1_KeyValue | null);
}

export interface DeleteResponse__Output {
  'header': (_dstore_v1_ResponseHeader__Output | null);
  /**
   * False when the key was not bound.
   */
  'deleted': (boolean);
  /**
   * The binding that was removed (value not included).
   */
  'prevKv': (_dstore_v1_KeyValue__Output | null);
}
