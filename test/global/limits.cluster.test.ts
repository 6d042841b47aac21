// Proves that what a client sends cannot crash a replica and is refused precisely (issue 5,
// item 12): oversized keys, values, request messages and Session frames; requests without a
// body, ops without a kind, unknown enum values; hashes that are not 32 bytes; malformed
// WriteIds; keys that are not UTF-8; garbage bytes in place of a message (sent with a raw
// gRPC client and an identity serializer); huge ranges. Each refusal is INVALID_ARGUMENT with
// a message naming the limit or the field; a refused Session frame closes only that stream;
// a refused request inside a frame is answered in band and the stream goes on. The replica
// answers Status after every test, so none of this took it down.
import * as grpc from '@grpc/grpc-js';
import { ServerDuplexStreamImpl } from '@grpc/grpc-js/build/src/server-call.js';
import { once } from 'node:events';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SERVER_LIMITS_DEFAULTS } from '../../src/global/server/global-server.ts';
import { checkServerLimits, RESPONSE_KV_BYTES_MAX } from '../../src/global/server/global-service.ts';
import { InvalidArgumentError } from '../../src/protocol/errors.ts';
import { STATE_MACHINE_DEFAULTS } from '../../src/global/state/state-machine.ts';
import type { ClientRequest } from '../../src/protocol/generated/dstore/v1/ClientRequest.ts';
import type { GlobalClient as WireClient } from '../../src/protocol/generated/dstore/v1/Global.ts';
import type { ServerFrame__Output } from '../../src/protocol/generated/dstore/v1/ServerFrame.ts';
import type { ServerResponse__Output } from '../../src/protocol/generated/dstore/v1/ServerResponse.ts';
import type { TxnResponse__Output } from '../../src/protocol/generated/dstore/v1/TxnResponse.ts';
import { dstoreProto, dstoreRoot } from '../../src/protocol/proto.ts';
import { TestCluster } from './cluster-harness.ts';
import { outcomeOf, rawSession, rawUnary, type Outcome } from './refusals.ts';

const REQUEST_BYTES_MAX = 256 * 1024;
const FRAME_REQUESTS_MAX = 256;
const RANGE_KEYS_MAX = 300;
const VALUE_INLINE_BYTES_MAX = STATE_MACHINE_DEFAULTS.valueInlineBytesMax;

let cluster: TestCluster;
let address: string;
let wire: WireClient;
let raw: grpc.Client;

before(async () => {
  cluster = await TestCluster.start(1, {
    limits: { requestBytesMax: REQUEST_BYTES_MAX, frameRequestsMax: FRAME_REQUESTS_MAX },
    node: { stateMachine: { ...STATE_MACHINE_DEFAULTS, rangeKeysMax: RANGE_KEYS_MAX } },
  });
  await cluster.waitForLeader();
  address = cluster.addresses[0]!;
  wire = new (dstoreProto().dstore.v1.Global)(address, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
  raw = new grpc.Client(address, grpc.credentials.createInsecure());
});

after(async () => {
  wire.close();
  raw.close();
  await cluster.stop();
});

/** Patches grpc-js's server call so each pause() also resolves `next` (a fresh promise per pause); restore() undoes it. */
function spyOnServerCallPause(): { next: Promise<void>; restore: () => void } {
  const proto = ServerDuplexStreamImpl.prototype as { pause: () => unknown };
  const pause = proto.pause;
  let wake: () => void = () => undefined;
  const spy = { next: new Promise<void>((resolve) => (wake = resolve)), restore: (): void => void (proto.pause = pause) };
  proto.pause = function (this: unknown): unknown {
    wake();
    spy.next = new Promise<void>((resolve) => (wake = resolve));
    return pause.call(this);
  };
  return spy;
}

/** Calls a unary method; resolves with the refusal (fails the test if the call succeeds). */
function refusal(method: 'Get' | 'Set' | 'Delete' | 'Txn' | 'Range' | 'MissingBlobs', request: object): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const fn = (wire[method] as unknown as (r: object, o: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: unknown) => void) => void).bind(wire);
    fn(request, { deadline: Date.now() + 5_000 }, (err, res) => {
      if (err === null) reject(new Error(`${method} succeeded: ${JSON.stringify(res)}`));
      else resolve(outcomeOf(err));
    });
  });
}

