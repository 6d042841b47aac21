// Attached workers keep bindings of their own (attach.ts), fed by their node's Local
// (node-feed.ts), under the node's terms: docs/coherence.md for them, against a real Global
// (one in-process replica) and a real node server. Held answers come from held-client.ts on
// the node's Global client.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GlobalClient } from '../../src/local/client/client.ts';
import type { SubscribeMessage } from '../../src/local/client/client-types.ts';
import { attach, type AttachedLocal } from '../../src/local/node/attach.ts';
import { Local, type LocalConfig } from '../../src/local/local.ts';
import { LocalServer } from '../../src/local/node/local-server.ts';
import { eventually, TestCluster } from '../global/cluster-harness.ts';
import { HeldClient } from './held-client.ts';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array | null | undefined): string | undefined => (b === null || b === undefined ? undefined : new TextDecoder().decode(b));

let cluster: TestCluster;
let direct: GlobalClient;
const cleanups: (() => Promise<void>)[] = [];
before(async () => {
  cluster = await TestCluster.start(1);
  await cluster.waitForLeader();
  direct = cluster.client();
});
after(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await cluster.stop();
});

let keyCounter = 0;
const freshKey = (): string => `ac/k${++keyCounter}`;

/** A node's Local over a held client, served on 127.0.0.1:0. */
async function node(config: Partial<LocalConfig> = {}): Promise<{ held: HeldClient; local: Local; server: LocalServer }> {
  const held = new HeldClient({ addresses: cluster.addresses });
  const local = Local.open({ global: cluster.addresses, globalClient: held, ...config });
  cleanups.push(() => local.close());
  // Not ready(): with strict prefixes on a Global without holds it rejects (the lease still holds).
  await eventually('the node to hold its lease', () => local.leaseHeld, 10_000);
  const server = await LocalServer.listen(local, '127.0.0.1:0');
  cleanups.push(() => server.stop());
  return { held, local, server };
}

async function worker(server: LocalServer): Promise<AttachedLocal> {
  const w = await attach(server.address, { client: { backoffInitialMs: 5, backoffMaxMs: 20 } });
  cleanups.push(() => w.close());
  assert.equal(await w.ready(10_000), true, 'the worker holds its lease');
  return w;
}

