// Original file: src/protocol/proto/dstore/v1/global.proto

import type { Event as _dstore_v1_Event, Event__Output as _dstore_v1_Event__Output } from '../../dstore/v1/Event.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * Events of whole revisions, ascending, never repeating or skipping one.
 */
export interface _dstore_v1_SubscribeResponse_Events {
  'events'?: (_dstore_v1_Event)[];
}

/**
 * Events of whole revisions, ascending, never repeating or skipping one.
 */
export interface _dstore_v1_SubscribeResponse_Events__Output {
  'events': (_dstore_v1_Event__Output)[];
}

/**
 * Nothing this subscriber wants happened up to and including `revision`. Sent at least
 * every 100 ms while idle; it is also the stream's liveness signal.
 */
export interface _dstore_v1_SubscribeResponse_Progress {
  'revision'?: (number | string | Long);
}

/**
 * Nothing this subscriber wants happened up to and including `revision`. Sent at least
 * every 100 ms while idle; it is also the stream's liveness signal.
 */
export interface _dstore_v1_SubscribeResponse_Progress__Output {
  'revision': (number);
}

export interface SubscribeResponse {
  'events'?: (_dstore_v1_SubscribeResponse_Events | null);
  'progress'?: (_dstore_v1_SubscribeResponse_Progress | null);
  /**
   * The highest revision covered by this message (events or progress).
   */
  'revision'?: (number | string | Long);
  'kind'?: "events"|"progress";
}

export interface SubscribeResponse__Output {
  'events'?: (_dstore_v1_SubscribeResponse_Events__Output | null);
  'progress'?: (_dstore_v1_SubscribeResponse_Progress__Output | null);
  /**
   * The highest revision covered by this message (events or progress).
   */
  'revision': (number);
  'kind'?: "events"|"progress";
}
