// Original file: src/protocol/proto/dstore/v1/global.proto

import type { ReadConsistency as _dstore_v1_ReadConsistency, ReadConsistency__Output as _dstore_v1_ReadConsistency__Output } from '../../dstore/v1/ReadConsistency.ts';
import type { Long } from '@grpc/proto-loader';

export interface GetRequest {
  'key'?: (string);
  'consistency'?: (_dstore_v1_ReadConsistency);
  /**
   * Serve only once this replica has applied at least this revision (waits up to the
   * call's deadline). Lets a reader on any replica see a write whose revision it knows.
   */
  'minRevision'?: (number | string | Long);
  /**
   * Include the value bytes when at most the inline limit (see KeyValue.value).
   */
  'withValue'?: (boolean);
}

export interface GetRequest__Output {
  'key': (string);
  'consistency': (_dstore_v1_ReadConsistency__Output);
  /**
   * Serve only once this replica has applied at least this revision (waits up to the
   * call's deadline). Lets a reader on any replica see a write whose revision it knows.
   */
  'minRevision': (number);
  /**
   * Include the value bytes when at most the inline limit (see KeyValue.value).
   */
  'withValue': (boolean);
}
