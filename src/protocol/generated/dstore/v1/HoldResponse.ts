// Original file: src/protocol/proto/dstore/v1/global.proto

import type { Long } from '@grpc/proto-loader';

/**
 * A write to these keys waits for Invalidated `id` (or for this hold's lease to run out).
 */
export interface _dstore_v1_HoldResponse_Invalidate {
  'id'?: (number | string | Long);
  'keys'?: (string)[];
}

/**
 * A write to these keys waits for Invalidated `id` (or for this hold's lease to run out).
 */
export interface _dstore_v1_HoldResponse_Invalidate__Output {
  'id': (number);
  'keys': (string)[];
}

/**
 * The Register or KeepAlive `seq` was received while the hold was live: the Local may
 * serve its strict keys until send time + lease_ms on its own clock.
 */
export interface _dstore_v1_HoldResponse_Kept {
  'seq'?: (number | string | Long);
  'leaseMs'?: (number);
}

/**
 * The Register or KeepAlive `seq` was received while the hold was live: the Local may
 * serve its strict keys until send time + lease_ms on its own clock.
 */
export interface _dstore_v1_HoldResponse_Kept__Output {
  'seq': (number);
  'leaseMs': (number);
}

export interface HoldResponse {
  'kept'?: (_dstore_v1_HoldResponse_Kept | null);
  'invalidate'?: (_dstore_v1_HoldResponse_Invalidate | null);
  'kind'?: "kept"|"invalidate";
}

export interface HoldResponse__Output {
  'kept'?: (_dstore_v1_HoldResponse_Kept__Output | null);
  'invalidate'?: (_dstore_v1_HoldResponse_Invalidate__Output | null);
  'kind'?: "kept"|"invalidate";
}
