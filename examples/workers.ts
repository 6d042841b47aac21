// N worker processes sharing keys and a blob through dstore, printing hit ratios and what
// each saw invalidated.
//
//   npx tsx examples/workers.ts                              4 workers, each linking its own Local
//   npx tsx examples/workers.ts --workers 8 --mode attached  8 workers attached to one Local
//                                                            (started here, one cache for all)
//   --global host:port[,...] (default 127.0.0.1:50051)  --ops N per worker (default 2000)
//
// Each worker reads random keys of a shared set (90%), rebinds one with a compare-and-swap
// transaction (10%: every other worker's copy is invalidated), and reads a shared blob every
// 50 operations. Workers are child processes running this same file with --worker.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { attach } from '../src/local/attach.ts';
import { GlobalClient } from '../src/local/client.ts';
import { Local, type DstoreApi } from '../src/local/local.ts';
import { LocalServer } from '../src/local/local-server.ts';
import type { Hash } from '../src/protocol/hash.ts';

const KEYS = 64;
const PREFIX = 'workers/';
const BLOB_BYTES = 256 * 1024;
const WRITE_PERCENT = 10;
const BLOB_EVERY_OPS = 50;

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

const { values } = parseArgs({
  options: {
    global: { type: 'string', default: '127.0.0.1:50051' },
    workers: { type: 'string', default: '4' },
    ops: { type: 'string', default: '2000' },
    mode: { type: 'string', default: 'linked' },
    worker: { type: 'string' },
    local: { type: 'string' },
    blob: { type: 'string' },
  },
  strict: true,
});

const globalAddresses = values.global.split(',');
const ops = Number(values.ops);

async function runWorker(index: number): Promise<void> {
  const linked = values.local === undefined;
  const api: DstoreApi = linked ? Local.open({ global: globalAddresses }) : await attach(values.local);
  if (api instanceof Local) await api.ready(3000);
  let changesSeen = 0;
  const stopWatching = api.watch(PREFIX, () => changesSeen++);
  const report = { worker: index, reads: 0, writes: 0, conflicts: 0, blobReads: 0 };
  for (let i = 0; i < ops; i++) {
    const key = `${PREFIX}key-${Math.floor(Math.random() * KEYS)}`;
    if (Math.random() * 100 < WRITE_PERCENT) {
      const r = await api.replace(key, new TextEncoder().encode(`worker ${index} op ${i}`));
      report.writes++;
      if (!r.replaced) report.conflicts++;
    } else {
      await api.get(key);
      report.reads++;
    }
    if (values.blob !== undefined && i % BLOB_EVERY_OPS === 0) {
      await api.getBlob(values.blob as Hash);
      report.blobReads++;
    }
  }
  stopWatching();
  const invalidations = api instanceof Local ? api.stats().invalidations : null;
  const hits = api instanceof Local ? api.stats().hits : null;
  await api.close();
  const out: WorkerReport = { ...report, hits, changesSeen, invalidations };
  console.log(JSON.stringify(out));
}

function startWorker(index: number, extra: string[]): Promise<WorkerReport> {
  const self = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, ['--import', 'tsx', self, '--worker', String(index), '--global', values.global, '--ops', String(ops), ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`worker ${index} exited with ${code}`));
      else resolve(JSON.parse(out.trim().split('\n').at(-1)!) as WorkerReport);
    });
  });
}

async function main(): Promise<void> {
  if (values.worker !== undefined) return runWorker(Number(values.worker));
  const workers = Number(values.workers);
  const setup = new GlobalClient({ addresses: globalAddresses, deadlineMs: 3000 });
  try {
    for (let k = 0; k < KEYS; k++) {
      await setup.txn({ success: [{ kind: 'put', key: `${PREFIX}key-${k}`, value: new TextEncoder().encode('initial') }] });
    }
  } catch (err) {
    console.error(`workers.ts: Global at ${values.global} does not answer (${(err as Error).message.split('\n')[0]}). Start one: npx tsx examples/global.ts`);
    await setup.close();
    process.exit(1);
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
  if (values.mode === 'attached') {
    const local = Local.open({ global: globalAddresses });
    await local.ready(3000);
    const server = await LocalServer.listen(local, '127.0.0.1:0');
    node = { local, server };
    extra.push('--local', server.address);
    console.log(`one Local for all workers at ${server.address}`);
  }
  const started = Date.now();
  const reports = await Promise.all(Array.from({ length: workers }, (_, i) => startWorker(i, extra)));
  const seconds = (Date.now() - started) / 1000;
  console.log(`${workers} workers (${values.mode}), ${ops} operations each, ${seconds.toFixed(1)} s`);
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
}

main().catch((err: unknown) => {
  console.error(`workers.ts: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
