// The worst-case memory a Local's node server's bounded terms can hold;
// docs/limits.md ("Worst-case memory at the defaults") states the figure and
// test/global/memory-bound.cluster.test.ts checks the two agree.

import { decodedBytesBound } from '../../protocol/frame-budget.ts';
import { receiveBytesMax } from '../../protocol/receive-limit.ts';
import { FORWARD_READ_AHEAD, FORWARD_UNSENT_MAX, LOCAL_SERVER_LIMITS_DEFAULTS, type LocalServerLimits } from './local-server.ts';
import { FEED_EVENTS_KEPT } from './node-feed.ts';

export interface MemoryTerm {
  readonly name: string;
  readonly count: number;
  readonly bytesEach: number;
}

/** Largest Subscribe message Global sends (one revision of 1,024 events on 1 KiB keys) and Local forwards. */
const FORWARDED_MESSAGE_BYTES_MAX = 24 + 1024 * (1024 + 64);
/** Events in that message, and the longest key. */
const FORWARDED_EVENTS_MAX = 1024;
const FORWARDED_KEY_BYTES_MAX = 1024;

/**
 * What one such message holds decoded, at most: grpc-js hands the Local decoded objects, whose
 * Buffer fields are slices of the message's wire bytes (kept whole), and whose keys are strings
 * (frame-budget.ts's decodedBytesBound of the largest message, every field set). Measured on
 * Node 20: about 2.5 MB decoded for a message of 1.1 MB on the wire.
 */
function forwardedMessageHeldBytesMax(): number {
  const kv = { key: 'k'.repeat(FORWARDED_KEY_BYTES_MAX), hash: Buffer.alloc(32), size: 0, createRevision: 1, modRevision: 1, version: 1, value: Buffer.alloc(0) };
  const events = Array.from({ length: FORWARDED_EVENTS_MAX }, () => ({ type: 'TYPE_PUT', kv: { ...kv } }));
  return FORWARDED_MESSAGE_BYTES_MAX + decodedBytesBound({ revision: 1, kind: 'events', events: { events }, progress: null });
}
/**
 * One event of the workers' feed (node-feed.ts), at most: the Local's decoded event (a 1 KiB
 * key) and its copy in the message made once for the workers.
 */
function feedEventHeldBytesMax(): number {
  const kv = { key: 'k'.repeat(FORWARDED_KEY_BYTES_MAX), hash: Buffer.alloc(32), size: 0, createRevision: 1, modRevision: 1, version: 1, value: Buffer.alloc(0) };
  return 2 * decodedBytesBound({ type: 'TYPE_PUT', kv });
}
/** Messages grpc-js's client stream reads ahead of its reader (a Readable's objectMode highWaterMark). */
const GRPC_READ_AHEAD = 16;
/** Messages a forwarded Subscribe holds at most: read ahead from Global, in hand, and written but not yet handed to HTTP/2. */
export const FORWARDED_MESSAGES_HELD = GRPC_READ_AHEAD + FORWARD_READ_AHEAD + 1 + FORWARD_UNSENT_MAX;

/**
 * The bounded terms of a Local's node server (at the defaults unless `limits` says otherwise;
 * its cache has its own bound). test/local/memory.process.test.ts measures them on a process.
 */
export function localServerMemoryTerms(limits: LocalServerLimits = LOCAL_SERVER_LIMITS_DEFAULTS): MemoryTerm[] {
  const l = limits;
  const message = receiveBytesMax(l.requestBytesMax);
  return [
    { name: 'Session streams x one frame being received', count: l.sessionsMax, bytesEach: message },
    // What Session frames hold while their requests are in flight, as src/protocol/session-bytes.ts counts it.
    { name: 'Session requests in flight, all streams', count: 1, bytesEach: l.allSessionsBytesInFlightMax },
    { name: 'Subscribe streams x messages held while forwarding', count: l.subscribesMax, bytesEach: FORWARDED_MESSAGES_HELD * forwardedMessageHeldBytesMax() },
    { name: 'workers\' feed: events kept', count: FEED_EVENTS_KEPT, bytesEach: feedEventHeldBytesMax() },
    { name: 'uploads x one message being received', count: l.uploadsMax, bytesEach: message },
    { name: 'upload bytes held (all uploads)', count: 1, bytesEach: l.uploadBufferBytesMax },
  ];
}
