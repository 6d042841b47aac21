// The transactions the simulated clients send, built as the service receives them (encoded and
// decoded through the wire format, so they are exactly what a replica decodes from a client),
// and how a replica runs them itself (the leader, also for a request a follower forwarded).

import type { TxnRequest__Output } from '../../../src/protocol/generated/dstore/v1/TxnRequest.ts';
import type { ReplicaNode } from '../../../src/global/replica/replica-node.ts';
import type { TxnResult, WriteId } from '../../../src/global/state/types.ts';
import type { Observed } from '../../faults/history.ts';
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

/** What a simulated client asks a replica to run where only the leader may. */
export type SimRequest =
  | { readonly kind: 'write'; readonly writeId: WriteId; readonly txn: TxnRequest__Output }
  | { readonly kind: 'read'; readonly key: string };

export interface ReadAnswer {
  readonly found: Observed | null;
  readonly revision: number;
}

export type SimAnswer = TxnResult | ReadAnswer;

/** A read of `key` from `node`'s applied state (after whatever barrier the caller waited for). */
export function readHere(node: ReplicaNode, key: string): ReadAnswer {
  const sm = node.stateMachine;
  const kv = sm.get(key, true);
  return { found: kv === null ? null : { value: Buffer.from(kv.value ?? new Uint8Array(0)).toString(), modRevision: kv.modRevision }, revision: sm.revision };
}

/** Runs `request` on `node` itself (NOT_LEADER when it does not lead): what a leader does with a forwarded request. */
export async function runHere(node: ReplicaNode, request: SimRequest): Promise<SimAnswer> {
  if (request.kind === 'write') return node.submit(request.writeId, request.txn);
  await node.linearizableBarrier();
  return readHere(node, request.key);
}
