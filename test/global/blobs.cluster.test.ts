// Proves large values (issue 5 item 6) end to end on a real in-process 3-replica cluster,
// driven through the Global client where it can be and raw gRPC where the client would not
// send the bad input: a multi-MiB value set through the client reads back from every
// replica; a replica that missed the write fetches the blob in the background, verified;
// an upload to a follower is durable on a majority when answered; GetBlob on a replica
// lacking a blob fetches it from a peer and honours offset/length; with one replica down
// uploads work, with two down they fail retryably; bad uploads (hash mismatch, oversize
// header, bad framing) are refused and leave nothing behind; a copy corrupted on disk is
// never served and is repaired from a peer; peer blob calls from another cluster are refused.
// Waits poll with a deadline (`eventually`); nothing sleeps to synchronise.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { BLOB_REPLICATOR_DEFAULTS, validateBlobReplicatorConfig } from '../../src/global/blobs/blob-replicator.ts';
import { CorruptError, DstoreError, InvalidArgumentError, NotFoundError, TooLargeError, UnavailableError } from '../../src/protocol/errors.ts';
import { fromGrpcError } from '../../src/protocol/grpc-status.ts';
import { hashOf, hashToBytes, type Hash } from '../../src/protocol/hash.ts';
import type { GetBlobResponse__Output } from '../../src/protocol/generated/dstore/v1/GetBlobResponse.ts';
import type { PutBlobRequest } from '../../src/protocol/generated/dstore/v1/PutBlobRequest.ts';
import type { PutBlobResponse__Output } from '../../src/protocol/generated/dstore/v1/PutBlobResponse.ts';
import { dstoreProto } from '../../src/protocol/proto.ts';
import { eventually, TestCluster } from './cluster-harness.ts';

const MiB = 1024 * 1024;

/** GetBlob over raw gRPC: every message, or the dstore error the call failed with. */
function rawGetBlob(address: string, hash: Hash, offset: number, length: number): Promise<GetBlobResponse__Output[]> {
  const client = new (dstoreProto().dstore.v1.Global)(address, grpc.credentials.createInsecure());
  const call = client.GetBlob({ hash: hashToBytes(hash), offset, length }, { deadline: Date.now() + 10_000 });
  const messages: GetBlobResponse__Output[] = [];
  return new Promise<GetBlobResponse__Output[]>((resolve, reject) => {
    call.on('data', (m: GetBlobResponse__Output) => messages.push(m));
    call.on('error', (err: grpc.ServiceError) => reject(fromGrpcError(err)));
    call.on('end', () => resolve(messages));
  }).finally(() => client.close());
}

/** MissingBlobs asked of replica `id` of `cluster` alone. */
function rawMissing(cluster: TestCluster, id: number, hash: Hash): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    cluster.raw(id).MissingBlobs({ hashes: [hashToBytes(hash)] }, { deadline: Date.now() + 10_000 }, (err, res) => (err !== null || res === undefined ? reject(err ?? new Error('no answer')) : resolve(res.missing)));
  });
}

/** PutBlob over raw gRPC with exactly the messages given. */
function rawPutBlob(address: string, messages: PutBlobRequest[]): Promise<PutBlobResponse__Output> {
  const client = new (dstoreProto().dstore.v1.Global)(address, grpc.credentials.createInsecure());
  return new Promise<PutBlobResponse__Output>((resolve, reject) => {
    const call = client.PutBlob({ deadline: Date.now() + 10_000 }, (err, value) => (err !== null || value === undefined ? reject(err === null ? new Error('no answer') : fromGrpcError(err)) : resolve(value)));
    for (const m of messages) call.write(m);
    call.end();
  }).finally(() => client.close());
}

