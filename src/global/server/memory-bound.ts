// The worst-case memory a replica's bounded terms can hold, derived from the limits that
// bound them; docs/limits.md ("Worst-case memory at the defaults") states the
// figure and test/global/memory-bound.cluster.test.ts checks the two agree. Terms dstore does not
// bound (listed in the doc) are not here.

import { KEY_BYTES_MAX } from '../../protocol/keys.ts';
import { receiveBytesMax } from '../../protocol/receive-limit.ts';
import { BLOB_REPLICATOR_DEFAULTS } from '../blobs/blob-replicator.ts';
import { TXN_OPS_MAX } from '../replica/codec.ts';
import { SERVER_LIMITS_DEFAULTS, STREAM_LIMITS_DEFAULTS } from './global-server.ts';
import { PEER_MESSAGE_BYTES_MAX } from '../peers/peer-frames.ts';
import { EVENT_BYTES_OVERHEAD, MESSAGE_BYTES_OVERHEAD, SUBSCRIPTION_HUB_DEFAULTS } from './subscriptions.ts';

export interface MemoryTerm {
  readonly name: string;
  readonly count: number;
  readonly bytesEach: number;
}

export const totalBytes = (terms: readonly MemoryTerm[]): number => terms.reduce((sum, t) => sum + t.count * t.bytesEach, 0);

/** The limits the bounded terms depend on (GlobalServerOptions fields of the same names). */
export interface MemoryLimits {
  readonly requestBytesMax: number;
  readonly allSessionsBytesInFlightMax: number;
  readonly sessionsMax: number;
  readonly subscribersMax: number;
  readonly bufferedBytesMax: number;
  readonly clientTransfersMax: number;
  readonly peerTransfersMax: number;
}

export const MEMORY_LIMITS_DEFAULTS: MemoryLimits = Object.freeze({
  requestBytesMax: SERVER_LIMITS_DEFAULTS.requestBytesMax,
  allSessionsBytesInFlightMax: SERVER_LIMITS_DEFAULTS.allSessionsBytesInFlightMax,
  sessionsMax: STREAM_LIMITS_DEFAULTS.sessionsMax,
  subscribersMax: SUBSCRIPTION_HUB_DEFAULTS.subscribersMax,
  bufferedBytesMax: SUBSCRIPTION_HUB_DEFAULTS.bufferedBytesMax,
  clientTransfersMax: BLOB_REPLICATOR_DEFAULTS.clientTransfersMax,
  peerTransfersMax: BLOB_REPLICATOR_DEFAULTS.peerTransfersMax,
});

/**
 * The bounded terms of a replica of a `members`-replica group (at the defaults unless
 * `limits` says otherwise; test/global/memory.process.test.ts measures them on a process).
 */
export function replicaMemoryTerms(members = 3, limits: MemoryLimits = MEMORY_LIMITS_DEFAULTS): MemoryTerm[] {
  const l = limits;
  const message = receiveBytesMax(l.requestBytesMax);
  // One revision is never split across Subscribe messages: at most TXN_OPS_MAX events.
  const revisionMessage = MESSAGE_BYTES_OVERHEAD + TXN_OPS_MAX * (KEY_BYTES_MAX + EVENT_BYTES_OVERHEAD);
  return [
    { name: 'Session streams x one frame being received', count: l.sessionsMax, bytesEach: message },
    // What Session frames hold while their requests are in flight, as global-service.ts counts it.
    { name: 'Session requests in flight, all streams', count: 1, bytesEach: l.allSessionsBytesInFlightMax },
    { name: 'Subscribe streams x (buffered + one revision)', count: l.subscribersMax, bytesEach: l.bufferedBytesMax + revisionMessage },
    { name: 'client blob transfers x one message', count: l.clientTransfersMax, bytesEach: message },
    { name: 'peer blob transfers x one message', count: l.peerTransfersMax, bytesEach: message },
    { name: 'peer Exchange streams x (reassembly + one frame)', count: members - 1, bytesEach: PEER_MESSAGE_BYTES_MAX + message },
  ];
}
