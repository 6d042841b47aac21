// Original file: src/protocol/proto/dstore/v1/common.proto

import type { Long } from '@grpc/proto-loader';

export interface PutBlobResponse {
  /**
   * BLAKE3-256 of the bytes received.
   */
  'hash'?: (Buffer | Uint8Array | string);
  'size'?: (number | string | Long);
  /**
   * True when Global had the blob before this upload.
   */
  'existed'?: (boolean);
}

export interface PutBlobResponse__Output {
  /**
   * BLAKE3-256 of the bytes received.
   */
  'hash': (Buffer);
  'size': (number);
  /**
   * True when Global had the blob before this upload.
   */
  'existed': (boolean);
}
