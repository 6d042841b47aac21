// No input kills a process (issue 11, deliver 4): a real replica process (`dstore global`)
// and a real Local process (`dstore local`, its node server) get malformed, truncated and
// random bytes, and valid messages with hostile contents (bad hash lengths, empty oneofs,
// huge counts within the size limit), on every method of every service they serve: Global,
// Replica, health and reflection on the replica; Global on the Local. Every call must end
// with a clear status (never INTERNAL or UNKNOWN), undecodable bytes with INVALID_ARGUMENT
// and the decoder's reason; then both processes must still be up and serve a normal client.
//
// Random cases come from a seeded PRNG, so a failure replays: the seed is in every message.
// DSTORE_FUZZ_SEED and DSTORE_FUZZ_CASES (random cases per method, default 6) allow longer runs.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { service as healthService } from 'grpc-health-check';
import { attach, type AttachedLocal } from '../../src/local/node/attach.ts';
import { GlobalClient } from '../../src/local/client/client.ts';
import { CLUSTER_ID_METADATA } from '../../src/global/peers/peer-transport.ts';
import { dstoreProto } from '../../src/protocol/proto.ts';
import { ReplProcess } from '../local/repl-process.ts';
import { freePorts, GlobalProcess } from './process-harness.ts';
import { rawCall, type RawOutcome } from './raw-calls.ts';

const SEED = Number(process.env.DSTORE_FUZZ_SEED ?? 20261205);
const CASES = Number(process.env.DSTORE_FUZZ_CASES ?? 6);
/** Calls in flight at once (the slow ones wait for their deadline). */
const CONCURRENCY = 24;
const DEADLINE_MS = 2_000;

/** mulberry32: small, fast, and the same sequence for the same seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Method {
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
  readonly requestSerialize: (value: never) => Buffer;
  readonly requestDeserialize: (bytes: Buffer) => unknown;
}
type Service = Readonly<Record<string, Method>>;

const REFLECTION_PROTO_DIR = join(dirname(createRequire(import.meta.url).resolve('@grpc/reflection/package.json')), 'build/proto/grpc/reflection');
function reflectionService(version: 'v1' | 'v1alpha'): Service {
  const definition = protoLoader.loadSync(join(REFLECTION_PROTO_DIR, version, 'reflection.proto'), { keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true });
  return definition[`grpc.reflection.${version}.ServerReflection`] as unknown as Service;
}

const proto = dstoreProto().dstore.v1;
const GLOBAL = proto.Global.service as unknown as Service;
const REPLICA = proto.Replica.service as unknown as Service;
const HEALTH = healthService as unknown as Service;

const hashOfLength = (n: number): Buffer => Buffer.alloc(n, 0xab);
const HASH = hashOfLength(32);

/** Per method name: valid messages (the first is ordinary), most of them hostile. Streams' entries are message sequences. */
const GLOBAL_SEEDS: Record<string, object[]> = {
  Get: [{ key: 'fuzz/k' }, { key: '' }, { key: 'k'.repeat(5000) }, { key: 'k', minRevision: '18446744073709551615' }, { key: '\u0000\uffff' }],
  Set: [{ key: 'fuzz/set', value: { inline: Buffer.from('v') } }, { key: 'fuzz/h', value: { blobHash: hashOfLength(5) } }, { key: 'fuzz/none', value: {} }, { key: 'fuzz/nov' }, { key: 'fuzz/w', value: { inline: Buffer.from('v') }, writeId: { clientId: 'c'.repeat(500), requestId: '18446744073709551615' } }],
  Delete: [{ key: 'fuzz/del' }, { key: '' }],
  Txn: [
    { success: [{ get: { key: 'fuzz/k' } }] },
    { success: [{}] },
    { compares: [{ key: 'k', target: 'TARGET_HASH', hash: hashOfLength(3) }], success: [{ put: { key: 'k', value: { blobHash: hashOfLength(31) } } }] },
    { success: [{ range: {} }, { add: { key: 'fuzz/n', delta: '-9223372036854775808' } }, { mapDelete: { key: 'fuzz/m', fields: [''] } }] },
    { success: Array.from({ length: 1025 }, () => ({ get: { key: 'k' } })) },
    { compares: [{ key: 'k', target: 'TARGET_VERSION', operator: 'OPERATOR_LESS', number: '18446744073709551615' }], failure: [{ delete: {} }] },
  ],
  Range: [{ prefix: 'fuzz/' }, { start: 'z', end: 'a' }, { limit: 4294967295 }, { prefix: 'p'.repeat(3000) }],
  MissingBlobs: [{ hashes: [HASH] }, { hashes: [hashOfLength(3)] }, { hashes: Array.from({ length: 1025 }, () => HASH) }, { hashes: [Buffer.alloc(0)] }],
  Status: [{}, { withChecksum: true }],
  Session: [
    [{ requests: [{ id: 1, status: {} }] }],
    [{ requests: [{ id: 1, missingBlobs: { hashes: [hashOfLength(3)] } }, { id: 2 }, { id: 3, set: { key: 'fuzz/s', value: { blobHash: hashOfLength(5) } } }] }],
    [{ requests: Array.from({ length: 1025 }, (_, i) => ({ id: i, get: { key: 'k' } })) }],
    [{ requests: [{ id: 1, txn: { success: [{}] } }, { id: 1, txn: { compares: [{ target: 'TARGET_HASH', hash: hashOfLength(2) }] } }] }, { requests: [] }],
  ],
  PutBlob: [
    [{ header: { size: 1, hash: hashOfLength(5) } }, { chunk: { offset: 0, data: Buffer.from([1]) } }],
    [{ header: { size: 2 } }, { chunk: { offset: 0, data: Buffer.from([1, 2]) } }],
    [{ chunk: { offset: 0, data: Buffer.from([1]) } }],
    [{ header: { size: '18446744073709551615' } }],
    [{ header: { size: 3 } }, { header: { size: 3 } }, { chunk: { offset: 7, data: Buffer.from([1]) } }],
    [{}],
    [{ header: { size: 4, hash: HASH } }],
  ],
  GetBlob: [{ hash: HASH }, { hash: hashOfLength(3) }, { hash: Buffer.alloc(0) }, { hash: HASH, offset: '18446744073709551615', length: '18446744073709551615' }],
  Subscribe: [{ fromRevision: 0 }, { fromRevision: '18446744073709551615' }, { fromRevision: '4503599627370496' }, { prefix: 'p'.repeat(3000) }, { fromRevision: 1, prefix: '\u0000' }],
  Hold: [
    [{ register: { holderId: 'fuzz', prefixes: ['s/'], seq: 1 } }, { keepAlive: { seq: 2 } }, { invalidated: { id: '18446744073709551615' } }],
    [{ register: { holderId: 'x'.repeat(200), prefixes: Array.from({ length: 100 }, (_, i) => `p${i}`), seq: 1 } }],
    [{ keepAlive: { seq: 1 } }, { register: { holderId: '', prefixes: [''] } }],
    [{ invalidated: { id: 1 } }, {}],
  ],
};

