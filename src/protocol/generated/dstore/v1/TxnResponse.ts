// Original file: src/protocol/proto/dstore/v1/global.proto

import type { ResponseHeader as _dstore_v1_ResponseHeader, ResponseHeader__Output as _dstore_v1_ResponseHeader__Output } from '../../dstore/v1/ResponseHeader.ts';
import type { TxnOpResult as _dstore_v1_TxnOpResult, TxnOpResult__Output as _dstore_v1_TxnOpResult__Output } from '../../dstore/v1/TxnOpResult.ts';

export interface TxnResponse {
  'header'?: (_dstore_v1_ResponseHeader | null);
  /**
   * True when every compare held (the success branch ran).
   */
  'succeeded'?: (boolean);
  'results'?: (_dstore_v1_TxnOpResult)[];
}

export interface TxnResponse__Output {
  'header': (_dstore_v1_ResponseHeader__Output | null);
  /**
   * True when every compare held (the success branch ran).
   */
  'succeeded': (boolean);
  'results': (_dstore_v1_TxnOpResult__Output)[];
}
