// Original file: src/protocol/proto/dstore/v1/replica.proto

import type { Ballot as _dstore_v1_Ballot, Ballot__Output as _dstore_v1_Ballot__Output } from '../../dstore/v1/Ballot.ts';

// Original file: src/protocol/proto/dstore/v1/replica.proto

export const _dstore_v1_Nack_Reason = {
  /**
   * The receiver promised a higher ballot (in `promised`).
   */
  REASON_PROMISED_HIGHER: 'REASON_PROMISED_HIGHER',
  /**
   * The receiver hears from a live leader and will not help depose it.
   */
  REASON_LEADER_ALIVE: 'REASON_LEADER_ALIVE',
} as const;

export type _dstore_v1_Nack_Reason =
  /**
   * The receiver promised a higher ballot (in `promised`).
   */
  | 'REASON_PROMISED_HIGHER'
  | 0
  /**
   * The receiver hears from a live leader and will not help depose it.
   */
  | 'REASON_LEADER_ALIVE'
  | 1

export type _dstore_v1_Nack_Reason__Output = typeof _dstore_v1_Nack_Reason[keyof typeof _dstore_v1_Nack_Reason]

/**
 * Refusal of a Prepare, Accept, Heartbeat or Decided carrying `ballot`.
 */
export interface Nack {
  'ballot'?: (_dstore_v1_Ballot | null);
  'promised'?: (_dstore_v1_Ballot | null);
  'reason'?: (_dstore_v1_Nack_Reason);
}

/**
 * Refusal of a Prepare, Accept, Heartbeat or Decided carrying `ballot`.
 */
export interface Nack__Output {
  'ballot': (_dstore_v1_Ballot__Output | null);
  'promised': (_dstore_v1_Ballot__Output | null);
  'reason': (_dstore_v1_Nack_Reason__Output);
}