const REPLICA_SEEDS: Record<string, object[]> = {
  Exchange: [
    [{ hello: { clusterId: 'dstore', fromReplicaId: 2, toReplicaId: 1, protocolVersion: 1 } }],
    [{ messages: [{}] }],
    [{ hello: { clusterId: 'dstore', fromReplicaId: 1, toReplicaId: 1, protocolVersion: 1 }, messages: Array.from({ length: 20_001 }, () => ({ from: 1, to: 1, heartbeat: {} })) }],
    [{ hello: {} }, { hello: { fromReplicaId: 4294967295 } }],
  ],
  StoreBlob: [
    [{ header: { size: 1, hash: hashOfLength(5) } }, { chunk: { offset: 0, data: Buffer.from([1]) } }],
    [{ header: { size: 1 } }, { chunk: { offset: 0, data: Buffer.from([1]) } }],
    [{ header: { size: 2, hash: HASH } }, { chunk: { offset: 1, data: Buffer.from([1]) } }],
  ],
  FetchBlob: [{ hash: HASH }, { hash: hashOfLength(3) }],
  FetchSnapshot: [{ minThroughInstance: 0 }, { minThroughInstance: '18446744073709551615' }],
};

const HEALTH_SEEDS: Record<string, object[]> = {
  Check: [{ service: '' }, { service: 'x'.repeat(10_000) }],
  Watch: [{ service: 'dstore.v1.Global' }, { service: 'no.such.Service' }],
  List: [{}],
};

const REFLECTION_SEEDS: Record<string, object[]> = {
  ServerReflectionInfo: [
    [{ listServices: '' }],
    [{ fileContainingSymbol: 'no.such.Symbol' }, { fileByFilename: '../../etc/passwd' }, {}],
    [{ fileContainingExtension: { containingType: '', extensionNumber: -1 } }, { allExtensionNumbersOfType: 'x'.repeat(5000) }],
  ],
};

