// Proves the Local against a real Global (one in-process replica, history kept for 64
// revisions so that compaction is real): hits after a miss, one fill per key, invalidations
// from another writer, an invalidation that arrives while a fill is in flight wins, a broken
// stream resumed without losing an invalidation, compacted history (bindings dropped, blobs
// kept), read-your-writes and minRevision across two Locals, replace's both outcomes, blobs
// fetched once. Two tests stay on the scripted fake (fake-stream.ts), each saying why the fake
// is the point: lease expiry on a silent stream under a fake clock, and a blob whose bytes do
// not hash to its name (a real Global never serves one).
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { GlobalClient, type SubscribeOptions, type Subscription } from '../../src/local/client/client.ts';
import { LEASE_PROBE_KEY } from '../../src/local/cache/invalidation-stream.ts';
import { Local, type LocalConfig } from '../../src/local/local.ts';
import { CorruptError, InvalidArgumentError, UnavailableError } from '../../src/protocol/errors.ts';
import { hashOf } from '../../src/protocol/hash.ts';
import { STATE_MACHINE_DEFAULTS } from '../../src/global/state/state-machine.ts';
import { eventually, TestCluster } from '../global/cluster-harness.ts';
import { waitUntil } from './fake-global.ts';
import { StreamingFake } from './fake-stream.ts';
import { FakeClock, SeededRandom } from './fake-clock.ts';
import { HeldClient } from './held-client.ts';

const HISTORY_REVISIONS = 64;
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array | null | undefined): string | undefined => (b === null || b === undefined ? undefined : new TextDecoder().decode(b));

/**
 * A real client whose invalidation streams a test can break (the stream errors UNAVAILABLE as
 * if its replica's connection dropped) and whose new streams it can refuse for a while. What
 * the Local resumes from, and what Global's history gives it, are real. It also counts the
 * Gets and GetBlobs that left the Local.
 */
class BreakableClient extends GlobalClient {
  refuse = false;
  readonly subscribedFrom: number[] = [];
  gets = 0;
  getBlobs = 0;
  private readonly breakers = new Set<() => void>();

  override subscribe(options: SubscribeOptions): Subscription {
    this.subscribedFrom.push(options.fromRevision);
    if (this.refuse) return refused(options.fromRevision);
    const subscription = super.subscribe(options);
    const next = subscription.next.bind(subscription);
    let broken: (err: Error) => void = () => {};
    const brokenPromise = new Promise<never>((_resolve, reject) => (broken = reject));
    brokenPromise.catch(() => {});
    const breaker = (): void => {
      this.breakers.delete(breaker);
      subscription.close();
      broken(new UnavailableError('stream broken (test)'));
    };
    this.breakers.add(breaker);
    subscription.next = () => Promise.race([next(), brokenPromise]);
    return subscription;
  }

  breakStreams(): void {
    for (const b of [...this.breakers]) b();
  }

  override get(...args: Parameters<GlobalClient['get']>): ReturnType<GlobalClient['get']> {
    if (args[0] !== LEASE_PROBE_KEY) this.gets++;
    return super.get(...args);
  }

  override getBlob(...args: Parameters<GlobalClient['getBlob']>): ReturnType<GlobalClient['getBlob']> {
    this.getBlobs++;
    return super.getBlob(...args);
  }
}

