// Starts a Global replica (DESIGN.md section 7).
//
//   npx tsx examples/global.ts                      one replica on 127.0.0.1:50051, data in ./data
//   npx tsx examples/global.ts --id 2 --listen 127.0.0.1:50052 \
//       --peers 1=127.0.0.1:50051,2=127.0.0.1:50052,3=127.0.0.1:50053 --data ./data/replica-2
//   npx tsx examples/global.ts --cluster 3          three replicas on 50051..50053 as child processes
//
// SIGINT / SIGTERM stop it cleanly (and, with --cluster, every child).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DstoreError } from '../src/protocol/errors.ts';
import { interpretArgs, type ClusterArgs, type ReplicaArgs } from '../src/global/cluster-args.ts';
import { GlobalServer } from '../src/global/global-server.ts';

const USAGE = 'usage: global.ts [--id N] [--listen host:port] [--peers 1=host:port,...] [--data DIR] [--cluster-id ID] | --cluster 3|5 [--listen host:firstPort] [--data DIR]';

async function runReplica(args: ReplicaArgs): Promise<void> {
  const server = await GlobalServer.listen(args.listen);
  await server.start({ replicaId: args.replicaId, members: args.members, dataDir: args.dataDir, clusterId: args.clusterId });
  console.log(`Dstore server listening on ${server.address}`);
  if (args.members.size > 1) console.log(`replica ${args.replicaId} of ${args.members.size}, data in ${args.dataDir}`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    console.log(`replica ${args.replicaId}: ${signal}, shutting down`);
    server.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(`replica ${args.replicaId}: error while stopping: ${String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

function runCluster(args: ClusterArgs): void {
  const ids = Array.from({ length: args.size }, (_, i) => i + 1);
  const address = (id: number): string => `${args.host}:${args.firstPort + id - 1}`;
  const peers = ids.map((id) => `${id}=${address(id)}`).join(',');
  const self = fileURLToPath(import.meta.url);
  const children = new Map<number, ChildProcess>();
  let stopping = false;
  for (const id of ids) {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', self, '--id', String(id), '--peers', peers, '--data', `${args.dataDir}/replica-${id}`, '--cluster-id', args.clusterId],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.set(id, child);
    const prefix = (chunk: Buffer): string => chunk.toString().split('\n').filter((l) => l !== '').map((l) => `[${id}] ${l}`).join('\n');
    child.stdout.on('data', (chunk: Buffer) => console.log(prefix(chunk)));
    child.stderr.on('data', (chunk: Buffer) => console.error(prefix(chunk)));
    child.on('exit', (code, signal) => {
      children.delete(id);
      if (!stopping) console.error(`[${id}] exited (${signal ?? code}); the others keep running`);
      if (children.size === 0) process.exit(0);
    });
  }
  console.log(`Dstore cluster of ${args.size}: ${ids.map(address).join(', ')} (Ctrl-C stops all)`);
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    for (const child of children.values()) child.kill('SIGTERM');
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

async function main(): Promise<void> {
  let args: ReplicaArgs | ClusterArgs;
  try {
    const { values } = parseArgs({
      options: { id: { type: 'string' }, listen: { type: 'string' }, peers: { type: 'string' }, data: { type: 'string' }, cluster: { type: 'string' }, 'cluster-id': { type: 'string' } },
      strict: true,
    });
    args = interpretArgs(values);
  } catch (err) {
    console.error(`global.ts: ${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (args.kind === 'cluster') return runCluster(args);
  await runReplica(args);
}

main().catch((err: unknown) => {
  console.error(`global.ts: ${err instanceof DstoreError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
