// Proves that a Local's node server bounds the bytes of Session requests in flight, per stream
// and over all streams, as a replica does (issue 11 deliver 3): before, a worker could
// pipeline frames on a Session without limit and the node server held every one. Each frame
// here holds a Get that waits for the next revision (so the frame stays in flight) and a Get
// of a long key that is refused at once (the frame's bulk). Frames past a cap are refused in
// band, request by request, with RESOURCE_EXHAUSTED naming the cap; the stream goes on, and
// once a write answers the waiting Gets every byte is released. Empty frames hold nothing.
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GlobalClient } from '../../src/local/client/client.ts';
import { Local } from '../../src/local/local.ts';
import { LocalServer } from '../../src/local/node/local-server.ts';
import type { ClientRequest } from '../../src/protocol/generated/dstore/v1/ClientRequest.ts';
import type { GlobalClient as WireClient } from '../../src/protocol/generated/dstore/v1/Global.ts';
import type { ServerFrame__Output } from '../../src/protocol/generated/dstore/v1/ServerFrame.ts';
import type { ServerResponse__Output } from '../../src/protocol/generated/dstore/v1/ServerResponse.ts';
import { dstoreProto } from '../../src/protocol/proto.ts';
import { eventually, TestCluster } from '../global/cluster-harness.ts';

const KIB = 1024;
const SESSION_BYTES_MAX = 512 * KIB;
const ALL_SESSIONS_BYTES_MAX = 1024 * KIB;
/** Held as about 225 KiB (wire bytes, the decoded key, per request overhead): two frames fit a stream, four fit in all. */
const LONG_KEY = 'x'.repeat(74 * KIB);

let cluster: TestCluster;
let direct: GlobalClient;
let local: Local;
let server: LocalServer;
const wires: WireClient[] = [];

/** A worker connection of its own (a private subchannel), so stream caps per connection do not interfere. */
function connect(): WireClient {
  const c = new (dstoreProto().dstore.v1.Global)(server.address, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
  wires.push(c);
  return c;
}

/** A Session whose answers are collected by id; `answered(ids)` waits for them. */
class OpenSession {
  readonly answers = new Map<number, ServerResponse__Output>();
  private error: Error | null = null;
  private readonly call: grpc.ClientDuplexStream<{ requests: ClientRequest[] }, ServerFrame__Output>;

  constructor(wire: WireClient) {
    this.call = wire.Session();
    this.call.on('data', (frame: ServerFrame__Output) => {
      for (const r of frame.responses) this.answers.set(r.id, r);
    });
    this.call.on('error', (err: Error) => {
      this.error = err;
    });
  }

  send(requests: ClientRequest[]): void {
    this.call.write({ requests });
  }

  answered(ids: readonly number[]): Promise<ServerResponse__Output[]> {
    return eventually(`answers to requests ${ids.join(', ')}`, () => {
      if (this.error !== null) throw new Error(`the Session ended: ${this.error.message}`);
      const got = ids.map((id) => this.answers.get(id));
      return got.every((r) => r !== undefined) ? got : undefined;
    });
  }

  close(): void {
    this.call.cancel();
  }
}

/** A frame that stays in flight until the next revision: ids `id` (the wait) and `id + 1` (the bulk, refused at once). */
const heldFrame = (id: number, nextRevision: number): ClientRequest[] => [
  { id, get: { key: 'wait', minRevision: nextRevision } },
  { id: id + 1, get: { key: LONG_KEY } },
];

before(async () => {
  cluster = await TestCluster.start(1);
  await cluster.waitForLeader();
  direct = cluster.client();
  local = Local.open({ global: cluster.addresses, minRevisionWaitMs: 30_000 });
  assert.equal(await local.ready(10_000), true);
  server = await LocalServer.listen(local, '127.0.0.1:0', undefined, { requestBytesMax: 256 * KIB, sessionBytesInFlightMax: SESSION_BYTES_MAX, allSessionsBytesInFlightMax: ALL_SESSIONS_BYTES_MAX });
});

after(async () => {
  for (const w of wires.splice(0)) w.close();
  await server.stop();
  await local.close();
  await direct.close();
  await cluster.stop();
});

describe("bytes of Session requests in flight on a Local's node server", () => {
  it('refuses frames past the stream cap and past the node cap in band; the streams go on', async () => {
    const next = (await direct.set('lsb/start', new Uint8Array([1]))).revision + 1;
    await eventually('the Local to apply the write', () => local.revision >= next - 1);

    // A pipelines four frames without waiting for any answer: two fit its stream's cap.
    const a = new OpenSession(connect());
    for (let i = 0; i < 4; i++) a.send(heldFrame(10 * i + 1, next));
    for (const r of await a.answered([21, 22, 31, 32])) {
      assert.equal(r.error?.code, 'RESOURCE_EXHAUSTED', JSON.stringify(r.error));
      assert.equal(r.error?.retryable, true);
      assert.match(r.error?.message ?? '', new RegExp(`sessionBytesInFlightMax = ${SESSION_BYTES_MAX}`));
      assert.match(r.error?.message ?? '', /read answers before sending more/);
    }
    // The bulk of the held frames was answered (refused for its key); the waits were not.
    for (const r of await a.answered([2, 12])) assert.match(r.error?.message ?? '', /key/, JSON.stringify(r.error));
    assert.equal(a.answers.has(1) || a.answers.has(11), false);
    const heldA = server.sessionBytesInFlight;
    assert.ok(heldA > 2 * LONG_KEY.length && heldA <= SESSION_BYTES_MAX, `A holds ${heldA} bytes`);

    // B holds two more frames: the node server holds four, and C's first frame would pass its cap.
    const b = new OpenSession(connect());
    b.send(heldFrame(1, next));
    b.send(heldFrame(11, next));
    await b.answered([2, 12]);
    const c = new OpenSession(connect());
    c.send(heldFrame(1, next));
    for (const r of await c.answered([1, 2])) {
      assert.equal(r.error?.code, 'RESOURCE_EXHAUSTED', JSON.stringify(r.error));
      assert.match(r.error?.message ?? '', new RegExp(`Sessions on this Local hold .*allSessionsBytesInFlightMax = ${ALL_SESSIONS_BYTES_MAX}`));
    }
    assert.ok(server.sessionBytesInFlight <= ALL_SESSIONS_BYTES_MAX, `the node server holds ${server.sessionBytesInFlight} bytes`);

    // Small requests still get in, on C and on A (its stream goes on); empty frames hold nothing.
    const heldBefore = server.sessionBytesInFlight;
    for (let i = 0; i < 10; i++) a.send([]);
    c.send([{ id: 3, get: { key: 'lsb/start' } }]);
    a.send([{ id: 100, get: { key: 'lsb/start' } }]);
    assert.equal((await c.answered([3]))[0]!.get?.found, true);
    assert.equal((await a.answered([100]))[0]!.get?.found, true);
    await direct.set('lsb/release', new Uint8Array([1]));

    // The write answers every held Get; all bytes are released, and A may send big frames again.
    for (const r of [...(await a.answered([1, 11])), ...(await b.answered([1, 11]))]) assert.equal(r.get?.found, false, JSON.stringify(r));
    await eventually('every frame released', () => server.sessionBytesInFlight === 0);
    assert.ok(heldBefore > 0);
    a.send(heldFrame(201, 0));
    assert.equal((await a.answered([201]))[0]!.get?.found, false);
    for (const s of [a, b, c]) s.close();
  });
});