function unary<T>(method: 'Get' | 'Set' | 'Range' | 'Txn', request: object): Promise<T> {
  return new Promise((resolve, reject) => {
    const fn = (wire[method] as unknown as (r: object, o: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: T) => void) => void).bind(wire);
    fn(request, { deadline: Date.now() + 5_000 }, (err, res) => (err !== null || res === undefined ? reject(err ?? new Error('no response')) : resolve(res)));
  });
}

const ClientFrameType = dstoreRoot().lookupType('dstore.v1.ClientFrame');
const encodeFrame = (requests: ClientRequest[]): Buffer => Buffer.from(ClientFrameType.encode(ClientFrameType.fromObject({ requests })).finish());

/**
 * One Session: sends `frames`, half-closes, and collects every response until the server
 * ends the stream (resolves) or fails it (the error is returned with what came before).
 */
function session(frames: readonly ClientRequest[][]): Promise<{ responses: Map<number, ServerResponse__Output>; error: Outcome | null }> {
  return new Promise((resolve) => {
    const responses = new Map<number, ServerResponse__Output>();
    const call = wire.Session({ deadline: Date.now() + 10_000 });
    call.on('data', (f: ServerFrame__Output) => {
      for (const r of f.responses) responses.set(r.id, r);
    });
    call.on('error', (err: grpc.ServiceError) => resolve({ responses, error: outcomeOf(err) }));
    call.on('end', () => resolve({ responses, error: null }));
    for (const f of frames) call.write({ requests: f });
    call.end();
  });
}

async function assertAlive(): Promise<void> {
  const s = await cluster.status(1);
  assert.equal(s.replicaId, 1, 'the replica still answers Status');
}

const bytes = (n: number, fill = 0x61): Buffer => Buffer.alloc(n, fill);
const HASH_OK = Buffer.alloc(32, 7);

describe('limits: configuration', () => {
  it('every server limit is checked at start with a message naming it and its range', () => {
    const bad = (override: Partial<typeof SERVER_LIMITS_DEFAULTS>, message: string): void => {
      assert.throws(() => checkServerLimits({ ...SERVER_LIMITS_DEFAULTS, ...override }), (err: unknown) => err instanceof InvalidArgumentError && err.message === message);
    };
    checkServerLimits(SERVER_LIMITS_DEFAULTS);
    bad({ requestBytesMax: 1000 }, 'ServerLimits.requestBytesMax must be an integer in 65536..268435456, got 1000');
    bad({ requestBytesMax: 2 ** 29 }, `ServerLimits.requestBytesMax must be an integer in 65536..268435456, got ${2 ** 29}`);
    bad({ valueInlineBytesMax: 32 * 1024 * 1024 }, 'ServerLimits.valueInlineBytesMax must be an integer in 0..16777216, got 33554432');
    bad({ blobBytesMax: -1 }, 'ServerLimits.blobBytesMax must be an integer >= 0, got -1');
    bad({ frameRequestsMax: 255 }, 'ServerLimits.frameRequestsMax must be an integer in 256..65536, got 255');
    bad({ rangeKeysMax: 0.5 }, 'ServerLimits.rangeKeysMax must be an integer >= 1, got 0.5');
  });

  it('Status advertises the limits in force', async () => {
    const s = await cluster.status(1);
    assert.deepEqual(s.limits, { keyBytesMax: 1024, valueInlineBytesMax: VALUE_INLINE_BYTES_MAX, blobBytesMax: SERVER_LIMITS_DEFAULTS.blobBytesMax, requestBytesMax: REQUEST_BYTES_MAX, frameRequestsMax: FRAME_REQUESTS_MAX, rangeKeysMax: RANGE_KEYS_MAX });
  });
});

