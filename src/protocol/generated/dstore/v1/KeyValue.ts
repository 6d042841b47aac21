// Original file: src/protocol/proto/dstore/v1/common.proto

import type { Long } from '@grpc/proto-loader';

/**
 * A key bound to a content-addressed value.
 */
export interface KeyValue {
  /**
   * The key, UTF-8.
   */
  'key'?: (string);
  /**
   * BLAKE3-256 of the value (32 bytes).
   */
  'hash'?: (Buffer | Uint8Array | string);
  /**
   * Size of the value in bytes.
   */
  'size'?: (number | string | Long);
  /**
   * Revision of the transaction that created this key (since its last delete).
   */
  'createRevision'?: (number | string | Long);
  /**
   * Revision of the transaction that last changed this key.
   */
  'modRevision'?: (number | string | Long);
  /**
   * Number of changes since creation: 1 after the creating put.
   */
  'version'?: (number | string | Long);
  /**
   * The value bytes, present only when the request asked for values and the value is at
   * most the server's inline limit (StatusResponse.value_inline_bytes_max); otherwise
   * fetch it by `hash` with Global.GetBlob.
   */
  'value'?: (Buffer | Uint8Array | string);
  /**
   * True when `value` holds the value (an empty value is inline with value empty).
   */
  'valueInline'?: (boolean);
}

/**
 * A key bound to a content-addressed value.
 */
export interface KeyValue__Output {
  /**
   * The key, UTF-8.
   */
  'key': (string);
  /**
   * BLAKE3-256 of the value (32 bytes).
   */
  'hash': (Buffer);
  /**
   * Size of the value in bytes.
   */
  'size': (number);
  /**
   * Revision of the transaction that created this key (since its last delete).
   */
  'createRevision': (number);
  /**
   * Revision of the transaction that last changed this key.
   */
  'modRevision': (number);
  /**
   * Number of changes since creation: 1 after the creating put.
   */
  'version': (number);
  /**
   * The value bytes, present only when the request asked for values and the value is at
   * most the server's inline limit (StatusResponse.value_inline_bytes_max); otherwise
   * fetch it by `hash` with Global.GetBlob.
   */
  'value': (Buffer);
  /**
   * True when `value` holds the value (an empty value is inline with value empty).
   */
  'valueInline': (boolean);
}
