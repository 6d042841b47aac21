// Coherence mode 'strict' end to end (strict-hold.ts, docs/coherence.md): Locals holding strict
// prefixes at the leader of a real in-process 3-replica cluster started with holderLeaseMs.
// Races between a write, the Locals' invalidation streams and their holds are made
// deterministic by holding messages back (held-client.ts): a Local whose stream is held applies
// no change, so only its hold can keep it from serving a replaced value.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { GlobalClient } from '../../src/local/client/client.ts';
import { Local, type LocalConfig } from '../../src/local/local.ts';
import { formatStats } from '../../src/local/repl/repl-exec.ts';
import { InvalidArgumentError } from '../../src/protocol/errors.ts';
import { eventually, TestCluster } from '../global/cluster-harness.ts';
import { FakeClock } from './fake-clock.ts';
import { HeldClient } from './held-client.ts';

// Long enough that a loaded machine (a test process running 3 replicas) answers keep-alives in time.
const HOLDER_LEASE_MS = 1500;
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : new TextDecoder().decode(b));

let cluster: TestCluster;
let writer: GlobalClient;
const locals: Local[] = [];
before(async () => {
  cluster = await TestCluster.start(3, { holderLeaseMs: HOLDER_LEASE_MS });
  await cluster.waitForLeader();
  writer = cluster.client();
});
after(async () => {
  await Promise.all(locals.splice(0).map((l) => l.close()));
  await cluster.stop();
});

let keyCounter = 0;
const freshKey = (): string => `s/k${++keyCounter}`;

/** A Local serving 's/' strictly through `client`; a long lease, so only the hold decides. */
async function openStrict(client: HeldClient, config: Partial<LocalConfig> = {}): Promise<Local> {
  const local = Local.open({ global: cluster.addresses, globalClient: client, leaseMs: 60_000, coherenceByPrefix: { 's/': 'strict' }, ...config });
  locals.push(local);
  assert.equal(await local.ready(10_000), true, 'the Local holds its lease and its strict hold');
  return local;
}

const heldClient = (): HeldClient => new HeldClient({ addresses: cluster.addresses });

async function put(key: string, value: string): Promise<number> {
  return (await writer.txn({ success: [{ kind: 'put', key, value: text(value) }] })).revision;
}

/** Reads `key` twice on `local`: the second read comes from its cache. */
async function cache(local: Local, key: string, value: string): Promise<void> {
  assert.equal(str((await local.get(key))?.value), value);
  const again = await local.get(key);
  assert.equal(again?.source, 'cache', `the strict key is served from the cache under the hold (${JSON.stringify(local.stats().strictHold)}, lease ${local.stats().leaseValid})`);
  assert.equal(str(again.value), value);
}

