// Call metadata and deadlines of requests a follower may forward to the leader
// (global.proto, header; src/global/server/forwarder.ts).

import { Metadata } from '@grpc/grpc-js';

/**
 * Call metadata: `never` asks a follower not to forward this call's requests but to answer
 * NOT_LEADER with a leader hint, for clients that find the leader themselves (ours does:
 * going straight to the leader saves the extra hop).
 */
export const FORWARD_METADATA = 'dstore-forward';
export const FORWARD_NEVER = 'never';

/** Milliseconds left of a gRPC call's deadline (a Date or ms since the epoch; Infinity: none). */
export function timeLeftMs(deadline: Date | number, nowEpochMs = Date.now()): number {
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(at) ? at - nowEpochMs : Infinity;
}

/** Metadata of a call whose requests a follower must not forward (FORWARD_METADATA). */
export function notForwarded(): Metadata {
  const metadata = new Metadata();
  metadata.set(FORWARD_METADATA, FORWARD_NEVER);
  return metadata;
}
