// Original file: src/protocol/proto/dstore/v1/global.proto

import type { Long } from '@grpc/proto-loader';

export interface SubscribeRequest {
  /**
   * First revision wanted. 0 means "from now on" (the replica's applied revision + 1).
   */
  'fromRevision'?: (number | string | Long);
  /**
   * Only keys beginning with this prefix; empty means every key. Progress notices still
   * cover revisions whose changes were all filtered out.
   */
  'prefix'?: (string);
}

export interface SubscribeRequest__Output {
  /**
   * First revision wanted. 0 means "from now on" (the replica's applied revision + 1).
   */
  'fromRevision': (number);
  /**
   * Only keys beginning with this prefix; empty means every key. Progress notices still
   * cover revisions whose changes were all filtered out.
   */
  'prefix': (string);
}
