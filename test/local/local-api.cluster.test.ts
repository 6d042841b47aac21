// The worker-facing Local API (DstoreApi) against a real Global (one in-process replica),
// the same tests linked (`Local`) and attached (`attach()` -> `AttachedLocal` through a
// LocalServer): put, strings and JSON, getMany, per-call deadlines and AbortSignal, and the
// linked Local's linearizable reads. Held answers come from held-client.ts (the request is
// applied on Global, its answer waits at a gate); everything else is the real stack.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { attach, type AttachedLocal } from '../../src/local/node/attach.ts';
import { GlobalClient } from '../../src/local/client/client.ts';
import { Local, type DstoreApi } from '../../src/local/local.ts';
import { LocalServer } from '../../src/local/node/local-server.ts';
import { CancelledError, DeadlineExceededError, InvalidArgumentError, KeyOccupiedError, ResourceExhaustedError } from '../../src/protocol/errors.ts';
import { eventually, TestCluster } from '../global/cluster-harness.ts';
import { HeldClient, type Gate } from './held-client.ts';

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
const freshKey = (): string => `api/k${++keyCounter}`;
const globalRevision = async (): Promise<number> => (await direct.status()).appliedRevision;
const text = (b: Uint8Array | null | undefined): string | undefined => (b === null || b === undefined ? undefined : new TextDecoder().decode(b));

/** The API under test and the held client behind it (the linked Local's, or the node Local's). */
interface Subject {
  readonly api: DstoreApi;
  readonly held: HeldClient;
  /** Session frames the API's own client has sent (the linked Local's, or the worker's). */
  readonly frames: () => number;
}

async function linkedLocal(): Promise<Subject & { local: Local }> {
  const held = new HeldClient({ addresses: cluster.addresses });
  const local = Local.open({ global: cluster.addresses, globalClient: held, leaseMs: 5000 });
  cleanups.push(() => local.close());
  assert.equal(await local.ready(10_000), true);
  return { api: local, held, local, frames: () => held.framesSent };
}

async function attachedLocal(): Promise<Subject & { worker: AttachedLocal; local: Local }> {
  const held = new HeldClient({ addresses: cluster.addresses });
  const local = Local.open({ global: cluster.addresses, globalClient: held, leaseMs: 5000 });
  cleanups.push(() => local.close());
  assert.equal(await local.ready(10_000), true);
  const server = await LocalServer.listen(local, '127.0.0.1:0');
  cleanups.push(() => server.stop());
  const worker = await attach(server.address, { client: { backoffInitialMs: 5, backoffMaxMs: 20 } });
  cleanups.push(() => worker.close());
  return { api: worker, held, worker, local, frames: () => worker.client.framesSent };
}

/** Runs `body` with `call` held, then opens the gate (so nothing stays pending). */
async function holding(held: HeldClient, call: 'get' | 'txn', body: (gate: Gate) => Promise<void>): Promise<void> {
  const gate = held.hold(call);
  try {
    await body(gate);
  } finally {
    gate.open();
  }
}

