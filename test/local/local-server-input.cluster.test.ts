// What a Local's node server does with input a well-behaved worker never sends, against a
// real Local and a real in-process Global (issue 11, items 3 and 8):
// - a Session missing_blobs with a 3-byte hash is answered INVALID_ARGUMENT in-band, a
//   PutBlob header with a 5-byte hash ends that upload INVALID_ARGUMENT, and the server goes
//   on serving (both used to throw out of a stream's event handler and end the process);
// - undecodable bytes on every method end that call INVALID_ARGUMENT with the decoder's
//   reason, not INTERNAL "Error deserializing request";
// - a Session the worker half-closes right after its requests still gets every answer.
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Local } from '../../src/local/local.ts';
import { LocalServer } from '../../src/local/node/local-server.ts';
import type { ServerFrame__Output } from '../../src/protocol/generated/dstore/v1/ServerFrame.ts';
import { dstoreProto } from '../../src/protocol/proto.ts';
import { TestCluster, eventually } from '../global/cluster-harness.ts';
import { rawCall } from '../global/raw-calls.ts';

const service = dstoreProto().dstore.v1.Global.service;
const encode = (method: keyof typeof service, message: object): Buffer => service[method]!.requestSerialize(message);
const frameOf = (b: Buffer): ServerFrame__Output => service.Session.responseDeserialize(b);

let cluster: TestCluster;
let local: Local;
let server: LocalServer;
let raw: grpc.Client;

before(async () => {
  cluster = await TestCluster.start(1);
  await cluster.waitForLeader();
  local = Local.open({ global: cluster.addresses });
  await eventually('the Local to hold its lease', () => local.leaseHeld);
  server = await LocalServer.listen(local, '127.0.0.1:0');
  raw = new grpc.Client(server.address, grpc.credentials.createInsecure());
});

after(async () => {
  raw.close();
  await server.stop();
  await local.close();
  await cluster.stop();
});

/** The server still answers a normal Session request. */
async function assertServing(): Promise<void> {
  const o = await rawCall(raw, service.Session, [encode('Session', { requests: [{ id: 1, status: {} }] })]);
  assert.equal(o.code, grpc.status.OK, o.details);
  assert.equal(frameOf(o.responses[0]!).responses[0]?.status?.isLeader, true);
}

describe('Local node server: malformed input', () => {
  it('answers a missing_blobs hash of 3 bytes INVALID_ARGUMENT in-band and keeps serving', async () => {
    const o = await rawCall(raw, service.Session, [encode('Session', { requests: [{ id: 7, missingBlobs: { hashes: [Buffer.from([1, 2, 3])] } }] })]);
    assert.equal(o.code, grpc.status.OK, o.details);
    const answer = frameOf(o.responses[0]!).responses[0];
    assert.equal(answer?.id, 7);
    assert.equal(answer?.error?.code, 'INVALID_ARGUMENT');
    assert.match(answer?.error?.message ?? '', /missing_blobs: a hash is 32 bytes, got 3/);
    await assertServing();
  });

  it('ends a PutBlob whose header hash is 5 bytes with INVALID_ARGUMENT and keeps serving', async () => {
    const o = await rawCall(raw, service.PutBlob, [encode('PutBlob', { header: { size: 1, hash: Buffer.alloc(5) } }), encode('PutBlob', { chunk: { offset: 0, data: Buffer.from([1]) } })]);
    assert.equal(o.code, grpc.status.INVALID_ARGUMENT);
    assert.match(o.details, /PutBlob header: a hash is 32 bytes, got 5/);
    await assertServing();
  });

  it('answers undecodable bytes on every method INVALID_ARGUMENT with the decoder\'s reason', async () => {
    const junk = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02]);
    for (const [name, method] of Object.entries(service)) {
      const o = await rawCall(raw, method, [junk]);
      if (name === 'Hold') {
        // Not served by a Local (a Local holds with Global's leader): refused before reading.
        assert.equal(o.code, grpc.status.UNIMPLEMENTED, `${name}: ${grpc.status[o.code]} ${o.details}`);
        continue;
      }
      assert.equal(o.code, grpc.status.INVALID_ARGUMENT, `${name}: ${grpc.status[o.code]} ${o.details}`);
      assert.match(o.details, new RegExp(`^${name} message of 7 bytes does not decode as its protobuf type: `), name);
    }
    await assertServing();
  });
});

describe('Local node server: Session half-close', () => {
  it('answers every request in flight before it ends the stream', async () => {
    const count = 40;
    const requests = Array.from({ length: count }, (_, i) => ({ id: i + 1, set: { key: `half-close/${i}`, value: { inline: Buffer.from(`v${i}`) } } }));
    // rawCall half-closes right after the frame: every set is still on its way to Global then.
    const o = await rawCall(raw, service.Session, [encode('Session', { requests })]);
    assert.equal(o.code, grpc.status.OK, o.details);
    const answers = o.responses.flatMap((b) => frameOf(b).responses);
    assert.deepEqual(answers.map((a) => a.id).sort((a, b) => a - b), requests.map((r) => r.id));
    for (const a of answers) assert.equal(a.set?.kv?.key, `half-close/${a.id - 1}`, `request ${a.id}: ${a.error?.message}`);
  });
});
