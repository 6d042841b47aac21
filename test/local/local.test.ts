// Proves the Local against a scripted fake Global that serves Subscribe (fake-stream.ts):
// hits after a miss, one fill per key, invalidations from another writer, an invalidation that
// arrives while a fill is in flight wins, a broken stream resumed without losing an
// invalidation, compacted history (bindings dropped, blobs kept), lease expiry (reads go to
// Global, blobs still served), read-your-writes and minRevision across two Locals, blobs
// verified against their hash.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { GlobalClient } from '../../src/local/client.ts';
import { Local, type LocalConfig } from '../../src/local/local.ts';
import { CorruptError, InvalidArgumentError } from '../../src/protocol/errors.ts';
import { hashOf } from '../../src/protocol/hash.ts';
import { waitUntil } from './fake-global.ts';
import { StreamingFake } from './fake-stream.ts';
import { FakeClock, SeededRandom } from './fake-clock.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : new TextDecoder().decode(b));

async function fakeGlobal(): Promise<StreamingFake> {
  const fake = await StreamingFake.start();
  cleanups.push(() => fake.stop());
  return fake;
}

async function openLocal(fake: StreamingFake, config: Partial<LocalConfig> = {}): Promise<Local> {
  const local = Local.open({ global: [fake.address], client: { backoffInitialMs: 5, backoffMaxMs: 20 }, ...config });
  cleanups.push(() => local.close());
  if (config.clock === undefined) await waitUntil(() => local.leaseHeld, 'the Local to hold its lease');
  return local;
}

function writer(fake: StreamingFake): GlobalClient {
  const client = new GlobalClient({ addresses: [fake.address] });
  cleanups.push(() => client.close());
  return client;
}

