// The operating flags every long-running command shares (TLS, token, metrics, logs), as
// flag specs for args.ts; src/protocol/ops-flags.ts turns their values into TLS material,
// tokens and a logger. Also: grpc-js's own log lines are silenced unless --log-level debug.

import * as grpc from '@grpc/grpc-js';
import type { FlagSpecs } from './args.ts';

export const OPS_FLAGS = {
  'tls-cert': { type: 'string', value: 'FILE', help: 'this process\'s certificate (PEM); TLS needs all three --tls-* flags' },
  'tls-key': { type: 'string', value: 'FILE', help: 'its private key (PEM)' },
  'tls-ca': { type: 'string', value: 'FILE', help: 'the CA that signs every certificate of the cluster (mutual TLS)' },
  'token-file': { type: 'string', value: 'FILE', help: 'the token this process presents to Global (a file holding just the token)' },
  metrics: { type: 'string', value: 'host:port', help: 'serve Prometheus metrics on http(s)://host:port/metrics' },
  'log-level': { type: 'string', value: 'LEVEL', help: 'debug, info, warn (default) or error; debug also shows grpc-js\'s own log' },
  'log-format': { type: 'string', value: 'FORMAT', help: 'json (default) or logfmt, on stderr' },
} as const satisfies FlagSpecs;

/**
 * grpc-js writes its own lines to stderr (e.g. "E No address added out of total 1 resolved"
 * just before our own message about a port in use): only with --log-level debug, or when the
 * user set GRPC_VERBOSITY themselves.
 */
export function quietGrpcLog(logLevel: string | undefined): void {
  if (logLevel === 'debug' || process.env.GRPC_VERBOSITY !== undefined) return;
  grpc.setLogVerbosity(grpc.logVerbosity.NONE);
}
