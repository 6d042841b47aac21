// Measures docs/limits.md's worst-case memory of a Local's node server on a real process
// (issue 11 deliver 3), as test/global/memory.process.test.ts does for a replica: a Local and
// its node server started with scaled-down limits (test/local/fixtures/local-server-with-options.ts)
// against a real Global (one in-process replica) have every pool localServerMemoryTerms
// (src/local/node/memory-bound.ts) sums driven to its cap at once, and the process's peak resident
// set (/proc/<pid>/status VmHWM) must stay under the derived bound for those limits plus its
// baseline, measured before. Each pool is shown full by the refusal of one more (Session and
// Subscribe streams, uploads, upload bytes, Session bytes in flight) or, for forwarded
// Subscribes, by the stall that bounds them: a worker that reads nothing is dropped after
// subscribeStallMs, naming a revision far enough behind Global's last that every message the
// pool may hold was there to be held. The pools, over raw HTTP/2 (a message can be left half
// sent): Session frames that stay in flight (a Get waiting for a revision not yet applied, and
// a Get of an over-long key refused at once, the frame's bulk); on every Session a frame sent
// all but its last byte; PutBlob uploads holding their announced bytes and a message stopped
// within a chunk; Subscribes from revision 1 over 1 MB revisions, never read.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { totalBytes } from '../../src/global/server/memory-bound.ts';
import type { GlobalClient } from '../../src/local/client/client.ts';
import { validateLocalServerLimits } from '../../src/local/node/local-server.ts';
import { FORWARDED_MESSAGES_HELD, localServerMemoryTerms } from '../../src/local/node/memory-bound.ts';
import { receiveBytesMax } from '../../src/protocol/receive-limit.ts';
import { eventually, TestCluster } from '../global/cluster-harness.ts';
import { GlobalProcess } from '../global/process-harness.ts';
import { call, decode, encode, grpcMessage, halfMessage, RawConnections, RESOURCE_EXHAUSTED, type RawStream, vm } from '../global/raw-grpc.ts';

const KIB = 1024;
const MIB = 1024 * KIB;
const UPLOAD_BYTES = 2_000_000;
const LIMITS = validateLocalServerLimits({
  requestBytesMax: MIB,
  sessionsMax: 16,
  sessionsPerConnectionMax: 16,
  sessionBytesInFlightMax: 8 * MIB,
  allSessionsBytesInFlightMax: 32 * MIB,
  subscribesMax: 2,
  subscribesPerConnectionMax: 2,
  uploadsMax: 8,
  uploadsPerConnectionMax: 8,
  // Seven uploads of UPLOAD_BYTES reserve all of it; the eighth slot holds a message only.
  uploadBufferBytesMax: 7 * UPLOAD_BYTES,
  uploadIdleMs: 60_000,
  subscribeStallMs: 2_000,
});
/** The largest message the node server's gRPC receives (grpc.max_receive_message_length). */
const RECEIVE_BYTES_MAX = receiveBytesMax(LIMITS.requestBytesMax);
/** Revisions of Global's history, each of 1,024 keys of about 1 KiB: one Subscribe message of about 1.1 MB each. */
const REVISIONS = 24;

/** Every response in the Session answers `stream` received so far. */
function responses(stream: RawStream): { id: number; error?: { code: string; message: string } }[] {
  return stream.answers.flatMap((a) => (decode('dstore.v1.ServerFrame', a) as { responses: { id: number; error?: { code: string; message: string } }[] }).responses);
}

