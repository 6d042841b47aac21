// Original file: src/protocol/proto/dstore/v1/global.proto

import type { GetResponse as _dstore_v1_GetResponse, GetResponse__Output as _dstore_v1_GetResponse__Output } from '../../dstore/v1/GetResponse.ts';
import type { KeyValue as _dstore_v1_KeyValue, KeyValue__Output as _dstore_v1_KeyValue__Output } from '../../dstore/v1/KeyValue.ts';
import type { DeleteResponse as _dstore_v1_DeleteResponse, DeleteResponse__Output as _dstore_v1_DeleteResponse__Output } from '../../dstore/v1/DeleteResponse.ts';
import type { RangeResponse as _dstore_v1_RangeResponse, RangeResponse__Output as _dstore_v1_RangeResponse__Output } from '../../dstore/v1/RangeResponse.ts';

/**
 * The result of one TxnOp, in the same position as the op.
 */
export interface TxnOpResult {
  'get'?: (_dstore_v1_GetResponse | null);
  /**
   * put, put_if_absent, list_append, map_store, map_delete: the new binding.
   */
  'written'?: (_dstore_v1_KeyValue | null);
  'delete'?: (_dstore_v1_DeleteResponse | null);
  'range'?: (_dstore_v1_RangeResponse | null);
  /**
   * add: the integer after the addition, as decimal text (exact over signed 64-bit).
   */
  'number'?: (string);
  /**
   * A read (get, range) of a transaction that ran before under the same WriteId: the
   * server keeps writes' results for retries, not reads'.
   */
  'notRetained'?: (boolean);
  'result'?: "get"|"written"|"delete"|"range"|"number"|"notRetained";
}

/**
 * The result of one TxnOp, in the same position as the op.
 */
export interface TxnOpResult__Output {
  'get'?: (_dstore_v1_GetResponse__Output | null);
  /**
   * put, put_if_absent, list_append, map_store, map_delete: the new binding.
   */
  'written'?: (_dstore_v1_KeyValue__Output | null);
  'delete'?: (_dstore_v1_DeleteResponse__Output | null);
  'range'?: (_dstore_v1_RangeResponse__Output | null);
  /**
   * add: the integer after the addition, as decimal text (exact over signed 64-bit).
   */
  'number'?: (string);
  /**
   * A read (get, range) of a transaction that ran before under the same WriteId: the
   * server keeps writes' results for retries, not reads'.
   */
  'notRetained'?: (boolean);
  'result'?: "get"|"written"|"delete"|"range"|"number"|"notRetained";
}
