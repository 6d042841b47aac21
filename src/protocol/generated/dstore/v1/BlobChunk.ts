// Original file: src/protocol/proto/dstore/v1/common.proto

import type { Long } from '@grpc/proto-loader';

/**
 * One chunk of a blob in transit. Chunks of one blob arrive in order.
 */
export interface BlobChunk {
  /**
   * Byte offset of `data` within the blob.
   */
  'offset'?: (number | string | Long);
  /**
   * At most 1 MiB per chunk.
   */
  'data'?: (Buffer | Uint8Array | string);
}

/**
 * One chunk of a blob in transit. Chunks of one blob arrive in order.
 */
export interface BlobChunk__Output {
  /**
   * Byte offset of `data` within the blob.
   */
  'offset': (number);
  /**
   * At most 1 MiB per chunk.
   */
  'data': (Buffer);
}
