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

/**
 * The write of Invalidate `id` took effect at `revision`: once this Local applied it, the
 * keys may be cached again. Not sent for a write that failed (the keys then stay uncached
 * until the Hold stream is replaced).
 */
export interface _dstore_v1_HoldResponse_Released {
  'id'?: (number | string | Long);
  'revision'?: (number | string | Long);
}

/**
 * The write of Invalidate `id` took effect at `revision`: once this Local applied it, the
 * keys may be cached again. Not sent for a write that failed (the keys then stay uncached
 * until the Hold stream is replaced).
 */
export interface _dstore_v1_HoldResponse_Released__Output {
  'id': (number);
  'revision': (number);
}

export interface HoldResponse {
  'kept'?: (_dstore_v1_HoldResponse_Kept | null);
  'invalidate'?: (_dstore_v1_HoldResponse_Invalidate | null);
  'released'?: (_dstore_v1_HoldResponse_Released | null);
  'kind'?: "kept"|"invalidate"|"released";
}

export interface HoldResponse__Output {
  'kept'?: (_dstore_v1_HoldResponse_Kept__Output | null);
  'invalidate'?: (_dstore_v1_HoldResponse_Invalidate__Output | null);
  'released'?: (_dstore_v1_HoldResponse_Released__Output | null);
  'kind'?: "kept"|"invalidate"|"released";
}
