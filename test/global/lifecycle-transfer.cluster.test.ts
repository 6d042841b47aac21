// Proves the snapshot transfer on its own, against peers the test controls: the fetcher
// refuses a snapshot whose bytes do not hash to what the sender announced (nothing installed,
// no partial file left), moves on to another peer and installs that one's verified snapshot;
// it keeps retrying a peer that holds no snapshot new enough and stops once the replica has
// caught up some other way. Also the pure `recoveredAbove` (where consensus restarts when the
// newest snapshot is ahead of the WAL's compaction point).
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { systemClock, systemRandom } from '../../src/protocol/backoff.ts';
import { createLogger } from '../../src/protocol/log.ts';
import { hashOf, hashToBytes } from '../../src/protocol/hash.ts';
import type { FetchSnapshotRequest__Output } from '../../src/protocol/generated/dstore/v1/FetchSnapshotRequest.ts';
import type { SnapshotChunk } from '../../src/protocol/generated/dstore/v1/SnapshotChunk.ts';
import { dstoreProto } from '../../src/protocol/proto.ts';
import type { LogEntry, RecoveredState } from '../../src/consensus/index.ts';
import { recoveredAbove } from '../../src/global/replica/snapshots.ts';
import { grpcSnapshotSource, serveSnapshot, SnapshotFetcher } from '../../src/global/peers/snapshot-transfer.ts';
import { CLUSTER_MISMATCH } from '../../src/global/peers/peer-transport.ts';
import { NodeFileSystem } from '../../src/global/storage/fs.ts';
import { SnapshotStore } from '../../src/global/storage/snapshot-store.ts';
import { eventually } from './cluster-harness.ts';

type FetchCall = grpc.ServerWritableStream<FetchSnapshotRequest__Output, SnapshotChunk>;

async function serve(fetchSnapshot: (call: FetchCall) => void): Promise<{ server: grpc.Server; address: string }> {
  const server = new grpc.Server();
  server.addService(dstoreProto().dstore.v1.Replica.service, { FetchSnapshot: fetchSnapshot });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err === null ? resolve(p) : reject(err)));
  });
  return { server, address: `127.0.0.1:${port}` };
}

