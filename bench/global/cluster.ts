// Starts a Global cluster of replica processes (examples/global.ts) on loopback for
// benchmarks, on free ports found at start, with data in a temp dir; stops and cleans up.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPLICA_NODE_FLAGS } from '../../src/global/replica/replica-node-flags.ts';

/** A port free on 127.0.0.1 right now (bind 0, read it, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface BenchCluster {
  readonly addresses: string[];
  /** Process ids of the replicas, in replica order (for CPU figures from /proc). */
  readonly pids: number[];
  stop(): Promise<void>;
}

/** `replicaArgs`: more flags for every replica (examples/global.ts), e.g. --holder-lease-ms. */
export async function startCluster(size: number, replicaArgs: readonly string[] = []): Promise<BenchCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'dstore-bench-global-'));
  const ports = await Promise.all(Array.from({ length: size }, () => freePort()));
  const addresses = ports.map((p) => `127.0.0.1:${p}`);
  const peers = addresses.map((a, i) => `${i + 1}=${a}`).join(',');
  const script = fileURLToPath(new URL('../../examples/global.ts', import.meta.url));
  const children: ChildProcess[] = [];
  // A bench that dies on an error (a Local that lost its lease, a failed figure) exits
  // without calling stop(): kill its replicas then too, so none outlive it.
  const killLeft = (): void => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  };
  process.once('exit', killLeft);
  const ready = addresses.map((_, i) => new Promise<void>((resolve, reject) => {
    const profile = process.env['DSTORE_BENCH_CPU_PROF'] === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${process.env['DSTORE_BENCH_CPU_PROF']}`];
    const child = spawn(process.execPath, [...REPLICA_NODE_FLAGS, ...profile, '--import', 'tsx', script, '--id', String(i + 1), '--peers', peers, '--data', join(dir, `r${i + 1}`), '--cluster-id', 'bench', ...replicaArgs], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('listening on')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`replica ${i + 1} exited with ${code} before listening`)));
  }));
  const stop = async (): Promise<void> => {
    await Promise.all(children.map((c) => new Promise<void>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) return resolve();
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    })));
    process.removeListener('exit', killLeft);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all(ready);
  } catch (err) {
    await stop();
    throw err;
  }
  return { addresses, pids: children.map((c) => c.pid!), stop };
}
