// `dstore global`: a Global replica (docs/running-global.md), or with --cluster 3|5 a parent
// that runs and restarts that many replicas as child processes on consecutive ports.
//
// SIGINT / SIGTERM stop it cleanly (and, with --cluster, every child). A replica started by
// `--cluster` also stops when its parent goes away, however the parent died (the IPC channel
// to the parent closes), so no replica outlives the command that started it.

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { parseTokenFile } from '../protocol/auth.ts';
import { InvalidArgumentError } from '../protocol/errors.ts';
import { serveMetrics, type MetricsEndpoint } from '../protocol/metrics-kit.ts';
import { loggerFromFlags, metricsListenFromFlags, readFlagFile, tlsFromFlags, tokenTableFromFile } from '../protocol/ops-flags.ts';
import { interpretArgs, parseHostPort, type ClusterArgs, type ReplicaArgs } from '../global/cluster/cluster-args.ts';
import { GlobalServer } from '../global/server/global-server.ts';
import { REPLICA_NODE_FLAGS } from '../global/replica/replica-node-flags.ts';
import { checkServerSecurity, type ServerSecurity } from '../global/server/server-security.ts';
import { RESTARTS_ENV, Supervisor } from '../global/cluster/supervisor.ts';
import type { Command, CommandContext, FlagValues } from './args.ts';
import { OPS_FLAGS, quietGrpcLog } from './ops-flags.ts';

const FLAGS = {
  id: { type: 'string', value: 'N', help: 'this replica\'s id, 1..65535 (default 1)' },
  listen: { type: 'string', value: 'host:port', help: 'address to bind (default 127.0.0.1:50051; with --peers, this replica\'s entry); with --cluster, the first of N consecutive ports' },
  peers: { type: 'string', value: '1=host:port,...', help: 'every member of the cluster, this one included' },
  data: { type: 'string', value: 'DIR', help: 'data directory (default ./data, or ./data/replica-N with --peers or --cluster)' },
  cluster: { type: 'string', value: '3|5', help: 'run 3 or 5 replicas here as child processes (restarted when they exit)' },
  'cluster-id': { type: 'string', value: 'ID', help: 'refuse peers of another cluster (default dstore)' },
  'holder-lease-ms': { type: 'string', value: 'MS', help: 'strict holds (docs/coherence.md): 100..60000, 0 = off (default); give every replica the same' },
  'start-check': { type: 'string', value: 'majority|every-member', help: 'before a restarted replica votes, who must confirm it was not restored from an older copy (docs/consensus.md): a majority after an election timeout (default), or every member' },
  'auth-tokens': { type: 'string', value: 'FILE', help: 'accept only clients presenting a token of FILE (`principal token` per line)' },
  'peer-token-file': { type: 'string', value: 'FILE', help: 'the token this replica presents to its peers' },
  ...OPS_FLAGS,
  // A client's flag: accepted only to say so (serverSecurityFromFlags).
  'token-file': { ...OPS_FLAGS['token-file'], hidden: true },
} as const;

type Flags = FlagValues<typeof FLAGS>;
type ReplicaOps = Omit<Flags, 'id' | 'listen' | 'peers' | 'data' | 'cluster' | 'cluster-id'>;

export interface GlobalArgs {
  readonly layout: ReplicaArgs | ClusterArgs;
  readonly ops: ReplicaOps;
  readonly holderLeaseMs: number;
  readonly startCheckEveryMember: boolean;
}

