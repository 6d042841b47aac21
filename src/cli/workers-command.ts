// `dstore workers`: N worker processes sharing keys and a blob through dstore, printing hit
// ratios and what each saw invalidated. Each worker reads random keys of a shared set (90%),
// rebinds one with a compare-and-swap transaction (10%: every other worker's copy is
// invalidated), and reads a shared blob every 50 operations. Workers are child processes
// running this same command with the internal flag --worker.

import { spawn } from 'node:child_process';
import { attach, AttachedLocal } from '../local/node/attach.ts';
import { GlobalClient } from '../local/client/client.ts';
import { Local, type DstoreApi } from '../local/local.ts';
import { LocalServer } from '../local/node/local-server.ts';
import { parseHash, type Hash } from '../protocol/hash.ts';
import { choiceFlag, intFlag, type Command, type CommandContext } from './args.ts';
import { quietGrpcLog } from './ops-flags.ts';

const KEYS = 64;
const PREFIX = 'workers/';
const BLOB_BYTES = 256 * 1024;
const WRITE_PERCENT = 10;
const BLOB_EVERY_OPS = 50;
const MODES = ['linked', 'attached'] as const;
type Mode = (typeof MODES)[number];

const FLAGS = {
  global: { type: 'string', value: 'host:port,...', help: 'the Global replicas (default 127.0.0.1:50051)' },
  workers: { type: 'string', value: 'N', help: 'worker processes, 1..64 (default 4)' },
  ops: { type: 'string', value: 'N', help: 'operations per worker, 1..10000000 (default 2000)' },
  mode: { type: 'string', value: 'MODE', help: 'linked: each worker links its own Local (default); attached: all attach to one Local started here' },
  'log-level': { type: 'string', value: 'LEVEL', help: 'debug shows grpc-js\'s own log' },
  worker: { type: 'string', value: 'N', help: 'run as worker N', hidden: true },
  local: { type: 'string', value: 'host:port', help: 'the Local a worker attaches to', hidden: true },
  blob: { type: 'string', value: 'HASH', help: 'the shared blob', hidden: true },
} as const;

export interface WorkersArgs {
  readonly global: string[];
  readonly workers: number;
  readonly ops: number;
  readonly mode: Mode;
  /** Set in a worker process: its index, the Local to attach to (attached mode), the blob. */
  readonly worker: number | null;
  readonly local: string | null;
  readonly blob: Hash | null;
}

interface WorkerReport {
  readonly worker: number;
  readonly reads: number;
  /** Reads served from the worker's own Local (null when attached: see the node Local's line). */
  readonly hits: number | null;
  readonly writes: number;
  readonly conflicts: number;
  readonly blobReads: number;
  /** Changes to shared keys this worker heard of on its stream (made by anyone). */
  readonly changesSeen: number;
  /** Cached bindings its Local dropped because another worker changed the key. */
  readonly invalidations: number | null;
}

async function runWorker(index: number, args: WorkersArgs): Promise<number> {
  const api: DstoreApi = args.local === null ? Local.open({ global: args.global }) : await attach(args.local);
  await api.ready(3000);
  let changesSeen = 0;
  const stopWatching = api.watch(PREFIX, () => changesSeen++);
  const report = { worker: index, reads: 0, writes: 0, conflicts: 0, blobReads: 0 };
  for (let i = 0; i < args.ops; i++) {
    const key = `${PREFIX}key-${Math.floor(Math.random() * KEYS)}`;
    if (Math.random() * 100 < WRITE_PERCENT) {
      const r = await api.replace(key, new TextEncoder().encode(`worker ${index} op ${i}`));
      report.writes++;
      if (!r.replaced) report.conflicts++;
    } else {
      await api.get(key);
      report.reads++;
    }
    if (args.blob !== null && i % BLOB_EVERY_OPS === 0) {
      await api.getBlob(args.blob);
      report.blobReads++;
    }
  }
  stopWatching();
  // Linked or attached, each worker has bindings of its own (an attached one follows its node).
  const { invalidations, hits } = api instanceof Local || api instanceof AttachedLocal ? api.stats() : { invalidations: null, hits: null };
  await api.close();
  const out: WorkerReport = { ...report, hits, changesSeen, invalidations };
  console.log(JSON.stringify(out));
  return 0;
}

function startWorker(index: number, args: WorkersArgs, extra: string[], context: CommandContext): Promise<WorkerReport> {
  const child = spawn(process.execPath, [...process.execArgv, ...context.relaunch, '--worker', String(index), '--global', args.global.join(','), '--ops', String(args.ops), ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`worker ${index} exited with ${code}`));
      else resolve(JSON.parse(out.trim().split('\n').at(-1)!) as WorkerReport);
    });
  });
}

