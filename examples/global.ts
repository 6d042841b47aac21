// Starts a Global replica (docs/running-global.md).
//
//   npx tsx examples/global.ts                      one replica on 127.0.0.1:50051, data in ./data
//   npx tsx examples/global.ts --id 2 --listen 127.0.0.1:50052 \
//       --peers 1=127.0.0.1:50051,2=127.0.0.1:50052,3=127.0.0.1:50053 --data ./data/replica-2
//   npx tsx examples/global.ts --cluster 3          three replicas on 50051..50053 as child processes
//
//   npx tsx examples/global.ts status --peers 127.0.0.1:50051,127.0.0.1:50052 [--json]
//                                                   the cluster as a table (or JSON)
//
// Operating flags (docs/operations.md): --tls-cert/--tls-key/--tls-ca, --auth-tokens FILE,
// --peer-token-file FILE, --metrics host:port, --log-level, --log-format. --holder-lease-ms MS
// turns strict holds on (docs/coherence.md `strict`; give every replica the same).
//
// SIGINT / SIGTERM stop it cleanly (and, with --cluster, every child). A replica started by
// `--cluster` also stops when its parent goes away, however the parent died (the IPC channel
// to the parent closes), so no replica outlives the command that started it.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { DstoreError, InvalidArgumentError } from '../src/protocol/errors.ts';
import { serveMetrics, type MetricsEndpoint } from '../src/protocol/metrics-kit.ts';
import {
  clientSecurityFromFlags,
  loggerFromFlags,
  metricsListenFromFlags,
  OPS_FLAG_OPTIONS,
  OPS_FLAGS_USAGE,
  readFlagFile,
  tlsFromFlags,
  tokenTableFromFile,
  type OpsRaw,
} from '../src/protocol/ops-flags.ts';
import { parseTokenFile } from '../src/protocol/auth.ts';
import { RESTARTS_ENV, Supervisor } from '../src/global/supervisor.ts';
import { interpretArgs, parseHostPort, type ClusterArgs, type ReplicaArgs } from '../src/global/cluster-args.ts';
import { fetchClusterStatus, formatJson, formatTable, summarize } from '../src/global/cluster-status.ts';
import { GlobalServer } from '../src/global/global-server.ts';
import { REPLICA_NODE_FLAGS } from '../src/global/replica-node-flags.ts';
import { checkServerSecurity, type ServerSecurity } from '../src/global/server-security.ts';

const USAGE = `usage: global.ts [--id N] [--listen host:port] [--peers 1=host:port,...] [--data DIR] [--cluster-id ID] | --cluster 3|5 [--listen host:firstPort] [--data DIR]
       [--holder-lease-ms MS (strict holds; 0 = off)] [--auth-tokens FILE] [--peer-token-file FILE] ${OPS_FLAGS_USAGE}
       global.ts status --peers host:port,... [--json] [--tls-cert FILE --tls-key FILE --tls-ca FILE] [--token-file FILE]`;

interface ReplicaOps extends OpsRaw {
  'auth-tokens'?: string | undefined;
  'peer-token-file'?: string | undefined;
  /** Strict holds (docs/coherence.md `strict`): every replica of a cluster needs the same. */
  'holder-lease-ms'?: string | undefined;
}

/** --holder-lease-ms: a whole number of ms; 0 (the default) turns strict holds off. */
function holderLeaseMsFromFlags(raw: ReplicaOps): number {
  const text = raw['holder-lease-ms'] ?? '0';
  const ms = /^\d{1,7}$/.test(text) ? Number(text) : NaN;
  if (!(ms === 0 || (ms >= 100 && ms <= 60_000))) throw new InvalidArgumentError(`--holder-lease-ms ${JSON.stringify(text)}: give 0 (strict holds off) or 100..60000, e.g. 1000`);
  return ms;
}

/** TLS and tokens of a replica from its flags (files read and checked now). */
function serverSecurityFromFlags(raw: ReplicaOps): ServerSecurity {
  if (raw['token-file'] !== undefined) throw new InvalidArgumentError('--token-file is for clients (global.ts status); a replica checks --auth-tokens and sends --peer-token-file');
  const peerPath = raw['peer-token-file'];
  return {
    tls: tlsFromFlags(raw),
    clientTokens: raw['auth-tokens'] === undefined ? null : tokenTableFromFile(raw['auth-tokens'], '--auth-tokens'),
    peerToken: peerPath === undefined ? null : parseTokenFile(readFlagFile(peerPath, '--peer-token-file'), `--peer-token-file ${peerPath}`),
  };
}
/** How long `--cluster` waits for its children to stop cleanly before it kills them. */
const CHILD_STOP_GRACE_MS = 5_000;

/** Restarts so far, as a --cluster parent tells its child (supervisor.ts). */
function restartsFromEnv(): number {
  const n = Number(process.env[RESTARTS_ENV] ?? '0');
  return Number.isSafeInteger(n) && n >= 0 ? n : 0;
}

