// `dstore status`: the cluster as a table (or JSON). Exit 0 when it is healthy, 1 when it is
// degraded, 2 on bad flags.

import { clientSecurityFromFlags } from '../protocol/ops-flags.ts';
import type { ClientSecurity } from '../protocol/tls.ts';
import { parseHostPort } from '../global/cluster/cluster-args.ts';
import { fetchClusterStatus, formatJson, formatTable, summarize } from '../global/cluster/cluster-status.ts';
import { UsageError, type Command } from './args.ts';
import { OPS_FLAGS, quietGrpcLog } from './ops-flags.ts';

const FLAGS = {
  peers: { type: 'string', value: 'host:port,...', help: 'replicas to ask (one live member is enough; "1=host:port,..." works too)' },
  json: { type: 'boolean', help: 'print JSON instead of a table' },
  'tls-cert': OPS_FLAGS['tls-cert'],
  'tls-key': OPS_FLAGS['tls-key'],
  'tls-ca': OPS_FLAGS['tls-ca'],
  'token-file': OPS_FLAGS['token-file'],
  'log-level': { type: 'string', value: 'LEVEL', help: 'debug shows grpc-js\'s own log' },
} as const;

export interface StatusArgs {
  readonly addresses: string[];
  readonly json: boolean;
  readonly security: ClientSecurity;
}

export const statusCommand: Command<typeof FLAGS, StatusArgs> = {
  spec: {
    name: 'dstore status',
    usage: ['--peers host:port,... [--json] [--tls-cert FILE --tls-key FILE --tls-ca FILE] [--token-file FILE]'],
    summary: 'Asks the replicas of a cluster for their state and prints it: leader, revisions, lag, peers.\nExit status 0 when the cluster is healthy, 1 when it is degraded.',
    flags: FLAGS,
  },
  check(values) {
    quietGrpcLog(values['log-level']);
    if (values.peers === undefined) throw new UsageError('--peers host:port,... is required (one live member is enough)');
    // Accepts the replicas' own --peers list ("1=host:port,...") as well as plain addresses.
    const addresses = values.peers.split(',').filter((p) => p !== '').map((p) => p.slice(p.indexOf('=') + 1));
    for (const a of addresses) parseHostPort(a, '--peers entry');
    return { addresses, json: values.json === true, security: clientSecurityFromFlags(values) };
  },
  async run(args) {
    const cluster = summarize(await fetchClusterStatus(args.addresses, args.security));
    console.log(args.json ? formatJson(cluster) : formatTable(cluster));
    return cluster.healthy ? 0 : 1;
  },
};
