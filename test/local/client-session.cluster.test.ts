// Proves how the Global client uses its Session stream, against scripted fake Global servers
// (test/local/fake-global.ts, real grpc-js on 127.0.0.1): requests issued together share a
// frame (frame counts asserted, capped by frameRequestsMax and the server's own limit);
// responses out of order are matched by id; at most inFlightMax are unanswered; NOT_LEADER
// hints and status leader hints are followed without surfacing an error; a dead replica is
// failed over; a broken stream's requests are resent with the same WriteId and applied once;
// a malformed server frame fails its request and closes only that stream; retryable errors
// are retried with backoff until the deadline (exact delays, with a fake clock and seeded
// random), or the attempt budget when retriesMax is set, then surface as UnavailableError
// naming what failed. client-failover.cluster.test.ts covers dead leaders and outages.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { Backoff } from '../../src/protocol/backoff.ts';
import { GlobalClient, type GlobalClientConfig } from '../../src/local/client/client.ts';
import { CorruptError, InternalError, KeyOccupiedError, NotLeaderError, UnavailableError } from '../../src/protocol/errors.ts';
import { hashOf, hashToBytes } from '../../src/protocol/hash.ts';
import type { ClientRequest__Output } from '../../src/protocol/generated/dstore/v1/ClientRequest.ts';
import { FakeClock, SeededRandom } from './fake-clock.ts';
import { errorResponse, FakeGlobal, waitUntil } from './fake-global.ts';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array | null | undefined): string | undefined => (b ? new TextDecoder().decode(b) : undefined);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(replicaId = 1): Promise<FakeGlobal> {
  const s = await FakeGlobal.start(replicaId);
  cleanups.push(() => s.stop());
  return s;
}

function client(config: GlobalClientConfig): GlobalClient {
  const c = new GlobalClient({ backoffInitialMs: 2, backoffMaxMs: 20, ...config });
  cleanups.push(() => c.close());
  return c;
}

function writeIdOf(r: ClientRequest__Output): string {
  const id = r.set?.writeId ?? r.delete?.writeId ?? r.txn?.writeId;
  return `${id?.clientId}/${id?.requestId}`;
}

