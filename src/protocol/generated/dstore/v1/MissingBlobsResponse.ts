// Original file: src/protocol/proto/dstore/v1/global.proto


export interface MissingBlobsResponse {
  /**
   * The subset of the requested hashes that the replica answering does not hold, in
   * request order.
   */
  'missing'?: (Buffer | Uint8Array | string)[];
}

export interface MissingBlobsResponse__Output {
  /**
   * The subset of the requested hashes that the replica answering does not hold, in
   * request order.
   */
  'missing': (Buffer)[];
}
