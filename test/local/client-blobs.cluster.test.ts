// Proves the client's blob transfers against a fake Global server: uploads go in chunks of at
// most 1 MiB and are skipped when MissingBlobs says Global has the blob; a value above the
// server's inline limit is uploaded first and bound by its hash; a streamed upload hashes on
// the way and refuses a source of the wrong length; a download that does not hash to what was
// asked fails with CorruptError (the stream variant withholds its last chunk); a broken
// download resumes from the bytes already received; a missing blob is NotFoundError.
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, it } from 'node:test';
import { GlobalClient, type GlobalClientConfig } from '../../src/local/client/client.ts';
import { CorruptError, InvalidArgumentError, NotFoundError } from '../../src/protocol/errors.ts';
import { hashOf } from '../../src/protocol/hash.ts';
import { FakeGlobal } from './fake-global.ts';

const MiB = 1024 * 1024;

function pattern(bytes: number, seed: number): Buffer {
  const b = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(config: Partial<GlobalClientConfig> = {}): Promise<{ server: FakeGlobal; client: GlobalClient }> {
  const server = await FakeGlobal.start();
  const client = new GlobalClient({ addresses: [server.address], backoffInitialMs: 2, backoffMaxMs: 20, ...config });
  cleanups.push(() => server.stop(), () => client.close());
  return { server, client };
}

describe('client blobs: upload', () => {
  it('uploads in chunks of at most 1 MiB and skips the upload when Global has the blob', async () => {
    const { server, client } = await setup();
    const bytes = pattern(2.5 * MiB, 1);
    const first = await client.putBlob(bytes);
    assert.equal(first.hash, hashOf(bytes));
    assert.equal(first.uploaded, true);
    assert.deepEqual(server.putBlobChunks, [[MiB, MiB, MiB / 2]]);
    assert.equal(Buffer.compare(server.blobs.get(first.hash)!, bytes), 0);

    const second = await client.putBlob(bytes);
    assert.deepEqual(second, { hash: first.hash, size: bytes.byteLength, existed: true, uploaded: false });
    assert.equal(server.putBlobCalls, 1, 'MissingBlobs said it was there: no second upload');
  });

  it('uploads a value above the inline limit as a blob and binds the key to its hash', async () => {
    const { server, client } = await setup();
    server.status = { ...server.status, limits: { ...server.status.limits, valueInlineBytesMax: 4096 } };
    const small = pattern(4096, 2);
    const large = pattern(4097, 3);
    await client.set('small', small);
    await client.set('large', large);
    const sets = server.userRequests().filter((r) => r.body === 'set');
    assert.equal(sets[0]!.set!.value!.source, 'inline');
    assert.equal(sets[1]!.set!.value!.source, 'blobHash');
    assert.equal(server.putBlobCalls, 1);
    assert.equal(server.keys.get('large')!.hash, hashOf(large));
  });

  it('streams an upload from an async iterable, hashing on the way, and refuses a wrong length', async () => {
    const { server, client } = await setup({ blobChunkBytes: 1000 });
    const bytes = pattern(5000, 4);
    async function* source(): AsyncGenerator<Uint8Array> {
      yield bytes.subarray(0, 1500); // split across chunk boundaries on purpose
      await Promise.resolve(); // an asynchronous source, like a file or socket
      yield bytes.subarray(1500, 1501);
      yield bytes.subarray(1501);
    }
    const result = await client.putBlobStream(source(), { size: bytes.byteLength });
    assert.equal(result.hash, hashOf(bytes));
    assert.ok(server.putBlobChunks[0]!.every((n) => n <= 1000));
    await assert.rejects(client.putBlobStream(source(), { size: 4999 }), InvalidArgumentError);
    await assert.rejects(client.putBlobStream([bytes.subarray(0, 10)], { size: 11 }), InvalidArgumentError);
  });
});

describe('client blobs: download', () => {
  it('returns a blob verified against its hash', async () => {
    const { server, client } = await setup();
    const bytes = pattern(3 * MiB + 5, 5);
    const { hash } = await client.putBlob(bytes);
    assert.equal(Buffer.compare(Buffer.from(await client.getBlob(hash)), bytes), 0);
    assert.equal(server.getBlobRequests.length, 1);
  });

  it('fails with CorruptError when the bytes do not match, and never hands out the last chunk', async () => {
    const { server, client } = await setup();
    const bytes = pattern(3000, 6);
    const hash = hashOf(bytes);
    const wrong = Buffer.from(bytes);
    wrong[2999] = wrong[2999]! ^ 1;
    server.onGetBlob = (call) => {
      call.write({ size: 3000, chunk: { offset: 0, data: wrong.subarray(0, 2000) } });
      call.write({ size: 3000, chunk: { offset: 2000, data: wrong.subarray(2000) } });
      call.end();
    };
    await assert.rejects(client.getBlob(hash), CorruptError);
    const seen: number[] = [];
    await assert.rejects(async () => {
      for await (const chunk of client.getBlobStream(hash)) seen.push(chunk.byteLength);
    }, CorruptError);
    assert.deepEqual(seen, [2000], 'the chunk with the bad byte was withheld');
  });

  it('resumes a broken download from the bytes already received', async () => {
    const { server, client } = await setup();
    const bytes = pattern(4096, 7);
    const { hash } = await client.putBlob(bytes);
    server.getBlobChunkBytes = 1024;
    let broken = false;
    server.onGetBlob = (call) => {
      if (broken) {
        for (let at = call.request.offset; at < 4096; at += 1024) call.write({ size: 4096, chunk: { offset: at, data: bytes.subarray(at, at + 1024) } });
        call.end();
        return;
      }
      broken = true;
      call.write({ size: 4096, chunk: { offset: 0, data: bytes.subarray(0, 1024) } });
      call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'fake: replica went away' });
    };
    const back = await client.getBlob(hash);
    assert.equal(Buffer.compare(Buffer.from(back), bytes), 0);
    assert.deepEqual(server.getBlobRequests.map((r) => r.offset), [0, 1024]);
  });

  it('reports a missing blob as NotFoundError without retrying', async () => {
    const { server, client } = await setup();
    await assert.rejects(client.getBlob(hashOf(Buffer.from('never stored'))), NotFoundError);
    assert.equal(server.getBlobRequests.length, 1);
  });
});