describe('client session: batching and matching', () => {
  it('sends requests issued in the same tick in one frame', async () => {
    const a = await server();
    const c = client({ addresses: [a.address] });
    await c.status(); // connected, limits known
    const framesBefore = a.frames.length;
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => c.get(`k${i}`)));
    assert.equal(results.length, 50);
    assert.deepEqual(a.frames.slice(framesBefore).map((f) => f.length), [50], 'one frame carried all 50 requests');
  });

  it('caps frames at frameRequestsMax, and at the server limit when that is lower', async () => {
    const a = await server();
    const c = client({ addresses: [a.address], frameRequestsMax: 8 });
    await c.status();
    let before = a.frames.length;
    await Promise.all(Array.from({ length: 20 }, (_, i) => c.get(`k${i}`)));
    assert.deepEqual(a.frames.slice(before).map((f) => f.length), [8, 8, 4]);

    const b = await server();
    b.status = { ...b.status, limits: { ...b.status.limits, frameRequestsMax: 5 } };
    const d = client({ addresses: [b.address] });
    await d.status();
    assert.equal(d.serverLimits?.frameRequestsMax, 5);
    before = b.frames.length;
    await Promise.all(Array.from({ length: 12 }, (_, i) => d.get(`k${i}`)));
    assert.deepEqual(b.frames.slice(before).map((f) => f.length), [5, 5, 2]);
  });

  it('matches responses that arrive out of order, in one frame or several, by id', async () => {
    const a = await server();
    const c = client({ addresses: [a.address] });
    for (const k of ['k1', 'k2', 'k3', 'k4']) await c.set(k, text(`value of ${k}`));
    a.onRequest = (r) => (r.body === 'get' ? 'hold' : a.answer(r));
    const gets = ['k1', 'k2', 'k3', 'k4'].map((k) => c.get(k));
    await waitUntil(() => a.held.length === 4, 'four held gets');
    const [h1, h2, h3, h4] = a.held.splice(0);
    a.reply(h1!.session, [a.answer(h4!.request), a.answer(h2!.request)]); // k4, k2 in one frame
    a.reply(h1!.session, [a.answer(h3!.request)]);
    a.reply(h1!.session, [a.answer(h1!.request)]);
    const values = (await Promise.all(gets)).map((g) => str(g.kv?.value));
    assert.deepEqual(values, ['value of k1', 'value of k2', 'value of k3', 'value of k4']);
  });

  it('keeps at most inFlightMax requests unanswered', async () => {
    const a = await server();
    const c = client({ addresses: [a.address], inFlightMax: 4 });
    await c.status();
    a.onRequest = (r) => (r.body === 'get' ? 'hold' : a.answer(r));
    const gets = Array.from({ length: 10 }, (_, i) => c.get(`k${i}`));
    await waitUntil(() => a.held.length === 4, 'the first four gets');
    assert.equal(a.userRequests().length, 4, 'nothing more is sent while four are unanswered');
    const first = a.held.splice(0);
    a.reply(first[0]!.session, first.map((h) => a.answer(h.request)));
    await waitUntil(() => a.held.length === 4, 'the next four gets');
    assert.equal(a.userRequests().length, 8);
    a.onRequest = (r) => a.answer(r);
    const rest = a.held.splice(0);
    a.reply(rest[0]!.session, rest.map((h) => a.answer(h.request)));
    assert.equal((await Promise.all(gets)).length, 10);
  });

  it('encodes a transaction in the wire types and decodes every kind of op result', async () => {
    const a = await server();
    a.status = { ...a.status, limits: { ...a.status.limits, valueInlineBytesMax: 2048 } };
    const c = client({ addresses: [a.address] });
    const large = new Uint8Array(5000).fill(9);
    const small = text('x');
    let seen: ClientRequest__Output | undefined;
    const kv = { key: 'k', hash: hashToBytes(hashOf(small)), size: 1, createRevision: 3, modRevision: 4, version: 2, value: Buffer.from(small), valueInline: true };
    a.onRequest = (r) => {
      if (r.body !== 'txn') return a.answer(r);
      seen = r;
      return {
        id: r.id,
        txn: {
          header: { revision: 7, replicaId: 1 },
          succeeded: true,
          results: [{ get: { found: true, kv } }, { written: kv }, { delete: { deleted: false } }, { range: { kvs: [kv], more: true } }, { number: '-5' }, { notRetained: true }],
        },
      };
    };
    const result = await c.txn({
      compares: [
        { key: 'k', target: 'version', operator: 'greater', number: 1 },
        { key: 'k', target: 'hash', operator: 'equal', hash: hashOf(small) },
        { key: 'n', target: 'exists', operator: 'equal', exists: false },
      ],
      success: [
        { kind: 'get', key: 'k', withValue: true },
        { kind: 'put', key: 'big', value: large },
        { kind: 'delete', key: 'gone' },
        { kind: 'range', range: { prefix: 'k', limit: 1 } },
        { kind: 'add', key: 'n', delta: -5n },
        { kind: 'get', key: 'k' },
      ],
      failure: [{ kind: 'putIfAbsent', key: 'k', value: small }],
    });
    const txn = seen!.txn!;
    assert.deepEqual(txn.compares.map((x) => `${x.target}/${x.operator}`), ['TARGET_VERSION/OPERATOR_GREATER', 'TARGET_HASH/OPERATOR_EQUAL', 'TARGET_EXISTS/OPERATOR_EQUAL']);
    assert.equal(txn.success[1]!.put!.value!.source, 'blobHash', 'a value above the inline limit went as a blob');
    assert.equal(a.blobs.has(hashOf(large)), true);
    assert.equal(txn.success[4]!.add!.delta, -5);
    assert.equal(txn.failure[0]!.putIfAbsent!.value!.source, 'inline');
    assert.match(txn.writeId!.clientId, /^[0-9a-f]{32}$/);
    assert.equal(result.revision, 7);
    assert.deepEqual(result.results.map((r) => r.kind), ['get', 'written', 'delete', 'range', 'number', 'notRetained']);
    const [got, , , range, num] = result.results;
    assert.equal(got?.kind === 'get' ? str(got.kv?.value) : null, 'x');
    assert.equal(range?.kind === 'range' ? range.more : null, true);
    assert.equal(num?.kind === 'number' ? num.value : null, -5n);
  });

  it('tells the server which answers it has (WriteId.firstIncomplete), so retries stay exactly-once with bounded memory', async () => {
    const a = await server();
    const c = client({ addresses: [a.address] });
    await c.set('w1', text('1'));
    await Promise.all([c.set('w2', text('2')), c.set('w3', text('3'))]);
    await c.delete('w1');
    const ids = a.userRequests().map((r) => r.set?.writeId ?? r.delete?.writeId ?? r.txn?.writeId ?? null);
    // Request 1 is the empty write that opens the session, answered before the first set.
    assert.deepEqual(a.userRequests()[0]?.txn, { compares: [], success: [], failure: [], writeId: { clientId: c.config.clientId, requestId: 1, firstIncomplete: 1 }, consistency: 'READ_CONSISTENCY_LINEARIZABLE', minRevision: 0 });
    assert.deepEqual(ids.map((w) => [w?.requestId, w?.firstIncomplete]), [[1, 1], [2, 2], [3, 3], [4, 3], [5, 5]]);
  });

  it('fails a request whose inline value does not match its hash with CorruptError; the stream stays', async () => {
    const a = await server();
    const c = client({ addresses: [a.address] });
    await c.set('k', text('true value'));
    const sessions = a.sessionsOpened;
    a.onRequest = (r) => {
      const answer = a.answer(r);
      if (answer.get?.kv) answer.get.kv = { ...answer.get.kv, value: Buffer.from('evil value') };
      return answer;
    };
    await assert.rejects(c.get('k'), CorruptError);
    a.onRequest = (r) => a.answer(r);
    assert.equal(str((await c.get('k')).kv?.value), 'true value');
    assert.equal(a.sessionsOpened, sessions);
  });

  it('refuses a call at once when queuedRequestsMax requests are already waiting', async () => {
    const a = await server();
    const c = client({ addresses: [a.address], queuedRequestsMax: 2 });
    const first = [c.get('a'), c.get('b')];
    await assert.rejects(c.get('c'), (err: unknown) => err instanceof UnavailableError && /queuedRequestsMax/.test(err.message));
    assert.equal((await Promise.all(first)).length, 2, 'the queued ones are served');
  });

  it('surfaces a non-retryable error once, as its class', async () => {
    const a = await server();
    const c = client({ addresses: [a.address] });
    await c.set('k', text('v1'));
    await assert.rejects(c.set('k', text('v2')), KeyOccupiedError);
    assert.equal(a.userRequests().filter((r) => r.body === 'set').length, 2, 'the refused SET was not retried');
  });
});