describe('coherence mode strict', () => {
  it('two strict Locals: once a put is acknowledged, neither serves the value it replaced', async () => {
    const key = freshKey();
    await put(key, 'v1');
    const ca = heldClient();
    const cb = heldClient();
    const a = await openStrict(ca);
    const b = await openStrict(cb);
    await cache(a, key, 'v1');
    await cache(b, key, 'v1');
    // Their streams apply nothing from now on: v2 can reach them only through their holds.
    const streams = [ca.hold('stream'), cb.hold('stream')];
    await put(key, 'v2');
    for (const [name, local] of [['A', a], ['B', b]] as const) {
      assert.equal(local.getCached(key), undefined, `${name} serves the replaced value from its cache after the put was acknowledged`);
      const read = await local.get(key);
      assert.equal(str(read?.value), 'v2', `${name} read the replaced value after the put was acknowledged`);
      assert.equal(read?.source, 'global');
    }
    for (const gate of streams) gate.open();
  });

  it('a fill that read the old value while the write waited is not cached; Released, once applied, lets the key be cached again', async () => {
    const key = freshKey();
    await put(key, 'v1');
    const c = heldClient();
    const a = await openStrict(c);
    await cache(a, key, 'v1');
    const stream = c.hold('stream');
    const ack = c.hold('ack');
    const write = put(key, 'v2');
    await eventually('A to drop the key on the invalidation', () => a.held(key) === null);
    // The write waits for A's ack: a read now is from Global, before the write.
    const early = await a.get(key);
    assert.equal(str(early?.value), 'v1');
    assert.equal(early?.source, 'global');
    assert.equal(a.held(key), null, 'a fill of an invalidated key was cached before its write was applied here');
    ack.open();
    const revision = await write;
    const late = await a.get(key);
    assert.equal(str(late?.value), 'v2', 'A served the value a fill read before the acknowledged write');
    assert.equal(a.stats().strictHold?.uncachedKeys, 1, 'the key stays uncached until A applied the write');
    assert.equal((await a.get(key))?.source, 'global');
    stream.open();
    await eventually('A to apply the write', () => a.revision >= revision);
    assert.equal(a.stats().strictHold?.uncachedKeys, 0, 'Released, once applied, clears the mark');
    await cache(a, key, 'v2');
    const hold = a.stats().strictHold;
    assert.ok(hold !== null && hold.invalidationsAcked >= 1 && hold.state === 'holding');
    const shown = formatStats(a.stats());
    assert.match(shown, /coherence bounded, strict for "s\/"/);
    assert.match(shown, /strict hold holding at \S+ for \d+ ms .*1 invalidation acked, 0 keys uncached/);
  });

  it('a cut hold stream: strict keys are not served from the cache until the Local registered anew', async () => {
    const key = freshKey();
    const other = 'b/' + key;
    await put(key, 'v1');
    await put(other, 'w1');
    const c = heldClient();
    const a = await openStrict(c);
    await cache(a, key, 'v1');
    await a.get(other);
    const registrations = a.stats().strictHold!.registrations;
    c.refuseHolds = true;
    c.cutHolds();
    await eventually('A to notice', () => a.stats().strictHold!.state !== 'holding');
    assert.equal(a.getCached(key), undefined, 'a strict key was served from the cache without a hold');
    for (let i = 0; i < 2; i++) assert.equal((await a.get(key))?.source, 'global', 'a strict key was served from the cache without a hold');
    assert.equal((await a.get(other))?.source, 'cache', 'bounded keys need no hold');
    c.refuseHolds = false;
    await eventually('A to register anew', () => a.stats().strictHold!.state === 'holding');
    assert.equal(a.stats().strictHold!.registrations, registrations + 1);
    await cache(a, key, 'v1');
  });

  it('a strict key is not served once the hold ran out on the Local\'s clock, before any timer ran', async () => {
    const key = freshKey();
    await put(key, 'v1');
    const clock = new FakeClock();
    const c = heldClient();
    const a = await openStrict(c, { clock });
    await cache(a, key, 'v1');
    c.hold('hold'); // no keep-alive answered from now on
    clock.timeWord[0] = a.stats().strictHold!.holdLeftMs + clock.timeWord[0]!; // the hold's end, no timer fired
    assert.equal(a.getCached(key), undefined, 'served from the cache after the hold ran out');
    assert.equal((await a.get(key))?.source, 'global');
    c.gates.get('hold')!.open();
  });

  it('a write waits for a holder that does not answer until its hold ran out on the holder\'s clock', async () => {
    const key = freshKey();
    await put(key, 'v1');
    const c = heldClient();
    const a = await openStrict(c);
    await cache(a, key, 'v1');
    c.hold('stream');
    c.hold('hold'); // A frozen: it sees no invalidation, sends no ack and no keep-alive
    const startMs = performance.now();
    await put(key, 'v2');
    assert.equal(a.stats().strictHold!.holdLeftMs, 0, 'the write completed while the silent holder\'s hold still ran');
    assert.ok(performance.now() - startMs >= HOLDER_LEASE_MS / 4, 'the write did not wait');
    assert.equal(a.getCached(key), undefined);
    assert.equal(str((await a.get(key))?.value), 'v2');
    c.gates.get('hold')!.open();
    c.gates.get('stream')!.open();
  });

  it('refuses strict with a clear error when the cluster runs without holds', async () => {
    const plain = await TestCluster.start(1);
    try {
      await plain.waitForLeader();
      const local = Local.open({ global: plain.addresses, coherenceByPrefix: { 's/': 'strict' } });
      try {
        await assert.rejects(local.ready(10_000), (err: unknown) => err instanceof InvalidArgumentError && /holderLeaseMs/.test(err.message));
        assert.equal(local.stats().strictHold?.state, 'refused');
        await plain.client().set('s/x', text('x'));
        assert.equal((await local.get('s/x'))?.source, 'global');
        assert.equal((await local.get('s/x'))?.source, 'global', 'a strict key was cached without a hold');
      } finally {
        await local.close();
      }
    } finally {
      await plain.stop();
    }
  });

  it('the leader killed: the hold moves to the new leader; strict keys are read from Global meanwhile', async () => {
    const key = freshKey();
    await put(key, 'v1');
    const c = heldClient();
    const a = await openStrict(c);
    await cache(a, key, 'v1');
    const leader = await cluster.waitForLeader();
    const oldAddress = a.stats().strictHold!.address;
    await cluster.stopReplica(leader);
    try {
      await eventually('A to lose its hold', () => a.stats().strictHold!.state !== 'holding');
      assert.equal(a.getCached(key), undefined, 'a strict key was served from the cache without a hold');
      await eventually('A to hold at the new leader', () => a.stats().strictHold!.state === 'holding', 15_000);
      assert.notEqual(a.stats().strictHold!.address, oldAddress);
      await put(key, 'v2');
      assert.equal(str((await a.get(key))?.value), 'v2');
    } finally {
      await cluster.restartReplica(leader);
    }
  });
});