/** A fixed undecodable message: a varint that never ends. */
const JUNK = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02]);

interface Case {
  readonly what: string;
  readonly messages: Buffer[];
  /** Every message decodes: the server must not answer as if it did not. */
  readonly undecodable: boolean;
  readonly metadata?: grpc.Metadata;
}

function decodes(method: Method, bytes: Buffer): boolean {
  try {
    method.requestDeserialize(bytes);
    return true;
  } catch {
    return false;
  }
}

/** A copy of `bytes` cut, flipped, extended or replaced, as `random` picks. */
function mutate(bytes: Buffer, random: () => number): Buffer {
  const int = (n: number): number => Math.floor(random() * n);
  switch (int(5)) {
    case 0: return bytes.subarray(0, int(bytes.byteLength + 1));
    case 1: {
      const out = Buffer.from(bytes);
      for (let i = 0, n = 1 + int(4); i < n && out.byteLength > 0; i++) out[int(out.byteLength)] = int(256);
      return out;
    }
    case 2: return Buffer.concat([bytes, Buffer.from(Array.from({ length: 1 + int(16) }, () => int(256)))]);
    case 3: return Buffer.from(Array.from({ length: int(64) }, () => int(256)));
    default: return Buffer.concat([bytes.subarray(0, int(bytes.byteLength + 1)), Buffer.from([0x0a, 0xff, 0xff, 0x7f])]);
  }
}

/** Every case for one method: the junk message, each seed, and `CASES` random mutations of the seeds. */
function casesOf(name: string, method: Method, seeds: readonly object[], random: () => number, clusterMetadata: boolean): Case[] {
  const encoded = seeds.map((seed) => (method.requestStream ? (seed as object[]) : [seed]).map((m) => method.requestSerialize(m as never)));
  const metadata = new grpc.Metadata();
  if (clusterMetadata) metadata.set(CLUSTER_ID_METADATA, 'dstore');
  const withMetadata = (i: number): { metadata?: grpc.Metadata } => (clusterMetadata && i % 2 === 0 ? { metadata } : {});
  // Peer calls without the cluster id are refused before their first message is read.
  const cases: Case[] = [{ what: `${name}: junk`, messages: [JUNK], undecodable: true, ...withMetadata(0) }];
  encoded.forEach((messages, i) => cases.push({ what: `${name}: seed ${i}`, messages, undecodable: false, ...withMetadata(i) }));
  for (let i = 0; i < CASES; i++) {
    const base = encoded[Math.floor(random() * encoded.length)]!;
    const at = Math.floor(random() * base.length);
    const messages = base.map((m, j) => (j === at ? mutate(m, random) : m));
    const sent = method.requestStream ? messages : messages.slice(0, 1);
    const undecodable = sent.length === 1 && !decodes(method, sent[0]!) && (!clusterMetadata || i % 2 === 0);
    cases.push({ what: `${name}: random ${i}`, messages: sent, undecodable, ...withMetadata(i) });
  }
  return cases;
}

async function runAll<T>(items: readonly T[], run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, async () => {
    while (next < items.length) await run(items[next++]!);
  }));
}

interface Target {
  readonly client: grpc.Client;
  readonly name: string;
  readonly service: Service;
  readonly seeds: Record<string, object[]>;
  /** Peer services: half the calls carry the cluster id, to get past that check. */
  readonly clusterMetadata?: boolean;
}

