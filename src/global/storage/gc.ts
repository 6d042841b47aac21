// Which blobs garbage collection may delete: pure, so the policy is testable on its own.
//
// A blob is garbage when nothing references it (the state machine's reference counts, passed
// in as `isReferenced`) AND it was last put at least `graceMs` ago. The grace period covers
// writes in flight: the leader makes a blob durable on a majority
// before it proposes the transaction that references it, so between the put and the apply of
// that transaction a needed blob is unreferenced. `graceMs` must exceed the longest such gap
// (a proposal's round trip through consensus, with retries); time comes from an injected
// clock so the simulator controls it.

import type { Hash } from '../../protocol/hash.ts';

export interface GcCandidate {
  readonly hash: Hash;
  /** Clock reading when the blob was last put (or first seen, for blobs found on start). */
  readonly lastPutMs: number;
}

/** The hashes among `candidates` that may be deleted at `nowMs`. Calls `isReferenced` once per candidate past its grace. */
export function selectGarbage(candidates: Iterable<GcCandidate>, isReferenced: (hash: Hash) => boolean, nowMs: number, graceMs: number): Hash[] {
  const garbage: Hash[] = [];
  for (const candidate of candidates) {
    if (nowMs - candidate.lastPutMs < graceMs) continue;
    if (!isReferenced(candidate.hash)) garbage.push(candidate.hash);
  }
  return garbage;
}

/** Report of one collection, for logs and metrics. */
export interface GcReport {
  readonly blobsRemoved: number;
  readonly bytesRemoved: number;
  /** Inline blobs moved out of old pack segments so those segments could be removed. */
  readonly inlineBlobsMoved: number;
  readonly packSegmentsRemoved: number;
}