describe('Local', () => {
  it('serves a key from Global once, then from its cache', async () => {
    const fake = await fakeGlobal();
    await writer(fake).set('k', text('v1'));
    const local = await openLocal(fake);
    const first = await local.get('k');
    assert.equal(first?.source, 'global');
    assert.equal(str(first?.value), 'v1');
    const second = await local.get('k');
    assert.equal(second?.source, 'cache');
    assert.equal(str(local.getCached('k')), 'v1');
    assert.equal(fake.gets, 1);
    const stats = local.stats();
    assert.deepEqual({ hits: stats.hits, misses: stats.misses, bindings: stats.bindings, blobs: stats.blobs }, { hits: 2, misses: 1, bindings: 1, blobs: 1 });
    assert.equal(await local.get('absent'), null);
  });

  it('sends one request for concurrent misses of one key', async () => {
    const fake = await fakeGlobal();
    await writer(fake).set('k', text('v'));
    const local = await openLocal(fake);
    const results = await Promise.all(Array.from({ length: 5 }, () => local.get('k')));
    assert.ok(results.every((r) => str(r?.value) === 'v'));
    assert.equal(fake.gets, 1);
  });

  it('drops a binding when another writer deletes the key, and sees the new binding after', async () => {
    const fake = await fakeGlobal();
    const other = writer(fake);
    await other.set('k', text('old'));
    const local = await openLocal(fake);
    await local.get('k');
    const { revision } = await other.delete('k');
    await local.waitForRevision(revision);
    assert.equal(local.held('k'), null);
    assert.equal(await local.get('k'), null);
    await other.set('k', text('new'));
    assert.equal(str((await local.get('k'))?.value), 'new');
    assert.equal(local.stats().invalidations, 1);
  });

  it('lets an invalidation that arrives during a fill win over the older fill', async () => {
    const fake = await fakeGlobal();
    const other = writer(fake);
    await other.set('k', text('old'));
    const local = await openLocal(fake);
    // Hold the Local's read, delete the key meanwhile, then answer the read with the old binding.
    const answer = fake.fake.onRequest;
    fake.fake.onRequest = (r, s) => (r.body === 'get' ? 'hold' : answer(r, s));
    const reading = local.get('k');
    await waitUntil(() => fake.fake.held.length === 1, 'the held read');
    const held = fake.fake.held[0]!;
    const stale = fake.fake.answer(held.request);
    fake.fake.onRequest = answer;
    const { revision } = await other.delete('k');
    await local.waitForRevision(revision);
    fake.fake.reply(held.session, [stale]);
    assert.equal(str((await reading)?.value), 'old', 'the read itself returns what Global said at its time');
    assert.equal(local.held('k'), null, 'but the stale binding is not cached');
  });

  it('resumes a broken stream from the last applied revision without losing an invalidation', async () => {
    const fake = await fakeGlobal();
    const other = writer(fake);
    await other.set('k', text('v'));
    const local = await openLocal(fake);
    await local.get('k');
    const appliedBefore = local.revision;
    fake.refuseSubscribes = true;
    fake.breakStreams();
    await waitUntil(() => local.streamStatus.state === 'backoff', 'the stream to notice the break');
    const { revision } = await other.delete('k');
    fake.refuseSubscribes = false;
    assert.equal(await local.waitForRevision(revision, 5000), true);
    assert.equal(local.held('k'), null, 'the delete made while the stream was down was applied');
    assert.equal(fake.subscribeRequests.at(-1), appliedBefore + 1);
    assert.ok(local.stats().resubscribes >= 1);
  });

  it('on compacted history drops key bindings, keeps blobs, and carries on', async () => {
    const fake = await fakeGlobal();
    const other = writer(fake);
    await other.set('k', text('value'));
    const local = await openLocal(fake);
    const got = await local.get('k');
    fake.silent = true; // the Local misses this write, then finds it compacted away
    await other.set('filler', text('x'));
    fake.compactedBelow = fake.fake.revision + 1;
    fake.silent = false;
    fake.breakStreams();
    await waitUntil(() => local.stats().compactions === 1, 'the compaction');
    assert.equal(local.held('k'), null);
    assert.equal(local.hasBlob(got!.kv.hash), true, 'blobs survive compaction');
    await waitUntil(() => local.streamStatus.state === 'streaming', 'the stream to carry on');
    assert.equal(fake.subscribeRequests.at(-1), fake.compactedBelow);
    const { revision } = await other.delete('filler');
    assert.equal(await local.waitForRevision(revision, 5000), true);
  });

  it('stops serving bindings when no probe proves it current for leaseMs, keeps serving blobs, and recovers', async () => {
    const fake = await fakeGlobal();
    const other = writer(fake);
    await other.set('k', text('v'));
    const clock = new FakeClock();
    const local = await openLocal(fake, { clock, random: new SeededRandom(1), leaseMs: 500 });
    // The first probe goes out at once (time 1000): the lease runs to 1500 once it is met.
    await waitUntil(() => local.leaseHeld, 'the lease');
    const got = await local.get('k');
    assert.equal((await local.get('k'))?.source, 'cache');
    fake.silent = true;
    clock.advance(499);
    assert.equal(local.leaseHeld, true);
    clock.advance(1);
    assert.equal(local.leaseHeld, false);
    const gets = fake.gets;
    assert.equal((await local.get('k'))?.source, 'global', 'a binding is not served without the lease');
    assert.equal(local.getCached('k'), undefined);
    assert.equal(fake.gets, gets + 1);
    assert.equal(str(await local.getBlob(got!.kv.hash)), 'v', 'blobs are served without the lease');
    fake.silent = false;
    // Probes go out on the (fake) clock; the one held while silent gives up after its deadline.
    await waitUntil(() => {
      clock.advance(25);
      return local.leaseHeld;
    }, 'the lease to come back with the next probe');
    assert.equal((await local.get('k'))?.source, 'cache');
  });

  it('applies its own writes at once and lets another Local wait for their revision', async () => {
    const fake = await fakeGlobal();
    const a = await openLocal(fake);
    const b = await openLocal(fake);
    const { revision } = await a.set('k', text('mine'));
    assert.equal((await a.get('k'))?.source, 'cache', 'read-your-writes without a round trip');
    const seen = await b.get('k', { minRevision: revision });
    assert.equal(str(seen?.value), 'mine');
    assert.ok(b.revision >= revision);
    await b.get('k');
    await a.del('k');
    assert.equal(await a.get('k'), null);
    await waitUntil(() => b.held('k') === null, 'the DEL on one Local to reach the other');
  });

  it('replaces a value only when the key did not change in between', async () => {
    const fake = await fakeGlobal();
    const local = await openLocal(fake);
    const { kv } = await local.set('k', text('v1'));
    const r1 = await local.replace('k', text('v2'));
    assert.equal(r1.replaced, true);
    assert.equal(str((await local.get('k'))?.value), 'v2');
    assert.ok(kv.modRevision < r1.revision);
  });

  it('fetches a large value as a blob, verifies it, and shares one copy', async () => {
    const fake = await fakeGlobal();
    const big = new Uint8Array(200 * 1024).map((_, i) => i % 251);
    await writer(fake).set('big', big);
    const local = await openLocal(fake);
    const got = await local.get('big');
    assert.ok(got !== null && Buffer.from(got.value).equals(big));
    assert.equal(local.hasBlob(hashOf(big)), true);
    assert.equal(fake.fake.getBlobRequests.length, 1);
    const chunks: Uint8Array[] = [];
    for await (const chunk of local.getBlobStream(hashOf(big), 64 * 1024)) chunks.push(chunk);
    assert.equal(chunks.length, 4);
    assert.equal(fake.fake.getBlobRequests.length, 1, 'streamed from the cache');
  });

  it('refuses a blob whose bytes do not hash to its name', async () => {
    const fake = await fakeGlobal();
    const local = await openLocal(fake);
    const hash = hashOf(text('the real bytes'));
    fake.fake.blobs.set(hash, Buffer.from('other bytes'));
    await assert.rejects(local.getBlob(hash), CorruptError);
    assert.equal(local.hasBlob(hash), false);
  });

  it('validates its configuration', () => {
    assert.throws(() => Local.open({ global: ['127.0.0.1:1'], leaseMs: 50 }), (e: unknown) => e instanceof InvalidArgumentError && /leaseMs/.test(e.message));
    assert.throws(() => Local.open({ global: ['127.0.0.1:1'], cacheBytesMax: -1 }), (e: unknown) => e instanceof InvalidArgumentError && /cacheBytesMax/.test(e.message));
    assert.throws(() => Local.open({ global: [] }), InvalidArgumentError);
  });
});