/** Fuzzes every method of every target's service, all at once; returns the failures as lines. */
async function fuzz(targets: readonly Target[], random: () => number): Promise<{ failures: string[]; calls: number }> {
  const failures: string[] = [];
  const cases: { target: Target; method: Method; c: Case }[] = [];
  for (const target of targets) {
    for (const [name, method] of Object.entries(target.service)) {
      const methodSeeds = target.seeds[name];
      assert.ok(methodSeeds !== undefined, `${target.name}: no seeds for ${name} (a new method? add its hostile messages here)`);
      for (const c of casesOf(name, method, methodSeeds, random, target.clusterMetadata === true)) cases.push({ target, method, c });
    }
  }
  await runAll(cases, async ({ target, method, c }) => {
    const endless = method.path.endsWith('/Subscribe') || method.path.endsWith('/Watch');
    const t0 = Date.now();
    const o: RawOutcome = await rawCall(target.client, method, c.messages, { deadlineMs: DEADLINE_MS, ...(endless ? { responsesEnough: 1 } : {}), ...(c.metadata === undefined ? {} : { metadata: c.metadata }) });
    const line = `${target.name} ${c.what} (seed ${SEED}): ${grpc.status[o.code]} ${o.details}`;
    if (process.env.DSTORE_FUZZ_DEBUG !== undefined) console.log(`${Date.now() - t0} ms ${line.slice(0, 200)}`);
    if (o.code === grpc.status.INTERNAL || o.code === grpc.status.UNKNOWN) failures.push(line);
    // A stream cap (RESOURCE_EXHAUSTED) may refuse a call before its first message is read: the
    // cases run concurrently over one connection. A method the target does not serve (a Local's
    // Hold) is refused UNIMPLEMENTED unread.
    else if (c.undecodable && o.code !== grpc.status.RESOURCE_EXHAUSTED && o.code !== grpc.status.UNIMPLEMENTED && (o.code !== grpc.status.INVALID_ARGUMENT || !o.details.includes('does not decode as its protobuf type'))) failures.push(`${line} (undecodable: INVALID_ARGUMENT with the decoder's reason expected)`);
  });
  return { failures, calls: cases.length };
}

describe('no input kills a process', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dstore-fuzz-'));
  let replica: GlobalProcess;
  let local: ReplProcess;
  let replicaAddress = '';
  let localAddress = '';
  const clients: grpc.Client[] = [];
  const closers: (() => Promise<void>)[] = [];

  before(async () => {
    // Both start at once (the Local waits for Global by itself): the replica's port is picked first.
    const [port] = await freePorts(1);
    replicaAddress = `127.0.0.1:${port}`;
    replica = GlobalProcess.start(['--listen', replicaAddress, '--data', dataDir]);
    const [started] = await Promise.all([ReplProcess.start(['--global', replicaAddress, '--listen', '127.0.0.1:0']), replica.waitForLine(/^Dstore server listening on /)]);
    local = started;
    const banner = local.banner().map((l) => /\(addr: (\S+)\)$/.exec(l)).find((m) => m !== null);
    assert.ok(banner, `the Local printed its address: ${local.banner().join('\n')}`);
    localAddress = banner[1]!;
  });

  after(async () => {
    for (const c of clients) c.close();
    for (const close of closers) await close();
    await local?.stop();
    await replica?.stop('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  const rawClient = (address: string): grpc.Client => {
    const c = new grpc.Client(address, grpc.credentials.createInsecure());
    clients.push(c);
    return c;
  };

  it('answers every method with a clear status, and both processes keep serving', async (t) => {
    const random = prng(SEED);
    const toReplica = rawClient(replicaAddress);
    const toLocal = rawClient(localAddress);
    const { failures, calls } = await fuzz([
      { client: toReplica, name: 'replica', service: GLOBAL, seeds: GLOBAL_SEEDS },
      { client: toReplica, name: 'replica', service: REPLICA, seeds: REPLICA_SEEDS, clusterMetadata: true },
      { client: toReplica, name: 'replica', service: HEALTH, seeds: HEALTH_SEEDS },
      { client: toReplica, name: 'replica', service: reflectionService('v1'), seeds: REFLECTION_SEEDS },
      { client: toReplica, name: 'replica', service: reflectionService('v1alpha'), seeds: REFLECTION_SEEDS },
      { client: toLocal, name: 'Local', service: GLOBAL, seeds: GLOBAL_SEEDS },
    ], random);
    t.diagnostic(`${calls} calls, seed ${SEED}`);
    assert.deepEqual(failures, []);

    assert.ok(replica.running, `the replica process is up; output:\n${replica.output()}`);
    assert.equal(local.running, true, `the Local process is up; stderr:\n${local.stderr}`);
    const client = new GlobalClient({ addresses: [replicaAddress] });
    closers.push(() => client.close());
    await client.set('fuzz/after', new TextEncoder().encode('still here'));
    assert.equal(new TextDecoder().decode((await client.get('fuzz/after')).kv?.value), 'still here');
    const worker: AttachedLocal = await attach(localAddress);
    closers.push(() => worker.close());
    assert.equal(new TextDecoder().decode((await worker.get('fuzz/after'))?.value), 'still here');
    await worker.set('fuzz/through-local', new TextEncoder().encode('yes'));
    assert.equal(new TextDecoder().decode((await client.get('fuzz/through-local')).kv?.value), 'yes');
  });
});
