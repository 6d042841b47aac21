// Proves that a Session's requests in flight are bounded by bytes, per stream and for all
// streams of a replica (issue 11 deliver 3): before, only their count was (8,192 per stream),
// so a client could make a replica hold 8,192 frames of 16 MiB each. Each frame here holds a
// Get that waits for the next revision (so the frame stays in flight) and a Get of a long key
// that is refused at once (the frame's bulk). A client that pipelines such frames without
// waiting for answers gets the frames past its stream's cap refused in band, request by
// request, with RESOURCE_EXHAUSTED naming the cap; the stream goes on, other clients keep
// being served, and once a write answers the waiting Gets every byte is released, empty
// frames included.
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ClientRequest } from '../../src/protocol/generated/dstore/v1/ClientRequest.ts';
import type { GlobalClient as WireClient } from '../../src/protocol/generated/dstore/v1/Global.ts';
import type { ServerFrame__Output } from '../../src/protocol/generated/dstore/v1/ServerFrame.ts';
import type { ServerResponse__Output } from '../../src/protocol/generated/dstore/v1/ServerResponse.ts';
import { dstoreProto } from '../../src/protocol/proto.ts';
import { eventually, TestCluster } from './cluster-harness.ts';

const KIB = 1024;
const REQUEST_BYTES_MAX = 256 * KIB;
const SESSION_BYTES_MAX = 512 * KIB;
const ALL_SESSIONS_BYTES_MAX = 1024 * KIB;
/**
 * A frame's bulk: held as about 225 KiB (its wire bytes, the decoded key at two bytes a
 * character, and per request overhead), so two such frames fit a stream's cap, a third does
 * not; four fit in all, a fifth does not.
 */
const LONG_KEY = 'x'.repeat(74 * KIB);

let cluster: TestCluster;
const wires: WireClient[] = [];

/** A connection of its own (a private subchannel), so stream caps per connection do not interfere. */
function connect(): WireClient {
  const c = new (dstoreProto().dstore.v1.Global)(cluster.addresses[0]!, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
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

function set(wire: WireClient, key: string): Promise<number> {
  return new Promise((resolve, reject) => {
    wire.Set({ key, value: { inline: Buffer.from('v') } }, { deadline: Date.now() + 5_000 }, (err, res) => (err !== null || res === undefined ? reject(err ?? new Error('no answer')) : resolve(res.header?.revision ?? 0)));
  });
}

before(async () => {
  cluster = await TestCluster.start(1, {
    limits: { requestBytesMax: REQUEST_BYTES_MAX, sessionBytesInFlightMax: SESSION_BYTES_MAX, allSessionsBytesInFlightMax: ALL_SESSIONS_BYTES_MAX },
    // The held Gets are answered by a write, long before this.
    node: { readWaitMsMax: 30_000 },
  });
  await cluster.waitForLeader();
});

after(async () => {
  for (const w of wires.splice(0)) w.close();
  await cluster.stop();
});

describe('bytes of Session requests in flight', () => {
  it('refuses frames past the stream cap and past the replica cap in band; the streams go on and others are served', async () => {
    const server = cluster.server(1);
    const revision = await set(connect(), 'start');
    const next = revision + 1;

    // A pipelines four frames without waiting for any answer: two fit its stream's cap.
    const a = new OpenSession(connect());
    for (let i = 0; i < 4; i++) a.send(heldFrame(10 * i + 1, next));
    const refusedA = await a.answered([21, 22, 31, 32]);
    for (const r of refusedA) {
      assert.equal(r.error?.code, 'RESOURCE_EXHAUSTED', JSON.stringify(r.error));
      assert.equal(r.error?.retryable, true);
      assert.match(r.error?.message ?? '', /limits\.session_bytes_in_flight_max/);
      assert.match(r.error?.message ?? '', /read answers before sending more/);
    }
    // The bulk of the held frames was answered (refused for its key); the waits were not.
    for (const r of await a.answered([2, 12])) assert.match(r.error?.message ?? '', /key/, JSON.stringify(r.error));
    assert.equal(a.answers.has(1) || a.answers.has(11), false);
    const heldA = server.sessionBytesInFlight;
    assert.ok(heldA > 2 * LONG_KEY.length && heldA <= SESSION_BYTES_MAX, `A holds ${heldA} bytes`);

    // B holds two more frames: the replica holds four, and C's first frame would pass its cap.
    const b = new OpenSession(connect());
    b.send(heldFrame(1, next));
    b.send(heldFrame(11, next));
    await b.answered([2, 12]);
    const c = new OpenSession(connect());
    c.send(heldFrame(1, next));
    for (const r of await c.answered([1, 2])) {
      assert.equal(r.error?.code, 'RESOURCE_EXHAUSTED', JSON.stringify(r.error));
      assert.match(r.error?.message ?? '', /limits\.all_sessions_bytes_in_flight_max/);
    }
    assert.ok(server.sessionBytesInFlight <= ALL_SESSIONS_BYTES_MAX, `the replica holds ${server.sessionBytesInFlight} bytes`);

    // Small requests still get in, on C and on A (its stream goes on); a write gets through.
    // Empty frames hold nothing (they once held 32 bytes each for good: no answer released them).
    for (let i = 0; i < 10; i++) a.send([]);
    c.send([{ id: 3, status: {} }]);
    a.send([{ id: 100, get: { key: 'start' } }]);
    const [status] = await c.answered([3]);
    assert.equal(status!.status?.replicaId, 1);
    const [got] = await a.answered([100]);
    assert.equal(got!.get?.found, true);
    await set(connect(), 'release');

    // The write answers every held Get; all bytes are released, and A may send big frames again.
    for (const r of [...(await a.answered([1, 11])), ...(await b.answered([1, 11]))]) assert.equal(r.get?.found, false);
    await eventually('every frame released', () => server.sessionBytesInFlight === 0);
    a.send(heldFrame(201, 0));
    assert.equal((await a.answered([201]))[0]!.get?.found, false);
    for (const s of [a, b, c]) s.close();
  });
});
