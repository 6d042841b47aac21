// Command-line options of a Global replica (examples/global.ts), parsed into a plain
// description so tests can check them without starting anything.

import { InvalidArgumentError } from '../protocol/errors.ts';

export const DEFAULT_LISTEN = '127.0.0.1:50051';
export const DEFAULT_DATA_DIR = './data';
export const DEFAULT_CLUSTER_ID = 'dstore';

export interface ReplicaArgs {
  readonly kind: 'replica';
  readonly replicaId: number;
  /** Address to bind. */
  readonly listen: string;
  /** Every member, this one included: id -> advertised "host:port". */
  readonly members: ReadonlyMap<number, string>;
  readonly dataDir: string;
  readonly clusterId: string;
}

export interface ClusterArgs {
  readonly kind: 'cluster';
  /** 3 or 5 replicas as child processes on consecutive ports from `firstPort`. */
  readonly size: number;
  readonly host: string;
  readonly firstPort: number;
  readonly dataDir: string;
  readonly clusterId: string;
}

export function parseHostPort(text: string, what: string): { host: string; port: number } {
  const colon = text.lastIndexOf(':');
  const port = Number(text.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError(`${what} ${JSON.stringify(text)} is not host:port (for example 127.0.0.1:50051)`);
  }
  return { host: text.slice(0, colon), port };
}

/** Parses "1=host:port,2=host:port,...". */
export function parsePeers(text: string): Map<number, string> {
  const members = new Map<number, string>();
  for (const part of text.split(',').filter((p) => p !== '')) {
    const eq = part.indexOf('=');
    const id = Number(part.slice(0, eq));
    if (eq <= 0 || !Number.isInteger(id) || id < 1 || id > 65535) {
      throw new InvalidArgumentError(`--peers entry ${JSON.stringify(part)} is not id=host:port with id in 1..65535`);
    }
    const address = part.slice(eq + 1);
    parseHostPort(address, `--peers entry for replica ${id}`);
    if (members.has(id)) throw new InvalidArgumentError(`--peers lists replica ${id} twice`);
    members.set(id, address);
  }
  if (members.size === 0) throw new InvalidArgumentError('--peers is empty: give id=host:port for every replica, this one included');
  return members;
}

export interface RawArgs {
  id?: string | undefined;
  listen?: string | undefined;
  peers?: string | undefined;
  data?: string | undefined;
  cluster?: string | undefined;
  'cluster-id'?: string | undefined;
}

/** Throws InvalidArgumentError with a message fit to print as is. */
export function interpretArgs(raw: RawArgs): ReplicaArgs | ClusterArgs {
  const clusterId = raw['cluster-id'] ?? DEFAULT_CLUSTER_ID;
  if (raw.cluster !== undefined) {
    const size = Number(raw.cluster);
    if (size !== 3 && size !== 5) throw new InvalidArgumentError(`--cluster must be 3 or 5, got ${JSON.stringify(raw.cluster)}`);
    if (raw.id !== undefined || raw.peers !== undefined) throw new InvalidArgumentError('--cluster starts every replica itself: drop --id and --peers');
    const { host, port } = parseHostPort(raw.listen ?? DEFAULT_LISTEN, '--listen');
    if (port === 0 || port + size - 1 > 65535) throw new InvalidArgumentError(`--cluster ${size} needs ${size} consecutive ports from ${port}`);
    return { kind: 'cluster', size, host, firstPort: port, dataDir: raw.data ?? DEFAULT_DATA_DIR, clusterId };
  }
  const replicaId = raw.id === undefined ? 1 : Number(raw.id);
  if (!Number.isInteger(replicaId) || replicaId < 1 || replicaId > 65535) throw new InvalidArgumentError(`--id must be an integer in 1..65535, got ${JSON.stringify(raw.id)}`);
  if (raw.peers === undefined) {
    const listen = raw.listen ?? DEFAULT_LISTEN;
    parseHostPort(listen, '--listen');
    return { kind: 'replica', replicaId, listen, members: new Map([[replicaId, listen]]), dataDir: raw.data ?? DEFAULT_DATA_DIR, clusterId };
  }
  const members = parsePeers(raw.peers);
  const advertised = members.get(replicaId);
  if (advertised === undefined) throw new InvalidArgumentError(`--peers does not list this replica (--id ${replicaId}): include ${replicaId}=host:port`);
  const listen = raw.listen ?? advertised;
  parseHostPort(listen, '--listen');
  return { kind: 'replica', replicaId, listen, members, dataDir: raw.data ?? `${DEFAULT_DATA_DIR}/replica-${replicaId}`, clusterId };
}
