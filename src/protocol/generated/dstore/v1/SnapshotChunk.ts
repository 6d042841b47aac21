// Original file: src/protocol/proto/dstore/v1/replica.proto

import type { Long } from '@grpc/proto-loader';

export interface SnapshotChunk {
  /**
   * First chunk only: the snapshot covers instances up to and including this.
   */
  'throughInstance'?: (number | string | Long);
  /**
   * First chunk only: total payload size and its 32-byte BLAKE3-256 hash, verified by
   * the receiver before it installs the snapshot.
   */
  'size'?: (number | string | Long);
  'hash'?: (Buffer | Uint8Array | string);
  'offset'?: (number | string | Long);
  'data'?: (Buffer | Uint8Array | string);
}

export interface SnapshotChunk__Output {
  /**
   * First chunk only: the snapshot covers instances up to and including this.
   */
  'throughInstance': (number);
  /**
   * First chunk only: total payload size and its 32-byte BLAKE3-256 hash, verified by
   * the receiver before it installs the snapshot.
   */
  'size': (number);
  'hash': (Buffer);
  'offset': (number);
  'data': (Buffer);
}
