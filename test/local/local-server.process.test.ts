// Proves "one copy per node": a Local serving the dstore.v1 Global service on 127.0.0.1
// port 0, in front of a real Global (one in-process replica), with workers attached to it (in
// this process and as a child process). Reads are served from the node's cache (no Get leaves
// the node), writes apply to the node's cache at once, a large blob read by several workers is
// fetched and cached once (in the Local, not in the workers), a retried write is applied once
// (and a write under a new WriteId is a new write), and watch works through the Local.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, afterEach, before, describe, it } from 'node:test';
import { attach, type AttachedLocal } from '../../src/local/node/attach.ts';
import { GlobalClient } from '../../src/local/client/client.ts';
import { LEASE_PROBE_KEY } from '../../src/local/cache/invalidation-stream.ts';
import { Local, type WatchEvent } from '../../src/local/local.ts';
import { LocalServer } from '../../src/local/node/local-server.ts';
import { hashOf } from '../../src/protocol/hash.ts';
import { eventually, TestCluster } from '../global/cluster-harness.ts';

/** A real client that counts the Gets (lease probes aside) and GetBlobs the node sends to Global. */
class CountingClient extends GlobalClient {
  gets = 0;
  getBlobs = 0;
  override get(...args: Parameters<GlobalClient['get']>): ReturnType<GlobalClient['get']> {
    if (args[0] !== LEASE_PROBE_KEY) this.gets++;
    return super.get(...args);
  }
  override getBlob(...args: Parameters<GlobalClient['getBlob']>): ReturnType<GlobalClient['getBlob']> {
    this.getBlobs++;
    return super.getBlob(...args);
  }
}

