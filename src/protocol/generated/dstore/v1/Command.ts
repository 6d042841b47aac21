// Original file: src/protocol/proto/dstore/v1/replica.proto

import type { WriteId as _dstore_v1_WriteId, WriteId__Output as _dstore_v1_WriteId__Output } from '../../dstore/v1/WriteId.ts';
import type { TxnRequest as _dstore_v1_TxnRequest, TxnRequest__Output as _dstore_v1_TxnRequest__Output } from '../../dstore/v1/TxnRequest.ts';

/**
 * One client write as it travels in the log (an element of Value.commands). The leader
 * makes it self-contained before proposing it: Set and Delete become transactions, inline
 * values travel inside it, and blob values carry hash and size of a blob that is already
 * durable on a majority of replicas.
 */
export interface Command {
  'writeId'?: (_dstore_v1_WriteId | null);
  'txn'?: (_dstore_v1_TxnRequest | null);
}

/**
 * One client write as it travels in the log (an element of Value.commands). The leader
 * makes it self-contained before proposing it: Set and Delete become transactions, inline
 * values travel inside it, and blob values carry hash and size of a blob that is already
 * durable on a majority of replicas.
 */
export interface Command__Output {
  'writeId': (_dstore_v1_WriteId__Output | null);
  'txn': (_dstore_v1_TxnRequest__Output | null);
}
