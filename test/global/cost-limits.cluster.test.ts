// Proves that what one request costs is bounded, not only what it counts (issue 11, items 2
// and 4): a read-only transaction is served after the read barrier without entering the log;
// the ranges of one transaction share one budget of keys; a transaction of a million ops or a
// map_store of a million entries is refused from a scan of its bytes, before decoding (the
// prescan's own message says so); a Session frame may ask for one state checksum. How long
// such a refusal holds the replica's event loop is a speed claim: `npm run bench -- refusals`.
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { STATE_MACHINE_DEFAULTS } from '../../src/global/state/state-machine.ts';
import type { ClientRequest } from '../../src/protocol/generated/dstore/v1/ClientRequest.ts';
import type { GlobalClient as WireClient } from '../../src/protocol/generated/dstore/v1/Global.ts';
import type { ServerFrame__Output } from '../../src/protocol/generated/dstore/v1/ServerFrame.ts';
import type { ServerResponse__Output } from '../../src/protocol/generated/dstore/v1/ServerResponse.ts';
import type { TxnResponse__Output } from '../../src/protocol/generated/dstore/v1/TxnResponse.ts';
import { dstoreProto } from '../../src/protocol/proto.ts';
import { TestCluster } from './cluster-harness.ts';
import { frameOf, mapStoreTxn, rawSession, rawUnary, txnBytes } from './refusals.ts';

const RANGE_KEYS_MAX = 300;
const KEYS = 400;

let cluster: TestCluster;
let wire: WireClient;
let raw: grpc.Client;