for (const [mode, open] of [['linked', linkedLocal], ['attached', attachedLocal]] as const) {
  describe(`Local API ${mode}, against a real Global`, () => {
    let subject: Subject;
    before(async () => {
      subject = await open();
    });

    it('put overwrites, exactly once, and the writer reads it back; set stays put-if-absent', async () => {
      const { api } = subject;
      const key = freshKey();
      const first = await api.set(key, 'a');
      await assert.rejects(api.set(key, 'again'), KeyOccupiedError);
      const before = await globalRevision();
      const put = await api.put(key, 'b');
      assert.equal(await globalRevision(), before + 1, 'one put, one revision');
      assert.equal(put.kv.version, 2);
      assert.ok(put.revision > first.revision);
      const read = await api.get(key);
      assert.equal(text(read?.value), 'b', 'read-your-writes after put');
      assert.ok(read!.revision >= put.revision, 'the read says a revision at least the write');
      assert.equal(text((await direct.get(key)).kv?.value), 'b');
      const absent = freshKey();
      const created = await api.put(absent, new Uint8Array([1, 2]));
      assert.equal(created.kv.version, 1, 'put also creates');
    });

    it('strings and JSON beside bytes, with typed errors naming the key', async () => {
      const { api } = subject;
      const key = freshKey();
      await api.set(key, 'héllo');
      assert.equal(await api.getText(key), 'héllo');
      assert.deepEqual([...(await api.get(key))!.value], [...new TextEncoder().encode('héllo')]);
      const json = freshKey();
      await api.putJson(json, { n: 1, list: ['x'] });
      assert.deepEqual(await api.getJson<{ n: number }>(json), { n: 1, list: ['x'] });
      assert.equal(await api.getJson(freshKey()), null);
      assert.equal(await api.getText(freshKey()), null);
      await assert.rejects(api.getJson(key), (err: unknown) => err instanceof InvalidArgumentError && err.message.includes(JSON.stringify(key)) && /not valid JSON/.test(err.message));
      const binary = freshKey();
      await api.put(binary, new Uint8Array([0xff, 0xfe]));
      await assert.rejects(api.getText(binary), (err: unknown) => err instanceof InvalidArgumentError && err.message.includes(JSON.stringify(binary)) && /UTF-8/.test(err.message));
      // Bad arguments are rejections (never synchronous throws), as everywhere in the API.
      await assert.rejects(api.set('', 'x'), InvalidArgumentError);
      await assert.rejects(api.put('', 'x', { deadlineMs: 100 }), InvalidArgumentError);
      await assert.rejects(api.getMany([key, '']), InvalidArgumentError);
      await assert.rejects(api.putJson(key, undefined), InvalidArgumentError);
      await assert.rejects(api.get(key, { deadlineMs: 0 }), InvalidArgumentError);
      const replaced = await api.replace(key, 'next');
      assert.equal(replaced.replaced, true);
      assert.equal(await api.getText(key), 'next');
    });

    it('getMany answers in the order of the keys, missing ones with their revision', async () => {
      const { api } = subject;
      const [a, missing, b] = [freshKey(), freshKey(), freshKey()];
      await direct.set(a, new TextEncoder().encode('A'));
      const wb = await direct.set(b, new TextEncoder().encode('B'));
      await api.get(`${freshKey()}-sync`, { minRevision: wb.revision }); // the stream is at wb: no waits below
      const framesBefore = subject.frames();
      const reads = await api.getMany([b, missing, a, b], { minRevision: wb.revision });
      assert.deepEqual(reads.map((r) => text(r.found?.value)), ['B', undefined, 'A', 'B']);
      // One frame for the misses (a lease probe may add one); a read per key would be 3-4.
      assert.ok(subject.frames() - framesBefore <= 2, `${subject.frames() - framesBefore} frames for 3 misses`);
      for (const r of reads) assert.ok(r.revision >= wb.revision, `revision ${r.revision} >= ${wb.revision}`);
      assert.deepEqual(await api.getMany([]), []);
    });

    it('a read past its deadlineMs rejects with DeadlineExceededError, outcome known', async () => {
      const { api, held } = subject;
      const key = freshKey();
      await direct.set(key, new TextEncoder().encode('v'));
      await holding(held, 'get', async () => {
        const err = await api.get(key, { deadlineMs: 100 }).then(() => null, (e: unknown) => e);
        assert.ok(err instanceof DeadlineExceededError, `got ${String(err)}`);
        assert.equal(err.outcomeUnknown, false);
        assert.match(err.message, /100 ms deadline/);
      });
    });

    it('a write past its deadlineMs rejects with DeadlineExceededError and outcomeUnknown (it was applied)', async () => {
      const { api, held } = subject;
      const key = freshKey();
      await holding(held, 'txn', async () => {
        const err = await api.put(key, 'late', { deadlineMs: 100 }).then(() => null, (e: unknown) => e);
        assert.ok(err instanceof DeadlineExceededError, `got ${String(err)}`);
        assert.equal(err.outcomeUnknown, true);
        assert.equal(text((await direct.get(key)).kv?.value), 'late', 'Global applied it: the outcome was indeed unknown');
      });
    });

    it('an AbortSignal cancels: before sending nothing is written, after sending the outcome is unknown', async () => {
      const { api, held } = subject;
      const key = freshKey();
      const before = await globalRevision();
      const err1 = await api.put(key, 'x', { signal: AbortSignal.abort() }).then(() => null, (e: unknown) => e);
      assert.ok(err1 instanceof CancelledError, `got ${String(err1)}`);
      assert.equal(err1.outcomeUnknown, false);
      assert.equal(await globalRevision(), before, 'nothing written');
      await holding(held, 'txn', async (gate) => {
        const controller = new AbortController();
        const pending = api.put(key, 'y', { signal: controller.signal }).then(() => null, (e: unknown) => e);
        while (gate.waiting === 0) await new Promise((resolve) => setImmediate(resolve));
        controller.abort();
        const err2 = await pending;
        assert.ok(err2 instanceof CancelledError, `got ${String(err2)}`);
        assert.equal(err2.outcomeUnknown, true);
      });
      const controller = new AbortController();
      controller.abort();
      await assert.rejects(api.get(key, { signal: controller.signal }), CancelledError);
    });

    it('watchEvents: an async iterable that resumes from a revision, ended by its signal', async () => {
      const { api } = subject;
      const prefix = `${freshKey()}/`;
      const r1 = (await direct.set(`${prefix}a`, new TextEncoder().encode('1'))).revision;
      await direct.set(`${freshKey()}-outside`, new TextEncoder().encode('x'));
      const r2 = (await direct.txn({ success: [{ kind: 'delete', key: `${prefix}a` }] })).revision;
      await api.get(`${prefix}probe`, { minRevision: r2 }); // linked: the Local applied r2, so r1..r2 come from history
      const controller = new AbortController();
      const seen: string[] = [];
      let r3 = 0;
      for await (const event of api.watchEvents(prefix, { fromRevision: r1, signal: controller.signal })) {
        seen.push(event.type === 'put' ? `put ${event.kv.key} @${event.kv.modRevision}` : event.type === 'delete' ? `delete ${event.key} @${event.revision}` : `reset @${event.revision}`);
        if (seen.length === 2) r3 = (await direct.set(`${prefix}b`, new TextEncoder().encode('2'))).revision;
        if (seen.length === 3) controller.abort();
      }
      assert.deepEqual(seen, [`put ${prefix}a @${r1}`, `delete ${prefix}a @${r2}`, `put ${prefix}b @${r3}`]);
      const later = api.watchEvents(prefix, { fromRevision: r3 + 1, signal: AbortSignal.abort() });
      assert.equal((await later.next()).done, true, 'an aborted signal ends the loop at once');
    });

    it('watchEvents: a loop that falls bufferMax events behind ends with ResourceExhaustedError naming where to resume', async () => {
      const { api } = subject;
      const prefix = `${freshKey()}/`;
      const start = (await direct.set(`${prefix}0`, new TextEncoder().encode('0'))).revision;
      const events = api.watchEvents(prefix, { fromRevision: start + 1, bufferMax: 1 });
      const first = events.next(); // starts the watch
      const burst = await direct.txn({ success: [1, 2, 3].map((i) => ({ kind: 'put' as const, key: `${prefix}${i}`, value: new TextEncoder().encode(String(i)) })) });
      const got = await first;
      assert.equal(got.done, false);
      assert.equal(got.value?.type === 'put' ? got.value.kv.modRevision : 0, burst.revision);
      const err = await events.next().then(() => null, (e: unknown) => e);
      assert.ok(err instanceof ResourceExhaustedError, `got ${String(err)}`);
      assert.match(err.message, new RegExp(`fromRevision ${burst.revision} to resume`), 'the revision whose events were not all handed over');
    });
  });
}