async function runParent(args: WorkersArgs, context: CommandContext): Promise<number> {
  const globalText = args.global.join(',');
  const setup = new GlobalClient({ addresses: args.global, deadlineMs: 3000 });
  try {
    for (let k = 0; k < KEYS; k++) {
      await setup.txn({ success: [{ kind: 'put', key: `${PREFIX}key-${k}`, value: new TextEncoder().encode('initial') }] });
    }
  } catch (err) {
    console.error(`dstore workers: Global at ${globalText} does not answer (${(err as Error).message.split('\n')[0]}). Start one (dstore global), or name it with --global`);
    await setup.close();
    return 1;
  }
  const extra: string[] = [];
  try {
    const blob = new Uint8Array(BLOB_BYTES).map((_, i) => i % 253);
    extra.push('--blob', (await setup.putBlob(blob)).hash);
  } catch (err) {
    console.log(`(blobs skipped: this Global does not store them: ${(err as Error).message.split('\n')[0]})`);
  }
  await setup.close();
  let node: { local: Local; server: LocalServer } | null = null;
  if (args.mode === 'attached') {
    const local = Local.open({ global: args.global });
    await local.ready(3000);
    const server = await LocalServer.listen(local, '127.0.0.1:0');
    node = { local, server };
    extra.push('--local', server.address);
    console.log(`one Local for all workers at ${server.address}`);
  }
  const started = Date.now();
  const reports = await Promise.all(Array.from({ length: args.workers }, (_, i) => startWorker(i, args, extra, context)));
  const seconds = (Date.now() - started) / 1000;
  console.log(`${args.workers} workers (${args.mode}), ${args.ops} operations each, ${seconds.toFixed(1)} s`);
  console.log('worker  reads  hit ratio  writes  conflicts  blob reads  changes seen  invalidated here');
  for (const r of reports) {
    const ratio = r.hits === null ? '(node)' : `${(r.reads === 0 ? 0 : (100 * Math.min(r.hits, r.reads)) / r.reads).toFixed(1)}%`;
    console.log(
      `${String(r.worker).padStart(6)}  ${String(r.reads).padStart(5)}  ${ratio.padStart(9)}  ${String(r.writes).padStart(6)}  ${String(r.conflicts).padStart(9)}  ${String(r.blobReads).padStart(10)}  ${String(r.changesSeen).padStart(12)}  ${String(r.invalidations ?? '-').padStart(16)}`,
    );
  }
  if (node !== null) {
    const s = node.local.stats();
    const ratio = s.hits + s.misses === 0 ? 0 : (100 * s.hits) / (s.hits + s.misses);
    console.log(`node Local: hit ratio ${ratio.toFixed(1)}% (${s.hits} hits, ${s.misses} misses), ${s.invalidations} invalidated by others' writes, ${s.blobs} blobs cached (${s.bytes} bytes)`);
    await node.server.stop();
    await node.local.close();
  }
  return 0;
}

export const workersCommand: Command<typeof FLAGS, WorkersArgs> = {
  spec: {
    name: 'dstore workers',
    usage: ['[--global host:port,...] [--workers N] [--ops N] [--mode linked|attached]'],
    summary: 'Starts N worker processes that share 64 keys and a blob through dstore (90% reads, 10% compare-and-swap\nrebinds), then prints each one\'s hit ratio and the invalidations it saw. Needs a running Global.',
    flags: FLAGS,
    notes: 'example (the README\'s three replicas):\n  dstore workers --global 127.0.0.1:50061,127.0.0.1:50062,127.0.0.1:50063 --mode attached',
  },
  check(values) {
    quietGrpcLog(values['log-level']);
    const global = (values.global ?? '127.0.0.1:50051').split(',').map((a) => a.trim()).filter((a) => a !== '');
    return {
      global,
      workers: intFlag(values.workers, '--workers', 1, 64, 4),
      ops: intFlag(values.ops, '--ops', 1, 10_000_000, 2000),
      mode: choiceFlag(values.mode, '--mode', MODES, 'linked'),
      worker: values.worker === undefined ? null : intFlag(values.worker, '--worker', 0, 63, 0),
      local: values.local ?? null,
      blob: values.blob === undefined ? null : parseHash(values.blob),
    };
  },
  run(args, context) {
    return args.worker === null ? runParent(args, context) : runWorker(args.worker, args);
  },
};
