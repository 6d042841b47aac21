// Original file: src/protocol/proto/dstore/v1/common.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Included in every successful response.
 */
export interface ResponseHeader {
  /**
   * The revision the response reflects: for a write, the revision it committed at (or
   * the current revision when it changed nothing); for a read, the applied revision
   * it was served at.
   */
  'revision'?: (number | string | Long);
  /**
   * The replica that served the request.
   */
  'replicaId'?: (number);
}

/**
 * Included in every successful response.
 */
export interface ResponseHeader__Output {
  /**
   * The revision the response reflects: for a write, the revision it committed at (or
   * the current revision when it changed nothing); for a read, the applied revision
   * it was served at.
   */
  'revision': (number);
  /**
   * The replica that served the request.
   */
  'replicaId': (number);
}