describe('linked Local: consistency linearizable', () => {
  it('reads Global even when the key is cached, and refreshes the cache with the answer', async () => {
    const { local, held } = await linkedLocal();
    const key = freshKey();
    await direct.set(key, new TextEncoder().encode('v1'));
    assert.equal(text((await local.get(key))?.value), 'v1');
    assert.equal((await local.get(key))?.source, 'cache');
    // The stream is held: the Local has not seen the overwrite, and its lease still runs.
    const gate = held.hold('stream');
    try {
      const put = await direct.txn({ success: [{ kind: 'put', key, value: new TextEncoder().encode('v2') }] });
      const stale = await local.get(key);
      assert.equal(stale?.source, 'cache');
      assert.equal(text(stale?.value), 'v1', 'a cached read may be stale within the lease');
      const fresh = await local.get(key, { consistency: 'linearizable' });
      assert.equal(fresh?.source, 'global');
      assert.equal(text(fresh?.value), 'v2');
      assert.ok(fresh !== null && fresh.revision >= put.revision);
      const after = await local.get(key);
      assert.equal(text(after?.value), 'v2', 'monotonic: the cache holds the newer answer');
      assert.equal(after?.source, 'cache');
      const [many] = await local.getMany([key], { consistency: 'linearizable' });
      assert.equal(many?.source, 'global');
    } finally {
      gate.open();
    }
  });
});

describe('attached: parity', () => {
  it('an attached worker holds bindings of its own under the node\'s terms: ready, getCached and stats as linked', async () => {
    const { worker, local } = await attachedLocal();
    assert.equal(await worker.ready(5000), true);
    const key = freshKey();
    const w = await worker.put(key, 'v');
    assert.equal(text(worker.getCached(key)), 'v', 'its own write is in its own cache');
    const stats = worker.stats();
    assert.equal(stats.hits, 1);
    assert.equal(stats.leaseValid, true);
    assert.equal(stats.leaseMs, local.stats().leaseMs, "the node's lease");
    await eventually('the worker to apply its write from the node', () => worker.stats().revision >= w.revision);
  });

  it('consistency linearizable reads Global through the node even when the node has the key cached', async () => {
    const { worker, held } = await attachedLocal();
    const key = freshKey();
    await direct.set(key, new TextEncoder().encode('v1'));
    assert.equal(text((await worker.get(key))?.value), 'v1');
    const gate = held.hold('stream'); // the node's Local does not see the overwrite
    try {
      const put = await direct.txn({ success: [{ kind: 'put', key, value: new TextEncoder().encode('v2') }] });
      assert.equal(text((await worker.get(key))?.value), 'v1', "served from the node's cache, stale within its lease");
      const fresh = await worker.get(key, { consistency: 'linearizable' });
      assert.equal(text(fresh?.value), 'v2');
      assert.equal(fresh?.source, 'global');
      assert.ok(fresh !== null && fresh.revision >= put.revision);
      const many = await worker.getMany([freshKey(), key], { consistency: 'linearizable' });
      assert.deepEqual(many.map((r) => text(r.found?.value)), [undefined, 'v2']);
    } finally {
      gate.open();
    }
  });
});
