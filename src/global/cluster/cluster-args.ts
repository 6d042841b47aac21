// Command-line options of a Global replica (examples/global.ts), parsed into a plain
// description so tests can check them without starting anything.

import { InvalidArgumentError } from '../../protocol/errors.ts';

export const DEFAULT_LISTEN = '127.0.0.1:50051';
export const DEFAULT_DATA_DIR = './data';
export const DEFAULT_CLUSTER_ID = 'dstore';
/** Largest replica id (ids are 1..REPLICA_ID_MAX). */
export const REPLICA_ID_MAX = 65535;
/** Sizes `--cluster` accepts: a majority survives one (3) or two (5) lost replicas. */
export const CLUSTER_SIZES: readonly number[] = [3, 5];

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

/** A decimal integer in [min, max] written with digits only, or null. */
function decimal(text: string, min: number, max: number): number | null {
  if (!/^[0-9]{1,10}$/.test(text)) return null;
  const n = Number(text);
  return n >= min && n <= max ? n : null;
}

/** Parses "host:port" (port 0..65535; IPv6 hosts in brackets). `what` names the flag in messages. */
export function parseHostPort(text: string, what: string): { host: string; port: number } {
  const colon = text.lastIndexOf(':');
  const port = colon < 0 ? null : decimal(text.slice(colon + 1), 0, 65535);
  if (colon <= 0 || port === null) {
    throw new InvalidArgumentError(`${what} ${JSON.stringify(text)} is not host:port with port 0..65535 (for example 127.0.0.1:50051)`);
  }
  return { host: text.slice(0, colon), port };
}

/** Parses "1=host:port,2=host:port,...". Every port must be given (not 0): peers dial them. */
export function parsePeers(text: string): Map<number, string> {
  const members = new Map<number, string>();
  for (const part of text.split(',').filter((p) => p !== '')) {
    const eq = part.indexOf('=');
    const id = eq <= 0 ? null : decimal(part.slice(0, eq), 1, REPLICA_ID_MAX);
    if (id === null) {
      throw new InvalidArgumentError(`--peers entry ${JSON.stringify(part)} is not id=host:port with id in 1..${REPLICA_ID_MAX}`);
    }
    const address = part.slice(eq + 1);
    const { port } = parseHostPort(address, `--peers entry for replica ${id}`);
    if (port === 0) throw new InvalidArgumentError(`--peers entry for replica ${id} has port 0: peers need the real port to dial`);
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

function nonEmpty(value: string | undefined, flag: string, fallback: string): string {
  if (value === undefined) return fallback;
  if (value === '') throw new InvalidArgumentError(`${flag} is empty`);
  return value;
}

function interpretCluster(raw: RawArgs, clusterId: string): ClusterArgs {
  const size = decimal(raw.cluster ?? '', 0, 99);
  if (size === null || !CLUSTER_SIZES.includes(size)) {
    throw new InvalidArgumentError(`--cluster must be ${CLUSTER_SIZES.join(' or ')}, got ${JSON.stringify(raw.cluster)}`);
  }
  if (raw.id !== undefined || raw.peers !== undefined) throw new InvalidArgumentError('--cluster starts every replica itself: drop --id and --peers');
  const { host, port } = parseHostPort(raw.listen ?? DEFAULT_LISTEN, '--listen');
  if (port === 0) throw new InvalidArgumentError(`--cluster ${size} cannot use port 0: --listen gives the first of ${size} consecutive free ports`);
  if (port + size - 1 > 65535) throw new InvalidArgumentError(`--cluster ${size} needs ${size} consecutive ports from ${port}, past 65535`);
  return { kind: 'cluster', size, host, firstPort: port, dataDir: nonEmpty(raw.data, '--data', DEFAULT_DATA_DIR), clusterId };
}

/** Throws InvalidArgumentError with a message fit to print as is. */
export function interpretArgs(raw: RawArgs): ReplicaArgs | ClusterArgs {
  const clusterId = nonEmpty(raw['cluster-id'], '--cluster-id', DEFAULT_CLUSTER_ID);
  if (raw.cluster !== undefined) return interpretCluster(raw, clusterId);
  const replicaId = raw.id === undefined ? 1 : decimal(raw.id, 1, REPLICA_ID_MAX);
  if (replicaId === null) throw new InvalidArgumentError(`--id must be an integer in 1..${REPLICA_ID_MAX}, got ${JSON.stringify(raw.id)}`);
  if (raw.peers === undefined) {
    const listen = raw.listen ?? DEFAULT_LISTEN;
    parseHostPort(listen, '--listen');
    return { kind: 'replica', replicaId, listen, members: new Map([[replicaId, listen]]), dataDir: nonEmpty(raw.data, '--data', DEFAULT_DATA_DIR), clusterId };
  }
  const members = parsePeers(raw.peers);
  const advertised = members.get(replicaId);
  if (advertised === undefined) throw new InvalidArgumentError(`--peers does not list this replica (--id ${replicaId}): include ${replicaId}=host:port`);
  const listen = raw.listen ?? advertised;
  const { port } = parseHostPort(listen, '--listen');
  if (port === 0) throw new InvalidArgumentError(`--listen port 0 with --peers: the others dial ${advertised}, so listen on that port`);
  return { kind: 'replica', replicaId, listen, members, dataDir: nonEmpty(raw.data, '--data', `${DEFAULT_DATA_DIR}/replica-${replicaId}`), clusterId };
}
