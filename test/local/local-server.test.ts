// Proves "one copy per node": a Local serving the dstore.v1 Global service on 127.0.0.1
// port 0, with workers attached to it (in this process and as a child process). Reads are
// served from the node's cache (the fake Global sees no request for them), writes apply to
// the node's cache at once, a large blob read by several workers is cached once (in the
// Local, not in the workers), retries of a write are answered once, and watch works through
// the Local.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { afterEach, describe, it } from 'node:test';
import { attach, type AttachedLocal } from '../../src/local/attach.ts';
import { GlobalClient } from '../../src/local/client.ts';
import { Local, type WatchEvent } from '../../src/local/local.ts';
import { LocalServer } from '../../src/local/local-server.ts';
import { hashOf } from '../../src/protocol/hash.ts';
import { waitUntil } from './fake-global.ts';
import { StreamingFake } from './fake-stream.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : new TextDecoder().decode(b));

async function node(): Promise<{ fake: StreamingFake; local: Local; server: LocalServer; worker: () => Promise<AttachedLocal> }> {
  const fake = await StreamingFake.start();
  cleanups.push(() => fake.stop());
  const local = Local.open({ global: [fake.address] });
  cleanups.push(() => local.close());
  await waitUntil(() => local.leaseHeld, 'the lease');
  const server = await LocalServer.listen(local, '127.0.0.1:0');
  cleanups.push(() => server.stop());
  const worker = async (): Promise<AttachedLocal> => {
    const w = await attach(server.address);
    cleanups.push(() => w.close());
    return w;
  };
  return { fake, local, server, worker };
}

describe('Local server', () => {
  it('serves reads from the node cache and applies writes to it at once', async () => {
    const { fake, local, worker } = await node();
    const w1 = await worker();
    const w2 = await worker();
    const { revision } = await w1.set('k', text('v'));
    assert.equal(local.holds('k'), true, "the node's Local applied the worker's write");
    const gets = fake.gets;
    assert.equal(str((await w2.get('k', { minRevision: revision }))?.value), 'v');
    assert.equal(str((await w2.get('k'))?.value), 'v');
    assert.equal(fake.gets, gets, 'no read reached Global');
    assert.equal(await w2.get('missing'), null);
    await w2.del('k');
    assert.equal(local.held('k'), null);
    assert.equal(await w1.get('k'), null);
  });

  it('keeps one copy of a large blob for every worker of the node', async () => {
    const { fake, local, worker } = await node();
    const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 7) % 256);
    const hash = hashOf(big);
    const upload = new GlobalClient({ addresses: [fake.address] });
    cleanups.push(() => upload.close());
    await upload.putBlob(big);
    const workers = await Promise.all([worker(), worker(), worker()]);
    const copies = await Promise.all(workers.map((w) => w.getBlob(hash)));
    for (const copy of copies) assert.ok(Buffer.from(copy).equals(big));
    assert.equal(local.hasBlob(hash), true);
    assert.equal(fake.fake.getBlobRequests.length, 1, 'the Local fetched it once');
    assert.deepEqual(workers.map((w) => w.stats().blobs), [0, 0, 0], 'workers keep no copy of a large blob');
    const { kv } = await workers[0].set('big', { blobHash: hash });
    assert.equal(kv.size, big.byteLength);
    assert.ok(Buffer.from((await workers[1].get('big'))!.value).equals(big));
  });

  it('answers a retried write once', async () => {
    const { fake, server } = await node();
    // Two clients with one clientId send the same WriteIds (the session open at requestId 1,
    // the set at 2): the second client's are retries, answered by the node.
    const a = new GlobalClient({ addresses: [server.address], clientId: 'worker-0123456789abcdef' });
    const b = new GlobalClient({ addresses: [server.address], clientId: 'worker-0123456789abcdef' });
    cleanups.push(() => a.close(), () => b.close());
    const first = await a.set('once', text('1'));
    const again = await b.set('once', text('1'));
    assert.equal(again.revision, first.revision);
    // Global saw the node's session open, the worker's (forwarded) and the set: each once.
    assert.deepEqual([...fake.fake.applied.values()], [1, 1, 1]);
  });

  it('passes watch events through', async () => {
    const { fake, worker } = await node();
    const w = await worker();
    const seen: WatchEvent[] = [];
    const stop = w.watch('w/', (e) => seen.push(e));
    cleanups.push(() => Promise.resolve(stop()));
    const other = new GlobalClient({ addresses: [fake.address] });
    cleanups.push(() => other.close());
    // The watch starts at the revision the Local reports; wait until it streams.
    await waitUntil(() => fake.calls.size >= 2, 'the forwarded subscription');
    await other.set('w/1', text('x'));
    await other.delete('w/1');
    await waitUntil(() => seen.length === 2, 'two events');
    assert.deepEqual(seen.map((e) => e.type), ['put', 'delete']);
  });

  it('serves a worker process that attaches with one call', async () => {
    const { local, server } = await node();
    await local.set('shared', text('hello from the node'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/local/fixtures/attached-worker.ts', server.address, 'shared', 'from-child'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, err);
    const report = JSON.parse(out) as { read: string; revision: number };
    assert.equal(report.read, 'hello from the node');
    assert.equal(local.holds('from-child'), true);
    assert.match(str(local.held('from-child')?.value ?? undefined) ?? '', /^from pid \d+$/);
  });
});