describe('snapshot transfer between replicas', () => {
  const dirs: string[] = [];
  const servers: grpc.Server[] = [];
  const payload = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 251));
  const THROUGH = 100;
  let peers: Map<number, string>;

  const tempDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'dstore-transfer-'));
    dirs.push(dir);
    return dir;
  };
  const store = (dir: string): Promise<SnapshotStore> => SnapshotStore.open({ fs: new NodeFileSystem(), dir, config: { chunkBytes: 64 * 1024 } });

  before(async () => {
    // Peer 1 lies: it announces the real size and hash but flips one byte of the payload.
    const liar = await serve((call) => {
      const bad = Buffer.from(payload);
      bad[123_456] = bad[123_456]! ^ 0xff;
      call.write({ throughInstance: THROUGH, size: payload.byteLength, hash: hashToBytes(hashOf(payload)), offset: 0, data: bad });
      call.end();
    });
    // Peer 2 serves a real snapshot store through the production handler.
    const honestStore = await store(tempDir());
    await honestStore.write(THROUGH, [payload]);
    const honest = await serve((call) => serveSnapshot(honestStore, call, 'test'));
    servers.push(liar.server, honest.server);
    peers = new Map([[1, liar.address], [2, honest.address]]);
  });
  after(() => {
    for (const s of servers) s.forceShutdown();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  const fetcherFor = (snapshots: SnapshotStore, applied: () => number, installs: [number, Buffer][], logs: string[]): SnapshotFetcher =>
    new SnapshotFetcher({
      peers,
      source: grpcSnapshotSource(peers, 'test', grpc.credentials.createInsecure()),
      clock: systemClock,
      random: systemRandom,
      snapshots,
      install: (through, bytes) => {
        installs.push([through, Buffer.from(bytes)]);
        return Promise.resolve();
      },
      appliedInstance: applied,
      log: createLogger({ level: 'debug', format: 'logfmt', write: (line) => logs.push(line) }),
      config: { backoff: { backoffInitialMs: 10, backoffMaxMs: 50 } },
    });

  it('refuses a snapshot that fails its hash and installs a verified one from another peer', async () => {
    const dir = tempDir();
    const snapshots = await store(dir);
    const installs: [number, Buffer][] = [];
    const logs: string[] = [];
    const fetcher = fetcherFor(snapshots, () => 0, installs, logs);
    fetcher.request(1, 50);
    await eventually('an installed snapshot', () => installs.length > 0);
    await fetcher.close();
    assert.equal(installs.length, 1);
    assert.equal(installs[0]![0], THROUGH);
    assert.ok(installs[0]![1].equals(payload), 'the installed bytes are the honest peer\'s');
    assert.ok(logs.some((l) => l.includes('event=snapshot.fetch_failed') && l.includes('peer=1') && l.includes('BLAKE3')), `the lie was caught: ${JSON.stringify(logs)}`);
    assert.equal(snapshots.latest()?.throughInstance, THROUGH);
    assert.deepEqual(readdirSync(dir), ['0000000000000100.snap'], 'no partial file is left behind');
  });

  it('refuses a snapshot request from another cluster', async () => {
    const client = new (dstoreProto().dstore.v1.Replica)(peers.get(2)!, grpc.credentials.createInsecure());
    try {
      const metadata = new grpc.Metadata();
      metadata.set('dstore-cluster-id', 'someone-else');
      const call = (client as unknown as { FetchSnapshot(req: object, md: grpc.Metadata): grpc.ClientReadableStream<unknown> }).FetchSnapshot({ minThroughInstance: 1 }, metadata);
      const status = await new Promise<grpc.ServiceError>((resolve) => {
        call.on('data', () => {});
        call.on('error', resolve);
      });
      assert.equal(status.code, grpc.status.INVALID_ARGUMENT);
      assert.equal(status.details, `snapshot request: ${CLUSTER_MISMATCH}`, 'names neither cluster id');
    } finally {
      client.close();
    }
  });

  it('retries a peer without a new enough snapshot, and gives up once the replica caught up', async () => {
    const snapshots = await store(tempDir());
    const installs: [number, Buffer][] = [];
    const logs: string[] = [];
    let applied = 0;
    const fetcher = fetcherFor(snapshots, () => applied, installs, logs);
    fetcher.request(2, THROUGH + 1);
    await eventually('two refusals', () => logs.filter((l) => l.includes(`no snapshot through instance ${THROUGH + 1}`)).length >= 2);
    applied = THROUGH + 1;
    await eventually('the fetcher to stop', () => !fetcher.busy);
    await fetcher.close();
    assert.equal(installs.length, 0);
    assert.equal(snapshots.latest(), undefined);
  });
});

describe('recoveredAbove', () => {
  const entry = (instance: number, round: number, decided: boolean): LogEntry => ({ instance, ballot: { round, replicaId: 1 }, value: { kind: 'noop' }, decided });
  const recovered: RecoveredState = {
    hardState: { promised: { round: 2, replicaId: 1 }, decidedThrough: 2, recovering: true },
    entries: [entry(1, 1, true), entry(2, 1, true), entry(3, 5, false), entry(4, 2, false), entry(5, 2, false)],
    snapshotThrough: 0,
  };

  it('starts consensus at a snapshot newer than the WAL compaction point', () => {
    const r = recoveredAbove(recovered, 3);
    assert.equal(r.snapshotThrough, 3);
    assert.deepEqual(r.entries.map((e) => e.instance), [4, 5]);
    assert.deepEqual(r.hardState.promised, { round: 5, replicaId: 1 }, 'a dropped accept still raises the promise');
    assert.equal(r.hardState.decidedThrough, 2);
    assert.equal(r.hardState.recovering, true, 'a replica that was recovering still is');
  });

  it('leaves the WAL state alone when the snapshot is not newer', () => {
    assert.equal(recoveredAbove(recovered, 0), recovered);
    assert.equal(recoveredAbove({ ...recovered, snapshotThrough: 4, entries: [entry(5, 2, false)] }, 3).snapshotThrough, 4);
  });
});
