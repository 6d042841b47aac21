// Original file: src/protocol/proto/dstore/v1/common.proto

import type { Long } from '@grpc/proto-loader';

export interface PutBlobResponse {
  /**
   * BLAKE3-256 of the bytes received.
   */
  'hash'?: (Buffer | Uint8Array | string);
  'size'?: (number | string | Long);
  /**
   * True when the replica that answered already held the blob the header's hash names, and
   * so read no chunks. False when it received the bytes in this upload: also when it held
   * them but the header named no hash, and when only other replicas held the blob.
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
   * True when the replica that answered already held the blob the header's hash names, and
   * so read no chunks. False when it received the bytes in this upload: also when it held
   * them but the header named no hash, and when only other replicas held the blob.
   */
  'existed': (boolean);
}
