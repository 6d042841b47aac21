// Measures docs/limits.md's worst-case memory on a real replica process (issue 11 deliver 3):
// a replica started with scaled-down limits (test/global/fixtures/replica-with-options.ts) has
// every pool replicaMemoryTerms (src/global/server/memory-bound.ts) sums driven to its cap at once,
// and its peak resident set (/proc/<pid>/status VmHWM) must stay under the derived bound for
// those limits plus its baseline, measured before. Each pool is shown full by the refusal of
// one more: Subscribe and Session streams, client and peer uploads beyond their caps, and a
// Session frame beyond the bytes all Sessions may hold. The pools, over raw HTTP/2 (so a
// message can be left half sent): Subscribe streams from revision 1 that never read; Session
// frames that stay in flight (a transaction waiting for a revision not yet applied, whose
// hash keeps the frame's bytes, and a 1 MB value refused at once); on every Session a frame
// sent all but its last byte; PutBlob and StoreBlob uploads stopped within a chunk.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { replicaMemoryTerms, totalBytes, type MemoryLimits } from '../../src/global/server/memory-bound.ts';
import { GlobalClient } from '../../src/local/client/client.ts';
import { receiveBytesMax } from '../../src/protocol/receive-limit.ts';
import { GlobalProcess } from './process-harness.ts';
import { call, decode, encode, grpcMessage, halfMessage, RawConnections, RESOURCE_EXHAUSTED, UNAVAILABLE, vm } from './raw-grpc.ts';

const KIB = 1024;
const MIB = 1024 * KIB;
const LIMITS: MemoryLimits = {
  requestBytesMax: MIB,
  allSessionsBytesInFlightMax: 48 * MIB,
  sessionsMax: 32,
  subscribersMax: 32,
  bufferedBytesMax: 256 * KIB,
  clientTransfersMax: 16,
  peerTransfersMax: 16,
};
const SESSION_BYTES_MAX = 8 * MIB;
const OPTIONS = {
  limits: { requestBytesMax: LIMITS.requestBytesMax, sessionBytesInFlightMax: SESSION_BYTES_MAX, allSessionsBytesInFlightMax: LIMITS.allSessionsBytesInFlightMax },
  streams: { sessionsMax: LIMITS.sessionsMax, sessionsPerConnectionMax: LIMITS.sessionsMax, subscribesPerConnectionMax: LIMITS.subscribersMax },
  subscriptions: { subscribersMax: LIMITS.subscribersMax, bufferedBytesMax: LIMITS.bufferedBytesMax },
  blobs: { replication: { clientTransfersMax: LIMITS.clientTransfersMax, clientTransfersPerConnectionMax: LIMITS.clientTransfersMax, peerTransfersMax: LIMITS.peerTransfersMax, uploadIdleMs: 60_000 } },
  // The held transactions wait for a revision that never comes while the test runs.
  node: { readWaitMsMax: 60_000 },
};
/** The largest message the replica's gRPC receives (grpc.max_receive_message_length). */
const RECEIVE_BYTES_MAX = receiveBytesMax(LIMITS.requestBytesMax);

