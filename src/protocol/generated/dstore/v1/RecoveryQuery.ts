// Original file: src/protocol/proto/dstore/v1/replica.proto

import type { Long } from '@grpc/proto-loader';

/**
 * A recovering replica (one that started with no hard state: a new or wiped disk) asks
 * for the receiver's state before it votes again. Every replica answers; the receiver
 * changes nothing.
 */
export interface RecoveryQuery {
  /**
   * Random per recovery, echoed in the reply (replies to an earlier incarnation are ignored).
   */
  'nonce'?: (number | string | Long);
}

/**
 * A recovering replica (one that started with no hard state: a new or wiped disk) asks
 * for the receiver's state before it votes again. Every replica answers; the receiver
 * changes nothing.
 */
export interface RecoveryQuery__Output {
  /**
   * Random per recovery, echoed in the reply (replies to an earlier incarnation are ignored).
   */
  'nonce': (number);
}
