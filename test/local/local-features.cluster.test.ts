// Local features that had no test: `range`, `putBlob`, `putBlobStream` and direct `watch`,
// against a real Global (one in-process replica), linked (`Local`) and attached (a worker
// through a LocalServer) where both have the call.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { attach, type AttachedLocal } from '../../src/local/node/attach.ts';
import { GlobalClient } from '../../src/local/client/client.ts';
import { Local, type DstoreApi, type WatchEvent } from '../../src/local/local.ts';
import { LocalServer } from '../../src/local/node/local-server.ts';
import { CorruptError, InvalidArgumentError } from '../../src/protocol/errors.ts';
import { hashOf } from '../../src/protocol/hash.ts';
import { eventually, TestCluster } from '../global/cluster-harness.ts';

let cluster: TestCluster;
let direct: GlobalClient;
let linked: Local;
let worker: AttachedLocal;
const cleanups: (() => Promise<void>)[] = [];
before(async () => {
  cluster = await TestCluster.start(1);
  await cluster.waitForLeader();
  direct = cluster.client();
  linked = Local.open({ global: cluster.addresses });
  cleanups.push(() => linked.close());
  assert.equal(await linked.ready(10_000), true);
  const node = Local.open({ global: cluster.addresses });
  cleanups.push(() => node.close());
  assert.equal(await node.ready(10_000), true);
  const server = await LocalServer.listen(node, '127.0.0.1:0');
  cleanups.push(() => server.stop());
  worker = await attach(server.address);
  cleanups.push(() => worker.close());
});
after(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await cluster.stop();
});

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array | null | undefined): string | undefined => (b === null || b === undefined ? undefined : new TextDecoder().decode(b));
let keyCounter = 0;
const freshKey = (): string => `feat/k${++keyCounter}`;
const pattern = (size: number, seed: number): Uint8Array => new Uint8Array(size).map((_, i) => (i * 31 + seed) % 256);

function describeEvent(e: WatchEvent): string {
  if (e.type === 'put') return `put ${e.kv.key}=${e.kv.size}@${e.kv.modRevision}`;
  if (e.type === 'delete') return `delete ${e.key}@${e.revision}`;
  return `reset@${e.revision}`;
}

for (const [mode, api] of [['linked', () => linked], ['attached', () => worker]] as const) {
  describe(`${mode}: range, putBlob, watch against a real Global`, () => {
    it('range: keys under a prefix in key order, limit and more, values on request', async () => {
      const local: DstoreApi = api();
      const prefix = `${freshKey()}/`;
      for (const k of ['c', 'a', 'b']) await direct.set(`${prefix}${k}`, text(`v-${k}`));
      await direct.set(`${prefix.slice(0, -1)}-beside`, text('not under the prefix'));
      const last = await direct.set(`${prefix}d`, text('v-d'));
      const all = await local.range({ prefix, withValues: true });
      assert.deepEqual(all.kvs.map((kv) => kv.key), ['a', 'b', 'c', 'd'].map((k) => `${prefix}${k}`));
      assert.deepEqual(all.kvs.map((kv) => str(kv.value)), ['v-a', 'v-b', 'v-c', 'v-d']);
      assert.equal(all.more, false);
      assert.ok(all.revision >= last.revision, 'the range is at least as new as the last write');
      const page = await local.range({ prefix, limit: 2 });
      assert.deepEqual(page.kvs.map((kv) => kv.key), [`${prefix}a`, `${prefix}b`]);
      assert.equal(page.more, true);
      assert.deepEqual(page.kvs.map((kv) => kv.value), [null, null], 'no values unless asked');
      assert.deepEqual(page.kvs.map((kv) => kv.hash), [hashOf(text('v-a')), hashOf(text('v-b'))]);
      const rest = await local.range({ start: `${page.kvs.at(-1)!.key}\0`, end: `${prefix}\xff`, limit: 10 });
      assert.deepEqual(rest.kvs.map((kv) => kv.key), [`${prefix}c`, `${prefix}d`]);
      assert.equal(rest.more, false);
      assert.deepEqual((await local.range({ prefix: `${freshKey()}/` })).kvs, []);
    });

    it('putBlob then getBlob round-trips, and a second putBlob of the same bytes is deduplicated', async () => {
      const local: DstoreApi = api();
      const bytes = pattern(300 * 1024, keyCounter);
      const first = await local.putBlob(bytes);
      assert.equal(first.hash, hashOf(bytes));
      assert.equal(first.size, bytes.byteLength);
      assert.deepEqual({ existed: first.existed, uploaded: first.uploaded }, { existed: false, uploaded: true });
      const again = await local.putBlob(bytes);
      assert.equal(again.hash, first.hash);
      assert.deepEqual({ existed: again.existed, uploaded: again.uploaded }, { existed: true, uploaded: false }, 'Global already had it: no bytes sent');
      assert.ok(Buffer.from(await local.getBlob(first.hash)).equals(bytes));
      assert.ok(Buffer.from(await direct.getBlob(first.hash)).equals(bytes), 'stored on Global');
      // A value bound to the blob reads back as the blob's bytes.
      const key = freshKey();
      const { kv } = await local.set(key, { blobHash: first.hash });
      assert.equal(kv.hash, first.hash);
      assert.ok(Buffer.from((await local.get(key))!.value).equals(bytes));
    });

    it('watch: every change under the prefix in revision order, nothing outside it, nothing after unsubscribe', async () => {
      const local: DstoreApi = api();
      const prefix = `${freshKey()}/`;
      let warmed = false;
      const seen: WatchEvent[] = [];
      // Warm-up writes (below) are left out of what is compared.
      const stop = local.watch(prefix, (e) => {
        if (e.type === 'put' && e.kv.key === `${prefix}warm`) warmed = true;
        else seen.push(e);
      });
      try {
        // A watch starts from what is applied when it begins streaming: write until it sees one.
        await eventually('the watch to stream', async () => {
          await direct.txn({ success: [{ kind: 'put', key: `${prefix}warm`, value: text('w') }] });
          return warmed || undefined;
        });
        const r1 = await direct.set(`${prefix}a`, text('1'));
        await direct.set(`${freshKey()}-outside`, text('x'));
        const r2 = await direct.txn({ success: [{ kind: 'put', key: `${prefix}a`, value: text('22') }, { kind: 'put', key: `${prefix}b`, value: text('333') }] });
        const r3 = await direct.delete(`${prefix}a`);
        await eventually('four events', () => seen.length >= 4 || undefined);
        assert.deepEqual(seen.map(describeEvent), [
          `put ${prefix}a=1@${r1.revision}`,
          `put ${prefix}a=2@${r2.revision}`,
          `put ${prefix}b=3@${r2.revision}`,
          `delete ${prefix}a@${r3.revision}`,
        ]);
      } finally {
        stop();
      }
      const count = seen.length;
      // A second watch on the same prefix, still running, shows when the later write arrived.
      const later: WatchEvent[] = [];
      const stop2 = local.watch(prefix, (e) => later.push(e));
      try {
        await eventually('the second watch to stream', async () => {
          await direct.txn({ success: [{ kind: 'put', key: `${prefix}warm`, value: text('w2') }] });
          return later.length > 0 || undefined;
        });
        const r4 = await direct.set(`${prefix}after`, text('late'));
        await eventually('the second watch to see the write', () => later.some((e) => e.type === 'put' && e.kv.modRevision === r4.revision) || undefined);
        assert.equal(seen.length, count, 'the stopped watch got nothing more');
      } finally {
        stop2();
      }
    });
  });
}