let cluster: TestCluster;
let direct: GlobalClient;
before(async () => {
  cluster = await TestCluster.start(1);
  await cluster.waitForLeader();
  direct = cluster.client();
});
after(async () => {
  await cluster.stop();
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array | null | undefined): string | undefined => (b === null || b === undefined ? undefined : new TextDecoder().decode(b));
let keyCounter = 0;
const freshKey = (): string => `node/k${++keyCounter}`;
const globalRevision = async (): Promise<number> => (await direct.status()).appliedRevision;

async function node(): Promise<{ counting: CountingClient; local: Local; server: LocalServer; worker: () => Promise<AttachedLocal> }> {
  const counting = new CountingClient({ addresses: cluster.addresses });
  const local = Local.open({ global: cluster.addresses, globalClient: counting });
  cleanups.push(() => local.close());
  assert.equal(await local.ready(10_000), true);
  const server = await LocalServer.listen(local, '127.0.0.1:0');
  cleanups.push(() => server.stop());
  const worker = async (): Promise<AttachedLocal> => {
    const w = await attach(server.address);
    cleanups.push(() => w.close());
    return w;
  };
  return { counting, local, server, worker };
}

describe('Local server against a real Global', () => {
  it('serves reads from the node cache and applies writes to it at once', async () => {
    const { counting, local, worker } = await node();
    const w1 = await worker();
    const w2 = await worker();
    const key = freshKey();
    const { revision } = await w1.set(key, text('v'));
    assert.equal(local.holds(key), true, "the node's Local applied the worker's write");
    assert.equal(str((await direct.get(key)).kv?.value), 'v', 'the write is on Global');
    const gets = counting.gets;
    assert.equal(str((await w2.get(key, { minRevision: revision }))?.value), 'v');
    assert.equal(str((await w2.get(key))?.value), 'v');
    assert.equal(counting.gets, gets, 'no read reached Global');
    assert.equal(await w2.get(freshKey()), null);
    assert.equal(counting.gets, gets + 1, 'a miss did');
    const del = await w2.del(key);
    assert.equal(del.deleted, true);
    assert.equal(local.held(key), null);
    assert.equal(await w1.get(key), null);
    assert.equal((await direct.get(key)).kv, null);
  });

  it('keeps one copy of a large blob for every worker of the node', async () => {
    const { counting, local, worker } = await node();
    const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 7) % 256);
    const hash = hashOf(big);
    await direct.putBlob(big);
    const workers = await Promise.all([worker(), worker(), worker()]);
    const copies = await Promise.all(workers.map((w) => w.getBlob(hash)));
    for (const copy of copies) assert.ok(Buffer.from(copy).equals(big));
    assert.equal(local.hasBlob(hash), true);
    assert.equal(counting.getBlobs, 1, 'the Local fetched it once');
    assert.deepEqual(workers.map((w) => w.stats().blobs), [0, 0, 0], 'workers keep no copy of a large blob');
    const key = freshKey();
    const { kv } = await workers[0].set(key, { blobHash: hash });
    assert.equal(kv.size, big.byteLength);
    assert.ok(Buffer.from((await workers[1].get(key))!.value).equals(big));
    assert.equal(counting.getBlobs, 1, 'the bound value came from the cached blob');
  });

  it('applies a retried write once, and a write under a new WriteId again', async () => {
    const { server } = await node();
    const clientId = `worker-${process.pid}-${Date.now()}`;
    // Two clients with one clientId send the same WriteIds (the session open at requestId 1,
    // the add at 2): the second client's are retries, answered from the first's outcome.
    const a = new GlobalClient({ addresses: [server.address], clientId });
    const b = new GlobalClient({ addresses: [server.address], clientId });
    cleanups.push(() => a.close(), () => b.close());
    const key = freshKey();
    const before = await globalRevision();
    const first = await a.txn({ success: [{ kind: 'add', key, delta: 1n }] });
    const again = await b.txn({ success: [{ kind: 'add', key, delta: 1n }] });
    assert.equal(again.revision, first.revision);
    assert.equal(await globalRevision(), before + 1, 'the retry was not applied again');
    assert.equal(str((await direct.get(key)).kv?.value), '1');
    // b's next request id is 3: a new write, applied.
    const next = await b.txn({ success: [{ kind: 'add', key, delta: 1n }] });
    assert.ok(next.revision > first.revision);
    assert.equal(str((await direct.get(key)).kv?.value), '2');
  });

  it('passes watch events through, in order, under the prefix only', async () => {
    const { worker } = await node();
    const w = await worker();
    const prefix = `${freshKey()}/`;
    const seen: WatchEvent[] = [];
    const stop = w.watch(prefix, (e) => seen.push(e));
    cleanups.push(() => Promise.resolve(stop()));
    // The watch starts from what the node has applied once its stream is up: write until an
    // event shows it streams.
    await eventually('the forwarded subscription', async () => {
      await direct.txn({ success: [{ kind: 'put', key: `${prefix}warm`, value: text('w') }] });
      return seen.length > 0 || undefined;
    });
    const events = (): WatchEvent[] => seen.filter((e) => !(e.type === 'put' && e.kv.key === `${prefix}warm`));
    await direct.set(`${prefix}1`, text('x'));
    await direct.set(`${freshKey()}-outside`, text('y'));
    const del = await direct.delete(`${prefix}1`);
    await eventually('two events', () => events().length === 2 || undefined);
    assert.deepEqual(events().map((e) => (e.type === 'put' ? `put ${e.kv.key}` : e.type === 'delete' ? `delete ${e.key}@${e.revision}` : 'reset')), [`put ${prefix}1`, `delete ${prefix}1@${del.revision}`]);
    stop();
    await direct.set(`${prefix}2`, text('after stop'));
    const sync = await direct.set(`${prefix}3-sync-outside`.replace(prefix, `${freshKey()}/`), text('z'));
    await w.get(freshKey(), { minRevision: sync.revision });
    assert.equal(events().length, 2, 'no event after stop');
  });

  it('serves a worker process that attaches with one call', async () => {
    const { local, server } = await node();
    const shared = freshKey();
    const fromChild = freshKey();
    await local.set(shared, text('hello from the node'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/local/fixtures/attached-worker.ts', server.address, shared, fromChild], { stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(() => {
      if (child.exitCode === null) child.kill();
      return Promise.resolve();
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, err);
    const report = JSON.parse(out) as { read: string; revision: number };
    assert.equal(report.read, 'hello from the node');
    assert.equal(local.holds(fromChild), true);
    assert.match(str(local.held(fromChild)?.value ?? undefined) ?? '', /^from pid \d+$/);
    assert.equal(str((await direct.get(fromChild)).kv?.value), str(local.held(fromChild)?.value));
  });
});
