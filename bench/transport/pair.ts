// Starts the echo server and client as separate processes (server.ts, client.ts) and drives
// the client; used by bench/suites/transport.ts and by sweep.ts. Processes started here are
// stopped by `stop`, and killed if the calling process exits without it.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { assert } from '../../src/protocol/assert.ts';
import type { Command, RunResult } from './commands.ts';
import type { EchoConfig } from './echo.ts';

const START_SECONDS_MAX = 20;
const STOP_SECONDS_MAX = 2;

// Extra node flags for both children, for profiling by hand, e.g.
// TRANSPORT_NODE_ARGS='--cpu-prof --cpu-prof-dir=.bench/prof' (NODE_OPTIONS refuses --cpu-prof).
const NODE_ARGS_EXTRA = (process.env['TRANSPORT_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');

const SERVER_FILE = fileURLToPath(new URL('./server.ts', import.meta.url));
const CLIENT_FILE = fileURLToPath(new URL('./client.ts', import.meta.url));

export interface Measured extends RunResult {
  /**
   * CPU each process used per second of wall time over the run (1 = one core busy). The wall
   * time includes the drain after the deadline (at most one window or 256 calls), whose
   * echoes are not counted: CPU per operation derived from this is a few percent off at most.
   */
  serverCpuCores: number;
  clientCpuCores: number;
  /**
   * Share of the run each process's event loop thread was ready to run but had no CPU: high
   * means the machine, not the process, was the limit (the 2 cores are shared).
   */
  serverRunQueueWaitFraction: number;
  clientRunQueueWaitFraction: number;
}

export interface EchoPair {
  /** Runs one command in the client; throws if either process fails. One at a time. */
  measure(command: Command): Promise<Measured>;
  /** Stops both processes; resolves once they have exited. Safe to call twice. */
  stop(): Promise<void>;
}

interface Child {
  process: ChildProcess;
  lines: AsyncIterator<string>;
}

const started: ChildProcess[] = [];
let exitHookInstalled = false;

function startChild(file: string, nodeArgs: readonly string[], args: string[]): Child {
  if (!exitHookInstalled) {
    // If the caller dies some other way, take the children with it. (They also exit when
    // their stdin closes, which covers SIGKILL of the caller.)
    process.on('exit', () => {
      for (const child of started) if (isRunning(child)) child.kill('SIGKILL');
    });
    exitHookInstalled = true;
  }
  const child = spawn(process.execPath, [...nodeArgs, ...NODE_ARGS_EXTRA, '--import', 'tsx', file, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  started.push(child);
  assert(child.stdout !== null, 'spawned child has no stdout pipe');
  const lines = createInterface({ input: child.stdout, crlfDelay: Infinity })[Symbol.asyncIterator]();
  return { process: child, lines };
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Closing stdin asks the child to exit; SIGKILL follows if it has not after a while. */
function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (!isRunning(child)) return resolve();
    child.once('exit', () => resolve());
    child.stdin?.end();
    setTimeout(() => child.kill('SIGKILL'), STOP_SECONDS_MAX * 1000).unref();
  });
}

/** The next stdout line of a child; throws if the child exits first. */
async function nextLine(child: Child, what: string): Promise<string> {
  const next = await child.lines.next();
  if (next.done === true) throw new Error(`transport ${what} exited before answering`);
  return next.value;
}

function withTimeout<T>(promise: Promise<T>, seconds: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`transport ${what} took over ${seconds} s`)), seconds * 1000);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

interface SchedSample {
  /** CPU time of all the process's threads so far. */
  cpuNs: number;
  /** Time the main (event loop) thread spent runnable but waiting for a CPU so far. */
  mainWaitNs: number;
}

/**
 * Reads Linux's per-thread scheduler counters (/proc/<pid>/task/<tid>/schedstat: ns on CPU,
 * ns waiting on a run queue, timeslices). NaN where /proc lacks them. Threads that exited
 * since the last sample drop out of the CPU sum, so take samples close together.
 */
function schedSample(pid: number | undefined): SchedSample {
  try {
    let cpuNs = 0;
    let mainWaitNs = Number.NaN;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const fields = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ');
      cpuNs += Number(fields[0]);
      if (tid === String(pid)) mainWaitNs = Number(fields[1]);
    }
    return { cpuNs, mainWaitNs };
  } catch {
    return { cpuNs: Number.NaN, mainWaitNs: Number.NaN };
  }
}

/** Starts the server, waits for its port, then starts a client connected to it. */
export async function startEchoPair(config: EchoConfig): Promise<EchoPair> {
  const configJson = JSON.stringify(config);
  const server = startChild(SERVER_FILE, config.nodeArgs, [configJson]);
  const children: Child[] = [server];
  const stop = async (): Promise<void> => {
    await Promise.all(children.map((c) => stopChild(c.process)));
  };
  try {
    const portLine = await withTimeout(nextLine(server, 'server'), START_SECONDS_MAX, 'server start');
    const port = (JSON.parse(portLine) as { port?: unknown }).port;
    assert(typeof port === 'number' && Number.isInteger(port) && port > 0, `server reported no port: ${portLine}`);
    children.push(startChild(CLIENT_FILE, config.nodeArgs, [String(port), configJson]));
  } catch (error) {
    await stop();
    throw error;
  }
  const client = children[1]!;

  const measure = async (command: Command): Promise<Measured> => {
    const serverStart = schedSample(server.process.pid);
    const clientStart = schedSample(client.process.pid);
    const wallStartMs = performance.now();
    client.process.stdin?.write(`${JSON.stringify(command)}\n`);
    const result = JSON.parse(await nextLine(client, 'client')) as RunResult;
    const wallNs = (performance.now() - wallStartMs) * 1e6;
    const serverEnd = schedSample(server.process.pid);
    const clientEnd = schedSample(client.process.pid);
    return {
      ...result,
      serverCpuCores: (serverEnd.cpuNs - serverStart.cpuNs) / wallNs,
      clientCpuCores: (clientEnd.cpuNs - clientStart.cpuNs) / wallNs,
      serverRunQueueWaitFraction: (serverEnd.mainWaitNs - serverStart.mainWaitNs) / wallNs,
      clientRunQueueWaitFraction: (clientEnd.mainWaitNs - clientStart.mainWaitNs) / wallNs,
    };
  };
  return { measure, stop };
}
