// Original file: src/protocol/proto/dstore/v1/global.proto


export interface MissingBlobsRequest {
  /**
   * 32-byte hashes, at most limits.frame_requests_max of them.
   */
  'hashes'?: (Buffer | Uint8Array | string)[];
}

export interface MissingBlobsRequest__Output {
  /**
   * 32-byte hashes, at most limits.frame_requests_max of them.
   */
  'hashes': (Buffer)[];
}