describe('limits: sizes', () => {
  it('a key over KEY_BYTES_MAX (1024 bytes of UTF-8) is INVALID_ARGUMENT / TOO_LARGE naming the limit', async () => {
    const long = 'k'.repeat(1025);
    const set = await refusal('Set', { key: long, value: { inline: bytes(1) } });
    assert.deepEqual(set, { code: grpc.status.INVALID_ARGUMENT, details: 'success op 0 key is 1025 bytes of UTF-8, over the limit of 1024: use a shorter key', dstoreError: 'TOO_LARGE' });
    const get = await refusal('Get', { key: 'é'.repeat(513) });
    assert.equal(get.details, 'key is 1026 bytes of UTF-8, over the limit of 1024: use a shorter key');
    const range = await refusal('Range', { start: 'a', end: 'z'.repeat(2000) });
    assert.equal(range.details, 'range end is 2000 bytes of UTF-8, over the limit of 1024: use a shorter key');
    const cmp = await refusal('Txn', { compares: [{ key: 'x'.repeat(1100), target: 'TARGET_EXISTS', operator: 'OPERATOR_EQUAL', exists: true }], success: [], failure: [] });
    assert.equal(cmp.details, 'compare 0 key is 1100 bytes of UTF-8, over the limit of 1024: use a shorter key');
    const empty = await refusal('Delete', { key: '' });
    assert.deepEqual(empty, { code: grpc.status.INVALID_ARGUMENT, details: 'success op 0 key is empty: keys are 1..1024 bytes of UTF-8', dstoreError: 'INVALID_ARGUMENT' });
    const ok = await unary<{ kv: { key: string } }>('Set', { key: 'k'.repeat(1024), value: { inline: bytes(1) } });
    assert.equal(ok.kv.key.length, 1024, 'exactly 1024 bytes is accepted');
    await assertAlive();
  });

  it('an inline value over valueInlineBytesMax is refused, pointing at PutBlob', async () => {
    const o = await refusal('Set', { key: 'big', value: { inline: bytes(VALUE_INLINE_BYTES_MAX + 1) } });
    assert.equal(o.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(o.details, `success op 0: inline value of ${VALUE_INLINE_BYTES_MAX + 1} bytes is over ${VALUE_INLINE_BYTES_MAX}: upload it with PutBlob and refer to it by blob_hash`);
    await assertAlive();
  });

  it('a request message over requestBytesMax is INVALID_ARGUMENT naming the limit, before decoding', async () => {
    const o = await refusal('Txn', { success: Array.from({ length: 8 }, (_, i) => ({ put: { key: `t${i}`, value: { inline: bytes(40_000) } } })), compares: [], failure: [] });
    assert.equal(o.code, grpc.status.INVALID_ARGUMENT);
    assert.match(o.details, new RegExp(`^Txn message of \\d+ bytes is over the request limit of ${REQUEST_BYTES_MAX} bytes \\(limits.request_bytes_max\\): send less per message$`));
    assert.equal(o.dstoreError, 'TOO_LARGE');
    const s = await session([Array.from({ length: 8 }, (_, i) => ({ id: i + 1, set: { key: `s${i}`, value: { inline: bytes(40_000) } } }))]);
    assert.equal(s.error?.code, grpc.status.INVALID_ARGUMENT);
    assert.match(s.error?.details ?? '', /^Session message of \d+ bytes is over the request limit of 262144 bytes/);
    await assertAlive();
  });

  it('a Session frame of more than frameRequestsMax requests closes that stream only', async () => {
    const ok = session([[{ id: 1, get: { key: 'other-stream' } }]]);
    const s = await session([Array.from({ length: FRAME_REQUESTS_MAX + 1 }, (_, i) => ({ id: i + 1, get: { key: 'k' } }))]);
    assert.deepEqual(s.error, { code: grpc.status.INVALID_ARGUMENT, details: `frame of ${FRAME_REQUESTS_MAX + 1} requests is over the limit of ${FRAME_REQUESTS_MAX} (limits.frame_requests_max): send smaller frames`, dstoreError: 'INVALID_ARGUMENT' });
    assert.equal(s.responses.size, 0);
    const other = await ok;
    assert.equal(other.error, null);
    assert.equal(other.responses.get(1)?.get?.found, false, 'the other stream was answered');
    const full = await session([Array.from({ length: FRAME_REQUESTS_MAX }, (_, i) => ({ id: i + 1, get: { key: 'k' } }))]);
    assert.equal(full.error, null);
    assert.equal(full.responses.size, FRAME_REQUESTS_MAX, 'a frame of exactly the limit is answered in full');
  });
});

describe('limits: malformed requests', () => {
  it('garbage bytes as a Session frame close that stream with INVALID_ARGUMENT; as a unary request, the call', async () => {
    const junk = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02]);
    const s = await rawSession(raw, [junk]);
    assert.equal(s.code, grpc.status.INVALID_ARGUMENT);
    assert.match(s.details, /^Session message of 7 bytes does not decode as its protobuf type: /);
    const g = await rawUnary(raw, '/dstore.v1.Global/Get', junk);
    assert.equal(g.code, grpc.status.INVALID_ARGUMENT);
    assert.match(g.details, /^Get message of 7 bytes does not decode as its protobuf type: /);
    // A valid frame, then garbage: the first is answered or not, but the stream ends cleanly refused.
    const mixed = await rawSession(raw, [encodeFrame([{ id: 1, get: { key: 'a' } }]), Buffer.from([0x0a, 0x7f])]);
    assert.equal(mixed.code, grpc.status.INVALID_ARGUMENT);
    await assertAlive();
  });

  it('a key that is not UTF-8 is refused, not silently renamed', async () => {
    // GetRequest{key = "f", 0xff, "g"}: field 1, wire type 2, length 3.
    const o = await new Promise<Outcome>((resolve, reject) => {
      raw.makeUnaryRequest('/dstore.v1.Global/Get', (b: Buffer) => b, (b: Buffer) => b, Buffer.from([0x0a, 0x03, 0x66, 0xff, 0x67]), { deadline: Date.now() + 5_000 }, (err) => {
        if (err === null) reject(new Error('accepted a key that is not UTF-8'));
        else resolve(outcomeOf(err));
      });
    });
    assert.deepEqual(o, { code: grpc.status.INVALID_ARGUMENT, details: 'key contains U+FFFD, which stands for bytes that are not UTF-8: keys must be valid UTF-8 and may not contain U+FFFD', dstoreError: 'INVALID_ARGUMENT' });
    const set = await refusal('Set', { key: 'a\uFFFDb', value: { inline: bytes(1) } });
    assert.equal(set.details, 'success op 0 key contains U+FFFD, which stands for bytes that are not UTF-8: keys must be valid UTF-8 and may not contain U+FFFD');
  });

  it('requests without a body, ops without a kind and unknown enum values are answered in band; the stream goes on', async () => {
    const s = await session([[
      { id: 1 },
      { id: 2, txn: { success: [{}], compares: [], failure: [] } },
      { id: 3, txn: { compares: [{ key: 'k', target: 'TARGET_VERSION', operator: 9 as never, number: 1 }], success: [], failure: [] } },
      { id: 4, txn: { compares: [{ key: 'k', target: 7 as never, operator: 'OPERATOR_EQUAL' }], success: [], failure: [] } },
      { id: 5, txn: { compares: [{ key: 'k', target: 'TARGET_VERSION', operator: 'OPERATOR_LESS', number: 1 }], success: [{ range: {} }], failure: [] } },
      { id: 6, txn: { compares: [{ key: 'k', target: 'TARGET_EXISTS', operator: 'OPERATOR_LESS' }], success: [], failure: [] } },
      { id: 7, get: { key: 'still-answered' } },
    ]]);
    assert.equal(s.error, null);
    const err = (id: number): string => s.responses.get(id)?.error?.message ?? `(no error for ${id})`;
    assert.equal(err(1), 'request 1 has no body: set one of get, set, delete, txn, range, missing_blobs, status');
    assert.equal(err(2), 'success op 0: op has no kind set: set one of get, put, put_if_absent, delete, range, list_append, map_store, map_delete, add');
    assert.equal(err(3), 'compare 0: unknown operator 9');
    assert.equal(err(4), 'compare 0: unknown compare target 7');
    assert.equal(err(5), 'success op 0: range op without a range');
    assert.equal(err(6), 'compare 0: TARGET_EXISTS compares only with OPERATOR_EQUAL or OPERATOR_NOT_EQUAL');
    for (const id of [1, 2, 3, 4, 5, 6]) assert.equal(s.responses.get(id)?.error?.code, 'INVALID_ARGUMENT');
    assert.equal(s.responses.get(7)?.get?.found, false);
  });

  it('hashes that are not 32 bytes are refused by field; a bad missing_blobs hash does not crash the replica', async () => {
    const s = await session([[
      { id: 1, missingBlobs: { hashes: [HASH_OK, Buffer.from([1, 2, 3])] } },
      { id: 2, set: { key: 'h', value: { blobHash: Buffer.alloc(5) } } },
      { id: 3, txn: { compares: [{ key: 'h', target: 'TARGET_HASH', operator: 'OPERATOR_EQUAL', hash: Buffer.alloc(33) }], success: [], failure: [] } },
      { id: 4, missingBlobs: { hashes: [HASH_OK] } },
      { id: 5, missingBlobs: { hashes: Array.from({ length: FRAME_REQUESTS_MAX + 1 }, () => HASH_OK) } },
    ]]);
    assert.equal(s.error, null);
    assert.equal(s.responses.get(1)?.error?.message, 'missing_blobs hash 1 must be a 32-byte BLAKE3 hash, got 3 bytes');
    assert.equal(s.responses.get(2)?.error?.message, 'success op 0: blob_hash must be a 32-byte BLAKE3 hash, got 5 bytes');
    assert.equal(s.responses.get(3)?.error?.message, 'compare 0: hash must be a 32-byte BLAKE3 hash, got 33 bytes');
    assert.equal(s.responses.get(4)?.missingBlobs?.missing.length, 1);
    assert.equal(s.responses.get(5)?.error?.message, `missing_blobs asks about ${FRAME_REQUESTS_MAX + 1} hashes, over ${FRAME_REQUESTS_MAX}: split it`);
    const unaryBad = await refusal('MissingBlobs', { hashes: [Buffer.alloc(31)] });
    assert.deepEqual(unaryBad, { code: grpc.status.INVALID_ARGUMENT, details: 'missing_blobs hash 0 must be a 32-byte BLAKE3 hash, got 31 bytes', dstoreError: 'INVALID_ARGUMENT' });
    await assertAlive();
  });

  it('malformed WriteIds are refused', async () => {
    const o1 = await refusal('Set', { key: 'w', value: { inline: bytes(1) }, writeId: { clientId: 'c'.repeat(16), requestId: 0 } });
    assert.equal(o1.details, 'write_id.request_id must be a positive integer, got 0');
    const o2 = await refusal('Set', { key: 'w', value: { inline: bytes(1) }, writeId: { clientId: 'é'.repeat(33), requestId: 1 } });
    assert.equal(o2.details, 'write_id.client_id is 66 bytes of UTF-8, over the limit of 64');
    const o3 = await refusal('Delete', { key: 'w', writeId: { clientId: 'c'.repeat(16), requestId: 2 ** 60 } });
    assert.equal(o3.details, `write_id.request_id must be a positive integer, got ${2 ** 60}`);
    await assertAlive();
  });

  it('a WriteId is optional (global.proto): without one a write runs each time it is sent; with one, once', async () => {
    const add = (writeId?: object): Promise<TxnResponse__Output> => unary('Txn', { compares: [], success: [{ add: { key: 'optional-write-id', delta: 1 } }], failure: [], ...(writeId === undefined ? {} : { writeId }) });
    assert.equal((await add()).results[0]?.number, '1');
    assert.equal((await add()).results[0]?.number, '2', 'sent again without a WriteId: ran again');
    const writeId = { clientId: 'optional-write-id-client', requestId: 1 };
    assert.equal((await add(writeId)).results[0]?.number, '3');
    assert.equal((await add(writeId)).results[0]?.number, '3', 'sent again with the same WriteId: the first result');
    const emptyClient = await add({ clientId: '', requestId: 7 });
    assert.equal(emptyClient.results[0]?.number, '4', 'an empty client_id is the same as no WriteId');
  });

  it('an add delta beyond 2^53 is refused', async () => {
    const o = await refusal('Txn', { success: [{ add: { key: 'n', delta: 2 ** 60 } }], compares: [], failure: [] });
    assert.equal(o.details, `success op 0: add delta ${2 ** 60} is not a safe integer`);
  });
});

