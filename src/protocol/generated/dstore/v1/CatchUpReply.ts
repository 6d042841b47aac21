// Original file: src/protocol/proto/dstore/v1/replica.proto

import type { LogEntry as _dstore_v1_LogEntry, LogEntry__Output as _dstore_v1_LogEntry__Output } from '../../dstore/v1/LogEntry.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * Decided entries, or snapshot_needed when they are below the sender's snapshot (fetch
 * one with FetchSnapshot, then ask again).
 */
export interface CatchUpReply {
  'entries'?: (_dstore_v1_LogEntry)[];
  'snapshotThrough'?: (number | string | Long);
  'snapshotNeeded'?: (boolean);
}

/**
 * Decided entries, or snapshot_needed when they are below the sender's snapshot (fetch
 * one with FetchSnapshot, then ask again).
 */
export interface CatchUpReply__Output {
  'entries': (_dstore_v1_LogEntry__Output)[];
  'snapshotThrough': (number);
  'snapshotNeeded': (boolean);
}
