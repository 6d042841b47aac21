// The Local's coherence faults of issue 12, each as a sequence against a real Global (one
// in-process replica). Races between a write's answer, a fill's answer and the invalidation
// stream are made deterministic by holding answers back (held-client.ts); everything else is
// the real stack.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Local, type LocalConfig, type LocalValue } from '../../src/local/local.ts';
import { eventually, TestCluster } from '../global/cluster-harness.ts';
import { HeldClient, type Gate } from './held-client.ts';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : new TextDecoder().decode(b));

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
  const local = Local.open({ global: cluster.addresses, ...config });
  locals.push(local);
  assert.equal(await local.ready(10_000), true, 'the Local holds its lease');
  return local;
}

function heldClient(): HeldClient {
  return new HeldClient({ addresses: cluster.addresses });
}

let keyCounter = 0;
const freshKey = (prefix = 'coh/'): string => `${prefix}k${++keyCounter}`;

/**
 * Local B binds a fresh key to 'v1'; Local A starts a fill of it whose answer (v1) is held.
 * The caller then changes things and opens `getHeld`.
 */
async function fillHeldAfterV1(): Promise<{ a: Local; b: Local; key: string; getHeld: Gate; early: Promise<LocalValue | null> }> {
  const b = await openLocal();
  const key = freshKey();
  await b.set(key, text('v1'));
  const client = heldClient();
  const a = await openLocal({ globalClient: client });
  const getHeld = client.hold('get');
  const early = a.get(key);
  await eventually('the fill to be held', () => getHeld.waiting === 1);
  return { a, b, key, getHeld, early };
}

describe('Local coherence against a real Global', () => {
  it('an own write whose answer arrives after the stream applied a later delete is not placed (fault 3)', async () => {
    const client = heldClient();
    const a = await openLocal({ globalClient: client });
    const b = await openLocal();
    const key = freshKey();
    const setHeld = client.hold('set');
    const written = a.set(key, text('v1'));
    const seen = await eventually('the put on Global', async () => (await b.get(key)) ?? undefined);
    const del = await b.del(key);
    assert.equal(del.deleted, true);
    await eventually('A to apply the delete', () => a.revision >= del.revision);
    setHeld.open();
    const result = await written;
    assert.equal(result.revision, seen.kv.modRevision);
    assert.equal(a.getCached(key), undefined, 'the overwritten binding is not served from cache');
    assert.equal(await a.get(key), null);
  });

  it('a read after an own delete does not join a fill that started before it (fault 6)', async () => {
    const { a, key, getHeld, early } = await fillHeldAfterV1();
    const del = await a.del(key);
    const late = a.get(key);
    getHeld.open();
    assert.equal(str((await early)?.value), 'v1');
    assert.equal(await late, null, 'read-your-writes after del');
    const read = await a.read(key);
    assert.equal(read.found, null);
    assert.ok(read.revision >= del.revision);
  });

  it('get at minRevision W never returns a binding from before W through a shared fill (fault 6)', async () => {
    const { a, b, key, getHeld, early } = await fillHeldAfterV1();
    const replaced = await b.replace(key, text('v2'));
    assert.equal(replaced.replaced, true);
    const late = a.get(key, { minRevision: replaced.revision });
    await eventually('A to apply W', () => a.revision >= replaced.revision);
    getHeld.open();
    assert.equal(str((await early)?.value), 'v1');
    const got = await late;
    assert.equal(str(got?.value), 'v2');
    assert.ok(got !== null && got.revision >= replaced.revision);
  });

  it('own writes outside the prefix are not cached (fault 7)', async () => {
    const a = await openLocal({ prefix: 'followed/' });
    const b = await openLocal();
    const key = freshKey('elsewhere/');
    // The value is already cached here (as another key's), so nothing but the prefix stops placing it.
    const inside = freshKey('followed/');
    await b.set(inside, text('shared value'));
    assert.equal(str((await a.get(inside))?.value), 'shared value');
    await a.set(key, text('shared value'));
    assert.equal(a.held(key), null);
    await b.del(key);
    assert.equal(await a.get(key), null);
  });

  it('del that finds nothing still drops the binding held from before (fault 8)', async () => {
    const client = heldClient();
    const a = await openLocal({ globalClient: client });
    const b = await openLocal();
    const key = freshKey();
    await b.set(key, text('v1'));
    assert.equal(str((await a.get(key))?.value), 'v1');
    assert.notEqual(a.held(key), null);
    const streamHeld = client.hold('stream');
    const del = await b.del(key);
    const mine = await a.del(key);
    assert.equal(mine.deleted, false);
    assert.ok(a.revision < del.revision, 'the stream has not applied the delete yet');
    assert.equal(a.held(key), null, 'the binding Global said is gone is dropped');
    assert.equal(a.getCached(key), undefined);
    streamHeld.open();
  });
});
