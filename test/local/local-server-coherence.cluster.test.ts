// The node server (local-server.ts) against a real Global (one in-process replica): what a
// worker attached to it sees when the Local's forwarded write loses its answer (issue 12
// fault 4), when a watcher stalls, and what its watch listeners may do. Lost answers come
// from held-client.ts (the request is applied on Global, the answer replaced by a retryable
// error); everything else is the real stack.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GlobalClient } from '../../src/local/client/client.ts';
import { attach } from '../../src/local/node/attach.ts';
import { Local, type DstoreApi, type WatchEvent } from '../../src/local/local.ts';
import { LocalServer, type LocalServerLimits } from '../../src/local/node/local-server.ts';
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

/** A Local over a held client, served on 127.0.0.1:0, and a plain worker client attached to it. */
async function node(limits: Partial<LocalServerLimits> = {}): Promise<{ held: HeldClient; local: Local; server: LocalServer; worker: GlobalClient }> {
  const held = new HeldClient({ addresses: cluster.addresses });
  const local = Local.open({ global: cluster.addresses, globalClient: held });
  cleanups.push(() => local.close());
  assert.equal(await local.ready(10_000), true);
  const server = await LocalServer.listen(local, '127.0.0.1:0', undefined, limits);
  cleanups.push(() => server.stop());
  const worker = new GlobalClient({ addresses: [server.address], backoffInitialMs: 5, backoffMaxMs: 20 });
  cleanups.push(() => worker.close());
  return { held, local, server, worker };
}

/** Global's applied revision (every write in this file is serial, so it counts writes). */
async function globalRevision(): Promise<number> {
  return (await direct.status()).appliedRevision;
}

let keyCounter = 0;
const freshKey = (): string => `lsc/k${++keyCounter}`;

