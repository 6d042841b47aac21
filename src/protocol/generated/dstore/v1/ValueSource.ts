// Original file: src/protocol/proto/dstore/v1/global.proto

import type { Long } from '@grpc/proto-loader';

/**
 * A value given either inline or by the hash of a blob uploaded with PutBlob.
 */
export interface ValueSource {
  /**
   * The value itself, at most limits.value_inline_bytes_max in a request.
   */
  'inline'?: (Buffer | Uint8Array | string);
  /**
   * A blob already on Global (PutBlob), by its 32-byte hash.
   */
  'blobHash'?: (Buffer | Uint8Array | string);
  /**
   * The blob's size. Clients leave it 0: the server fills it in from its blob store
   * before the write enters the log.
   */
  'blobSize'?: (number | string | Long);
  'source'?: "inline"|"blobHash";
}

/**
 * A value given either inline or by the hash of a blob uploaded with PutBlob.
 */
export interface ValueSource__Output {
  /**
   * The value itself, at most limits.value_inline_bytes_max in a request.
   */
  'inline'?: (Buffer);
  /**
   * A blob already on Global (PutBlob), by its 32-byte hash.
   */
  'blobHash'?: (Buffer);
  /**
   * The blob's size. Clients leave it 0: the server fills it in from its blob store
   * before the write enters the log.
   */
  'blobSize': (number);
  'source'?: "inline"|"blobHash";
}