/** --start-check: majority (the default) or every-member. */
function startCheckEveryMemberFromFlags(raw: ReplicaOps): boolean {
  const text = raw['start-check'] ?? 'majority';
  if (text !== 'majority' && text !== 'every-member') throw new InvalidArgumentError(`--start-check ${JSON.stringify(text)}: give majority (the default) or every-member`);
  return text === 'every-member';
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
  if (raw['token-file'] !== undefined) throw new InvalidArgumentError('--token-file is for clients (dstore status); a replica checks --auth-tokens and sends --peer-token-file');
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

async function runReplica(args: ReplicaArgs, ops: ReplicaOps, holderLeaseMs: number, startCheckEveryMember: boolean): Promise<null> {
  const security = serverSecurityFromFlags(ops);
  const logger = loggerFromFlags(ops);
  const metricsListen = metricsListenFromFlags(ops);
  const registry = metricsListen === null ? undefined : new Registry();
  if (registry !== undefined) collectDefaultMetrics({ register: registry });
  const server = await GlobalServer.listen(args.listen, { security, logger, ...(registry === undefined ? {} : { metrics: registry }) });
  // A lone replica advertises the address it bound (port 0 picks one), for leader hints.
  const members = args.members.size === 1 ? new Map([[args.replicaId, server.address]]) : args.members;
  await server.start({ replicaId: args.replicaId, members, dataDir: args.dataDir, clusterId: args.clusterId, restarts: restartsFromEnv(), holderLeaseMs, node: { consensus: { startCheckEveryMember } } });
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
  return null;
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

function runCluster(args: ClusterArgs, ops: ReplicaOps, context: CommandContext): null {
  const ids = Array.from({ length: args.size }, (_, i) => i + 1);
  const address = (id: number): string => `${args.host}:${args.firstPort + id - 1}`;
  const peers = ids.map((id) => `${id}=${address(id)}`).join(',');
  // process.execArgv carries a TypeScript loader this process may run under (tsx).
  const command = (id: number): string[] => [process.execPath, ...REPLICA_NODE_FLAGS, ...process.execArgv, ...context.relaunch, '--id', String(id), '--peers', peers, '--data', `${args.dataDir}/replica-${id}`, '--cluster-id', args.clusterId, ...childOpsArgs(ops, id)];
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
  return null;
}

export const globalCommand: Command<typeof FLAGS, GlobalArgs> = {
  spec: {
    name: 'dstore global',
    usage: ['[--id N] [--listen host:port] [--peers 1=host:port,...] [--data DIR] [flags]', '--cluster 3|5 [--listen host:firstPort] [--data DIR] [flags]'],
    summary: 'Runs a Global replica (docs/running-global.md). Alone it is a one-replica store; with --peers it is one\nmember of a cluster; --cluster 3|5 runs that many here as child processes. Ctrl-C stops it cleanly.',
    flags: FLAGS,
    notes: 'examples:\n  dstore global                                   one replica on 127.0.0.1:50051, data in ./data\n  dstore global --cluster 3 --listen 127.0.0.1:50061\n  dstore global --id 2 --listen 127.0.0.1:50052 --peers 1=127.0.0.1:50051,2=127.0.0.1:50052,3=127.0.0.1:50053\nThe cluster\'s state: dstore status --peers host:port,...',
  },
  check(values) {
    quietGrpcLog(values['log-level']);
    const layout = interpretArgs(values);
    const { id: _id, listen: _listen, peers: _peers, data: _data, cluster: _cluster, 'cluster-id': _clusterId, ...ops } = values;
    const holderLeaseMs = holderLeaseMsFromFlags(ops);
    const startCheckEveryMember = startCheckEveryMemberFromFlags(ops);
    if (layout.kind === 'replica') {
      // Checked now, so a bad file is a usage error (exit 2) rather than a failed start.
      checkServerSecurity(serverSecurityFromFlags(ops), layout.members.size);
      loggerFromFlags(ops);
      metricsListenFromFlags(ops);
    }
    return { layout, ops, holderLeaseMs, startCheckEveryMember };
  },
  run(args, context) {
    return args.layout.kind === 'cluster' ? Promise.resolve(runCluster(args.layout, args.ops, context)) : runReplica(args.layout, args.ops, args.holderLeaseMs, args.startCheckEveryMember);
  },
};