describe('client session: leaders, failover, broken streams', () => {
  it('follows a NOT_LEADER hint to another replica without surfacing the error, with the same WriteId', async () => {
    const follower = await server(1);
    const leader = await server(2);
    follower.status = { ...follower.status, isLeader: false, leaderId: 0, leaderAddress: '' };
    follower.onRequest = (r) => (r.body === 'status' ? follower.answer(r) : errorResponse(r.id, new NotLeaderError('replica 1 does not lead', leader.address)));
    const c = client({ addresses: [follower.address] }); // the leader is learned from the hint
    const states: string[] = [];
    c.onStatus((s) => states.push(`${s.state}@${s.address}`));
    const result = await c.set('k', text('v'));
    assert.equal(result.replicaId, 2);
    assert.equal(c.currentAddress, leader.address);
    assert.ok(states.includes(`connecting@${leader.address}`) && states.includes(`ready@${leader.address}`), states.join(' '));
    const [atFollower] = follower.userRequests();
    const [atLeader] = leader.userRequests();
    assert.equal(writeIdOf(atFollower!), writeIdOf(atLeader!), 'the resend carries the same WriteId');
    assert.equal(leader.applied.get(writeIdOf(atLeader!)), 1);
  });

  it('moves to the leader named by a replica status, before any NOT_LEADER', async () => {
    const follower = await server(1);
    const leader = await server(2);
    follower.status = { ...follower.status, isLeader: false, leaderId: 2, leaderAddress: leader.address };
    const c = client({ addresses: [follower.address, leader.address] });
    await c.get('warm-up'); // a follower may serve it; its status names the leader
    await waitUntil(() => c.currentAddress === leader.address && c.connectionStatus.state === 'ready', 'a session to the leader');
    const r = await c.get('x');
    assert.equal(r.replicaId, 2);
  });

  it('fails over to the next replica when one is down', async () => {
    const dead = await FakeGlobal.start(1);
    await dead.stop(); // its port now refuses connections
    const alive = await server(2);
    const c = client({ addresses: [dead.address, alive.address] });
    const states: string[] = [];
    c.onStatus((s) => states.push(`${s.state}@${s.address}`));
    const r = await c.get('k');
    assert.equal(r.replicaId, 2);
    assert.ok(states.includes(`transient-failure@${dead.address}`), states.join(' '));
    assert.equal(c.connectionStatus.state, 'ready');
  });

  it('resends in-flight writes with the same WriteId after the stream breaks; the server applies them once', async () => {
    const a = await server();
    const c = client({ addresses: [a.address] });
    await c.status();
    let dropped = 0;
    a.onRequest = (r) => {
      if (r.body !== 'set' || dropped > 0) return a.answer(r);
      dropped++;
      a.answer(r); // applied, but the answer is lost with the stream
      return 'hold';
    };
    const set = c.set('k', text('v'));
    await waitUntil(() => a.held.length === 1, 'the set to arrive');
    a.breakSessions();
    const result = await set;
    const id = writeIdOf(a.held[0]!.request);
    assert.equal(a.received.get(id), 2, 'sent twice, with one WriteId');
    assert.equal(a.applied.get(id), 1, 'applied once');
    assert.equal(result.kv.modRevision, 1, 'the first execution result');
    assert.ok(a.sessionsOpened >= 2);
  });

  it('closes only the stream that carried a malformed frame; its other requests go out again', async () => {
    const a = await server();
    const c = client({ addresses: [a.address] });
    await c.set('slow', text('s'));
    let holdSlow = true;
    a.onRequest = (r) => {
      if (r.body === 'get' && r.get?.key === 'bad') return { id: r.id, set: { header: { revision: 1 } } }; // answers a get with a set
      if (r.body === 'get' && r.get?.key === 'slow' && holdSlow) {
        holdSlow = false;
        return 'hold';
      }
      return a.answer(r);
    };
    const slow = c.get('slow');
    await waitUntil(() => a.held.length === 1, 'the slow get');
    const sessionsBefore = a.sessionsOpened;
    await assert.rejects(c.get('bad'), (err: unknown) => err instanceof InternalError && /malformed/.test(err.message));
    assert.equal(str((await slow).kv?.value), 's', 'the other request was answered on a new stream');
    assert.equal(a.sessionsOpened, sessionsBefore + 1);
  });
});

