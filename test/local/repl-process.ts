// Drives `dstore local` (compiled, test/dstore-command.ts) as a child process over pipes, for the process tests: starts it
// with --interactive (banner and prompts although stdin is a pipe), sends lines, and splits
// what it prints into one output per statement (the text between prompts). Every REPL it
// starts is killed by `stop`.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dstoreArgs } from '../dstore-command.ts';

const PROMPT = 'db > ';

export class ReplProcess {
  private out = '';
  private err = '';
  private readonly exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcessWithoutNullStreams, readonly historyDir: string) {
    child.stdout.on('data', (c: Buffer) => (this.out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (this.err += c.toString()));
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  /** Starts the REPL with `args` (history in `historyDir`, default a new one); resolves once the first prompt is printed. */
  static async start(args: string[], historyDir = mkdtempSync(join(tmpdir(), 'dstore-repl-'))): Promise<ReplProcess> {
    const child = spawn(process.execPath, dstoreArgs('local', ['--interactive', ...args]), {
      env: { ...process.env, DSTORE_HISTORY: join(historyDir, 'history') },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const repl = new ReplProcess(child, historyDir);
    await repl.waitFor(() => repl.out.includes(PROMPT), 'the first prompt', 20_000);
    return repl;
  }

  /** True until the process exits. */
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  get stdout(): string {
    return this.out;
  }

  get stderr(): string {
    return this.err;
  }

  /** The lines before the first prompt (banner and notices). */
  banner(): string[] {
    return this.out.slice(0, this.out.indexOf(PROMPT)).split('\n').filter((l) => l !== '');
  }

  /** Sends one line and resolves with what the REPL printed for it. */
  async run(line: string, timeoutMs = 10_000): Promise<string> {
    const prompts = this.out.split(PROMPT).length;
    this.child.stdin.write(`${line}\n`);
    await this.waitFor(() => this.out.split(PROMPT).length > prompts, `the answer to ${JSON.stringify(line)}`, timeoutMs);
    return this.out.split(PROMPT)[prompts - 1]!.trimEnd();
  }

  /** Ends stdin (as a script's end does) and resolves with the exit code. */
  async end(): Promise<number | null> {
    this.child.stdin.end();
    return this.exited;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
    rmSync(this.historyDir, { recursive: true, force: true });
  }

  private async waitFor(condition: () => boolean, what: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (this.child.exitCode !== null) throw new Error(`the REPL exited (${this.child.exitCode}) before ${what}; stderr: ${this.err}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; stdout so far: ${this.out}; stderr: ${this.err}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