describe('limits: huge ranges', () => {
  it('a range asking for any number of keys gets at most rangeKeysMax, with more = true', async () => {
    const writes = Array.from({ length: RANGE_KEYS_MAX + 3 }, (_, i) => ({ id: i + 1, set: { key: `r/${i}`, value: { inline: bytes(1) } } }));
    const w = await session([writes.slice(0, FRAME_REQUESTS_MAX), writes.slice(FRAME_REQUESTS_MAX)]);
    assert.equal([...w.responses.values()].filter((r) => r.set !== null).length, RANGE_KEYS_MAX + 3);
    const r = await unary<{ kvs: unknown[]; more: boolean }>('Range', { prefix: 'r/', limit: 4_294_967_295 });
    assert.equal(r.kvs.length, RANGE_KEYS_MAX);
    assert.equal(r.more, true);
    const t = await unary<{ results: { range: { kvs: unknown[]; more: boolean } }[] }>('Txn', { success: [{ range: { range: { prefix: 'r/', limit: 0 } } }], compares: [], failure: [] });
    assert.equal(t.results[0]?.range.kvs.length, RANGE_KEYS_MAX);
    assert.equal(t.results[0]?.range.more, true);
  });

  it(`a range whose values exceed RESPONSE_KV_BYTES_MAX (${RESPONSE_KV_BYTES_MAX} bytes) is cut short with more = true`, async () => {
    // Values of the inline maximum: how many fit in the response limit, plus a few.
    const valueBytes = VALUE_INLINE_BYTES_MAX;
    const keys = Math.ceil(RESPONSE_KV_BYTES_MAX / valueBytes) + 2;
    const value = bytes(valueBytes, 0x62);
    const writes = Array.from({ length: keys }, (_, i) => ({ id: i + 1, set: { key: `big/${String(i).padStart(4, '0')}`, value: { inline: value } } }));
    // Sent in frames that stay under the test's request limit.
    const w = await session(writes.map((r) => [r]));
    assert.equal(w.error, null);
    assert.equal([...w.responses.values()].filter((r) => r.set !== null).length, keys);
    // The whole set, read back in pages whose size the limit bounds.
    const pages: number[] = [];
    let start = 'big/';
    for (;;) {
      const r = await unary<{ kvs: { key: string; value: Buffer }[]; more: boolean }>('Range', { start, end: 'big0', withValues: true, consistency: 'READ_CONSISTENCY_SERIALIZABLE' });
      pages.push(r.kvs.length);
      assert.ok(r.kvs.every((kv) => kv.value.length === valueBytes));
      if (!r.more) break;
      start = `${r.kvs.at(-1)!.key}\0`;
      if (pages.length > keys) assert.fail('no progress');
    }
    assert.ok(pages.length >= 2, `cut into pages: ${pages.join(', ')}`);
    assert.equal(pages.reduce((a, b) => a + b, 0), keys, 'every key came back exactly once');
    assert.ok(pages[0]! < RANGE_KEYS_MAX, 'the first page was cut by bytes, not by the key limit');
    assert.ok(pages[0]! * valueBytes <= RESPONSE_KV_BYTES_MAX);
  });
});

