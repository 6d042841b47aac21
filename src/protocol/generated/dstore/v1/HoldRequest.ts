// Original file: src/protocol/proto/dstore/v1/global.proto

import type { Long } from '@grpc/proto-loader';

/**
 * The keys of Invalidate `id` were dropped, and will not be cached again until this Local's
 * stream applied the revision of Released `id`, or its Hold stream is replaced (then it
 * drops every strict key). A change applied meanwhile does not clear them: it may be older
 * than the waiting write.
 */
export interface _dstore_v1_HoldRequest_Invalidated {
  'id'?: (number | string | Long);
}

/**
 * The keys of Invalidate `id` were dropped, and will not be cached again until this Local's
 * stream applied the revision of Released `id`, or its Hold stream is replaced (then it
 * drops every strict key). A change applied meanwhile does not clear them: it may be older
 * than the waiting write.
 */
export interface _dstore_v1_HoldRequest_Invalidated__Output {
  'id': (number);
}

/**
 * Renews the hold. The Local's lease counts from when it SENT this (its own clock).
 */
export interface _dstore_v1_HoldRequest_KeepAlive {
  'seq'?: (number | string | Long);
}

/**
 * Renews the hold. The Local's lease counts from when it SENT this (its own clock).
 */
export interface _dstore_v1_HoldRequest_KeepAlive__Output {
  'seq': (number);
}

/**
 * The stream's first message, and only there. Answered like a keep-alive (Kept).
 */
export interface _dstore_v1_HoldRequest_Register {
  /**
   * Names this Local's hold; unique per Local and per registration.
   */
  'holderId'?: (string);
  /**
   * Key prefixes served in strict mode (non-empty; "" would be every key).
   */
  'prefixes'?: (string)[];
  'seq'?: (number | string | Long);
}

/**
 * The stream's first message, and only there. Answered like a keep-alive (Kept).
 */
export interface _dstore_v1_HoldRequest_Register__Output {
  /**
   * Names this Local's hold; unique per Local and per registration.
   */
  'holderId': (string);
  /**
   * Key prefixes served in strict mode (non-empty; "" would be every key).
   */
  'prefixes': (string)[];
  'seq': (number);
}

export interface HoldRequest {
  'register'?: (_dstore_v1_HoldRequest_Register | null);
  'keepAlive'?: (_dstore_v1_HoldRequest_KeepAlive | null);
  'invalidated'?: (_dstore_v1_HoldRequest_Invalidated | null);
  'kind'?: "register"|"keepAlive"|"invalidated";
}

export interface HoldRequest__Output {
  'register'?: (_dstore_v1_HoldRequest_Register__Output | null);
  'keepAlive'?: (_dstore_v1_HoldRequest_KeepAlive__Output | null);
  'invalidated'?: (_dstore_v1_HoldRequest_Invalidated__Output | null);
  'kind'?: "register"|"keepAlive"|"invalidated";
}
