// Original file: src/protocol/proto/dstore/v1/replica.proto

import type { Long } from '@grpc/proto-loader';

/**
 * A lagging replica asks for decided values from from_instance on.
 */
export interface CatchUpRequest {
  'fromInstance'?: (number | string | Long);
}

/**
 * A lagging replica asks for decided values from from_instance on.
 */
export interface CatchUpRequest__Output {
  'fromInstance': (number);
}