describe('worst-case memory of a replica process', () => {
  let replica: GlobalProcess;
  let dataDir: string;
  let address: string;
  let connections: RawConnections;
  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'dstore-memory-'));
    replica = GlobalProcess.startFixture('test/global/fixtures/replica-with-options.ts', [JSON.stringify(OPTIONS), dataDir]);
    address = (await replica.waitForLine(/listening on (\S+)/))[1]!;
    connections = new RawConnections(address);
  });
  after(async () => {
    connections.close();
    await replica.stop('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('stays under the bound derived from its limits with every pool at its cap', async () => {
    const bound = totalBytes(replicaMemoryTerms(1, LIMITS));
    // History for the subscribers to catch up on: 24 revisions of 64 keys of 1,000 bytes.
    const client = new GlobalClient({ addresses: [address] });
    let revision = 0;
    try {
      for (let r = 0; r < 24; r++) {
        const result = await client.txn({ success: Array.from({ length: 64 }, (_, i) => ({ kind: 'put' as const, key: `${String(r).padStart(2, '0')}/${i}/${'k'.repeat(990)}`, value: new Uint8Array(8) })) });
        revision = result.revision;
      }
    } finally {
      await client.close();
    }
    const baseline = vm(replica.pid, 'VmRSS');

    // Subscribe streams from revision 1 that never read, then one more: refused.
    const subscribes = connections.connect();
    const request = grpcMessage(encode('dstore.v1.SubscribeRequest', { fromRevision: 1 }));
    for (let i = 0; i < LIMITS.subscribersMax; i++) call(subscribes, '/dstore.v1.Global/Subscribe', false).stream.end(request);
    const extraSubscribe = call(subscribes, '/dstore.v1.Global/Subscribe', true);
    extraSubscribe.stream.end(request);
    await extraSubscribe.until('the subscribersMax refusal', () => extraSubscribe.status !== null);
    assert.equal(extraSubscribe.status?.code, RESOURCE_EXHAUSTED);

    // Session frames in flight up to allSessionsBytesInFlightMax: 1 MB frames, 8 per stream.
    const sessionsConnection = connections.connect();
    const sessions = Array.from({ length: LIMITS.sessionsMax }, () => call(sessionsConnection, '/dstore.v1.Global/Session', true));
    let id = 1;
    const heldFrame = (): Buffer => grpcMessage(encode('dstore.v1.ClientFrame', {
      requests: [
        { id: id++, txn: { compares: [{ key: 'held', target: 'TARGET_HASH', hash: randomBytes(32) }], success: [{ get: { key: 'held' } }], minRevision: revision + 1_000 } },
        { id: id++, set: { key: 'bulk', value: { inline: Buffer.alloc(1_000_000, 2) } } },
      ],
    }));
    const framesPerSession = 8;
    const heldSessions = Math.floor(LIMITS.allSessionsBytesInFlightMax / (framesPerSession * 1_010_000));
    for (let s = 0; s < heldSessions; s++) for (let f = 0; f < framesPerSession; f++) await sessions[s]!.write(heldFrame());
    // Each frame's bulk is refused at once (too large to inline); its wait keeps the frame held.
    for (let s = 0; s < heldSessions; s++) await sessions[s]!.until('the bulk refusals', () => sessions[s]!.answers.length >= framesPerSession);
    // The next stream's frames get in until all streams hold allSessionsBytesInFlightMax; then one is refused.
    const over = sessions[heldSessions]!;
    let refusal: { code: string; message: string } | undefined;
    for (let f = 0; f < framesPerSession && refusal === undefined; f++) {
      await over.write(heldFrame());
      await over.until('an answer', () => over.answers.length > f);
      const answer = decode('dstore.v1.ServerFrame', over.answers[f]!) as { responses: { error?: { code: string; message: string } }[] };
      if (answer.responses[0]?.error?.code === 'RESOURCE_EXHAUSTED') refusal = answer.responses[0].error;
    }
    assert.match(refusal?.message ?? 'no refusal', /all_sessions_bytes_in_flight_max/);

    // A frame being received on every Session, all but its last byte; then one Session more: refused.
    await Promise.all(sessions.map((s) => s.write(halfMessage(RECEIVE_BYTES_MAX))));
    const extraSession = call(sessionsConnection, '/dstore.v1.Global/Session', true);
    await extraSession.until('the sessionsMax refusal', () => extraSession.status !== null);
    assert.equal(extraSession.status?.code, RESOURCE_EXHAUSTED);

    // Uploads stopped within a chunk: client (PutBlob) and peer (StoreBlob) pools, one more each refused.
    for (const [path, max, code, metadata] of [
      ['/dstore.v1.Global/PutBlob', LIMITS.clientTransfersMax, RESOURCE_EXHAUSTED, {}],
      ['/dstore.v1.Replica/StoreBlob', LIMITS.peerTransfersMax, UNAVAILABLE, { 'dstore-cluster-id': 'memory-test' }],
    ] as const) {
      const uploads = connections.connect();
      const header = (): Buffer => grpcMessage(encode('dstore.v1.PutBlobRequest', { header: { size: 64 * MIB, hash: randomBytes(32) } }));
      await Promise.all(Array.from({ length: max }, async () => {
        const upload = call(uploads, path, true, metadata);
        await upload.write(header());
        await upload.write(halfMessage(RECEIVE_BYTES_MAX));
      }));
      const extra = call(uploads, path, true, metadata);
      extra.stream.write(header());
      await extra.until(`the ${path} cap's refusal`, () => extra.status !== null);
      assert.equal(extra.status?.code, code, `${path}: ${extra.status?.message ?? ''}`);
    }

    const peak = vm(replica.pid, 'VmHWM');
    const grown = peak - baseline;
    const mib = (n: number): string => `${(n / MIB).toFixed(1)} MiB`;
    console.log(`memory: baseline ${mib(baseline)}, peak ${mib(peak)} (+${mib(grown)}), derived bound ${mib(bound)}`);
    assert.ok(peak <= baseline + bound, `peak RSS ${mib(peak)} is over the baseline ${mib(baseline)} plus the derived bound ${mib(bound)}`);
    // The pools were really filled: most of the bound was used.
    assert.ok(grown >= bound / 2, `the replica grew only ${mib(grown)} of a ${mib(bound)} bound: the pools were not driven to their caps`);
  });
});
