// Original file: src/protocol/proto/dstore/v1/global.proto

import type { ValueSource as _dstore_v1_ValueSource, ValueSource__Output as _dstore_v1_ValueSource__Output } from '../../dstore/v1/ValueSource.ts';
import type { RangeRequest as _dstore_v1_RangeRequest, RangeRequest__Output as _dstore_v1_RangeRequest__Output } from '../../dstore/v1/RangeRequest.ts';
import type { _dstore_v1_MapValue_Entry, _dstore_v1_MapValue_Entry__Output } from '../../dstore/v1/MapValue.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * Adds delta to the integer at key (a missing key is 0). Overflow of signed 64-bit
 * fails the transaction with INVALID_ARGUMENT.
 */
export interface _dstore_v1_TxnOp_Add {
  'key'?: (string);
  /**
   * |delta| < 2^53 (the server refuses larger ones with INVALID_ARGUMENT).
   */
  'delta'?: (number | string | Long);
}

/**
 * Adds delta to the integer at key (a missing key is 0). Overflow of signed 64-bit
 * fails the transaction with INVALID_ARGUMENT.
 */
export interface _dstore_v1_TxnOp_Add__Output {
  'key': (string);
  /**
   * |delta| < 2^53 (the server refuses larger ones with INVALID_ARGUMENT).
   */
  'delta': (number);
}

export interface _dstore_v1_TxnOp_Delete {
  'key'?: (string);
}

export interface _dstore_v1_TxnOp_Delete__Output {
  'key': (string);
}

export interface _dstore_v1_TxnOp_Get {
  'key'?: (string);
  'withValue'?: (boolean);
}

export interface _dstore_v1_TxnOp_Get__Output {
  'key': (string);
  'withValue': (boolean);
}

/**
 * Appends items to the list at key (a missing key is an empty list).
 */
export interface _dstore_v1_TxnOp_ListAppend {
  'key'?: (string);
  'items'?: (Buffer | Uint8Array | string)[];
}

/**
 * Appends items to the list at key (a missing key is an empty list).
 */
export interface _dstore_v1_TxnOp_ListAppend__Output {
  'key': (string);
  'items': (Buffer)[];
}

/**
 * Removes fields from the map at key; missing fields are ignored.
 */
export interface _dstore_v1_TxnOp_MapDelete {
  'key'?: (string);
  'fields'?: (string)[];
}

/**
 * Removes fields from the map at key; missing fields are ignored.
 */
export interface _dstore_v1_TxnOp_MapDelete__Output {
  'key': (string);
  'fields': (string)[];
}

/**
 * Sets fields of the map at key (a missing key is an empty map).
 */
export interface _dstore_v1_TxnOp_MapStore {
  'key'?: (string);
  'entries'?: (_dstore_v1_MapValue_Entry)[];
}

/**
 * Sets fields of the map at key (a missing key is an empty map).
 */
export interface _dstore_v1_TxnOp_MapStore__Output {
  'key': (string);
  'entries': (_dstore_v1_MapValue_Entry__Output)[];
}

/**
 * Binds key to the value whether or not it exists.
 */
export interface _dstore_v1_TxnOp_Put {
  'key'?: (string);
  'value'?: (_dstore_v1_ValueSource | null);
}

/**
 * Binds key to the value whether or not it exists.
 */
export interface _dstore_v1_TxnOp_Put__Output {
  'key': (string);
  'value': (_dstore_v1_ValueSource__Output | null);
}

/**
 * Binds key only if it does not exist; otherwise the whole transaction fails with
 * KEY_OCCUPIED and changes nothing. Plain SET is a transaction of this one op.
 */
export interface _dstore_v1_TxnOp_PutIfAbsent {
  'key'?: (string);
  'value'?: (_dstore_v1_ValueSource | null);
}

/**
 * Binds key only if it does not exist; otherwise the whole transaction fails with
 * KEY_OCCUPIED and changes nothing. Plain SET is a transaction of this one op.
 */
export interface _dstore_v1_TxnOp_PutIfAbsent__Output {
  'key': (string);
  'value': (_dstore_v1_ValueSource__Output | null);
}

export interface _dstore_v1_TxnOp_Range {
  'range'?: (_dstore_v1_RangeRequest | null);
}

export interface _dstore_v1_TxnOp_Range__Output {
  'range': (_dstore_v1_RangeRequest__Output | null);
}

export interface TxnOp {
  'get'?: (_dstore_v1_TxnOp_Get | null);
  'put'?: (_dstore_v1_TxnOp_Put | null);
  'putIfAbsent'?: (_dstore_v1_TxnOp_PutIfAbsent | null);
  'delete'?: (_dstore_v1_TxnOp_Delete | null);
  'range'?: (_dstore_v1_TxnOp_Range | null);
  'listAppend'?: (_dstore_v1_TxnOp_ListAppend | null);
  'mapStore'?: (_dstore_v1_TxnOp_MapStore | null);
  'mapDelete'?: (_dstore_v1_TxnOp_MapDelete | null);
  'add'?: (_dstore_v1_TxnOp_Add | null);
  'op'?: "get"|"put"|"putIfAbsent"|"delete"|"range"|"listAppend"|"mapStore"|"mapDelete"|"add";
}

export interface TxnOp__Output {
  'get'?: (_dstore_v1_TxnOp_Get__Output | null);
  'put'?: (_dstore_v1_TxnOp_Put__Output | null);
  'putIfAbsent'?: (_dstore_v1_TxnOp_PutIfAbsent__Output | null);
  'delete'?: (_dstore_v1_TxnOp_Delete__Output | null);
  'range'?: (_dstore_v1_TxnOp_Range__Output | null);
  'listAppend'?: (_dstore_v1_TxnOp_ListAppend__Output | null);
  'mapStore'?: (_dstore_v1_TxnOp_MapStore__Output | null);
  'mapDelete'?: (_dstore_v1_TxnOp_MapDelete__Output | null);
  'add'?: (_dstore_v1_TxnOp_Add__Output | null);
  'op'?: "get"|"put"|"putIfAbsent"|"delete"|"range"|"listAppend"|"mapStore"|"mapDelete"|"add";
}
