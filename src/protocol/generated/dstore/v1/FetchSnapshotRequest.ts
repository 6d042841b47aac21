// Original file: src/protocol/proto/dstore/v1/replica.proto

import type { Long } from '@grpc/proto-loader';

export interface FetchSnapshotRequest {
  /**
   * The lowest last-included instance the caller can use; the peer refuses with
   * FAILED_PRECONDITION if its snapshot is older.
   */
  'minThroughInstance'?: (number | string | Long);
}

export interface FetchSnapshotRequest__Output {
  /**
   * The lowest last-included instance the caller can use; the peer refuses with
   * FAILED_PRECONDITION if its snapshot is older.
   */
  'minThroughInstance': (number);
}
