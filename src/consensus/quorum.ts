// Replica sets as bit masks: bit k stands for the k-th replica in ascending id order.

export function bitCount(mask: number): number {
  let m = mask >>> 0;
  m = m - ((m >>> 1) & 0x55555555);
  m = (m & 0x33333333) + ((m >>> 2) & 0x33333333);
  return (Math.imul((m + (m >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

/** Maps replica ids to their bits. */
export class Members {
  private readonly bitById = new Map<number, number>();
  /** The other replicas, ascending. */
  readonly peerIds: readonly number[];

  constructor(
    sortedReplicaIds: readonly number[],
    readonly selfId: number,
    readonly quorum: number,
  ) {
    sortedReplicaIds.forEach((id, index) => this.bitById.set(id, 1 << index));
    this.peerIds = sortedReplicaIds.filter((id) => id !== selfId);
  }

  get size(): number { return this.peerIds.length + 1; }

  /** The id's bit, 0 for a non-member. */
  bit(id: number): number {
    return this.bitById.get(id) ?? 0;
  }

  isMember(id: number): boolean {
    return this.bitById.has(id);
  }

  hasQuorum(mask: number): boolean {
    return bitCount(mask) >= this.quorum;
  }

  /** True when so many refused that a quorum can no longer form. */
  quorumImpossible(refusedMask: number): boolean {
    return bitCount(refusedMask) > this.size - this.quorum;
  }
}