describe('limits: Session flow control', () => {
  it('a client that stops reading answers makes the server stop reading its requests; every request is answered once it reads again', async () => {
    const FRAMES_MAX = 400; // 102,400 requests: far more than the server buffers for one stream
    // The server stopping to read is an event: its side of a call pauses (global-service.ts
    // session()). A spy on grpc-js's server call says when, instead of a quiet second taken as proof.
    const serverPaused = spyOnServerCallPause();
    const call = wire.Session();
    const answered = new Set<number>();
    let allAnswered: () => void = () => undefined;
    let expected = Number.POSITIVE_INFINITY;
    const done = new Promise<void>((resolve) => {
      allAnswered = resolve;
    });
    call.on('data', (f: ServerFrame__Output) => {
      for (const r of f.responses) {
        assert.equal(r.get?.found, false, `request ${r.id} answered with a get`);
        answered.add(r.id);
      }
      if (answered.size >= expected) allAnswered();
    });
    call.on('error', () => undefined);
    call.pause(); // the client stops reading answers
    let frames = 0;
    let stalled = false;
    try {
      while (!stalled && frames < FRAMES_MAX) {
        const requests = Array.from({ length: FRAME_REQUESTS_MAX }, (_, i) => ({ id: frames * FRAME_REQUESTS_MAX + i + 1, get: { key: 'fc', consistency: 'READ_CONSISTENCY_SERIALIZABLE' as const } }));
        frames++;
        if (call.write({ requests })) continue;
        // Our buffer is full: it drains only while the server reads. Either it drains, or the
        // server stops reading (it holds too many unanswered or unsent answers).
        stalled = await Promise.race([once(call, 'drain').then(() => false), serverPaused.next.then(() => true)]);
      }
    } finally {
      serverPaused.restore();
    }
    assert.ok(stalled, `the server kept reading all ${frames} frames while the client read nothing`);
    expected = frames * FRAME_REQUESTS_MAX;
    call.resume();
    await done;
    call.end();
    assert.equal(answered.size, expected, 'every request answered exactly once');
    await assertAlive();
  });
});