async function runReplica(args: ReplicaArgs, ops: ReplicaOps): Promise<void> {
  const security = serverSecurityFromFlags(ops);
  const logger = loggerFromFlags(ops);
  const metricsListen = metricsListenFromFlags(ops);
  const registry = metricsListen === null ? undefined : new Registry();
  if (registry !== undefined) collectDefaultMetrics({ register: registry });
  const server = await GlobalServer.listen(args.listen, { security, logger, ...(registry === undefined ? {} : { metrics: registry }) });
  // A lone replica advertises the address it bound (port 0 picks one), for leader hints.
  const members = args.members.size === 1 ? new Map([[args.replicaId, server.address]]) : args.members;
  await server.start({ replicaId: args.replicaId, members, dataDir: args.dataDir, clusterId: args.clusterId, restarts: restartsFromEnv(), holderLeaseMs: holderLeaseMsFromFlags(ops) });
  let metrics: MetricsEndpoint | null = null;
  if (registry !== undefined && metricsListen !== null) {
    metrics = await serveMetrics(registry, metricsListen, { tls: security.tls, logger });
    console.log(`Metrics on ${metrics.url}`);
  }
  console.log(`Dstore server listening on ${server.address}`);
  if (args.members.size > 1) console.log(`replica ${args.replicaId} of ${args.members.size} (pid ${process.pid}), data in ${args.dataDir}`);
  let stopping = false;
  const stop = (why: string): void => {
    if (stopping) return;
    stopping = true;
    console.log(`replica ${args.replicaId}: ${why}, shutting down`);
    Promise.all([server.stop(), metrics?.close()]).then(
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

/** The operating flags a --cluster parent hands to each child; --metrics moves to consecutive ports. */
function childOpsArgs(ops: ReplicaOps, id: number): string[] {
  const out: string[] = [];
  for (const [flag, value] of Object.entries(ops)) {
    if (typeof value !== 'string') continue;
    if (flag === 'metrics') {
      const { host, port } = parseHostPort(value, '--metrics');
      out.push('--metrics', `${host}:${port === 0 ? 0 : port + id - 1}`);
    } else {
      out.push(`--${flag}`, value);
    }
  }
  return out;
}

function runCluster(args: ClusterArgs, ops: ReplicaOps): void {
  const ids = Array.from({ length: args.size }, (_, i) => i + 1);
  const address = (id: number): string => `${args.host}:${args.firstPort + id - 1}`;
  const peers = ids.map((id) => `${id}=${address(id)}`).join(',');
  const self = fileURLToPath(import.meta.url);
  // process.execArgv carries the TypeScript loader this process was started with (tsx).
  const command = (id: number): string[] => [process.execPath, ...REPLICA_NODE_FLAGS, ...process.execArgv, self, '--id', String(id), '--peers', peers, '--data', `${args.dataDir}/replica-${id}`, '--cluster-id', args.clusterId, ...childOpsArgs(ops, id)];
  const supervisor = new Supervisor({
    ids,
    command,
    spawn: (id, restarts) => {
      const [file, ...rest] = command(id);
      const child = spawn(file!, rest, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: { ...process.env, [RESTARTS_ENV]: String(restarts) } });
      createInterface({ input: child.stdout! }).on('line', (line) => console.log(`[${id}] ${line}`));
      createInterface({ input: child.stderr! }).on('line', (line) => console.error(`[${id}] ${line}`));
      return child;
    },
    error: (line) => console.error(line),
    stopGraceMs: CHILD_STOP_GRACE_MS,
  });
  supervisor.start();
  console.log(`Dstore cluster of ${args.size}: ${ids.map(address).join(', ')} (a replica that exits is restarted; Ctrl-C stops all)`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    console.log(`cluster: ${signal}, stopping ${supervisor.running} replicas`);
    void supervisor.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

/** `global.ts status`: exit 0 when the cluster is healthy, 1 when degraded, 2 on bad flags. */
async function runStatus(argv: string[]): Promise<void> {
  let addresses: string[];
  let json: boolean;
  let ops: OpsRaw;
  try {
    const { values } = parseArgs({ args: argv, options: { peers: { type: 'string' }, json: { type: 'boolean' }, ...OPS_FLAG_OPTIONS }, strict: true, allowPositionals: false });
    if (values.peers === undefined) throw new InvalidArgumentError('status needs --peers host:port,... (one live member is enough)');
    // Accepts the replicas' own --peers list ("1=host:port,...") as well as plain addresses.
    addresses = values.peers.split(',').filter((p) => p !== '').map((p) => p.slice(p.indexOf('=') + 1));
    for (const a of addresses) parseHostPort(a, '--peers entry');
    json = values.json === true;
    ops = values;
  } catch (err) {
    console.error(`global.ts status: ${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  const cluster = summarize(await fetchClusterStatus(addresses, clientSecurityFromFlags(ops)));
  console.log(json ? formatJson(cluster) : formatTable(cluster));
  process.exit(cluster.healthy ? 0 : 1);
}

async function main(): Promise<void> {
  if (process.argv[2] === 'status') return runStatus(process.argv.slice(3));
  let args: ReplicaArgs | ClusterArgs;
  let ops: ReplicaOps;
  try {
    const { values } = parseArgs({
      options: {
        id: { type: 'string' },
        listen: { type: 'string' },
        peers: { type: 'string' },
        data: { type: 'string' },
        cluster: { type: 'string' },
        'cluster-id': { type: 'string' },
        'auth-tokens': { type: 'string' },
        'peer-token-file': { type: 'string' },
        'holder-lease-ms': { type: 'string' },
        ...OPS_FLAG_OPTIONS,
      },
      strict: true,
      allowPositionals: false,
    });
    args = interpretArgs(values);
    const { id: _id, listen: _listen, peers: _peers, data: _data, cluster: _cluster, 'cluster-id': _clusterId, ...rest } = values;
    ops = rest;
    holderLeaseMsFromFlags(ops);
    if (args.kind === 'replica') {
      // Checked now, so a bad file is a usage error (exit 2) rather than a failed start.
      checkServerSecurity(serverSecurityFromFlags(ops), args.members.size);
      loggerFromFlags(ops);
      metricsListenFromFlags(ops);
    }
  } catch (err) {
    console.error(`global.ts: ${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (args.kind === 'cluster') return runCluster(args, ops);
  await runReplica(args, ops);
}

main().catch((err: unknown) => {
  console.error(`global.ts: ${err instanceof DstoreError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
