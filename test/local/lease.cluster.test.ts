// The Local's lease against a real Global (issue 12, faults 1, 2 and 5): a lease is earned only
// by proof that the Local applied everything Global had committed, never by mere contact with
// a replica, and it is checked when a binding is served, not only when a timer runs.
//
// A lagging replica is played by HeldClient.lagAt: its stream stops at a revision and keeps
// sending progress notices there, as a replica that fell behind (after a restart, or cut off
// from the leader) does. These tests wait for real time to pass where the property is about
// time (the lease's bound), and on events everywhere else.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Local, type LocalConfig } from '../../src/local/local.ts';
import { TICK_MS } from '../../src/local/cache/lease-clock.ts';
import { eventually, TestCluster } from '../global/cluster-harness.ts';
import { HeldClient } from './held-client.ts';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : new TextDecoder().decode(b));

const LEASE_MS = 200;
/** What the time word may trail the true time by, on a loaded machine (docs/coherence.md). */
const SLACK_MS = 50 + TICK_MS;

let cluster: TestCluster;
const locals: Local[] = [];
before(async () => {
  cluster = await TestCluster.start(1);
  await cluster.waitForLeader();
});
after(async () => {
  await Promise.all(locals.splice(0).map((l) => l.close()));
  await cluster.stop();
});

async function openLocal(config: Partial<LocalConfig> = {}): Promise<Local> {
  const local = Local.open({ global: cluster.addresses, leaseMs: LEASE_MS, ...config });
  locals.push(local);
  assert.equal(await local.ready(10_000), true, 'the Local holds its lease');
  return local;
}

let keyCounter = 0;
const freshKey = (): string => `lease/k${++keyCounter}`;

