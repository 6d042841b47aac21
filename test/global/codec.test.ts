// The leader applies its own proposals from the checked request it already holds instead of
// decoding the log bytes again (proposals.ts, `proposedHere`); followers decode the bytes.
// Both must give the same Command, or replicas would diverge: checked here for every op
// kind, every compare target and a write id, on requests decoded as the server receives them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeCommand, encodeCommand, txnOf, writeIdOf } from '../../src/global/replica/codec.ts';
import { dstoreRoot, TO_OBJECT_OPTIONS } from '../../src/protocol/proto.ts';
import type { TxnRequest__Output } from '../../src/protocol/generated/dstore/v1/TxnRequest.ts';

const TxnRequestType = dstoreRoot().lookupType('dstore.v1.TxnRequest');
const hash = new Uint8Array(32).fill(9);

/** A request as grpc-js hands it to the service: encoded by a client, decoded on arrival. */
function received(request: object): TxnRequest__Output {
  const bytes = TxnRequestType.encode(TxnRequestType.fromObject(request)).finish();
  return TxnRequestType.toObject(TxnRequestType.decode(bytes), TO_OBJECT_OPTIONS) as TxnRequest__Output;
}

const requests: Record<string, object> = {
  'put with write id': { success: [{ put: { key: 'a', value: { inline: new Uint8Array([1, 2, 3]) } } }], writeId: { clientId: 'c', requestId: 7, firstIncomplete: 5 } },
  'every op kind': {
    success: [
      { get: { key: 'g', withValue: true } },
      { putIfAbsent: { key: 'p', value: { blobHash: hash, blobSize: 1_000_000 } } },
      { delete: { key: 'd' } },
      { range: { range: { prefix: 'r/', limit: 10, withValues: true } } },
      { listAppend: { key: 'l', items: [new Uint8Array([4])] } },
      { mapStore: { key: 'm', entries: [{ field: 'f', value: new Uint8Array([5]) }] } },
      { mapDelete: { key: 'm', fields: ['f'] } },
      { add: { key: 'n', delta: -42 } },
    ],
    failure: [{ range: { range: { start: 'a', end: 'z' } } }],
  },
  'every compare target': {
    compares: [
      { key: 'e', target: 'TARGET_EXISTS', operator: 'OPERATOR_NOT_EQUAL', exists: true },
      { key: 'h', target: 'TARGET_HASH', operator: 'OPERATOR_EQUAL', hash },
      { key: 'h0', target: 'TARGET_HASH', operator: 'OPERATOR_EQUAL' },
      { key: 'v', target: 'TARGET_VERSION', operator: 'OPERATOR_GREATER', number: 3 },
      { key: 'r', target: 'TARGET_MOD_REVISION', operator: 'OPERATOR_LESS', number: Number.MAX_SAFE_INTEGER },
    ],
    success: [{ put: { key: 'k', value: { inline: new Uint8Array(0) } } }],
  },
};

describe('log command codec', () => {
  for (const [name, request] of Object.entries(requests)) {
    it(`decodes to what the leader holds: ${name}`, () => {
      const txn = received(request);
      const writeId = writeIdOf(txn.writeId);
      const checked = txnOf(txn);
      assert.deepEqual(decodeCommand(encodeCommand(writeId, txn)), { writeId, txn: checked });
    });
  }
});
