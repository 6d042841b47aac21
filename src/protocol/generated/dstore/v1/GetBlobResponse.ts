// Original file: src/protocol/proto/dstore/v1/global.proto

import type { BlobChunk as _dstore_v1_BlobChunk, BlobChunk__Output as _dstore_v1_BlobChunk__Output } from '../../dstore/v1/BlobChunk.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * At least one message is sent, also for an empty blob or range.
 */
export interface GetBlobResponse {
  /**
   * Total size of the blob (not of the range).
   */
  'size'?: (number | string | Long);
  'chunk'?: (_dstore_v1_BlobChunk | null);
}

/**
 * At least one message is sent, also for an empty blob or range.
 */
export interface GetBlobResponse__Output {
  /**
   * Total size of the blob (not of the range).
   */
  'size': (number);
  'chunk': (_dstore_v1_BlobChunk__Output | null);
}
