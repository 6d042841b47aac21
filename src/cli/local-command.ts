// `dstore local`: the REPL (the README's REPL table). A Local cache in this process, serving the
// node's workers on --listen, reading commands from stdin.
//
// On a terminal (or with --interactive): a banner, a `db > ` prompt, every answer on stdout,
// history kept across runs. Otherwise it is a script runner: no banner and no prompts, answers
// on stdout, failures on stderr as `line N: ...`; it stops at the first failed command with
// exit status 1 (--keep-going runs the rest and still exits 1). A failed command is a usage
// error, an operating error (Global unavailable, a deadline), or a SET that did not bind the key
// (occupied); a GET or DEL of a missing key is an answer, not a failure. --json prints one JSON
// object per command on stdout instead, failures included.
//
// History is kept in ~/.dstore_history (or $DSTORE_HISTORY), oldest line first, readable by its
// owner only (it holds the values typed).

import { appendFileSync, chmodSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { GlobalClient } from '../local/client/client.ts';
import { Local } from '../local/local.ts';
import { LocalServer } from '../local/node/local-server.ts';
import { registerLocalMetrics } from '../local/metrics.ts';
import { execute, type Outcome } from '../local/repl/repl-exec.ts';
import { parse } from '../local/repl/repl-parse.ts';
import { DstoreError, UnavailableError } from '../protocol/errors.ts';
import type { Logger } from '../protocol/log.ts';
import { serveMetrics, type MetricsEndpoint } from '../protocol/metrics-kit.ts';
import { clientSecurityFromFlags, loggerFromFlags, metricsListenFromFlags } from '../protocol/ops-flags.ts';
import type { ClientSecurity } from '../protocol/tls.ts';
import { intFlag, type Command } from './args.ts';
import { OPS_FLAGS, quietGrpcLog } from './ops-flags.ts';

const DEFAULT_GLOBAL = '127.0.0.1:50051';
const DEFAULT_LISTEN = '127.0.0.1:50052';
/** How long one command may take, retries and failover included (--deadline-ms). */
const DEFAULT_DEADLINE_MS = 10_000;
/** How long start-up waits for Global's first answer before saying it does not answer. */
const STARTUP_PROBE_MS = 5000;
/** How long start-up waits for the invalidation stream before showing the prompt anyway. */
const STARTUP_SYNC_MS = 2000;
/** How long start-up waits for an embedded Global to elect itself. */
const EMBEDDED_ELECTION_WAIT_MS = 5000;
/** Lines of history offered to a terminal (the file keeps them all). */
const HISTORY_LINES_MAX = 1000;
/** History holds values: owner only. New files are made 0600; an older, looser one is tightened. */
const HISTORY_FILE_MODE = 0o600;
const PROMPT = 'db > ';
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const FLAGS = {
  global: { type: 'string', value: 'host:port,...', help: `the Global replicas (default ${DEFAULT_GLOBAL}; when none answers there, one is started in this process)` },
  listen: { type: 'string', value: 'host:port', help: `where this Local serves the node's workers (default ${DEFAULT_LISTEN}; port 0 picks one)` },
  data: { type: 'string', value: 'DIR', help: 'data directory of an embedded Global (default ./data)' },
  'no-embed': { type: 'boolean', help: 'never start a Global in this process' },
  'deadline-ms': { type: 'string', value: 'MS', help: `how long one command may take, failover included: 1..3600000 (default ${DEFAULT_DEADLINE_MS})` },
  json: { type: 'boolean', help: 'print one JSON object per command (for scripts)' },
  'keep-going': { type: 'boolean', help: 'without a terminal: run every command even after one failed (the exit status is still 1)' },
  interactive: { type: 'boolean', short: 'i', help: 'banner and prompts even when stdin is not a terminal (to drive the REPL from a program)' },
  ...OPS_FLAGS,
} as const;

export interface LocalArgs {
  readonly global: string[];
  readonly globalGiven: boolean;
  readonly listen: string;
  readonly dataDir: string;
  readonly embed: boolean;
  /** TLS and token towards Global; the node server demands the same (local-security.ts). */
  readonly security: ClientSecurity;
  readonly metricsListen: string | null;
  readonly logger: Logger;
  readonly deadlineMs: number;
  readonly json: boolean;
  readonly keepGoing: boolean;
  readonly interactive: boolean;
}

/** Why Global does not answer at `address` (a typed error), or null when it does. */
async function whyGlobalIsSilent(client: GlobalClient, deadlineMs: number): Promise<DstoreError | null> {
  try {
    await client.status({ deadlineMs });
    return null;
  } catch (err) {
    return err instanceof DstoreError ? err : new UnavailableError(String(err));
  }
}

/** Whether a connection to `address` is refused (nothing listens: an embedded Global may take the port). */
async function nothingListensAt(address: string): Promise<boolean> {
  const probe = new GlobalClient({ addresses: [address], deadlineMs: 1000, connectTimeoutMs: 500, failFast: true });
  try {
    const err = await whyGlobalIsSilent(probe, 1000);
    return err instanceof UnavailableError && err.reason === 'connection-refused';
  } finally {
    await probe.close();
  }
}

/** Starts a single Global replica in this process and waits until it leads, so the first command typed works. */
async function startEmbeddedGlobal(address: string, dataDir: string): Promise<{ stop: () => Promise<void> }> {
  const { GlobalServer } = await import('../global/server/global-server.ts');
  const server = await GlobalServer.listen(address);
  await server.start({ replicaId: 1, members: new Map([[1, server.address]]), dataDir, clusterId: 'dstore' });
  const deadline = Date.now() + EMBEDDED_ELECTION_WAIT_MS;
  while (!server.node.isLeader() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  return server;
}

function historyFile(): string {
  return process.env.DSTORE_HISTORY ?? join(homedir(), '.dstore_history');
}

function tightenHistory(): void {
  try {
    if ((statSync(historyFile()).mode & 0o077) !== 0) chmodSync(historyFile(), HISTORY_FILE_MODE);
  } catch {
    // No history yet, or not ours to change: it is a convenience either way.
  }
}

function appendHistory(line: string): void {
  try {
    appendFileSync(historyFile(), `${line}\n`, { mode: HISTORY_FILE_MODE });
  } catch {
    // History is a convenience: a read-only home must not stop the REPL.
  }
}

/** The history a terminal offers (newest first, as readline wants it). */
function loadHistory(): string[] {
  try {
    return readFileSync(historyFile(), 'utf8').split('\n').filter((l) => l !== '').reverse().slice(0, HISTORY_LINES_MAX);
  } catch {
    return [];
  }
}

/** Everything a session runs against, and how to stop it. */
interface Session {
  readonly local: Local;
  readonly address: string;
  readonly globalText: string;
  close(): Promise<void>;
}

async function open(args: LocalArgs, notice: (line: string) => void): Promise<Session | null> {
  let embedded: { stop: () => Promise<void> } | null = null;
  // Embed only where nothing listens: anything else there (a Global starting, another
  // server, TLS) is reported below instead of a bind failure.
  if (!args.globalGiven && args.embed && (await nothingListensAt(DEFAULT_GLOBAL))) {
    try {
      embedded = await startEmbeddedGlobal(DEFAULT_GLOBAL, args.dataDir);
      notice(`No Global answered at ${DEFAULT_GLOBAL}: started one in this process (data in ${args.dataDir}).`);
    } catch (err) {
      console.error(`Could not start a Global at ${DEFAULT_GLOBAL}: ${(err as Error).message}. Commands will fail until one runs there.`);
    }
  }
  const globalText = args.global.join(',');
  // Retries end at the deadline only, so a command typed during a failover waits for the new
  // leader instead of giving up after a count.
  // failFast: while no replica can be reached, a command fails at once saying why (the client
  // keeps dialling in the background) instead of waiting out its deadline.
  const local = Local.open({ global: args.global, client: { deadlineMs: args.deadlineMs, connectTimeoutMs: 1000, security: args.security, failFast: true } });
  let server: LocalServer;
  let metrics: MetricsEndpoint | null = null;
  try {
    server = await LocalServer.listen(local, args.listen, args.security);
    if (args.metricsListen !== null) {
      const registry = new Registry();
      collectDefaultMetrics({ register: registry });
      registerLocalMetrics(registry, local);
      metrics = await serveMetrics(registry, args.metricsListen, { tls: args.security.tls, logger: args.logger });
      notice(`Metrics on ${metrics.url}`);
    }
  } catch (err) {
    console.error(`dstore local: ${(err as Error).message}`);
    await local.close();
    await embedded?.stop();
    return null;
  }
  args.logger.info('local.started', { address: server.address, global: globalText, tls: args.security.tls !== null, token: args.security.token !== null });
  const silent = await whyGlobalIsSilent(local.client, STARTUP_PROBE_MS);
  if (silent === null) {
    // Sync with Global first (briefly), so the first commands are already served from the cache.
    await local.ready(STARTUP_SYNC_MS);
  } else {
    console.error(`Global does not answer: ${silent.message}. Until it does, commands fail at once saying why.`);
  }
  return {
    local,
    address: server.address,
    globalText,
    async close() {
      await server.stop();
      await metrics?.close();
      await local.close();
      await embedded?.stop();
    },
  };
}

/** The prompt: banner, `db > `, answers on stdout; resolves with the exit status when input ends or on .exit. */
function runInteractive(session: Session, args: LocalArgs): Promise<number> {
  const terminal = process.stdin.isTTY === true && process.stdout.isTTY === true;
  console.log(`dstore v${VERSION} (addr: ${session.address})`);
  console.log('Type .exit to exit (or Ctrl-D), .help for the commands.');
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal, prompt: PROMPT, history: terminal ? loadHistory() : [], historySize: HISTORY_LINES_MAX, removeHistoryDuplicates: true });
  // Statements run one at a time in input order, also when a pipe delivers many lines at once.
  let queue: Promise<void> = Promise.resolve();
  let exiting = false;
  return new Promise((resolve) => {
    rl.on('line', (line) => {
      queue = queue.then(async () => {
        if (exiting) return;
        const statement = parse(line);
        if (line.trim() !== '') appendHistory(line.trim());
        if (statement.kind === 'exit') {
          exiting = true;
          rl.close();
          return;
        }
        const outcome = await execute(statement, session.local, session.globalText);
        if (outcome !== null) process.stdout.write(`${args.json ? JSON.stringify(outcome.json) : outcome.text}\n`);
        rl.prompt();
      });
    });
    // Ctrl-C clears the line being typed; on an empty line it leaves, as Ctrl-D does.
    rl.on('SIGINT', () => {
      if (rl.line === '') {
        rl.close();
      } else {
        process.stdout.write('^C\n');
        // readline has no call to drop the line being edited: empty its buffer and cursor.
        Object.assign(rl, { line: '', cursor: 0 });
        rl.prompt();
      }
    });
    rl.on('close', () => void queue.then(() => resolve(0)));
    rl.prompt();
  });
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Where a line stops being UTF-8, for the message. */
function firstBadByte(bytes: Uint8Array): string {
  for (let i = 0; i < bytes.length; i++) {
    for (let n = 1; n <= 4 && i + n <= bytes.length; n++) {
      try {
        strictUtf8.decode(bytes.subarray(i, i + n));
        i += n - 1;
        break;
      } catch {
        if (n === 4 || i + n === bytes.length) return `byte 0x${bytes[i]!.toString(16).padStart(2, '0')} at column ${i + 1}`;
      }
    }
  }
  return 'a truncated character at the end';
}

/** The script runner: resolves with 0 when every command succeeded, else 1. */
async function runScript(session: Session, args: LocalArgs): Promise<number> {
  let failed = false;
  let lineNumber = 0;
  const report = (outcome: Outcome): boolean => {
    if (args.json) process.stdout.write(`${JSON.stringify({ line: lineNumber, ...outcome.json })}\n`);
    else if (outcome.ok) process.stdout.write(`${outcome.text}\n`);
    else process.stderr.write(`line ${lineNumber}: ${outcome.text}\n`);
    if (!outcome.ok) failed = true;
    return outcome.ok || args.keepGoing;
  };
  /** Runs one line of bytes; false to stop reading. */
  const runLine = async (bytes: Uint8Array): Promise<boolean> => {
    lineNumber++;
    const trimmed = bytes.at(-1) === 0x0d ? bytes.subarray(0, -1) : bytes;
    let line: string;
    try {
      line = strictUtf8.decode(trimmed);
    } catch {
      const message = `the line is not valid UTF-8 (${firstBadByte(trimmed)}): write other bytes as \\xNN inside double quotes, e.g. SET k "\\xff\\x00"`;
      return report({ ok: false, text: message, json: { ok: false, error: 'USAGE', message } });
    }
    const statement = parse(line);
    if (line.trim() !== '') appendHistory(line.trim());
    if (statement.kind === 'exit') return false;
    const outcome = await execute(statement, session.local, session.globalText);
    return outcome === null ? true : report(outcome);
  };
  let pending: Buffer = Buffer.alloc(0);
  let reading = true;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let start = 0;
    for (let nl = pending.indexOf(0x0a); reading && nl !== -1; nl = pending.indexOf(0x0a, start)) {
      reading = await runLine(pending.subarray(start, nl));
      start = nl + 1;
    }
    if (!reading) break;
    pending = pending.subarray(start);
  }
  // A last line without its newline.
  if (reading && pending.length > 0) await runLine(pending);
  return failed ? 1 : 0;
}