describe('node server against a real Global', () => {
  it('a worker write whose forwarded answer was lost is applied once and answered truthfully (fault 4)', async () => {
    const { held, server, worker } = await node();

    // set (put-if-absent): the retry must not answer "occupied" for its own write.
    const setKey = freshKey();
    let before = await globalRevision();
    held.loseAnswers('set', 1);
    const set = await worker.set(setKey, text('v1'));
    assert.equal(await globalRevision(), before + 1, 'set applied once');
    assert.equal(set.revision, before + 1);
    assert.equal((await direct.get(setKey)).kv?.version, 1);
    assert.equal(server.unknownWrites, 0, 'the retry settled the unknown outcome');

    // cas: the retry must not answer "failed" because its own write moved the revision.
    before = await globalRevision();
    held.loseAnswers('txn', 1);
    const cas = await worker.txn({
      compares: [{ key: setKey, target: 'modRevision', operator: 'equal', number: set.revision }],
      success: [{ kind: 'put', key: setKey, value: text('v2') }],
    });
    assert.equal(cas.succeeded, true, 'cas answers success for the write it applied');
    assert.equal(await globalRevision(), before + 1, 'cas applied once');

    // put (overwrite): applied once, so the version moves by one.
    const putKey = freshKey();
    await direct.set(putKey, text('p0'));
    before = await globalRevision();
    held.loseAnswers('txn', 2);
    await worker.txn({ success: [{ kind: 'put', key: putKey, value: text('p1') }] });
    assert.equal(await globalRevision(), before + 1, 'put applied once');
    assert.equal((await direct.get(putKey)).kv?.version, 2);

    // add: a counter moves by the delta once.
    const addKey = freshKey();
    held.loseAnswers('txn', 1);
    const added = await worker.txn({ success: [{ kind: 'add', key: addKey, delta: 5n }] });
    const first = added.results[0];
    assert.equal(first?.kind === 'number' ? first.value : null, 5n, 'add answers the counter after one add');
    const again = await direct.txn({ success: [{ kind: 'add', key: addKey, delta: 0n }] });
    const now = again.results[0];
    assert.equal(now?.kind === 'number' ? now.value : null, 5n, 'the counter moved once');

    // delete: a lost answer's retry says the key was deleted, by this write.
    const delKey = freshKey();
    await direct.set(delKey, text('d'));
    held.loseAnswers('delete', 1);
    before = await globalRevision();
    const del = await worker.delete(delKey);
    assert.equal(del.deleted, true, 'delete answers deleted for the delete it applied');
    assert.equal(await globalRevision(), before + 1);
    assert.equal(str((await direct.get(setKey)).kv?.value), 'v2');
  });

  it('keeps an unknown write for writeRetryWindowMs, then lets it go', async () => {
    const { held, server } = await node({ writeRetryWindowMs: 1 });
    const worker = (clientId: string): GlobalClient => {
      const c = new GlobalClient({ addresses: [server.address], clientId, retriesMax: 0 });
      cleanups.push(() => c.close());
      return c;
    };
    held.loseAnswers('set', 1);
    await assert.rejects(worker('window-test-a-0123456789abcdef').set(freshKey(), text('x')), { name: 'UnavailableError' });
    const failedAtMs = performance.now();
    assert.equal(server.unknownWrites, 1, 'kept while its window runs');
    await eventually('the 1 ms window to pass', () => performance.now() > failedAtMs + 1);
    // The next write sweeps the expired one (and releases its Global WriteId).
    await worker('window-test-b-0123456789abcdef').set(freshKey(), text('y'));
    assert.equal(server.unknownWrites, 0);
  });

  /**
   * Two watchers on `api`; the first throws on its first event. The second must see every
   * change, the thrower is called once and reported once, and `whileWatching` checks the
   * stream behind them still applies changes.
   */
  async function throwingListener(api: DstoreApi, streaming: () => boolean): Promise<void> {
    const prefix = `${freshKey()}/`;
    let thrown = 0;
    const reported: unknown[] = [];
    const seen: WatchEvent[] = [];
    api.watch(prefix, () => {
      thrown++;
      throw new Error('listener bug');
    }, { onError: (err) => reported.push(err) });
    const stop = api.watch(prefix, (e) => seen.push(e));
    cleanups.push(() => Promise.resolve(stop()));
    // The watch starts at the revision the stream starts from: write until the second watcher sees one.
    await eventually('the watchers to see a first change', async () => {
      await direct.txn({ success: [{ kind: 'put', key: `${prefix}first`, value: text('1') }] });
      return seen.length > 0;
    });
    const last = await direct.set(`${prefix}second`, text('2'));
    await eventually('the second watcher to see the later change', () => seen.some((e) => e.type === 'put' && e.kv.modRevision === last.revision));
    assert.equal(thrown, 1, 'the listener that threw is not called again');
    assert.equal(reported.length, 1);
    assert.match((reported[0] as Error).message, /listener bug/);
    assert.equal(streaming(), true);
  }

  it('a throwing watch listener on a linked Local is removed and reported; the stream and other watchers go on (fault 9)', async () => {
    const fatal: unknown[] = [];
    const local = Local.open({ global: cluster.addresses, onFatal: (err) => fatal.push(err) });
    cleanups.push(() => local.close());
    assert.equal(await local.ready(10_000), true);
    await throwingListener(local, () => local.streamStatus.state === 'streaming');
    const later = await direct.set(freshKey(), text('after'));
    await eventually('the Local to keep applying its stream', () => local.revision >= later.revision);
    assert.equal(local.leaseHeld, true);
    assert.deepEqual(fatal, []);
  });

  it('a throwing watch listener on an attached worker is removed and reported; other watchers go on (fault 9)', async () => {
    const { server } = await node();
    const worker = await attach(server.address);
    cleanups.push(() => worker.close());
    await throwingListener(worker, () => true);
  });

  it('drops a watcher that stops reading with RESOURCE_EXHAUSTED, holding a bounded backlog meanwhile (fault 10)', async () => {
    const { server } = await node({ subscribeStallMs: 300 });
    const worker = new GlobalClient({ addresses: [server.address] });
    cleanups.push(() => worker.close());
    const prefix = `${freshKey()}/`;
    const subscription = worker.subscribe({ fromRevision: 0, prefix, readAheadMax: 1 });
    cleanups.push(() => Promise.resolve(subscription.close()));
    assert.equal((await subscription.next()).done, false, 'the stream flows');
    assert.equal(server.subscribes, 1);
    // About 1 MB per revision; the worker reads none of it. Tens of MB pass before the node
    // server's writes stop completing (read-ahead and HTTP/2 buffers at each hop).
    const value = new Uint8Array(60 * 1024).fill(1);
    let written = 0;
    await eventually('the node server to drop the stalled watcher', async () => {
      if (server.subscribes === 0) return true;
      if (written < 100) {
        await direct.txn({ success: Array.from({ length: 16 }, (_, i) => ({ kind: 'put' as const, key: `${prefix}${written}-${i}`, value })) });
        written++;
      }
      return false;
    }, 20_000);
    let error: unknown = null;
    try {
      for (;;) if ((await subscription.next()).done === true) break;
    } catch (err) {
      error = err;
    }
    assert.equal((error as { name?: string } | null)?.name, 'ResourceExhaustedError');
    assert.match((error as Error).message, /subscribeStallMs/);
    assert.match((error as Error).message, /subscribe again from revision \d+/);
  });

  it("an attached worker's watch and bindings never run ahead of its node's cache (fault 9)", async () => {
    const held = new HeldClient({ addresses: cluster.addresses });
    const local = Local.open({ global: cluster.addresses, globalClient: held });
    cleanups.push(() => local.close());
    assert.equal(await local.ready(10_000), true);
    const server = await LocalServer.listen(local, '127.0.0.1:0');
    cleanups.push(() => server.stop());
    const worker = await attach(server.address);
    cleanups.push(() => worker.close());
    assert.equal(await worker.ready(10_000), true);
    const key = freshKey();
    await direct.set(key, text('v1'));
    assert.equal(str((await worker.get(key))?.value), 'v1');
    const seen: WatchEvent[] = [];
    const readInListener: (string | undefined)[] = [];
    worker.watch(key, (event) => {
      seen.push(event);
      readInListener.push(str(worker.getCached(key)));
    });
    // The node's stream stops here (every stream it opens, so it cannot catch up elsewhere).
    const gate = held.hold('stream');
    cleanups.push(() => Promise.resolve(gate.open()));
    const deleted = await direct.delete(key);
    await eventually("the node's lease to run out", () => !local.leaseHeld, 10_000);
    assert.equal(worker.stats().leaseValid, false, 'the worker lost its lease no later than its node');
    assert.equal(seen.length, 0, 'the delete did not reach the worker before its node applied it');
    assert.ok(worker.stats().revision < deleted.revision);
    assert.equal(worker.getCached(key), undefined, 'nothing is served without the lease');
    assert.equal(await worker.get(key), null, 'a read goes through the node to Global');
    gate.open();
    await eventually('the delete to reach the watch', () => seen.some((e) => e.type === 'delete' && e.revision === deleted.revision));
    assert.deepEqual(readInListener, [undefined], "the listener is called after the worker's cache applied the change");
    assert.equal(await worker.ready(10_000), true, 'the lease comes back with the stream');
  });

  it('says outcomeUnknown on a write that got no answer, not on a read', async () => {
    const { server, worker } = await node();
    const key = freshKey();
    await worker.set(key, text('v'));
    await server.stop();
    const write = await worker.set(freshKey(), text('w'), { deadlineMs: 300 }).then(() => null, (err: unknown) => err);
    assert.equal((write as { name?: string }).name, 'UnavailableError');
    assert.equal((write as { outcomeUnknown?: boolean }).outcomeUnknown, true, 'the write may have been applied');
    const read = await worker.get(key, { deadlineMs: 300 }).then(() => null, (err: unknown) => err);
    assert.equal((read as { outcomeUnknown?: boolean }).outcomeUnknown, false);
  });
});
