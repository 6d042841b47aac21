// Command-line flags shared by examples/global.ts and examples/local.ts for operating a
// process: TLS files, tokens, the metrics endpoint and logging. Parsed into plain values so
// tests can check them without starting anything; every problem is an InvalidArgumentError
// whose message is fit to print as is.

import { readFileSync } from 'node:fs';
import { parseTokenFile, TokenTable } from './auth.ts';
import { InvalidArgumentError } from './errors.ts';
import { createLogger, LOG_LEVEL_DEFAULT, parseLogFormat, parseLogLevel, type Logger } from './log.ts';
import { loadTls, type ClientSecurity, type TlsMaterial } from './tls.ts';

/** parseArgs options of the shared flags. */
export const OPS_FLAG_OPTIONS = {
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-ca': { type: 'string' },
  'token-file': { type: 'string' },
  metrics: { type: 'string' },
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
} as const;

export const OPS_FLAGS_USAGE = '[--tls-cert FILE --tls-key FILE --tls-ca FILE] [--token-file FILE] [--metrics host:port] [--log-level debug|info|warn|error] [--log-format json|logfmt]';

export interface OpsRaw {
  'tls-cert'?: string | undefined;
  'tls-key'?: string | undefined;
  'tls-ca'?: string | undefined;
  'token-file'?: string | undefined;
  metrics?: string | undefined;
  'log-level'?: string | undefined;
  'log-format'?: string | undefined;
}

/** Reads a file for `flag`; InvalidArgumentError naming both when it cannot. */
export function readFlagFile(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new InvalidArgumentError(`${flag} ${path}: cannot read it (${(err as Error).message})`);
  }
}

/** TLS material from --tls-cert/--tls-key/--tls-ca: all three or none. */
export function tlsFromFlags(raw: OpsRaw): TlsMaterial | null {
  const given = [raw['tls-cert'], raw['tls-key'], raw['tls-ca']].filter((v) => v !== undefined).length;
  if (given === 0) return null;
  if (given !== 3) throw new InvalidArgumentError('TLS needs all three of --tls-cert, --tls-key and --tls-ca');
  return loadTls({ certPath: raw['tls-cert']!, keyPath: raw['tls-key']!, caPath: raw['tls-ca']! });
}

/** The token of --token-file (the file holds just the token), or null. */
export function tokenFromFlags(raw: OpsRaw): string | null {
  const path = raw['token-file'];
  return path === undefined ? null : parseTokenFile(readFlagFile(path, '--token-file'), `--token-file ${path}`);
}

/** How this process calls a server: --tls-* and --token-file. */
export function clientSecurityFromFlags(raw: OpsRaw): ClientSecurity {
  return { tls: tlsFromFlags(raw), token: tokenFromFlags(raw) };
}

/** A tokens file (`principal token` per line) for --auth-tokens. */
export function tokenTableFromFile(path: string, flag: string): TokenTable {
  return TokenTable.parse(readFlagFile(path, flag), `${flag} ${path}`);
}

/** The --metrics address, checked to be host:port, or null. */
export function metricsListenFromFlags(raw: OpsRaw): string | null {
  const listen = raw.metrics;
  if (listen === undefined) return null;
  const colon = listen.lastIndexOf(':');
  const port = listen.slice(colon + 1);
  if (colon <= 0 || !/^\d{1,5}$/.test(port) || Number(port) > 65535) {
    throw new InvalidArgumentError(`--metrics ${JSON.stringify(listen)} is not host:port (for example 127.0.0.1:9464)`);
  }
  return listen;
}

/** The logger of --log-level (default warn: quiet) and --log-format (default json), on stderr. */
export function loggerFromFlags(raw: OpsRaw): Logger {
  const level = raw['log-level'] === undefined ? LOG_LEVEL_DEFAULT : parseLogLevel(raw['log-level']);
  const format = raw['log-format'] === undefined ? 'json' : parseLogFormat(raw['log-format']);
  return createLogger({ level, format });
}