export const localCommand: Command<typeof FLAGS, LocalArgs> = {
  spec: {
    name: 'dstore local',
    usage: ['[--global host:port,...] [--listen host:port] [--json] [--keep-going] [flags]'],
    summary: [
      'The Local REPL: a Local cache in this process that serves the node\'s workers on --listen, and a prompt to',
      'SET, GET and DEL keys (type .help there). Without a terminal it runs a script: no banner or prompts,',
      'answers on stdout, failures on stderr, and it stops at the first failed command with exit status 1.',
    ].join('\n'),
    flags: FLAGS,
    notes: [
      'examples:',
      '  dstore local --global 127.0.0.1:50061,127.0.0.1:50062,127.0.0.1:50063 --listen 127.0.0.1:50053',
      '  printf \'SET a 1\\nGET a\\n\' | dstore local --json',
      'Values: inside double quotes \\xNN is any byte (SET k "\\x00\\xff"); what is not printable text is shown that way.',
    ].join('\n'),
  },
  check(values) {
    quietGrpcLog(values['log-level']);
    const security = clientSecurityFromFlags(values);
    return {
      deadlineMs: intFlag(values['deadline-ms'], '--deadline-ms', 1, 3_600_000, DEFAULT_DEADLINE_MS, 'a whole number of ms'),
      global: (values.global ?? DEFAULT_GLOBAL).split(',').map((a) => a.trim()).filter((a) => a !== ''),
      globalGiven: values.global !== undefined,
      listen: values.listen ?? DEFAULT_LISTEN,
      dataDir: values.data ?? './data',
      // An embedded Global is plaintext and open: never when TLS or a token is asked for.
      embed: values['no-embed'] !== true && security.tls === null && security.token === null,
      security,
      metricsListen: metricsListenFromFlags(values),
      logger: loggerFromFlags(values),
      json: values.json === true,
      keepGoing: values['keep-going'] === true,
      interactive: values.interactive === true || process.stdin.isTTY === true,
    };
  },
  async run(args) {
    // A script's stdout is its answers only: notices go to stderr there.
    const notice = (line: string): void => void (args.interactive ? process.stdout : process.stderr).write(`${line}\n`);
    const session = await open(args, notice);
    if (session === null) return 1;
    // Before the first prompt: whoever sees it may rely on the history being owner-only.
    tightenHistory();
    try {
      return args.interactive ? await runInteractive(session, args) : await runScript(session, args);
    } finally {
      await session.close();
    }
  },
};
