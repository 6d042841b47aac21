// Original file: src/protocol/proto/dstore/v1/common.proto

/**
 * How a read is served.
 */
export const ReadConsistency = {
  /**
   * Linearizable (default): reflects every write acknowledged before the read began.
   * Served by the leader under its lease, or after a read-index round; never a log write.
   */
  READ_CONSISTENCY_LINEARIZABLE: 'READ_CONSISTENCY_LINEARIZABLE',
  /**
   * Serializable: served by whichever replica receives it from its applied state, which
   * may lag. Combine with `min_revision` to read your own writes on any replica.
   */
  READ_CONSISTENCY_SERIALIZABLE: 'READ_CONSISTENCY_SERIALIZABLE',
} as const;

/**
 * How a read is served.
 */
export type ReadConsistency =
  /**
   * Linearizable (default): reflects every write acknowledged before the read began.
   * Served by the leader under its lease, or after a read-index round; never a log write.
   */
  | 'READ_CONSISTENCY_LINEARIZABLE'
  | 0
  /**
   * Serializable: served by whichever replica receives it from its applied state, which
   * may lag. Combine with `min_revision` to read your own writes on any replica.
   */
  | 'READ_CONSISTENCY_SERIALIZABLE'
  | 1

/**
 * How a read is served.
 */
export type ReadConsistency__Output = typeof ReadConsistency[keyof typeof ReadConsistency]
