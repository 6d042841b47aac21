// Original file: src/protocol/proto/dstore/v1/global.proto

import type { ResponseHeader as _dstore_v1_ResponseHeader, ResponseHeader__Output as _dstore_v1_ResponseHeader__Output } from '../../dstore/v1/ResponseHeader.ts';
import type { KeyValue as _dstore_v1_KeyValue, KeyValue__Output as _dstore_v1_KeyValue__Output } from '../../dstore/v1/KeyValue.ts';

export interface RangeResponse {
  'header'?: (_dstore_v1_ResponseHeader | null);
  'kvs'?: (_dstore_v1_KeyValue)[];
  /**
   * True when more keys matched than were returned; continue from the last key + "\0".
   */
  'more'?: (boolean);
}

export interface RangeResponse__Output {
  'header': (_dstore_v1_ResponseHeader__Output | null);
  'kvs': (_dstore_v1_KeyValue__Output)[];
  /**
   * True when more keys matched than were returned; continue from the last key + "\0".
   */
  'more': (boolean);
}
