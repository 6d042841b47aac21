// Real processes for tests: runs `dstore global` (compiled, test/dstore-command.ts) or a
// TypeScript fixture as child processes, collects their output
// line by line, waits on lines and exits (never on sleeps), finds free loopback ports, and
// reads a replica's Status over gRPC. Every process a harness starts is killed by `killAll`,
// which tests call from `after` so nothing outlives a failed test.
import * as grpc from '@grpc/grpc-js';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import type { GlobalClient } from '../../src/protocol/generated/dstore/v1/Global.ts';
import type { StatusResponse__Output } from '../../src/protocol/generated/dstore/v1/StatusResponse.ts';
import { dstoreProto } from '../../src/protocol/proto.ts';
import { dstoreArgs, REPO_ROOT, type DstoreCommand } from '../dstore-command.ts';

/** A port free on 127.0.0.1 right now (bound to port 0, then released). */
function freePort(port = 0): Promise<number | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(null));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : null;
      server.close(() => resolve(bound));
    });
  });
}

/** `count` distinct free ports on 127.0.0.1 (each found by binding port 0). */
export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) {
    const p = await freePort();
    if (p !== null) ports.add(p);
  }
  return [...ports];
}

/** `count` consecutive ports free on 127.0.0.1 right now; the first is found by binding port 0. */
export async function freeConsecutivePorts(count: number, attemptsMax = 50): Promise<number> {
  for (let attempt = 0; attempt < attemptsMax; attempt++) {
    const first = await freePort();
    if (first === null || first + count - 1 > 65535) continue;
    let all = true;
    for (let i = 1; i < count && all; i++) all = (await freePort(first + i)) === first + i;
    if (all) return first;
  }
  throw new Error(`no ${count} consecutive free ports found in ${attemptsMax} attempts`);
}

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** One child process running `dstore global` (or a fixture), its output kept as lines. */
export class GlobalProcess {
  readonly lines: string[] = [];
  readonly exited: Promise<ExitInfo>;
  private exitInfo: ExitInfo | null = null;
  private readonly lineWaiters = new Set<() => void>();

  private constructor(
    readonly child: ChildProcess,
    readonly args: readonly string[],
  ) {
    const onLine = (line: string): void => {
      this.lines.push(line);
      for (const wake of this.lineWaiters) wake();
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        for (const wake of this.lineWaiters) wake();
        resolve(this.exitInfo);
      });
    });
  }

  /** Starts `dstore global ...args` (or another command) in the repo root. */
  static start(args: readonly string[], command: DstoreCommand = 'global'): GlobalProcess {
    return GlobalProcess.spawn(dstoreArgs(command, args), args);
  }

  /** Starts a TypeScript fixture (a path from the repo root) through tsx. */
  static startFixture(script: string, args: readonly string[]): GlobalProcess {
    return GlobalProcess.spawn(['--import', 'tsx', script, ...args], args);
  }

  private static spawn(nodeArgs: readonly string[], args: readonly string[]): GlobalProcess {
    const child = spawn(process.execPath, nodeArgs, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    return new GlobalProcess(child, args);
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`process ${this.args.join(' ')} has no pid (spawn failed)`);
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitInfo === null;
  }

  output(): string {
    return this.lines.join('\n');
  }

  /**
   * Resolves with the regex match of the first line (seen so far or later) matching `pattern`.
   * Rejects when the process exits first or after `timeoutMs`, with its output in the message.
   * The default is generous: a loaded machine starts Node processes slowly, and a wait that
   * succeeds ends at the line, not at the deadline.
   */
  waitForLine(pattern: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        this.lineWaiters.delete(check);
        clearTimeout(timer);
      };
      const check = (): void => {
        for (const line of this.lines) {
          const m = pattern.exec(line);
          if (m !== null) {
            done();
            resolve(m);
            return;
          }
        }
        if (this.exitInfo !== null) {
          done();
          reject(new Error(`process exited (${this.exitInfo.signal ?? this.exitInfo.code}) before printing ${pattern}; output:\n${this.output()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; output:\n${this.output()}`));
      }, timeoutMs);
      this.lineWaiters.add(check);
      check();
    });
  }

  /** Sends `signal` (if still running) and waits for the exit, SIGKILLing after `timeoutMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<ExitInfo> {
    if (this.exitInfo !== null) return this.exitInfo;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const info = await this.exited;
    clearTimeout(timer);
    return info;
  }
}

/** True while a process with this pid exists and has not exited (a zombie counts as gone). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // "pid (comm) S ...": the state letter follows the last ')'. Z = exited, not yet reaped.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ENOENT'; // gone meanwhile, or no /proc: trust kill(0)
  }
}

/** Unary Status calls to replicas by address; `close` closes every channel it opened. */
export class StatusReader {
  private readonly clients = new Map<string, GlobalClient>();

  status(address: string, withChecksum = false, deadlineMs = 2_000): Promise<StatusResponse__Output> {
    let client = this.clients.get(address);
    if (client === undefined) {
      client = new (dstoreProto().dstore.v1.Global)(address, grpc.credentials.createInsecure());
      this.clients.set(address, client);
    }
    const c = client;
    return new Promise((resolve, reject) => {
      c.Status({ withChecksum }, { deadline: Date.now() + deadlineMs }, (err, res) => (err !== null || res === undefined ? reject(err ?? new Error('no status')) : resolve(res)));
    });
  }

  /** Forgets the channel to `address` (after its process died, so a restart gets a fresh one). */
  drop(address: string): void {
    this.clients.get(address)?.close();
    this.clients.delete(address);
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}