/** Reads `key` until `untilMs` (performance.now()); returns the reads served stale from the cache. */
async function staleCacheReads(local: Local, key: string, stale: string, untilMs: number): Promise<number> {
  let stales = 0;
  while (performance.now() < untilMs) {
    const read = await local.read(key);
    if (read.found !== null && read.source === 'cache' && str(read.found.value) === stale) stales++;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return stales;
}

describe('Local lease against a real Global', () => {
  it('a lagging replica that keeps sending progress notices renews no lease (fault 1)', async () => {
    const client = new HeldClient({ addresses: cluster.addresses });
    const a = await openLocal({ globalClient: client });
    const writer = await openLocal();
    const key = freshKey();
    await writer.set(key, text('v1'));
    await eventually('A to cache v1', async () => (await a.read(key)).source === 'cache');

    client.lagAt(a.revision); // A's replica falls behind; its notices still claim that revision
    await writer.del(key);
    const ackedMs = performance.now();
    await writer.set(key, text('v2'));
    // A may serve v1 for leaseMs (+ slack) after the delete was acknowledged, never after.
    const boundMs = ackedMs + LEASE_MS + SLACK_MS;
    await eventually('the bound to pass', () => performance.now() > boundMs);
    assert.equal(await staleCacheReads(a, key, 'v1', performance.now() + 3 * LEASE_MS), 0, 'no stale read past the bound');
    assert.equal(str((await a.get(key))?.value), 'v2', 'reads go to Global meanwhile');
    // A stream that stays behind a proof for leaseMs is left for another replica.
    await eventually('A to leave the lagging stream', () => a.stats().lagDrops >= 1);

    client.catchUp();
    await eventually('the lease to come back once A caught up', () => a.leaseHeld);
    await eventually('A to serve v2 from its cache', async () => {
      const read = await a.read(key);
      return read.found !== null && read.source === 'cache' && str(read.found.value) === 'v2';
    });
  });

  it('the first message of a catch-up does not bring the lease back (fault 2)', async () => {
    const client = new HeldClient({ addresses: cluster.addresses });
    // probeIntervalMs at its maximum (leaseMs / 2), so the stream is not left while the test steps it.
    const a = await openLocal({ globalClient: client, leaseMs: 2_000, probeIntervalMs: 1_000 });
    const writer = await openLocal();
    const key = freshKey();
    await writer.set(key, text('v1'));
    await eventually('A to cache v1', async () => (await a.read(key)).source === 'cache');

    client.lagAt(a.revision, true); // A is cut off: nothing past this revision reaches it
    for (let i = 0; i < 5; i++) await writer.set(`${key}/other${i}`, text('x'));
    await writer.del(key);
    await eventually('A to lose its lease', () => !a.leaseHeld, 5_000);

    client.release(1); // the backlog's first message arrives (a write to another key)
    const revisionBefore = a.revision;
    await eventually('the first message of the backlog to be applied', () => a.revision > revisionBefore);
    assert.equal(a.leaseHeld, false, 'one message of a backlog proves nothing');
    assert.equal(a.getCached(key), undefined, 'v1 is not served while the delete is still queued');
    const read = await a.read(key);
    assert.equal(read.found, null, 'a read goes to Global and sees the delete');

    client.catchUp();
    await eventually('the lease to come back once the backlog is applied', () => a.leaseHeld, 5_000);
    assert.equal(a.held(key), null);
  });

  it('a tight loop of cached reads stops hitting once the lease runs out, with no timer run (fault 5)', async () => {
    const client = new HeldClient({ addresses: cluster.addresses });
    const a = await openLocal({ globalClient: client });
    const key = freshKey();
    await a.set(key, text('v'));
    assert.equal(str(a.getCached(key)), 'v');

    // No more proofs: probe answers are held from now on.
    const heldFromMs = performance.now();
    client.hold('probe');
    let hits = 0;
    let lastHitMs = 0;
    const endMs = heldFromMs + 3 * LEASE_MS;
    // Never yields to timers or I/O: only the microtask queue runs between reads.
    for (let now = performance.now(); now < endMs; now = performance.now()) {
      if (a.getCached(key) !== undefined) {
        hits++;
        lastHitMs = now;
      }
      await Promise.resolve();
    }
    assert.ok(hits > 0, 'the loop hit the cache while the lease held');
    assert.ok(lastHitMs - heldFromMs <= LEASE_MS + SLACK_MS, `the last hit came ${Math.round(lastHitMs - heldFromMs)} ms after the last proof was sent; the lease is ${LEASE_MS} ms`);
    client.gates.get('probe')!.open();
  });

  it('a proof answered late does not bring back a binding a read from Global saw replaced (monotonic reads)', async () => {
    const client = new HeldClient({ addresses: cluster.addresses });
    // One probe a second, a 2 s lease: a proof sent 1 s before the lease ran out still covers 1 s.
    const a = await openLocal({ globalClient: client, leaseMs: 2_000, probeIntervalMs: 1_000 });
    const writer = await openLocal();
    const key = freshKey();
    await writer.set(key, text('v1'));
    await eventually('A to cache v1', async () => (await a.read(key)).source === 'cache');

    client.lagAt(a.revision); // A's replica lags (its notices still claim this revision)
    const probe = client.hold('probe');
    await eventually('the next probe to be held (its answer is the revision before the delete)', () => probe.waiting === 1, 5_000);
    await writer.del(key);
    await eventually('A to lose its lease', () => !a.leaseHeld, 5_000);
    const fromGlobal = await a.read(key);
    assert.deepEqual([fromGlobal.source, fromGlobal.found], ['global', null], 'Global says the key is gone');

    probe.open(); // the late proof: it was sent before the delete, and A applied its revision
    await eventually('the lease to come back on the late proof', () => a.leaseHeld);
    const again = await a.read(key);
    assert.equal(again.found, null, 'a later read must not return v1, which the read before saw deleted');
    client.catchUp();
  });

  it('an eventual prefix is served without the lease, a bounded key is not; strict only per prefix', async () => {
    assert.throws(() => Local.open({ global: cluster.addresses, coherence: 'strict' }), /strict.*per key prefix/);
    const client = new HeldClient({ addresses: cluster.addresses });
    const a = await openLocal({ globalClient: client, coherenceByPrefix: { 'lease/feed/': 'eventual' } });
    assert.deepEqual([a.stats().coherence, a.stats().coherenceByPrefix], ['bounded', { 'lease/feed/': 'eventual' }]);
    const bounded = freshKey();
    const pushed = `lease/feed/${++keyCounter}`;
    await a.set(bounded, text('b'));
    await a.set(pushed, text('e'));

    client.lagAt(a.revision, true); // cut off: no proof past this write can be met
    await a.set(freshKey(), text('later'));
    await eventually('A to lose its lease', () => !a.leaseHeld, 5_000);
    assert.equal(a.getCached(bounded), undefined, 'a bounded key is not served past the lease');
    assert.equal(str(a.getCached(pushed)), 'e', 'an eventual key is served while cut off');
    client.catchUp();
  });
});