before(async () => {
  cluster = await TestCluster.start(1, { node: { stateMachine: { ...STATE_MACHINE_DEFAULTS, rangeKeysMax: RANGE_KEYS_MAX }, readWaitMsMax: 300 } });
  await cluster.waitForLeader();
  const address = cluster.addresses[0]!;
  wire = new (dstoreProto().dstore.v1.Global)(address, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
  raw = new grpc.Client(address, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': 64 * 1024 * 1024 });
  const puts = Array.from({ length: KEYS }, (_, i) => ({ put: { key: `r/${String(i).padStart(4, '0')}`, value: { inline: Buffer.from('v') } } }));
  await txn({ success: puts });
});

after(async () => {
  wire.close();
  raw.close();
  await cluster.stop();
});

function txn(request: object): Promise<TxnResponse__Output> {
  return new Promise((resolve, reject) => {
    wire.Txn(request, { deadline: Date.now() + 10_000 }, (err, res) => (err !== null || res === undefined ? reject(err ?? new Error('no response')) : resolve(res)));
  });
}

function session(requests: ClientRequest[]): Promise<Map<number, ServerResponse__Output>> {
  return new Promise((resolve, reject) => {
    const responses = new Map<number, ServerResponse__Output>();
    const call = wire.Session({ deadline: Date.now() + 10_000 });
    call.on('data', (f: ServerFrame__Output) => {
      for (const r of f.responses) responses.set(r.id, r);
    });
    call.on('error', reject);
    call.on('end', () => resolve(responses));
    call.write({ requests });
    call.end();
  });
}

const rangeOp = { range: { range: { prefix: 'r/' } } };

describe('cost limits: read-only transactions', () => {
  it('a transaction of only compares, gets and ranges is answered without entering the log', async () => {
    const node = cluster.server(1).node;
    const before = node.status().decidedThrough;
    const t = await txn({ compares: [{ key: 'r/0000', target: 'TARGET_EXISTS', operator: 'OPERATOR_EQUAL', exists: true }], success: [{ get: { key: 'r/0001', withValue: true } }, { range: { range: { prefix: 'r/', limit: 2 } } }] });
    assert.equal(t.succeeded, true);
    assert.equal(t.results[0]?.get?.kv?.value.toString(), 'v');
    assert.deepEqual(t.results[1]?.range?.kvs.map((kv) => kv.key), ['r/0000', 'r/0001']);
    assert.equal(Number(t.header?.revision), node.stateMachine.revision);
    assert.equal(node.status().decidedThrough, before, 'no log instance was decided for the read');
  });

  it('a read-only transaction honours min_revision: one the replica has not reached fails retryably', async () => {
    const ahead = cluster.server(1).node.stateMachine.revision + 1000;
    await assert.rejects(txn({ success: [rangeOp], consistency: 'READ_CONSISTENCY_SERIALIZABLE', minRevision: ahead }), (err: grpc.ServiceError) => err.code === grpc.status.UNAVAILABLE);
  });

  it(`the ranges of one transaction share one budget of rangeKeysMax (${RANGE_KEYS_MAX}) keys; the rest are cut short with more`, async () => {
    const t = await txn({ success: Array.from({ length: 200 }, () => rangeOp) });
    const counts = t.results.map((r) => r.range?.kvs.length ?? -1);
    assert.equal(counts.reduce((a, b) => a + b, 0), RANGE_KEYS_MAX, `keys returned in all: ${counts.slice(0, 4).join(', ')}, ...`);
    assert.ok(t.results.every((r) => r.range?.more === true), 'every range says it was cut short');
    // A transaction that also writes gets the same budget, at apply.
    const w = await txn({ success: [...Array.from({ length: 10 }, () => rangeOp), { put: { key: 'w/1', value: { inline: Buffer.from('x') } } }] });
    assert.equal(w.results.slice(0, 10).reduce((a, r) => a + (r.range?.kvs.length ?? 0), 0), RANGE_KEYS_MAX);
  });
});

describe('cost limits: refused before decoding', () => {
  it('a transaction of 10^6 get ops (about 7 MB) is refused naming TXN_OPS_MAX in milliseconds, without holding the event loop', async () => {
    const bytes = txnBytes({ get: { key: 'k' } }, 1_000_000);
    assert.ok(bytes.byteLength > 5_000_000);
    const o = await rawUnary(raw, '/dstore.v1.Global/Txn', bytes);
    assert.equal(o.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(o.dstoreError, 'TOO_LARGE');
    // The prescan's words (request-prescan.ts), not the decoded transaction's (codec.ts).
    assert.match(o.details, /more than 1024 compares and ops \(TXN_OPS_MAX\)/);
  });

  it('a map_store of 10^6 entries is refused naming STRUCTURED_ENTRIES_MAX, on Txn and in a Session frame', async () => {
    const bytes = mapStoreTxn(1_000_000);
    const o = await rawUnary(raw, '/dstore.v1.Global/Txn', bytes);
    assert.equal(o.dstoreError, 'TOO_LARGE');
    assert.match(o.details, /more than 4096 list items or map entries \(STRUCTURED_ENTRIES_MAX\)/);
    const s = await rawSession(raw, [frameOf(bytes, 1)]);
    assert.equal(s.code, grpc.status.INVALID_ARGUMENT);
    assert.match(s.details, /^frame: request 0: transaction: an op carries more than 4096/);
  });

  it('a Session frame of many full transactions is refused over REQUEST_ELEMENTS_MAX, before decoding', async () => {
    const s = await rawSession(raw, [frameOf(txnBytes({ get: { key: 'k' } }, 1024), 100)]);
    assert.equal(s.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(s.dstoreError, 'TOO_LARGE');
    assert.match(s.details, /frame holds more than 65536 .* \(REQUEST_ELEMENTS_MAX\)/);
  });

  it('more than TXN_STRUCTURED_OPS_MAX (16) structured ops in one transaction are refused', async () => {
    const ops = Array.from({ length: 17 }, (_, i) => ({ listAppend: { key: `l${i}`, items: [Buffer.from('a')] } }));
    await assert.rejects(txn({ success: ops }), (err: grpc.ServiceError) => /more than 16 list_append, map_store and map_delete ops \(TXN_STRUCTURED_OPS_MAX\)/.test(err.details));
    const ok = await txn({ success: ops.slice(0, 16) });
    assert.equal(ok.succeeded, true);
  });
});

describe('cost limits: expensive calls per frame', () => {
  it('a Session frame gets one Status with_checksum; the others are refused in band', async () => {
    const requests = Array.from({ length: 1024 }, (_, i) => ({ id: i + 1, status: { withChecksum: true } }));
    const responses = await session(requests);
    assert.equal(responses.size, 1024);
    assert.equal(responses.get(1)?.status?.stateChecksum.length, 32);
    assert.match(responses.get(2)?.error?.message ?? '', /more than 1 Status with_checksum in one frame \(FRAME_CHECKSUMS_MAX\)/);
    assert.equal([...responses.values()].filter((r) => r.body === 'status').length, 1, 'one checksum computed');
  });
});
