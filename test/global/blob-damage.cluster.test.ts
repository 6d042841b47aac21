// Proves a blob file that fails its hash on a replica is DATA_LOSS or repaired, never "not
// found": in a three-replica cluster, a corrupted copy is quarantined (kept, renamed aside)
// and GetBlob on that replica serves a copy repaired from a peer; a corruption found after
// part of a large blob was sent fails the call with DATA_LOSS saying a repair is under way,
// and the next call gets the repaired copy; with every copy corrupt, every replica answers
// DATA_LOSS (not NOT_FOUND "upload it") until the bytes are uploaded again.
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { GlobalClient as RawGlobalClient } from '../../src/protocol/generated/dstore/v1/Global.ts';
import { hashToBytes, type Hash } from '../../src/protocol/hash.ts';
import { dstoreProto } from '../../src/protocol/proto.ts';
import { eventually, TestCluster } from './cluster-harness.ts';

type Outcome = { bytes: Buffer } | { code: number; dstoreError: string; details: string };

describe('a corrupted blob file', () => {
  let cluster: TestCluster;
  const raws: RawGlobalClient[] = [];

  before(async () => {
    cluster = await TestCluster.start(3);
  });
  after(async () => {
    for (const raw of raws) raw.close();
    await cluster.stop();
  });

  function getBlob(id: number, hash: Hash): Promise<Outcome> {
    const raw = new (dstoreProto().dstore.v1.Global)(cluster.members.get(id)!, grpc.credentials.createInsecure());
    raws.push(raw);
    return new Promise((resolve) => {
      const parts: Buffer[] = [];
      const call = raw.GetBlob({ hash: hashToBytes(hash), offset: 0, length: 0 }, { deadline: Date.now() + 10_000 });
      call.on('data', (m: { chunk?: { data: Buffer } }) => parts.push(m.chunk!.data));
      call.on('error', (err: grpc.ServiceError) => resolve({ code: err.code, dstoreError: String(err.metadata.get('dstore-error')[0] ?? ''), details: err.details }));
      call.on('end', () => resolve({ bytes: Buffer.concat(parts) }));
    });
  }

  const blobFile = (id: number, hash: Hash): string => join(cluster.dataDirs.get(id)!, 'blobs', 'large', `${hash}.blob`);
  const quarantined = (id: number, hash: Hash): string[] => readdirSync(join(cluster.dataDirs.get(id)!, 'blobs', 'large')).filter((n) => n.startsWith(`${hash}.corrupt-`));
  function corrupt(id: number, hash: Hash, at: number): void {
    const bytes = readFileSync(blobFile(id, hash));
    bytes[at] = bytes[at]! ^ 0x40;
    writeFileSync(blobFile(id, hash), bytes);
  }
  async function storedEverywhere(bytes: Buffer, key: string): Promise<Hash> {
    const client = cluster.client();
    const { hash } = await client.putBlob(bytes);
    await client.set(key, { blobHash: hash });
    await eventually('every replica to hold the blob', () => [1, 2, 3].every((id) => cluster.server(id).blobs.store.has(hash)));
    return hash;
  }

  it('is quarantined and repaired from a peer within the read', async () => {
    const bytes = Buffer.alloc(200 * 1024, 3);
    const hash = await storedEverywhere(bytes, 'one');
    corrupt(1, hash, 1000);
    const outcome = await getBlob(1, hash);
    assert.ok('bytes' in outcome, `GetBlob failed: ${JSON.stringify(outcome)}`);
    assert.ok(outcome.bytes.equals(bytes));
    assert.equal(quarantined(1, hash).length, 1, 'the corrupt copy was kept aside, not deleted');
    assert.ok(readFileSync(blobFile(1, hash)).equals(bytes), 'the repaired copy is in place');
  });

  it('found after part of a large blob was sent: DATA_LOSS with a repair under way, then the repaired copy', async () => {
    const bytes = Buffer.alloc(2_500_000, 5);
    const hash = await storedEverywhere(bytes, 'large');
    corrupt(2, hash, 2_400_000);
    const first = await getBlob(2, hash);
    assert.ok('code' in first, 'the corrupt read failed');
    assert.equal(first.code, grpc.status.DATA_LOSS);
    assert.equal(first.dstoreError, 'CORRUPT');
    assert.match(first.details, /repair from a peer is under way/);
    await eventually('the repair', () => cluster.server(2).blobs.store.has(hash));
    const second = await getBlob(2, hash);
    assert.ok('bytes' in second && second.bytes.equals(bytes));
    assert.equal(quarantined(2, hash).length, 1);
  });

  it('with every copy corrupt: DATA_LOSS on every replica, repaired by uploading the bytes again', async () => {
    const bytes = Buffer.alloc(300 * 1024, 9);
    const hash = await storedEverywhere(bytes, 'all');
    for (const id of [1, 2, 3]) corrupt(id, hash, 5000);
    for (const id of [1, 2, 3, 1]) {
      const outcome = await getBlob(id, hash);
      assert.ok('code' in outcome, `replica ${id} served bytes that fail their hash`);
      assert.equal(outcome.code, grpc.status.DATA_LOSS, `replica ${id}: ${JSON.stringify(outcome)}`);
      assert.equal(outcome.dstoreError, 'CORRUPT');
      assert.match(outcome.details, /no good copy on a majority of the replicas/);
      assert.match(outcome.details, /upload them again with PutBlob/);
    }
    await cluster.client().putBlob(bytes);
    for (const id of [1, 2, 3]) {
      const outcome = await getBlob(id, hash);
      assert.ok('bytes' in outcome && outcome.bytes.equals(bytes), `replica ${id} after the upload: ${JSON.stringify('code' in outcome ? outcome : 'wrong bytes')}`);
    }
  });
});
