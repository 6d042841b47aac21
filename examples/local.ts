// The Local REPL (the README's REPL table): a Local cache in this process, serving the node's
// workers on --listen, with a prompt to SET, GET and DEL keys.
//
//   npx tsx examples/local.ts                                  Global at 127.0.0.1:50051; if none
//                                                              answers, starts one in this process
//                                                              (data in ./data)
//   npx tsx examples/local.ts --global h1:p1,h2:p2,h3:p3 --listen 127.0.0.1:50053
//   printf 'SET a 1\nGET a\n' | npx tsx examples/local.ts       scripted: works the same on a pipe
//
// History is kept across runs in ~/.dstore_history (or $DSTORE_HISTORY), readable by its owner
// only (it holds the values typed). Node's .load, .save and .editor are not offered: they read
// and write any file named, and edit JavaScript, which this prompt does not run.
import { appendFileSync, chmodSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import repl from 'node:repl';
import { parseArgs } from 'node:util';
import { GlobalClient } from '../src/local/client.ts';
import { Local } from '../src/local/local.ts';
import { LocalServer } from '../src/local/local-server.ts';
import { execute, HELP_TEXT } from '../src/local/repl-exec.ts';
import { parse } from '../src/local/repl-parse.ts';
import { DstoreError } from '../src/protocol/errors.ts';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { registerLocalMetrics } from '../src/local/metrics.ts';
import { serveMetrics, type MetricsEndpoint } from '../src/protocol/metrics-kit.ts';
import { clientSecurityFromFlags, loggerFromFlags, metricsListenFromFlags, OPS_FLAG_OPTIONS, OPS_FLAGS_USAGE } from '../src/protocol/ops-flags.ts';
import type { Logger } from '../src/protocol/log.ts';
import type { ClientSecurity } from '../src/protocol/tls.ts';

const DEFAULT_GLOBAL = '127.0.0.1:50051';
const DEFAULT_LISTEN = '127.0.0.1:50052';
/** How long one command may take, retries and failover included (--deadline-ms). */
const DEFAULT_DEADLINE_MS = 10_000;
const USAGE = `usage: local.ts [--global host:port[,host:port...]] [--listen host:port] [--data DIR (embedded Global only)] [--no-embed] [--deadline-ms N]
       ${OPS_FLAGS_USAGE}`;
/** How long start-up waits for the invalidation stream before showing the prompt anyway. */
const STARTUP_SYNC_MS = 2000;
/** How long start-up waits for an embedded Global to elect itself. */
const EMBEDDED_ELECTION_WAIT_MS = 5000;
const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

interface Args {
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
}

function parseCommandLine(): Args {
  const { values } = parseArgs({
    options: {
      global: { type: 'string' },
      listen: { type: 'string' },
      data: { type: 'string' },
      'no-embed': { type: 'boolean' },
      'deadline-ms': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      ...OPS_FLAG_OPTIONS,
    },
    strict: true,
  });
  if (values.help === true) {
    console.log(USAGE);
    process.exit(0);
  }
  const global = (values.global ?? DEFAULT_GLOBAL).split(',').map((a) => a.trim()).filter((a) => a !== '');
  const security = clientSecurityFromFlags(values);
  const deadlineText = values['deadline-ms'] ?? String(DEFAULT_DEADLINE_MS);
  const deadlineMs = /^[0-9]{1,7}$/.test(deadlineText) ? Number(deadlineText) : NaN;
  if (!(deadlineMs >= 1 && deadlineMs <= 3_600_000)) throw new Error(`--deadline-ms must be a whole number of ms in 1..3600000, got ${JSON.stringify(deadlineText)}`);
  return {
    deadlineMs,
    global,
    globalGiven: values.global !== undefined,
    listen: values.listen ?? DEFAULT_LISTEN,
    dataDir: values.data ?? './data',
    // An embedded Global is plaintext and open: never when TLS or a token is asked for.
    embed: values['no-embed'] !== true && security.tls === null && security.token === null,
    security,
    metricsListen: metricsListenFromFlags(values),
    logger: loggerFromFlags(values),
  };
}

async function globalAnswers(address: string): Promise<boolean> {
  const probe = new GlobalClient({ addresses: [address], deadlineMs: 1000, connectTimeoutMs: 500, retriesMax: 1 });
  try {
    await probe.status();
    return true;
  } catch {
    return false;
  } finally {
    await probe.close();
  }
}

/**
 * Starts a single Global replica in this process (examples may use src/global; src/local may
 * not) and waits until it leads, so the first command typed works.
 */
async function startEmbeddedGlobal(address: string, dataDir: string): Promise<{ stop: () => Promise<void> }> {
  const { GlobalServer } = await import('../src/global/global-server.ts');
  const server = await GlobalServer.listen(address);
  await server.start({ replicaId: 1, members: new Map([[1, server.address]]), dataDir, clusterId: 'dstore' });
  const deadline = Date.now() + EMBEDDED_ELECTION_WAIT_MS;
  while (!server.node.isLeader() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  return server;
}

function historyFile(): string {
  return process.env.DSTORE_HISTORY ?? join(homedir(), '.dstore_history');
}

/** History holds values: owner only. New files are made 0600; an older, looser one is tightened. */
const HISTORY_FILE_MODE = 0o600;

function tightenHistory(): void {
  try {
    if ((statSync(historyFile()).mode & 0o077) !== 0) chmodSync(historyFile(), HISTORY_FILE_MODE);
  } catch {
    // No history yet, or not ours to change: it is a convenience either way.
  }
}

/** Node's commands that do not belong in this prompt (the file comment says why). */
const REMOVED_REPL_COMMANDS = ['load', 'save', 'editor'];

async function main(): Promise<void> {
  let args: Args;
  try {
    args = parseCommandLine();
  } catch (err) {
    console.error(`local.ts: ${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  let embedded: { stop: () => Promise<void> } | null = null;
  if (!args.globalGiven && args.embed && !(await globalAnswers(DEFAULT_GLOBAL))) {
    try {
      embedded = await startEmbeddedGlobal(DEFAULT_GLOBAL, args.dataDir);
      console.log(`No Global answered at ${DEFAULT_GLOBAL}: started one in this process (data in ${args.dataDir}).`);
    } catch (err) {
      console.error(`Could not start a Global at ${DEFAULT_GLOBAL}: ${(err as Error).message}. Commands will fail until one runs there.`);
    }
  }
  const globalText = args.global.join(',');
  // Retries end at the deadline only, so a command typed during a failover waits for the new
  // leader instead of giving up after a count.
  const local = Local.open({ global: args.global, client: { deadlineMs: args.deadlineMs, connectTimeoutMs: 1000, security: args.security } });
  let server: LocalServer;
  let metrics: MetricsEndpoint | null = null;
  try {
    server = await LocalServer.listen(local, args.listen, args.security);
    if (args.metricsListen !== null) {
      const registry = new Registry();
      collectDefaultMetrics({ register: registry });
      registerLocalMetrics(registry, local);
      metrics = await serveMetrics(registry, args.metricsListen, { tls: args.security.tls, logger: args.logger });
      console.log(`Metrics on ${metrics.url}`);
    }
  } catch (err) {
    console.error(`local.ts: ${(err as Error).message}`);
    await local.close();
    await embedded?.stop();
    process.exit(1);
  }
  args.logger.info('local.started', { address: server.address, global: globalText, tls: args.security.tls !== null, token: args.security.token !== null });

  // Sync with Global first (briefly), so the first commands are already served from the cache.
  await local.ready(STARTUP_SYNC_MS);
  console.log(`dstore v${VERSION} (addr: ${server.address})`);
  console.log('Type .exit to exit (or Ctrl-D), .help for the commands.');
  const terminal = process.stdin.isTTY === true && process.stdout.isTTY === true;
  // Statements run one at a time in input order, also when a pipe delivers many lines at once.
  let queue: Promise<void> = Promise.resolve();
  // Before the first prompt: whoever sees it may rely on the history being owner-only.
  tightenHistory();
  const session = repl.start({
    prompt: 'db > ',
    terminal,
    ignoreUndefined: true,
    writer: (output: unknown) => String(output),
    eval: (line, _context, _file, callback) => {
      queue = queue.then(async () => {
        const text = await execute(parse(line), local, globalText);
        if (!terminal && line.trim() !== '') appendHistory(line.trim());
        callback(null, text === '' ? undefined : text);
      });
    },
  });
  session.defineCommand('help', {
    help: 'The dstore commands',
    action() {
      this.output.write(`${HELP_TEXT}\n`);
      this.displayPrompt();
    },
  });
  for (const name of REMOVED_REPL_COMMANDS) delete (session.commands as Record<string, unknown>)[name];
  if (terminal) {
    session.setupHistory(historyFile(), (err) => {
      if (err !== null) console.error(`(history is not kept: ${err.message})`);
    });
  }
  session.on('exit', () => {
    void queue
      .then(async () => {
        await server.stop();
        await metrics?.close();
        await local.close();
        await embedded?.stop();
      })
      .finally(() => process.exit(0));
  });
}

/** Without a terminal the REPL keeps no history itself; scripted sessions are appended here. */
function appendHistory(line: string): void {
  try {
    appendFileSync(historyFile(), `${line}\n`, { mode: HISTORY_FILE_MODE });
  } catch {
    // History is a convenience: a read-only home must not stop the REPL.
  }
}

main().catch((err: unknown) => {
  console.error(`local.ts: ${err instanceof DstoreError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