describe('linked: putBlobStream', () => {
  it('uploads a blob from chunks, by hash when Global has it, and refuses a source of the wrong size', async () => {
    const bytes = pattern(700 * 1024, 7);
    const chunks = [bytes.subarray(0, 100_000), bytes.subarray(100_000, 400_000), bytes.subarray(400_000)];
    const stored = await linked.putBlobStream(chunks, { size: bytes.byteLength });
    assert.equal(stored.hash, hashOf(bytes));
    assert.equal(stored.size, bytes.byteLength);
    assert.equal(stored.uploaded, true);
    assert.equal(stored.existed, false);
    assert.ok(Buffer.from(await direct.getBlob(stored.hash)).equals(bytes), 'Global has the bytes');
    assert.ok(Buffer.from(await linked.getBlob(stored.hash)).equals(bytes));

    // With its hash given and Global holding it, the source is not read at all.
    let read = false;
    const untouched = (function* () {
      read = true;
      yield bytes;
    })();
    const skipped = await linked.putBlobStream(untouched, { size: bytes.byteLength, hash: stored.hash });
    assert.deepEqual({ hash: skipped.hash, existed: skipped.existed, uploaded: skipped.uploaded }, { hash: stored.hash, existed: true, uploaded: false });
    assert.equal(read, false);

    // A source that ends short of, or runs past, the announced size is refused; nothing is stored.
    const short = pattern(1000, 8);
    await assert.rejects(linked.putBlobStream([short.subarray(0, 600)], { size: 1000 }), (e: unknown) => e instanceof InvalidArgumentError && /600 bytes, not the announced 1000/.test(e.message));
    await assert.rejects(linked.putBlobStream([short, short], { size: 1000 }), (e: unknown) => e instanceof InvalidArgumentError && /more than the announced 1000/.test(e.message));
    assert.deepEqual(await direct.missingBlobs([hashOf(short.subarray(0, 600)), hashOf(short)]), [hashOf(short.subarray(0, 600)), hashOf(short)]);

    // A hash given that the bytes do not match is refused by Global, and nothing is stored.
    const other = pattern(2000, 9);
    const wrongHash = hashOf(pattern(2000, 10));
    await assert.rejects(linked.putBlobStream([other], { size: other.byteLength, hash: wrongHash }), (e: unknown) => {
      assert.ok(e instanceof CorruptError || e instanceof InvalidArgumentError, `got ${String(e)}`);
      return true;
    });
    assert.deepEqual(await direct.missingBlobs([wrongHash]), [wrongHash]);
  });
});
