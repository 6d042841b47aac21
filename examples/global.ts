// Starts a Global replica (DESIGN.md section 7).
//
//   npx tsx examples/global.ts                      one replica on 127.0.0.1:50051, data in ./data
//   npx tsx examples/global.ts --id 2 --listen 127.0.0.1:50052 \
//       --peers 1=127.0.0.1:50051,2=127.0.0.1:50052,3=127.0.0.1:50053 --data ./data/replica-2
//   npx tsx examples/global.ts --cluster 3          three replicas on 50051..50053 as child processes
//
// SIGINT / SIGTERM stop it cleanly (and, with --cluster, every child). A replica started by
// `--cluster` also stops when its parent goes away, however the parent died (the IPC channel
// to the parent closes), so no replica outlives the command that started it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DstoreError } from '../src/protocol/errors.ts';
import { interpretArgs, type ClusterArgs, type ReplicaArgs } from '../src/global/cluster-args.ts';
import { GlobalServer } from '../src/global/global-server.ts';

const USAGE = 'usage: global.ts [--id N] [--listen host:port] [--peers 1=host:port,...] [--data DIR] [--cluster-id ID] | --cluster 3|5 [--listen host:firstPort] [--data DIR]';
/** How long `--cluster` waits for its children to stop cleanly before it kills them. */
const CHILD_STOP_GRACE_MS = 5_000;

async function runReplica(args: ReplicaArgs): Promise<void> {
  const server = await GlobalServer.listen(args.listen);
  // A lone replica advertises the address it bound (port 0 picks one), for leader hints.
  const members = args.members.size === 1 ? new Map([[args.replicaId, server.address]]) : args.members;
  await server.start({ replicaId: args.replicaId, members, dataDir: args.dataDir, clusterId: args.clusterId });
  console.log(`Dstore server listening on ${server.address}`);
  if (args.members.size > 1) console.log(`replica ${args.replicaId} of ${args.members.size} (pid ${process.pid}), data in ${args.dataDir}`);
  let stopping = false;
  const stop = (why: string): void => {
    if (stopping) return;
    stopping = true;
    console.log(`replica ${args.replicaId}: ${why}, shutting down`);
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
  // Started by --cluster: the parent holds the other end of the IPC channel.
  if (process.send !== undefined) process.on('disconnect', () => stop('parent gone'));
}

function runCluster(args: ClusterArgs): void {
  const ids = Array.from({ length: args.size }, (_, i) => i + 1);
  const address = (id: number): string => `${args.host}:${args.firstPort + id - 1}`;
  const peers = ids.map((id) => `${id}=${address(id)}`).join(',');
  const self = fileURLToPath(import.meta.url);
  const children = new Map<number, ChildProcess>();
  let stopping = false;
  for (const id of ids) {
    // process.execArgv carries the TypeScript loader this process was started with (tsx).
    const child = spawn(
      process.execPath,
      [...process.execArgv, self, '--id', String(id), '--peers', peers, '--data', `${args.dataDir}/replica-${id}`, '--cluster-id', args.clusterId],
      { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] },
    );
    children.set(id, child);
    createInterface({ input: child.stdout! }).on('line', (line) => console.log(`[${id}] ${line}`));
    createInterface({ input: child.stderr! }).on('line', (line) => console.error(`[${id}] ${line}`));
    child.on('exit', (code, signal) => {
      children.delete(id);
      if (!stopping) console.error(`[${id}] exited (${signal ?? code}); the others keep running`);
      if (children.size === 0) process.exit(stopping ? 0 : 1);
    });
  }
  console.log(`Dstore cluster of ${args.size}: ${ids.map(address).join(', ')} (Ctrl-C stops all)`);
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    console.log(`cluster: ${signal}, stopping ${children.size} replicas`);
    for (const child of children.values()) child.kill('SIGTERM');
    setTimeout(() => {
      for (const [id, child] of children) {
        console.error(`[${id}] did not stop within ${CHILD_STOP_GRACE_MS} ms: killing it`);
        child.kill('SIGKILL');
      }
    }, CHILD_STOP_GRACE_MS).unref();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

async function main(): Promise<void> {
  let args: ReplicaArgs | ClusterArgs;
  try {
    const { values } = parseArgs({
      options: { id: { type: 'string' }, listen: { type: 'string' }, peers: { type: 'string' }, data: { type: 'string' }, cluster: { type: 'string' }, 'cluster-id': { type: 'string' } },
      strict: true,
      allowPositionals: false,
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
