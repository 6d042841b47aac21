// Original file: src/protocol/proto/dstore/v1/replica.proto

import type { LogEntry as _dstore_v1_LogEntry, LogEntry__Output as _dstore_v1_LogEntry__Output } from '../../dstore/v1/LogEntry.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * Decided entries, ascending and consecutive from the requested instance (may be empty).
 */
export interface CatchUp {
  'entries'?: (_dstore_v1_LogEntry)[];
  'decidedThrough'?: (number | string | Long);
}

/**
 * Decided entries, ascending and consecutive from the requested instance (may be empty).
 */
export interface CatchUp__Output {
  'entries': (_dstore_v1_LogEntry__Output)[];
  'decidedThrough': (number);
}
