// Original file: src/protocol/proto/dstore/v1/global.proto

import type { ResponseHeader as _dstore_v1_ResponseHeader, ResponseHeader__Output as _dstore_v1_ResponseHeader__Output } from '../../dstore/v1/ResponseHeader.ts';
import type { KeyValue as _dstore_v1_KeyValue, KeyValue__Output as _dstore_v1_KeyValue__Output } from '../../dstore/v1/KeyValue.ts';

export interface SetResponse {
  'header'?: (_dstore_v1_ResponseHeader | null);
  /**
   * The new binding (value not included).
   */
  'kv'?: (_dstore_v1_KeyValue | null);
}

export interface SetResponse__Output {
  'header': (_dstore_v1_ResponseHeader__Output | null);
  /**
   * The new binding (value not included).
   */
  'kv': (_dstore_v1_KeyValue__Output | null);
}
