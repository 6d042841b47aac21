// Original file: src/protocol/proto/dstore/v1/global.proto

import type { ReadConsistency as _dstore_v1_ReadConsistency, ReadConsistency__Output as _dstore_v1_ReadConsistency__Output } from '../../dstore/v1/ReadConsistency.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * Keys in [start, end) in byte order of their UTF-8; or, when `prefix` is set, every key
 * that begins with it (start and end are then ignored).
 */
export interface RangeRequest {
  'start'?: (string);
  /**
   * Exclusive upper bound; empty means no upper bound.
   */
  'end'?: (string);
  'prefix'?: (string);
  /**
   * Most keys to return; 0 means the server's maximum (limits.range_keys_max).
   */
  'limit'?: (number);
  'consistency'?: (_dstore_v1_ReadConsistency);
  'minRevision'?: (number | string | Long);
  'withValues'?: (boolean);
}

/**
 * Keys in [start, end) in byte order of their UTF-8; or, when `prefix` is set, every key
 * that begins with it (start and end are then ignored).
 */
export interface RangeRequest__Output {
  'start': (string);
  /**
   * Exclusive upper bound; empty means no upper bound.
   */
  'end': (string);
  'prefix': (string);
  /**
   * Most keys to return; 0 means the server's maximum (limits.range_keys_max).
   */
  'limit': (number);
  'consistency': (_dstore_v1_ReadConsistency__Output);
  'minRevision': (number);
  'withValues': (boolean);
}