describe('blobs on a 3-replica Global cluster', () => {
  let cluster: TestCluster;
  let leader: number;
  const followers = (): number[] => [1, 2, 3].filter((id) => id !== leader);
  const onlyTo = (id: number) => cluster.client({ addresses: [cluster.members.get(id)!] });
  const holders = (hash: Hash): number[] => [1, 2, 3].filter((id) => cluster.isRunning(id) && cluster.server(id).blobs.store.has(hash));

  before(async () => {
    cluster = await TestCluster.start(3);
  });
  // Each test starts on the whole cluster, whatever the one before it stopped (or failed to restart).
  beforeEach(async () => {
    for (const id of [1, 2, 3]) if (!cluster.isRunning(id)) await cluster.restartReplica(id);
    leader = await cluster.waitForLeader();
  });
  after(async () => {
    await cluster.stop();
  });

  it('stores a multi-MiB value set through the client and reads it back from every replica', async () => {
    const client = cluster.client();
    const value = randomBytes(3 * MiB + 123);
    const set = await client.set('big', value);
    assert.equal(set.kv.size, value.byteLength);
    assert.equal(set.kv.hash, hashOf(value));
    assert.ok(holders(set.kv.hash).length >= 2, 'durable on a majority when the write is acknowledged');
    const got = await client.get('big');
    assert.equal(got.kv?.value, null, 'a blob is not inlined in reads');
    assert.equal(got.kv?.size, value.byteLength);
    for (const id of [1, 2, 3]) {
      const bytes = await onlyTo(id).getBlob(set.kv.hash);
      assert.ok(Buffer.from(bytes).equals(value), `replica ${id} serves the blob`);
    }
    await eventually('every replica to hold the blob', () => holders(set.kv.hash).length === 3);
  });

  it('a replica that missed the write fetches the blob in the background, verified', async () => {
    const missing = followers()[0]!;
    await cluster.stopReplica(missing);
    const value = randomBytes(2 * MiB);
    const set = await cluster.client().set('missed', value);
    assert.deepEqual(holders(set.kv.hash).sort(), [1, 2, 3].filter((id) => id !== missing));
    await cluster.restartReplica(missing);
    await eventually('the restarted replica to fetch the blob', () => cluster.server(missing).blobs.store.has(set.kv.hash), 15_000);
    assert.ok(cluster.server(missing).blobs.replicator.stats.fetched >= 1, 'it was fetched from a peer, not pushed');
    assert.ok((await cluster.server(missing).blobs.store.get(set.kv.hash)).equals(value));
  });

  it('an upload to a follower is durable on a majority when answered, and a set may then refer to it by hash', async () => {
    const follower = followers()[1]!;
    const value = randomBytes(MiB + 7);
    const put = await onlyTo(follower).putBlob(value);
    assert.deepEqual({ existed: put.existed, uploaded: put.uploaded }, { existed: false, uploaded: true });
    assert.ok(holders(put.hash).length >= 2, `held by ${JSON.stringify(holders(put.hash))} when answered`);
    const again = await onlyTo(follower).putBlob(value);
    assert.equal(again.uploaded, false, 'a second upload is skipped (MissingBlobs)');
    const set = await cluster.client().set('by-hash', { blobHash: put.hash });
    assert.equal(set.kv.size, value.byteLength);
    await eventually('every replica to hold it', () => holders(put.hash).length === 3);
  });

  it('GetBlob on a replica lacking a blob fetches it from a peer; offset and length are honoured', async () => {
    const lacking = followers()[0]!;
    await cluster.stopReplica(lacking);
    const value = randomBytes(2 * MiB + 5);
    const put = await cluster.client().putBlob(value); // unreferenced: nobody fetches it in the background
    await cluster.restartReplica(lacking);
    assert.equal(cluster.server(lacking).blobs.store.has(put.hash), false);
    // MissingBlobs answers for the replica asked (global.proto), not for Global as a whole.
    assert.equal((await rawMissing(cluster, lacking, put.hash)).length, 1, 'missing on the replica that lacks it');
    assert.equal((await rawMissing(cluster, leader, put.hash)).length, 0, 'held by the leader');
    const address = cluster.members.get(lacking)!;
    const range = await rawGetBlob(address, put.hash, MiB - 10, MiB + 20);
    const data = Buffer.concat(range.map((m) => m.chunk!.data));
    assert.ok(data.equals(value.subarray(MiB - 10, 2 * MiB + 10)), 'the range');
    assert.equal(range[0]!.chunk!.offset, MiB - 10);
    assert.ok(range.every((m) => m.size === value.byteLength && m.chunk!.data.byteLength <= MiB));
    assert.equal(cluster.server(lacking).blobs.store.has(put.hash), true, 'kept after the fetch');
    const atEnd = await rawGetBlob(address, put.hash, value.byteLength, 0);
    assert.equal(atEnd.length, 1, 'one message even for an empty range');
    assert.equal(atEnd[0]!.chunk!.data.byteLength, 0);
    await assert.rejects(rawGetBlob(address, put.hash, value.byteLength + 1, 0), InvalidArgumentError);
    await assert.rejects(rawGetBlob(address, hashOf(Buffer.from('never stored')), 0, 0), NotFoundError);
  });

  it('an empty blob round-trips', async () => {
    const put = await cluster.client().putBlob(new Uint8Array(0));
    assert.equal(put.size, 0);
    const bytes = await onlyTo(followers()[0]!).getBlob(put.hash);
    assert.equal(bytes.byteLength, 0);
  });

  it('refuses bad uploads: hash mismatch, oversize header, bad framing; nothing is kept', async () => {
    const client = cluster.client();
    const value = randomBytes(300 * 1024);
    const claimed = hashOf(Buffer.from('something else'));
    await assert.rejects(client.putBlobStream([value], { size: value.byteLength, hash: claimed }), CorruptError);
    assert.deepEqual(holders(hashOf(value)), []);
    assert.deepEqual(holders(claimed), []);
    const address = cluster.members.get(leader)!;
    await assert.rejects(rawPutBlob(address, [{ header: { size: 2 ** 40 } }]), TooLargeError);
    await assert.rejects(rawPutBlob(address, [{ chunk: { offset: 0, data: value } }]), /header/);
    await assert.rejects(rawPutBlob(address, [{ header: { size: 10 } }, { chunk: { offset: 5, data: Buffer.alloc(5) } }]), /offset 5, expected 0/);
    await assert.rejects(rawPutBlob(address, [{ header: { size: 10 } }, { chunk: { offset: 0, data: Buffer.alloc(4) } }]), /after 4 of the 10 bytes/);
    await assert.rejects(rawPutBlob(address, [{ header: { size: 3, hash: Buffer.alloc(5) } }]), InvalidArgumentError);
    const ok = await rawPutBlob(address, [{ header: { size: 3 } }, { chunk: { offset: 0, data: Buffer.from('abc') } }]);
    assert.equal(Buffer.from(ok.hash).toString('hex'), hashOf(Buffer.from('abc')), 'the replica still serves after bad input');
    // existed (common.proto PutBlobResponse): this replica held it and read no chunks, which
    // takes the hash in the header; without it the bytes are received again.
    assert.equal(ok.existed, false, 'a first upload');
    const sameAgain = await rawPutBlob(address, [{ header: { size: 3 } }, { chunk: { offset: 0, data: Buffer.from('abc') } }]);
    assert.equal(sameAgain.existed, false, 'held, but the header named no hash: received again');
    const byHash = await rawPutBlob(address, [{ header: { size: 3, hash: ok.hash } }]);
    assert.deepEqual([byHash.existed, Number(byHash.size)], [true, 3], 'held, named by the header: answered without chunks');
  });

  it('a copy corrupted on disk is never served and is repaired from a peer', async () => {
    const victim = followers()[0]!;
    const client = cluster.client();
    const corrupt = async (hash: Hash): Promise<void> => {
      await eventually('the victim to hold the blob', () => cluster.server(victim).blobs.store.has(hash));
      const path = join(cluster.dataDirs.get(victim)!, 'blobs', 'large', `${hash}.blob`);
      const bytes = readFileSync(path);
      bytes[bytes.byteLength - 1]! ^= 0xff;
      writeFileSync(path, bytes);
    };
    // Two pieces: the corruption shows before any message left, so the replica refetches and serves.
    const small = randomBytes(2 * MiB);
    const s = await client.set('corrupt/small', small);
    await corrupt(s.kv.hash);
    const fetchedBefore = cluster.server(victim).blobs.replicator.stats.fetched;
    assert.ok(Buffer.from(await onlyTo(victim).getBlob(s.kv.hash)).equals(small));
    assert.equal(cluster.server(victim).blobs.replicator.stats.fetched, fetchedBefore + 1, 'repaired from a peer');
    // Four pieces: the first already left when the corruption shows: the call fails, nothing is returned as data.
    const large = randomBytes(4 * MiB);
    const l = await client.set('corrupt/large', large);
    await corrupt(l.kv.hash);
    await assert.rejects(onlyTo(victim).getBlob(l.kv.hash), CorruptError);
    const repaired = await eventually('the victim to serve a repaired copy', async () => Buffer.from(await onlyTo(victim).getBlob(l.kv.hash)));
    assert.ok(repaired.equals(large));
  });

  it('keeps accepting uploads with one replica down, refuses them retryably with two down', async () => {
    const [a, b] = followers() as [number, number];
    await cluster.stopReplica(a);
    const one = randomBytes(MiB);
    const put = await cluster.client().putBlob(one);
    assert.deepEqual(holders(put.hash).sort(), [1, 2, 3].filter((id) => id !== a));
    await cluster.stopReplica(b);
    const client = cluster.client({ addresses: [cluster.members.get(leader)!], retriesMax: 1, backoffInitialMs: 10, backoffMaxMs: 20 });
    const err = await client.putBlob(randomBytes(MiB)).then(() => null, (e: unknown) => e);
    assert.ok(err instanceof UnavailableError, `expected UnavailableError, got ${String(err)}`);
    assert.ok((err as DstoreError).retryable);
  });

  it('refuses peer blob calls from another cluster', async () => {
    const replica = new (dstoreProto().dstore.v1.Replica)(cluster.members.get(leader)!, grpc.credentials.createInsecure());
    try {
      const metadata = new grpc.Metadata();
      metadata.set('dstore-cluster-id', 'another');
      const call = replica.FetchBlob({ hash: Buffer.alloc(32) }, metadata);
      const err = await new Promise<unknown>((resolve) => {
        call.on('error', resolve);
        call.on('end', () => resolve(null));
        call.on('data', () => undefined);
      });
      assert.ok(err !== null && fromGrpcError(err as grpc.ServiceError) instanceof InvalidArgumentError, String(err));
    } finally {
      replica.close();
    }
  });

  it('validates replication limits with precise messages', () => {
    assert.throws(() => validateBlobReplicatorConfig({ fetchConcurrencyMax: 0 }), /fetchConcurrencyMax must be an integer in 1\.\.1024, got 0/);
    assert.throws(() => validateBlobReplicatorConfig({ chunkBytes: 2 * MiB }), /chunkBytes must be an integer in 1\.\.1048576/);
    assert.throws(() => validateBlobReplicatorConfig({ fetchBackoffInitialMs: 500, fetchBackoffMaxMs: 100 }), /fetchBackoffMaxMs \(100\) must be >= fetchBackoffInitialMs \(500\)/);
    assert.deepEqual(validateBlobReplicatorConfig(), BLOB_REPLICATOR_DEFAULTS);
  });
});