describe('client session: retries, backoff and deadlines', () => {
  it('retries a retryable error with the injected backoff and fails exactly at the deadline, not a backoff early', async () => {
    const a = await server();
    a.onRequest = (r) => (r.body === 'status' ? a.answer(r) : errorResponse(r.id, new UnavailableError('no quorum')));
    const clock = new FakeClock();
    const backoff = { backoffInitialMs: 100, backoffMaxMs: 400 };
    const c = client({ addresses: [a.address], clock, random: new SeededRandom(3), deadlineMs: 1000, ...backoff });

    // The schedule: every delay that ends before the deadline is a resend; the first one that
    // does not is cut short by the deadline.
    const expected: number[] = [];
    const model = new Backoff(backoff, new SeededRandom(3));
    for (let elapsed = 0; elapsed < 1000; ) {
      const d = model.nextDelayMs();
      expected.push(d);
      elapsed += d;
    }

    const startedAtMs = clock.nowMs();
    let outcome: unknown = null;
    c.get('k').then(
      () => (outcome = 'resolved'),
      (err: unknown) => (outcome = err),
    );
    const delays: number[] = [];
    for (;;) {
      await waitUntil(() => outcome !== null || clock.pending(true).length > 0, 'a retry timer or the outcome');
      if (outcome !== null) break;
      const [delay] = clock.pending(true);
      delays.push(delay!);
      const untilDeadlineMs = startedAtMs + 1000 - clock.nowMs();
      if (delay! < untilDeadlineMs) {
        clock.advance(delay!);
        continue;
      }
      clock.advance(untilDeadlineMs - 1);
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(outcome, null, 'still waiting 1 ms before the deadline');
      clock.advance(1);
      await waitUntil(() => outcome !== null, 'the deadline error');
    }
    assert.deepEqual(delays, expected, 'every delay came from the backoff schedule');
    assert.ok(outcome instanceof UnavailableError);
    assert.match(outcome.message, new RegExp(`^get "k": no answer within its 1000 ms deadline \\(${expected.length} attempts\\); last error from ${a.address}: UNAVAILABLE: no quorum`));
    assert.match(outcome.message, /raise deadlineMs$/);
    assert.equal(a.userRequests().length, expected.length);
  });

  it('stops after retriesMax resends with an error naming the attempts and the last error', async () => {
    const a = await server();
    // The session opens; the delete then finds no quorum.
    a.onRequest = (r) => (r.body === 'status' || r.body === 'txn' ? a.answer(r) : errorResponse(r.id, new UnavailableError('no quorum')));
    const c = client({ addresses: [a.address], retriesMax: 2, backoffInitialMs: 1, backoffMaxMs: 2 });
    await assert.rejects(c.delete('k'), (err: unknown) => {
      assert.ok(err instanceof UnavailableError);
      assert.match(err.message, /^delete "k": gave up after 3 attempts in \d+ ms; last error from .*: UNAVAILABLE: no quorum\. The write may or may not have been applied \(outcomeUnknown\)\. Check that/);
      assert.equal(err.outcomeUnknown, true);
      assert.ok(err.cause instanceof UnavailableError);
      return true;
    });
    const deletes = a.userRequests().filter((r) => r.body === 'delete');
    assert.equal(deletes.length, 3);
    assert.equal(new Set(deletes.map(writeIdOf)).size, 1, 'every retry carried the same WriteId');
  });

  it('fails queued requests with a typed error when no replica can be reached', async () => {
    const dead = await FakeGlobal.start();
    await dead.stop();
    const c = client({ addresses: [dead.address], retriesMax: 3, backoffInitialMs: 1, backoffMaxMs: 4 });
    await assert.rejects(c.get('k'), (err: unknown) => {
      assert.ok(err instanceof UnavailableError);
      assert.match(err.message, new RegExp(`gave up after 4 attempts .* last error from ${dead.address}: UNAVAILABLE: cannot reach Global replica ${dead.address}`));
      return true;
    });
    assert.equal(c.connectionStatus.state === 'transient-failure' || c.connectionStatus.state === 'connecting', true);
  });
});
