// The transactions the simulated clients send, built as the service receives them (encoded and
// decoded through the wire format, so they are exactly what a replica decodes from a client).

import type { TxnRequest__Output } from '../../../src/protocol/generated/dstore/v1/TxnRequest.ts';
import { dstoreRoot, TO_OBJECT_OPTIONS } from '../../../src/protocol/proto.ts';

const TxnRequestType = dstoreRoot().lookupType('dstore.v1.TxnRequest');

function decoded(request: object): TxnRequest__Output {
  const bytes = TxnRequestType.encode(TxnRequestType.fromObject(request)).finish();
  return TxnRequestType.toObject(TxnRequestType.decode(bytes), TO_OBJECT_OPTIONS) as TxnRequest__Output;
}

const inline = (value: string): object => ({ inline: Buffer.from(value) });

export const putTxn = (key: string, value: string): TxnRequest__Output => decoded({ success: [{ put: { key, value: inline(value) } }] });

export const putIfAbsentTxn = (key: string, value: string): TxnRequest__Output => decoded({ success: [{ putIfAbsent: { key, value: inline(value) } }] });

/** Puts `value` only if the key's modRevision is `expectedModRevision` (0: only if absent). */
export const casTxn = (key: string, value: string, expectedModRevision: number): TxnRequest__Output => decoded({
  compares: [{ key, target: 'TARGET_MOD_REVISION', operator: 'OPERATOR_EQUAL', number: expectedModRevision }],
  success: [{ put: { key, value: inline(value) } }],
});

export const deleteTxn = (key: string): TxnRequest__Output => decoded({ success: [{ delete: { key } }] });
