// Original file: src/protocol/proto/dstore/v1/replica.proto

import type { Long } from '@grpc/proto-loader';

/**
 * The requested instances are below the sender's snapshot: fetch one with FetchSnapshot
 * (through >= snapshot_through), install it, then catch up from there.
 */
export interface SnapshotNeeded {
  'snapshotThrough'?: (number | string | Long);
}

/**
 * The requested instances are below the sender's snapshot: fetch one with FetchSnapshot
 * (through >= snapshot_through), install it, then catch up from there.
 */
export interface SnapshotNeeded__Output {
  'snapshotThrough': (number);
}
