// Proves what operators and tools see of a replica's lifecycle:
// - gRPC health checking: NOT_SERVING while bound but not started, SERVING once started (for
//   the server as a whole and each dstore service), NOT_FOUND for an unknown service, and a
//   Watch stream hears NOT_SERVING as soon as the replica starts stopping;
// - gRPC server reflection lists the dstore and health services and describes them;
// - `dstore global` as a real process: SIGTERM (and SIGINT) stop it with exit code 0, and
//   a new process on the same data directory finds the acknowledged writes.
// Processes are started with `--listen 127.0.0.1:0`; the address comes from their first line.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { protoPath as HEALTH_PROTO_PATH } from 'grpc-health-check';
import { GlobalServer } from '../../src/global/server/global-server.ts';
import { GlobalClient } from '../../src/local/client/client.ts';
import { dstoreArgs, REPO_ROOT } from '../dstore-command.ts';
import { eventually } from './cluster-harness.ts';

const REFLECTION_PROTO = join(dirname(createRequire(import.meta.url).resolve('@grpc/reflection/package.json')), 'build/proto/grpc/reflection/v1/reflection.proto');
const LOADER: protoLoader.Options = { keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true };

interface HealthResponse { status: string }
interface HealthClient extends grpc.Client {
  Check(req: { service: string }, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: HealthResponse) => void): void;
  Watch(req: { service: string }): grpc.ClientReadableStream<HealthResponse>;
}
interface ReflectionResponse {
  listServicesResponse?: { service: { name: string }[] } | null;
  fileDescriptorResponse?: { fileDescriptorProto: Buffer[] } | null;
}
interface ReflectionClient extends grpc.Client {
  ServerReflectionInfo(): grpc.ClientDuplexStream<Record<string, string>, ReflectionResponse>;
}

function healthClient(address: string): HealthClient {
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(HEALTH_PROTO_PATH, LOADER)) as unknown as { grpc: { health: { v1: { Health: new (a: string, c: grpc.ChannelCredentials) => HealthClient } } } };
  return new pkg.grpc.health.v1.Health(address, grpc.credentials.createInsecure());
}

function reflectionClient(address: string): ReflectionClient {
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(REFLECTION_PROTO, LOADER)) as unknown as { grpc: { reflection: { v1: { ServerReflection: new (a: string, c: grpc.ChannelCredentials) => ReflectionClient } } } };
  return new pkg.grpc.reflection.v1.ServerReflection(address, grpc.credentials.createInsecure());
}

function check(client: HealthClient, service: string): Promise<string> {
  return new Promise((resolve, reject) => {
    client.Check({ service }, { deadline: Date.now() + 5_000 }, (err, res) => (err !== null ? reject(err) : resolve(res?.status ?? 'missing')));
  });
}

function reflect(client: ReflectionClient, request: Record<string, string>): Promise<ReflectionResponse> {
  return new Promise((resolve, reject) => {
    const call = client.ServerReflectionInfo();
    call.on('data', (res: ReflectionResponse) => {
      resolve(res);
      call.end();
    });
    call.on('error', reject);
    call.write(request);
  });
}

describe('health checking and reflection', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dstore-health-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('reports NOT_SERVING until started, SERVING while running, NOT_SERVING once stopping', async () => {
    const server = await GlobalServer.listen('127.0.0.1:0');
    const health = healthClient(server.address);
    try {
      assert.equal(await check(health, ''), 'NOT_SERVING');
      await server.start({ replicaId: 1, members: new Map([[1, server.address]]), dataDir, clusterId: 'health-test' });
      for (const service of ['', 'dstore.v1.Global', 'dstore.v1.Replica']) assert.equal(await check(health, service), 'SERVING', service);
      await assert.rejects(check(health, 'no.such.Service'), (err: grpc.ServiceError) => err.code === grpc.status.NOT_FOUND);
      const seen: string[] = [];
      const watch = health.Watch({ service: '' });
      watch.on('data', (r: HealthResponse) => seen.push(r.status));
      watch.on('error', () => undefined); // cut when the server stops
      await eventually('the watch to report SERVING', () => seen.includes('SERVING'));
      const stopped = server.stop();
      await eventually('the watch to report NOT_SERVING', () => seen.at(-1) === 'NOT_SERVING');
      await stopped;
      watch.cancel();
    } finally {
      health.close();
      await server.stop();
    }
  });

  it('serves reflection for the dstore and health services', async () => {
    const server = await GlobalServer.listen('127.0.0.1:0');
    const reflection = reflectionClient(server.address);
    try {
      const listed = await reflect(reflection, { listServices: '' });
      const names = listed.listServicesResponse?.service.map((s) => s.name) ?? [];
      for (const name of ['dstore.v1.Global', 'dstore.v1.Replica', 'grpc.health.v1.Health']) assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
      const described = await reflect(reflection, { fileContainingSymbol: 'dstore.v1.Global' });
      const files = described.fileDescriptorResponse?.fileDescriptorProto ?? [];
      // A serialized FileDescriptorProto: the package name and the service's methods appear as text.
      const text = files.map((f) => f.toString('latin1')).join('');
      assert.ok(text.includes('dstore.v1') && text.includes('Session') && text.includes('FetchSnapshot'), 'descriptors of the dstore.v1 services come back');
    } finally {
      reflection.close();
      await server.stop();
    }
  });
});

describe('dstore global shuts down cleanly on a signal', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dstore-signal-'));
  const children = new Set<ChildProcessWithoutNullStreams>();
  after(() => {
    for (const child of children) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Starts one replica process; resolves with it, its address and its output so far. */
  async function startReplica(): Promise<{ child: ChildProcessWithoutNullStreams; address: string; output: () => string }> {
    const child = spawn(process.execPath, dstoreArgs('global', ['--listen', '127.0.0.1:0', '--data', dataDir]), { cwd: REPO_ROOT });
    children.add(child);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', () => children.delete(child));
    const address = await eventually('the replica to print its address', () => {
      if (child.exitCode !== null) throw new Error(`exited early (${child.exitCode}): ${output}`);
      return /Dstore server listening on (\S+)/.exec(output)?.[1];
    }, 20_000);
    return { child, address, output: () => output };
  }

  function exitOf(child: ChildProcessWithoutNullStreams, signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return new Promise((resolve) => {
      child.once('exit', (code, sig) => resolve({ code, signal: sig }));
      child.kill(signal);
    });
  }

  it('exits 0 on SIGTERM and SIGINT, and a restart finds the data', async () => {
    const first = await startReplica();
    const client = new GlobalClient({ addresses: [first.address] });
    try {
      await client.set('kept', new TextEncoder().encode('across a restart'));
    } finally {
      await client.close();
    }
    const termed = await exitOf(first.child, 'SIGTERM');
    assert.deepEqual(termed, { code: 0, signal: null }, first.output());
    assert.match(first.output(), /SIGTERM, shutting down/);

    const second = await startReplica();
    const again = new GlobalClient({ addresses: [second.address] });
    try {
      const got = await again.get('kept');
      assert.equal(new TextDecoder().decode(got.kv!.value), 'across a restart');
    } finally {
      await again.close();
    }
    const interrupted = await exitOf(second.child, 'SIGINT');
    assert.deepEqual(interrupted, { code: 0, signal: null }, second.output());
  });
});
