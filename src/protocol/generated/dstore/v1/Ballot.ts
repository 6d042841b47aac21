// Original file: src/protocol/proto/dstore/v1/replica.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Orders proposers: round first, then replica_id. Round 0 means none.
 */
export interface Ballot {
  'round'?: (number | string | Long);
  'replicaId'?: (number);
}

/**
 * Orders proposers: round first, then replica_id. Round 0 means none.
 */
export interface Ballot__Output {
  'round': (number);
  'replicaId': (number);
}