/** A stream that fails at once, without opening a call (a replica refusing subscriptions). */
function refused(fromRevision: number): Subscription {
  const stub = {
    address: 'refused',
    fromRevision,
    lastRevision: 0,
    next: () => Promise.reject(new UnavailableError('stream refused (test)')),
    return: () => Promise.resolve({ done: true as const, value: undefined }),
    close: () => {},
    closeByClient: () => {},
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return stub as unknown as Subscription;
}

let cluster: TestCluster;
let direct: GlobalClient;
const locals: Local[] = [];
before(async () => {
  cluster = await TestCluster.start(1, { node: { stateMachine: { ...STATE_MACHINE_DEFAULTS, historyRevisionsMax: HISTORY_REVISIONS } } });
  await cluster.waitForLeader();
  direct = cluster.client();
});
after(async () => {
  await Promise.all(locals.splice(0).map((l) => l.close()));
  await cluster.stop();
});

let keyCounter = 0;
const freshKey = (): string => `local/k${++keyCounter}`;

async function openLocal(config: Partial<LocalConfig> = {}): Promise<Local> {
  const local = Local.open({ global: cluster.addresses, client: { backoffInitialMs: 5, backoffMaxMs: 20 }, ...config });
  locals.push(local);
  assert.equal(await local.ready(10_000), true, 'the Local holds its lease');
  return local;
}

function breakable(): BreakableClient {
  return new BreakableClient({ addresses: cluster.addresses, backoffInitialMs: 5, backoffMaxMs: 20 });
}

describe('Local against a real Global', () => {
  it('serves a key from Global once, then from its cache', async () => {
    const key = freshKey();
    await direct.set(key, text('v1'));
    const client = breakable();
    const local = await openLocal({ globalClient: client });
    const first = await local.get(key);
    assert.equal(first?.source, 'global');
    assert.equal(str(first?.value), 'v1');
    const second = await local.get(key);
    assert.equal(second?.source, 'cache');
    assert.equal(str(second?.value), 'v1');
    assert.equal(str(local.getCached(key)), 'v1');
    assert.equal(client.gets, 1, 'one Get reached Global');
    const stats = local.stats();
    assert.deepEqual({ hits: stats.hits, misses: stats.misses, bindings: stats.bindings, blobs: stats.blobs }, { hits: 2, misses: 1, bindings: 1, blobs: 1 });
    assert.equal(await local.get(freshKey()), null);
    assert.equal(local.stats().misses, 2);
  });

  it('sends one request for concurrent misses of one key', async () => {
    const key = freshKey();
    await direct.set(key, text('v'));
    const client = breakable();
    const local = await openLocal({ globalClient: client });
    const results = await Promise.all(Array.from({ length: 5 }, () => local.get(key)));
    assert.deepEqual(results.map((r) => str(r?.value)), ['v', 'v', 'v', 'v', 'v']);
    assert.equal(client.gets, 1, 'one Get for five concurrent misses');
    assert.equal(local.stats().misses, 5);
    assert.equal((await local.get(key))?.source, 'cache');
  });

  it('drops a binding when another writer deletes the key, and sees the new binding after', async () => {
    const key = freshKey();
    await direct.set(key, text('old'));
    const local = await openLocal();
    assert.equal(str((await local.get(key))?.value), 'old');
    const invalidations = local.stats().invalidations;
    const { revision } = await direct.delete(key);
    assert.equal(await local.waitForRevision(revision), true);
    assert.equal(local.held(key), null);
    assert.equal(await local.get(key), null);
    await direct.set(key, text('new'));
    assert.equal(str((await local.get(key))?.value), 'new');
    assert.equal(local.stats().invalidations, invalidations + 1);
  });

  it('lets an invalidation that arrives during a fill win over the older fill', async () => {
    const key = freshKey();
    await direct.set(key, text('old'));
    const client = new HeldClient({ addresses: cluster.addresses });
    const local = await openLocal({ globalClient: client });
    // The Local's read is answered by Global (old) but held; the key is deleted meanwhile.
    const gate = client.hold('get');
    const reading = local.get(key);
    await eventually('the held read', () => gate.waiting === 1);
    const { revision } = await direct.delete(key);
    assert.equal(await local.waitForRevision(revision), true);
    gate.open();
    assert.equal(str((await reading)?.value), 'old', 'the read itself returns what Global said at its time');
    assert.equal(local.held(key), null, 'but the stale binding is not cached');
    assert.equal(await local.get(key), null);
  });

  it('resumes a broken stream from the last applied revision without losing an invalidation', async () => {
    const key = freshKey();
    await direct.set(key, text('v'));
    const client = breakable();
    const local = await openLocal({ globalClient: client });
    assert.equal(str((await local.get(key))?.value), 'v');
    const appliedBefore = local.revision;
    const resubscribes = local.stats().resubscribes;
    client.refuse = true;
    client.breakStreams();
    await eventually('the stream to notice the break', () => local.streamStatus.state === 'backoff');
    const { revision } = await direct.delete(key);
    assert.equal(local.held(key) !== null, true, 'the delete has not reached the Local yet');
    client.refuse = false;
    assert.equal(await local.waitForRevision(revision, 5000), true);
    assert.equal(local.held(key), null, 'the delete made while the stream was down was applied');
    assert.equal(client.subscribedFrom.at(-1), appliedBefore + 1, 'resumed right after what it had applied');
    assert.ok(local.stats().resubscribes > resubscribes);
    assert.equal(local.stats().compactions, 0);
  });

  it('on compacted history drops key bindings, keeps blobs, and carries on', async () => {
    const key = freshKey();
    await direct.set(key, text('value'));
    const client = breakable();
    const local = await openLocal({ globalClient: client });
    const got = await local.get(key);
    assert.equal(local.held(key) !== null, true);
    client.refuse = true;
    client.breakStreams();
    await eventually('the stream to notice the break', () => local.streamStatus.state === 'backoff');
    // More revisions than Global's history keeps: the Local's resume point is compacted away.
    for (let i = 0; i <= HISTORY_REVISIONS; i++) await direct.txn({ success: [{ kind: 'put', key: `${key}-filler`, value: text(String(i)) }] });
    client.refuse = false;
    await eventually('the compaction', () => local.stats().compactions >= 1 || undefined, 10_000).catch((err: unknown) => {
      throw new Error(`${String(err)}; stats ${JSON.stringify(local.stats())}; subscribed from ${client.subscribedFrom.join(',')}`);
    });
    assert.equal(local.stats().compactions, 1);
    assert.equal(local.held(key), null, 'bindings from before the gap are dropped');
    assert.equal(local.hasBlob(got!.kv.hash), true, 'blobs survive compaction');
    await eventually('the stream to carry on', () => local.streamStatus.state === 'streaming');
    const { revision } = await direct.delete(`${key}-filler`);
    assert.equal(await local.waitForRevision(revision, 5000), true);
    assert.equal(str((await local.get(key))?.value), 'value', 'read again from Global');
  });

  it('applies its own writes at once and lets another Local wait for their revision', async () => {
    const a = await openLocal();
    const b = await openLocal();
    const key = freshKey();
    const { revision } = await a.set(key, text('mine'));
    const own = await a.get(key);
    assert.equal(own?.source, 'cache', 'read-your-writes without a round trip');
    assert.equal(str(own?.value), 'mine');
    const seen = await b.get(key, { minRevision: revision });
    assert.equal(str(seen?.value), 'mine');
    assert.ok(b.revision >= revision);
    assert.ok(seen!.revision >= revision);
    const del = await a.del(key);
    assert.equal(del.deleted, true);
    assert.equal(await a.get(key), null);
    assert.equal(await b.get(key, { minRevision: del.revision }), null, 'the delete reached the other Local');
    assert.equal(b.held(key), null);
  });

  it('replaces a value only when the key did not change in between', async () => {
    const local = await openLocal();
    const other = await openLocal();
    const key = freshKey();
    const { kv } = await local.set(key, text('v1'));
    const r1 = await local.replace(key, text('v2'));
    assert.equal(r1.replaced, true);
    assert.equal(str((await local.get(key))?.value), 'v2');
    assert.ok(kv.modRevision < r1.revision);
    assert.equal(r1.kv?.modRevision, r1.revision);
    // Another writer changes the key after this Local read it: the replace must fail.
    const w = await other.put(key, text('theirs'));
    const r2 = await local.replace(key, text('mine'), { ifModRevision: r1.revision });
    assert.equal(r2.replaced, false);
    assert.equal(r2.kv, null);
    assert.equal(str((await direct.get(key)).kv?.value), 'theirs', 'Global kept the concurrent write');
    assert.equal(str((await local.get(key, { minRevision: w.revision }))?.value), 'theirs');
    // 0 = only if absent: fails on a bound key, succeeds on a fresh one.
    assert.equal((await local.replace(key, text('x'), { ifModRevision: 0 })).replaced, false);
    const fresh = freshKey();
    assert.equal((await local.replace(fresh, text('first'), { ifModRevision: 0 })).replaced, true);
    assert.equal(str((await direct.get(fresh)).kv?.value), 'first');
  });

  it('fetches a large value as a blob, verifies it, and shares one copy', async () => {
    const key = freshKey();
    const big = new Uint8Array(200 * 1024).map((_, i) => i % 251);
    await direct.set(key, big);
    const client = breakable();
    const local = await openLocal({ globalClient: client });
    const got = await local.get(key);
    assert.ok(got !== null && Buffer.from(got.value).equals(big));
    assert.equal(got.kv.hash, hashOf(big));
    assert.equal(local.hasBlob(hashOf(big)), true);
    assert.equal(client.getBlobs, 1);
    assert.ok(Buffer.from((await local.getBlob(hashOf(big)))).equals(big));
    const chunks: Uint8Array[] = [];
    for await (const chunk of local.getBlobStream(hashOf(big), 64 * 1024)) chunks.push(chunk);
    assert.equal(chunks.length, 4);
    assert.ok(Buffer.concat(chunks).equals(big));
    assert.equal(client.getBlobs, 1, 'streamed from the cache');
  });

  it('validates its configuration', () => {
    assert.throws(() => Local.open({ global: ['127.0.0.1:1'], leaseMs: 50 }), (e: unknown) => e instanceof InvalidArgumentError && /leaseMs/.test(e.message));
    assert.throws(() => Local.open({ global: ['127.0.0.1:1'], cacheBytesMax: -1 }), (e: unknown) => e instanceof InvalidArgumentError && /cacheBytesMax/.test(e.message));
    assert.throws(() => Local.open({ global: [] }), InvalidArgumentError);
  });
});

describe('Local against the scripted fake, where the fake is the point', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function fakeGlobal(): Promise<StreamingFake> {
    const fake = await StreamingFake.start();
    cleanups.push(() => fake.stop());
    return fake;
  }

  // The fake is the point: a stream that goes silent (no events, no progress, probes held)
  // while a fake clock steps the lease to the millisecond. lease.cluster.test.ts covers expiry on a
  // real Global with real time.
  it('stops serving bindings when no probe proves it current for leaseMs, keeps serving blobs, and recovers', async () => {
    const fake = await fakeGlobal();
    const other = new GlobalClient({ addresses: [fake.address] });
    cleanups.push(() => other.close());
    await other.set('k', text('v'));
    const clock = new FakeClock();
    const local = Local.open({ global: [fake.address], client: { backoffInitialMs: 5, backoffMaxMs: 20 }, clock, random: new SeededRandom(1), leaseMs: 500 });
    cleanups.push(() => local.close());
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

  // The fake is the point: a real Global verifies every blob on upload and never serves bytes
  // that do not hash to their name; only a fake can send them.
  it('refuses a blob whose bytes do not hash to its name', async () => {
    const fake = await fakeGlobal();
    const local = Local.open({ global: [fake.address] });
    cleanups.push(() => local.close());
    const hash = hashOf(text('the real bytes'));
    fake.fake.blobs.set(hash, Buffer.from('other bytes'));
    await assert.rejects(local.getBlob(hash), CorruptError);
    assert.equal(local.hasBlob(hash), false);
  });
});
