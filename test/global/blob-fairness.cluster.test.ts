// Proves issue 11 item 5: one client cannot stop blob replication. 256 PutBlob uploads that
// send only their header (spread over 16 connections, the per-connection cap) fill a
// follower's client transfer pool; the peers' pool is separate, so a leader's StoreBlob push
// to that follower and a FetchBlob from it still succeed; a 17th upload on one connection,
// and a 257th in all, are refused RESOURCE_EXHAUSTED naming the cap; the stalled uploads are
// cancelled after uploadIdleMs with an error naming it, and every slot is freed.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { BLOB_REPLICATOR_DEFAULTS } from '../../src/global/blobs/blob-replicator.ts';
import { CLUSTER_ID_METADATA } from '../../src/global/peers/peer-transport.ts';
import { DstoreError, ResourceExhaustedError, UnavailableError } from '../../src/protocol/errors.ts';
import { fromGrpcError } from '../../src/protocol/grpc-status.ts';
import { hashOf, hashToBytes } from '../../src/protocol/hash.ts';
import type { BlobChunk__Output } from '../../src/protocol/generated/dstore/v1/BlobChunk.ts';
import type { GlobalClient } from '../../src/protocol/generated/dstore/v1/Global.ts';
import { dstoreProto } from '../../src/protocol/proto.ts';
import { eventually, TestCluster } from './cluster-harness.ts';

const IDLE_MS = 4_000;
const CONNECTIONS = 16;

describe('blob transfer pools: clients cannot starve replication', () => {
  let cluster: TestCluster;
  let follower: number;
  const clients: GlobalClient[] = [];
  const stalled: Promise<DstoreError>[] = [];

  /** A Global client on a connection of its own (grpc-js would share one otherwise). */
  const ownConnection = (address: string): GlobalClient => {
    const c = new (dstoreProto().dstore.v1.Global)(address, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
    clients.push(c);
    return c;
  };
  /** A PutBlob that sends its header and then nothing; resolves with the error it ends with. */
  const headerOnly = (client: GlobalClient): Promise<DstoreError> =>
    new Promise<DstoreError>((resolve, reject) => {
      const call = client.PutBlob({ deadline: Date.now() + 30_000 }, (err) => (err === null ? reject(new Error('a header-only upload succeeded')) : resolve(fromGrpcError(err))));
      call.write({ header: { size: 1000, hash: Buffer.alloc(0) } });
    });

  before(async () => {
    cluster = await TestCluster.start(3, { blobs: { replication: { uploadIdleMs: IDLE_MS } } });
    const leader = await cluster.waitForLeader();
    follower = [1, 2, 3].find((id) => id !== leader)!;
  });
  after(async () => {
    for (const c of clients) c.close();
    await cluster.stop();
  });

  it('fills the client pool with header-only uploads, 16 per connection, and refuses one more either way', async () => {
    assert.equal(BLOB_REPLICATOR_DEFAULTS.clientTransfersMax, 256);
    assert.equal(BLOB_REPLICATOR_DEFAULTS.clientTransfersPerConnectionMax, CONNECTIONS);
    const address = cluster.members.get(follower)!;
    const connections = Array.from({ length: CONNECTIONS }, () => ownConnection(address));
    for (const c of connections) for (let i = 0; i < 16; i++) stalled.push(headerOnly(c));
    const replicator = cluster.server(follower).blobs.replicator;
    await eventually('256 uploads to be open', () => replicator.clientTransfersOpen === 256);
    const perConnection = await headerOnly(connections[0]!);
    assert.ok(perConnection instanceof ResourceExhaustedError, String(perConnection));
    assert.match(perConnection.message, /clientTransfersPerConnectionMax = 16/);
    const total = await headerOnly(ownConnection(address));
    assert.ok(total instanceof ResourceExhaustedError, String(total));
    assert.match(total.message, /clientTransfersMax = 256/);
  });

  it('still takes a peer StoreBlob push and serves a peer FetchBlob while the client pool is full', async () => {
    assert.equal(cluster.server(follower).blobs.replicator.clientTransfersOpen, 256, 'the pool is still full');
    const replica = new (dstoreProto().dstore.v1.Replica)(cluster.members.get(follower)!, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
    try {
      const metadata = new grpc.Metadata();
      metadata.set(CLUSTER_ID_METADATA, 'test');
      const bytes = randomBytes(200_000);
      const hash = hashOf(bytes);
      const stored = await new Promise<unknown>((resolve, reject) => {
        const call = replica.StoreBlob(metadata, { deadline: Date.now() + 10_000 }, (err, value) => (err === null ? resolve(value) : reject(fromGrpcError(err))));
        call.write({ header: { size: bytes.byteLength, hash: hashToBytes(hash) } });
        call.write({ chunk: { offset: 0, data: bytes } });
        call.end();
      });
      assert.ok(stored !== undefined);
      assert.ok(cluster.server(follower).blobs.store.has(hash), 'the pushed blob is held');
      const fetched = await new Promise<Buffer>((resolve, reject) => {
        const parts: Buffer[] = [];
        const call = replica.FetchBlob({ hash: hashToBytes(hash) }, metadata, { deadline: Date.now() + 10_000 });
        call.on('data', (m: BlobChunk__Output) => parts.push(Buffer.from(m.data)));
        call.on('error', (err: grpc.ServiceError) => reject(fromGrpcError(err)));
        call.on('end', () => resolve(Buffer.concat(parts)));
      });
      assert.ok(fetched.equals(bytes), 'FetchBlob served the blob');
    } finally {
      replica.close();
    }
  });

  it('cancels the stalled uploads after uploadIdleMs with an error naming it, freeing every slot', async () => {
    const errors = await Promise.all(stalled);
    for (const err of errors) {
      assert.ok(err instanceof UnavailableError, String(err));
      assert.match(err.message, new RegExp(`PutBlob sent nothing for ${IDLE_MS} ms \\(uploadIdleMs\\)`));
    }
    await eventually('every slot to be free', () => cluster.server(follower).blobs.replicator.clientTransfersOpen === 0);
  });
});
