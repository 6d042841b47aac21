// Original file: src/protocol/proto/dstore/v1/common.proto

import type { BlobChunk as _dstore_v1_BlobChunk, BlobChunk__Output as _dstore_v1_BlobChunk__Output } from '../../dstore/v1/BlobChunk.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * The first message of an upload.
 */
export interface _dstore_v1_PutBlobRequest_Header {
  /**
   * Total size in bytes, at most limits.blob_bytes_max.
   */
  'size'?: (number | string | Long);
  /**
   * Optional: the expected 32-byte hash. The upload fails with DATA_LOSS if the bytes
   * hash differently. If the replica receiving the upload already holds this blob it
   * answers at once (existed = true) without reading the chunks; the client then stops
   * sending. Without a hash the bytes are always received.
   */
  'hash'?: (Buffer | Uint8Array | string);
}

/**
 * The first message of an upload.
 */
export interface _dstore_v1_PutBlobRequest_Header__Output {
  /**
   * Total size in bytes, at most limits.blob_bytes_max.
   */
  'size': (number);
  /**
   * Optional: the expected 32-byte hash. The upload fails with DATA_LOSS if the bytes
   * hash differently. If the replica receiving the upload already holds this blob it
   * answers at once (existed = true) without reading the chunks; the client then stops
   * sending. Without a hash the bytes are always received.
   */
  'hash': (Buffer);
}

/**
 * A blob upload: a header, then the bytes in chunks (Global.PutBlob, Replica.StoreBlob).
 */
export interface PutBlobRequest {
  'header'?: (_dstore_v1_PutBlobRequest_Header | null);
  /**
   * Every following message, in order, without gaps.
   */
  'chunk'?: (_dstore_v1_BlobChunk | null);
  'part'?: "header"|"chunk";
}

/**
 * A blob upload: a header, then the bytes in chunks (Global.PutBlob, Replica.StoreBlob).
 */
export interface PutBlobRequest__Output {
  'header'?: (_dstore_v1_PutBlobRequest_Header__Output | null);
  /**
   * Every following message, in order, without gaps.
   */
  'chunk'?: (_dstore_v1_BlobChunk__Output | null);
  'part'?: "header"|"chunk";
}