describe('attached workers keep their own bindings, under the node\'s terms', () => {
  it("an overwrite and a delete by another client reach the worker's bindings and its watch, in that order", async () => {
    const { server } = await node();
    const w = await worker(server);
    const key = freshKey();
    await direct.set(key, text('v1'));
    assert.equal(str((await w.get(key))?.value), 'v1');
    assert.equal(str(w.getCached(key)), 'v1', 'held by the worker itself');
    const gets = w.stats().misses;
    assert.equal(str((await w.get(key))?.value), 'v1');
    assert.equal(w.stats().misses, gets, 'a cached read does not leave the process');
    const inListener: (string | undefined)[] = [];
    w.watch(key, () => inListener.push(str(w.getCached(key))));
    const put = await direct.txn({ success: [{ kind: 'put', key, value: text('v2') }] });
    await eventually('the overwrite to reach the worker', () => w.stats().revision >= put.revision);
    assert.notEqual(str(w.getCached(key)), 'v1', 'the replaced binding is not served');
    assert.equal(str((await w.get(key))?.value), 'v2');
    const deleted = await direct.delete(key);
    await eventually('the delete to reach the worker', () => w.stats().revision >= deleted.revision);
    assert.equal(w.getCached(key), undefined);
    assert.equal(await w.get(key), null);
    assert.ok(w.stats().invalidations >= 1);
    assert.deepEqual(inListener.slice(-1), [undefined], 'a listener runs after the worker applied the change');
  });

  it("a worker whose node loses its lease stops serving from its own bindings, no later than the node", async () => {
    const { held, local, server } = await node({ leaseMs: 400 });
    const w = await worker(server);
    assert.equal(w.stats().leaseMs, 400, "the worker follows the node's lease");
    const key = freshKey();
    await direct.set(key, text('v'));
    assert.equal(str((await w.get(key))?.value), 'v');
    assert.equal(str(w.getCached(key)), 'v');
    // The node's probes to Global go unanswered: no proof, for it or for its workers.
    const probes = held.hold('probe');
    cleanups.push(() => Promise.resolve(probes.open()));
    await eventually("the node's lease to run out", () => !local.leaseHeld, 5000);
    assert.equal(w.stats().leaseValid, false, 'the worker lost its lease no later than its node');
    assert.equal(w.getCached(key), undefined, 'the worker serves nothing from its bindings');
    probes.open();
    assert.equal(await w.ready(5000), true, 'proofs again: the lease is back');
    assert.equal(str(w.getCached(key)), 'v');
  });

  it('a worker that attaches late starts consistent: current values, then every later change', async () => {
    const { local, server } = await node();
    const keys = [freshKey(), freshKey(), freshKey()];
    for (const key of keys) await direct.set(key, text('old'));
    await direct.txn({ success: [{ kind: 'put', key: keys[0]!, value: text('new') }] });
    await direct.delete(keys[1]!);
    const before = await direct.status();
    await eventually('the node to apply the writes', () => local.revision >= before.appliedRevision);
    const w = await worker(server);
    assert.ok(w.stats().revision >= before.appliedRevision, 'it starts at the node\'s revision');
    assert.deepEqual(await Promise.all(keys.map(async (k) => str((await w.get(k))?.value))), ['new', undefined, 'old']);
    const later = await direct.txn({ success: [{ kind: 'put', key: keys[2]!, value: text('later') }] });
    await eventually('the later change to reach the late worker', () => w.stats().revision >= later.revision);
    assert.notEqual(str(w.getCached(keys[2]!)), 'old', 'the replaced binding is not served');
    assert.equal(str((await w.get(keys[2]!))?.value), 'later');
  });

  it("a subscriber from before the node's feed gets Global's history through the node, then the feed: no gap, no repeat", async () => {
    const prefix = `${freshKey()}/`;
    const first = await direct.set(`${prefix}a`, text('1'));
    await direct.set(`${prefix}b`, text('2'));
    const { local, server } = await node();
    const fed = await direct.set(`${prefix}c`, text('3'));
    await eventually('the node to apply the write', () => local.revision >= fed.revision);
    const client = new GlobalClient({ addresses: [server.address] });
    cleanups.push(() => client.close());
    const subscription = client.subscribe({ fromRevision: first.revision, prefix });
    cleanups.push(() => Promise.resolve(subscription.close()));
    const revisions: number[] = [];
    let covered = first.revision - 1;
    const last = await direct.delete(`${prefix}a`);
    while (covered < last.revision) {
      const next = await subscription.next();
      assert.equal(next.done, false);
      const message: SubscribeMessage = next.value;
      assert.ok(message.revision >= covered, `revisions never go back (${message.revision} after ${covered})`);
      if (message.kind === 'events') for (const e of message.events) revisions.push(e.type === 'put' ? e.kv.modRevision : e.revision);
      covered = message.revision;
      assert.ok(covered <= local.revision, 'never ahead of the node');
    }
    assert.deepEqual(revisions, [...new Set(revisions)].sort((a, b) => a - b), 'ascending, no repeat');
    assert.equal(revisions.length, 4, 'the two puts from history, the one fed, the delete');
    assert.equal(revisions.at(-1), last.revision);
  });

  it('read-your-writes through the node: the writer, its node and another worker of the node', async () => {
    const { local, server } = await node();
    const [w1, w2] = [await worker(server), await worker(server)];
    const key = freshKey();
    const written = await w1.put(key, 'mine');
    assert.equal(str(w1.getCached(key)), 'mine', "in the writer's own cache at once");
    assert.equal(str(local.held(key)?.value), 'mine', "and in the node's");
    assert.equal(str((await w2.get(key, { minRevision: written.revision }))?.value), 'mine', 'another worker, with the session token');
    await w1.del(key);
    assert.equal(w1.getCached(key), undefined);
    assert.equal(await w1.get(key), null);
    assert.equal(local.held(key), null);
  });

  it("keys of a strict prefix are never served from a worker's own bindings", async () => {
    // Global here has no holds: the node reads strict keys from Global; the worker through it.
    const { server } = await node({ coherenceByPrefix: { 'ac/strict/': 'strict' } });
    const w = await attach(server.address);
    cleanups.push(() => w.close());
    assert.equal(await w.ready(10_000), true, 'the worker registers no hold: ready says only its lease');
    assert.deepEqual(w.stats().coherenceByPrefix, { 'ac/strict/': 'strict' });
    const strict = 'ac/strict/k';
    const bounded = freshKey();
    await direct.set(strict, text('s'));
    await direct.set(bounded, text('b'));
    assert.equal(str((await w.get(strict))?.value), 's');
    assert.equal(str((await w.get(bounded))?.value), 'b');
    assert.equal(w.getCached(strict), undefined, 'not cached in the worker');
    assert.equal(str(w.getCached(bounded)), 'b');
    assert.equal((await w.read(strict)).source, 'global', 'every read of it goes to the node');
  });
});
