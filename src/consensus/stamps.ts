// The highest vote stamp (types.ts, VoteStamp) this replica has seen from each other member:
// from their votes (Promise, Accepted), their start checks, and the leader's heartbeats, which
// pass on what the leader saw. Exact in memory; written with the hard state whenever it is
// written for another reason, so after a restart it is a lower bound, which is enough: it only
// ever makes a check answer "current" where a better memory would have said "rolled back".

import { compareStamps, STAMP_ZERO, type SeenStamp, type VoteStamp } from './types.ts';

export class StampBook {
  private readonly byId = new Map<number, VoteStamp>();

  constructor(private readonly selfId: number, restored: readonly SeenStamp[] = []) {
    for (const s of restored) this.observe(s.replicaId, s);
  }

  /** The highest stamp seen from `replicaId`, STAMP_ZERO when none. */
  get(replicaId: number): VoteStamp {
    return this.byId.get(replicaId) ?? STAMP_ZERO;
  }

  /** Raises what is known of `replicaId` to `stamp` when higher; this replica's own stamp is not kept here. */
  observe(replicaId: number, stamp: VoteStamp): void {
    if (replicaId === this.selfId || compareStamps(stamp, this.get(replicaId)) <= 0) return;
    this.byId.set(replicaId, { incarnation: stamp.incarnation, voteSeq: stamp.voteSeq });
  }

  /** Every stamp known, ascending by replica id (what the hard state and heartbeats carry). */
  list(): SeenStamp[] {
    return [...this.byId].sort(([a], [b]) => a - b).map(([replicaId, s]) => ({ replicaId, incarnation: s.incarnation, voteSeq: s.voteSeq }));
  }
}
