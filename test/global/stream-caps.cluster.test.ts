// Proves issue 11 deliver 3 (caps on concurrent Sessions and Subscribes per connection and in
// all) on a replica and on a Local's node server, and issue 11 item 8's first point (the
// Local's node server capped its uploads neither in number nor in bytes, nor when idle).
// Beyond a cap a new stream is refused RESOURCE_EXHAUSTED naming the cap; a slot frees when
// a stream ends. Connections are grpc-js channels with subchannel pools of their own.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { Local } from '../../src/local/local.ts';
import { LocalServer } from '../../src/local/node/local-server.ts';
import type { ClientFrame } from '../../src/protocol/generated/dstore/v1/ClientFrame.ts';
import type { GlobalClient } from '../../src/protocol/generated/dstore/v1/Global.ts';
import type { ServerFrame__Output } from '../../src/protocol/generated/dstore/v1/ServerFrame.ts';
import { dstoreProto } from '../../src/protocol/proto.ts';
import { waitUntil } from '../local/fake-global.ts';
import { StreamingFake } from '../local/fake-stream.ts';
import { TestCluster } from './cluster-harness.ts';

interface Opened {
  readonly close: () => void;
}

const clients: GlobalClient[] = [];
const connection = (address: string): GlobalClient => {
  const c = new (dstoreProto().dstore.v1.Global)(address, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
  clients.push(c);
  return c;
};

/** Opens a Session and waits for the answer to a Status request on it; rejects with the refusal. */
function openSession(client: GlobalClient): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const call = client.Session();
    call.on('data', (_frame: ServerFrame__Output) => resolve({ close: () => call.cancel() }));
    call.on('error', reject);
    call.write({ requests: [{ id: 1, status: {} }] } satisfies ClientFrame);
  });
}

/** Opens a Subscribe and waits for its first message; rejects with the refusal. */
function openSubscribe(client: GlobalClient): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const call = client.Subscribe({ fromRevision: 0, prefix: '' });
    call.on('data', () => resolve({ close: () => call.cancel() }));
    call.on('error', reject);
  });
}

async function refusal(opening: Promise<Opened>): Promise<grpc.ServiceError> {
  try {
    const opened = await opening;
    opened.close();
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error('the stream was admitted');
}

after(() => {
  for (const c of clients.splice(0)) c.close();
});

describe('stream caps on a replica', () => {
  let cluster: TestCluster;
  let address: string;
  before(async () => {
    cluster = await TestCluster.start(1, { streams: { sessionsMax: 3, sessionsPerConnectionMax: 2, subscribesPerConnectionMax: 2 }, subscriptions: { subscribersMax: 3 } });
    await cluster.waitForLeader();
    address = cluster.addresses[0]!;
  });
  after(async () => {
    await cluster.stop();
  });

  for (const [kind, open, perConnection, total] of [
    ['Session', openSession, 'sessionsPerConnectionMax = 2', 'sessionsMax = 3'],
    ['Subscribe', openSubscribe, 'subscribesPerConnectionMax = 2', 'subscribersMax = 3'],
  ] as const) {
    it(`caps ${kind} streams per connection and in all, and frees a slot when one ends`, async () => {
      const a = connection(address);
      const b = connection(address);
      const onA = [await open(a), await open(a)];
      const third = await refusal(open(a));
      assert.equal(third.code, grpc.status.RESOURCE_EXHAUSTED, third.details);
      assert.match(third.details, new RegExp(`this connection already has 2 ${kind} streams open on replica 1, the limit \\(${perConnection}\\)`));
      const onB = await open(b);
      const fourth = await refusal(open(b));
      assert.equal(fourth.code, grpc.status.RESOURCE_EXHAUSTED, fourth.details);
      assert.match(fourth.details, new RegExp(`replica 1 already has 3 ${kind} streams open, its limit \\(${total}\\)`));
      onA[0]!.close();
      const again = await waitUntilAdmitted(() => open(b));
      for (const s of [onA[1]!, onB, again]) s.close();
    });
  }
});

/** Retries `open` until admitted (a cancelled stream's slot frees when the server sees it end). */
async function waitUntilAdmitted(open: () => Promise<Opened>): Promise<Opened> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    try {
      return await open();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

describe("stream and upload caps on a Local's node server", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function localServer(limits: Parameters<typeof LocalServer.listen>[3]): Promise<LocalServer> {
    const fake = await StreamingFake.start();
    cleanups.push(() => fake.stop());
    const local = Local.open({ global: [fake.address] });
    cleanups.push(() => local.close());
    await waitUntil(() => local.leaseHeld, 'the lease');
    const server = await LocalServer.listen(local, '127.0.0.1:0', undefined, limits);
    cleanups.push(() => server.stop());
    return server;
  }

  it('caps Session streams per connection and in all', async () => {
    const server = await localServer({ sessionsMax: 3, sessionsPerConnectionMax: 2 });
    const a = connection(server.address);
    const b = connection(server.address);
    const open = [await openSession(a), await openSession(a)];
    const third = await refusal(openSession(a));
    assert.equal(third.code, grpc.status.RESOURCE_EXHAUSTED, third.details);
    assert.match(third.details, /sessionsPerConnectionMax = 2/);
    open.push(await openSession(b));
    const fourth = await refusal(openSession(b));
    assert.equal(fourth.code, grpc.status.RESOURCE_EXHAUSTED, fourth.details);
    assert.match(fourth.details, /this Local already has 3 Session streams open, its limit \(sessionsMax = 3\)/);
    for (const s of open) s.close();
  });

  /** A PutBlob sending a header of `size` bytes and then nothing; resolves with its error. */
  const stalledUpload = (client: GlobalClient, size: number): Promise<grpc.ServiceError> =>
    new Promise((resolve, reject) => {
      const call = client.PutBlob({ deadline: Date.now() + 10_000 }, (err) => (err === null ? reject(new Error('the upload succeeded')) : resolve(err)));
      call.write({ header: { size, hash: Buffer.alloc(0) } });
    });

  it('caps uploads in number and in announced bytes, and cancels idle ones, freeing their reservation', async () => {
    const server = await localServer({ uploadsMax: 3, uploadsPerConnectionMax: 2, uploadBufferBytesMax: 3_000_000, uploadIdleMs: 1_500 });
    const a = connection(server.address);
    const b = connection(server.address);
    const stalled = [stalledUpload(a, 1_000_000), stalledUpload(a, 1_000_000)];
    await waitUntil(() => server.uploads.bytesReserved === 2_000_000, 'two uploads to reserve their bytes');
    const third = await stalledUpload(a, 10);
    assert.equal(third.code, grpc.status.RESOURCE_EXHAUSTED, third.details);
    assert.match(third.details, /uploadsPerConnectionMax = 2/);
    const tooMuch = await stalledUpload(b, 1_500_000);
    assert.equal(tooMuch.code, grpc.status.RESOURCE_EXHAUSTED, tooMuch.details);
    assert.match(tooMuch.details, /uploadBufferBytesMax = 3000000/);
    for (const err of await Promise.all(stalled)) {
      assert.equal(err.code, grpc.status.UNAVAILABLE, err.details);
      assert.match(err.details, /PutBlob sent nothing for 1500 ms \(uploadIdleMs\)/);
    }
    await waitUntil(() => server.uploads.open === 0 && server.uploads.bytesReserved === 0, 'every upload slot and byte to be freed');
  });
});
