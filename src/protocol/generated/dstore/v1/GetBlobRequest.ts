// Original file: src/protocol/proto/dstore/v1/global.proto

import type { Long } from '@grpc/proto-loader';

export interface GetBlobRequest {
  /**
   * 32 bytes.
   */
  'hash'?: (Buffer | Uint8Array | string);
  /**
   * Byte range: from offset, length bytes (0 = to the end).
   */
  'offset'?: (number | string | Long);
  'length'?: (number | string | Long);
}

export interface GetBlobRequest__Output {
  /**
   * 32 bytes.
   */
  'hash': (Buffer);
  /**
   * Byte range: from offset, length bytes (0 = to the end).
   */
  'offset': (number);
  'length': (number);
}
