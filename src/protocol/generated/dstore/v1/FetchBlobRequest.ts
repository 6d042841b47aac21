// Original file: src/protocol/proto/dstore/v1/replica.proto


export interface FetchBlobRequest {
  /**
   * 32 bytes.
   */
  'hash'?: (Buffer | Uint8Array | string);
}

export interface FetchBlobRequest__Output {
  /**
   * 32 bytes.
   */
  'hash': (Buffer);
}