describe("worst-case memory of a Local's node server process", () => {
  let cluster: TestCluster;
  let local: GlobalProcess;
  let connections: RawConnections;
  let lastRevision = 0;
  before(async () => {
    cluster = await TestCluster.start(1);
    await cluster.waitForLeader();
    const client: GlobalClient = cluster.client();
    try {
      for (let r = 0; r < REVISIONS; r++) {
        const result = await client.txn({ success: Array.from({ length: 1024 }, (_, i) => ({ kind: 'put' as const, key: `${String(r).padStart(2, '0')}/${String(i).padStart(4, '0')}/${'k'.repeat(1000)}`, value: new Uint8Array(8) })) });
        lastRevision = result.revision;
      }
    } finally {
      await client.close();
    }
    local = GlobalProcess.startFixture('test/local/fixtures/local-server-with-options.ts', [cluster.addresses[0]!, JSON.stringify({ limits: LIMITS, local: { minRevisionWaitMs: 60_000 } })]);
    connections = new RawConnections((await local.waitForLine(/listening on (\S+)/))[1]!);
  });
  after(async () => {
    connections.close();
    await local.stop('SIGKILL');
    await cluster.stop();
  });

  it('stays under the bound derived from its limits with every pool at its cap', async () => {
    const bound = totalBytes(localServerMemoryTerms(LIMITS));
    const baseline = vm(local.pid, 'VmRSS');

    // Session frames in flight up to allSessionsBytesInFlightMax: frames of about 0.9 MB held, 8 per stream.
    const sessionsConnection = connections.connect();
    const sessions = Array.from({ length: LIMITS.sessionsMax }, () => call(sessionsConnection, '/dstore.v1.Global/Session', true));
    let id = 1;
    const heldFrame = (): Buffer => grpcMessage(encode('dstore.v1.ClientFrame', {
      requests: [
        { id: id++, get: { key: 'held', minRevision: lastRevision + 1_000 } },
        { id: id++, get: { key: 'x'.repeat(300_000) } },
      ],
    }));
    const framesPerSession = 8;
    const heldSessions = Math.floor(LIMITS.allSessionsBytesInFlightMax / (framesPerSession * 910_000));
    for (let s = 0; s < heldSessions; s++) for (let f = 0; f < framesPerSession; f++) await sessions[s]!.write(heldFrame());
    // Each frame's bulk is refused at once (the key is too long); its wait keeps the frame held.
    for (let s = 0; s < heldSessions; s++) await sessions[s]!.until('the bulk refusals', () => responses(sessions[s]!).length >= framesPerSession);
    for (let s = 0; s < heldSessions; s++) for (const r of responses(sessions[s]!)) assert.match(r.error?.message ?? '', /key/, JSON.stringify(r));
    // The next stream's frames get in until all streams hold allSessionsBytesInFlightMax; then one is refused.
    const over = sessions[heldSessions]!;
    let refusal: { code: string; message: string } | undefined;
    for (let f = 0; f < framesPerSession && refusal === undefined; f++) {
      await over.write(heldFrame());
      await over.until('an answer', () => responses(over).length > f);
      refusal = responses(over).find((r) => r.error?.code === 'RESOURCE_EXHAUSTED')?.error;
    }
    assert.match(refusal?.message ?? 'no refusal', /allSessionsBytesInFlightMax/);

    // A frame being received on every Session, all but its last byte; then one Session more: refused.
    // (Each "one more" comes on a connection of its own, so that the cap in all is the one it meets.)
    await Promise.all(sessions.map((s) => s.write(halfMessage(RECEIVE_BYTES_MAX))));
    const extraSession = call(connections.connect(), '/dstore.v1.Global/Session', true);
    await extraSession.until('the sessionsMax refusal', () => extraSession.status !== null);
    assert.equal(extraSession.status?.code, RESOURCE_EXHAUSTED);
    assert.match(extraSession.status?.message ?? '', /sessionsMax/);

    // Uploads holding every byte uploadBufferBytesMax allows, and one message each stopped within a chunk.
    const uploads = connections.connect();
    const header = (size: number): Buffer => grpcMessage(encode('dstore.v1.PutBlobRequest', { header: { size } }));
    const chunk = (offset: number): Buffer => grpcMessage(encode('dstore.v1.PutBlobRequest', { chunk: { offset, data: Buffer.alloc(UPLOAD_BYTES / 2, 3) } }));
    const upload = async (size: number): Promise<void> => {
      const u = call(uploads, '/dstore.v1.Global/PutBlob', true);
      await u.write(header(size));
      for (let at = 0; at < size; at += UPLOAD_BYTES / 2) await u.write(chunk(at));
      await u.write(halfMessage(RECEIVE_BYTES_MAX));
    };
    await Promise.all(Array.from({ length: LIMITS.uploadsMax - 1 }, () => upload(UPLOAD_BYTES)));
    const refused = async (size: number, what: RegExp): Promise<void> => {
      const extra = call(connections.connect(), '/dstore.v1.Global/PutBlob', true);
      extra.stream.write(header(size));
      await extra.until(`the ${String(what)} refusal`, () => extra.status !== null);
      assert.equal(extra.status?.code, RESOURCE_EXHAUSTED, extra.status?.message);
      assert.match(extra.status?.message ?? '', what);
    };
    await refused(1, /uploadBufferBytesMax/); // every announced byte is reserved
    await upload(0); // the last slot: a message being received, no bytes to reserve
    await refused(0, /uploadsMax/);

    // Subscribes from revision 1 that never read, then one more: refused. Each stalls with its
    // pool full (16 messages read ahead by grpc-js, 1 by the Local, 1 in hand, 2 unsent) and is
    // dropped after subscribeStallMs, which ends its subscription to Global.
    const hub = cluster.server(1).subscriptions;
    const before = hub.subscriberCount;
    const subscribesConnection = connections.connect();
    const request = grpcMessage(encode('dstore.v1.SubscribeRequest', { fromRevision: 1 }));
    const subscribes = Array.from({ length: LIMITS.subscribesMax }, () => call(subscribesConnection, '/dstore.v1.Global/Subscribe', false));
    for (const s of subscribes) s.stream.end(request);
    const extraSubscribe = call(connections.connect(), '/dstore.v1.Global/Subscribe', true);
    extraSubscribe.stream.end(request);
    await extraSubscribe.until('the subscribesMax refusal', () => extraSubscribe.status !== null);
    assert.equal(extraSubscribe.status?.code, RESOURCE_EXHAUSTED);
    assert.match(extraSubscribe.status?.message ?? '', /subscribesMax/);
    await eventually('the forwarded subscriptions to reach Global', () => hub.subscriberCount === before + LIMITS.subscribesMax);
    await eventually('the stalled subscriptions to be dropped', () => hub.subscriberCount === before, LIMITS.subscribeStallMs + 8_000);

    const peak = vm(local.pid, 'VmHWM');
    const grown = peak - baseline;
    const mib = (n: number): string => `${(n / MIB).toFixed(1)} MiB`;
    console.log(`memory: baseline ${mib(baseline)}, peak ${mib(peak)} (+${mib(grown)}), derived bound ${mib(bound)}`);
    assert.ok(peak <= baseline + bound, `peak RSS ${mib(peak)} is over the baseline ${mib(baseline)} plus the derived bound ${mib(bound)}`);
    // The pools were really filled: most of the bound was used.
    assert.ok(grown >= bound / 2, `the node server grew only ${mib(grown)} of a ${mib(bound)} bound: the pools were not driven to their caps`);

    // Each stalled worker, reading now, hears why it was dropped: far enough behind Global's
    // last revision that its stream could hold every message the pool allows.
    for (const s of subscribes) {
      s.stream.resume();
      await s.until('the stall', () => s.status !== null);
      assert.equal(s.status?.code, RESOURCE_EXHAUSTED, s.status?.message);
      const m = /read nothing for \d+ ms \(subscribeStallMs\).* after revision (\d+)/.exec(s.status?.message ?? '');
      assert.ok(m !== null, s.status?.message);
      assert.ok(Number(m[1]) + FORWARDED_MESSAGES_HELD <= lastRevision, `dropped after revision ${m[1]} of ${lastRevision}`);
    }
  });
});
