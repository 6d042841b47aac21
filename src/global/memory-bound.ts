// The worst-case memory a replica's bounded terms can hold at the defaults, derived from the
// constants that bound them; docs/limits.md ("Worst-case memory at the defaults") states the
// figure and test/global/memory-bound.test.ts checks the two agree. Terms dstore does not
// bound (listed in the doc) are not here.

import { KEY_BYTES_MAX } from '../protocol/keys.ts';
import { receiveBytesMax } from '../protocol/receive-limit.ts';
import { BLOB_REPLICATOR_DEFAULTS } from './blob-replicator.ts';
import { TXN_OPS_MAX } from './codec.ts';
import { SERVER_LIMITS_DEFAULTS, STREAM_LIMITS_DEFAULTS } from './global-server.ts';
import { PEER_MESSAGE_BYTES_MAX } from './peer-frames.ts';
import { EVENT_BYTES_OVERHEAD, MESSAGE_BYTES_OVERHEAD, SUBSCRIPTION_HUB_DEFAULTS } from './subscriptions.ts';

export interface MemoryTerm {
  readonly name: string;
  readonly count: number;
  readonly bytesEach: number;
}

export const totalBytes = (terms: readonly MemoryTerm[]): number => terms.reduce((sum, t) => sum + t.count * t.bytesEach, 0);

/** The bounded terms of a replica of a `members`-replica group at the defaults. */
export function replicaMemoryTerms(members = 3): MemoryTerm[] {
  const message = receiveBytesMax(SERVER_LIMITS_DEFAULTS.requestBytesMax);
  // One revision is never split across Subscribe messages: at most TXN_OPS_MAX events.
  const revisionMessage = MESSAGE_BYTES_OVERHEAD + TXN_OPS_MAX * (KEY_BYTES_MAX + EVENT_BYTES_OVERHEAD);
  return [
    { name: 'Session streams x one frame being received', count: STREAM_LIMITS_DEFAULTS.sessionsMax, bytesEach: message },
    { name: 'Subscribe streams x (buffered + one revision)', count: SUBSCRIPTION_HUB_DEFAULTS.subscribersMax, bytesEach: SUBSCRIPTION_HUB_DEFAULTS.bufferedBytesMax + revisionMessage },
    { name: 'client blob transfers x one message', count: BLOB_REPLICATOR_DEFAULTS.clientTransfersMax, bytesEach: message },
    { name: 'peer blob transfers x one message', count: BLOB_REPLICATOR_DEFAULTS.peerTransfersMax, bytesEach: message },
    { name: 'peer Exchange streams x (reassembly + one frame)', count: members - 1, bytesEach: PEER_MESSAGE_BYTES_MAX + message },
  ];
}
