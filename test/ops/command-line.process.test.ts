// Proves the one argument parser of every dstore command (src/cli/args.ts) without starting
// anything: --help wins, and each way a command line can be wrong is one line naming the flag
// and what it expects (an unknown flag, a missing value, a value given to a switch, a stray
// argument, an empty value, a number or a choice out of range); help lists every flag but the
// internal ones. Then `dstore workers` as a process, whose flags were never checked
// before (issue 15: `--mode foo` ran as "(foo)", `--ops abc` as NaN operations, an unknown flag
// was a stack trace): --help, bad values, and a small run against a real Global whose workers
// are this command started again in child processes. Last, examples/*.ts answer --help through tsx.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { dstoreArgs } from '../dstore-command.ts';
import { TestCluster } from '../global/cluster-harness.ts';
import { choiceFlag, helpText, intFlag, parseCommandLine, UsageError, type CommandSpec } from '../../src/cli/args.ts';

const FLAGS = {
  global: { type: 'string', value: 'host:port,...', help: 'the replicas' },
  json: { type: 'boolean', help: 'JSON output' },
  interactive: { type: 'boolean', short: 'i', help: 'prompts on a pipe' },
  worker: { type: 'string', value: 'N', help: 'internal', hidden: true },
} as const;
const SPEC: CommandSpec<typeof FLAGS> = { name: 'dstore test', usage: ['[flags]'], summary: 'A command for the test.', flags: FLAGS };

function usageError(argv: string[]): string {
  try {
    parseCommandLine(SPEC, argv);
  } catch (err) {
    assert.ok(err instanceof UsageError, String(err));
    assert.equal(err.message.includes('\n'), false, 'one line');
    return err.message;
  }
  assert.fail(`${argv.join(' ')} was accepted`);
}

describe('command line', () => {
  it('parses flags, short forms and hidden flags', () => {
    const parsed = parseCommandLine(SPEC, ['--global', 'a:1,b:2', '--json', '-i', '--worker', '3']);
    assert.ok(!parsed.help);
    assert.deepEqual({ ...parsed.values }, { global: 'a:1,b:2', json: true, interactive: true, worker: '3' });
    assert.deepEqual(parsed.positionals, []);
  });

  it('answers --help and -h before checking anything else', () => {
    assert.deepEqual(parseCommandLine(SPEC, ['--help']), { help: true });
    assert.deepEqual(parseCommandLine(SPEC, ['--global', 'x', '-h']), { help: true });
    assert.deepEqual(parseCommandLine(SPEC, ['stray', '--help']), { help: true });
  });

  it('names the flag and what it expects', () => {
    assert.equal(usageError(['--frob']), 'unknown flag --frob');
    assert.equal(usageError(['-x']), 'unknown flag -x');
    assert.equal(usageError(['--global']), '--global host:port,... needs a value');
    assert.equal(usageError(['--json=yes']), '--json takes no value');
    assert.equal(usageError(['extra']), 'unexpected argument "extra"');
    assert.equal(usageError(['--global', '']), '--global host:port,...: the value is empty');
  });

  it('checks numbers and choices', () => {
    assert.equal(intFlag(undefined, '--ops', 1, 10, 5), 5);
    assert.equal(intFlag('7', '--ops', 1, 10, 5), 7);
    for (const bad of ['abc', '0', '11', '1.5', '-1', '1e3']) assert.throws(() => intFlag(bad, '--ops', 1, 10, 5), { name: 'UsageError', message: `--ops ${JSON.stringify(bad)}: expected a whole number in 1..10` });
    assert.equal(choiceFlag('attached', '--mode', ['linked', 'attached'], 'linked'), 'attached');
    assert.throws(() => choiceFlag('foo', '--mode', ['linked', 'attached'], 'linked'), { message: '--mode "foo": expected one of linked, attached' });
  });

  it('prints help with every flag but the hidden ones', () => {
    const help = helpText(SPEC);
    assert.match(help, /^usage: dstore test \[flags\]\n\nA command for the test\.\n\nflags:\n/);
    assert.match(help, /--global host:port,\.\.\. +the replicas/);
    assert.match(help, /-i, --interactive +prompts on a pipe/);
    assert.match(help, /-h, --help +print this help and exit/);
    assert.doesNotMatch(help, /--worker/);
  });
});

/** Runs `dstore workers` with `args`; resolves once it exits. */
function workers(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, dstoreArgs('workers', args), { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on('exit', (status) => resolve({ status, stdout, stderr })));
}

describe('dstore workers', () => {
  let cluster: TestCluster | null = null;
  after(async () => {
    await cluster?.stop();
  });

  it('answers --help, and refuses bad values and unknown flags in one line with status 2', async () => {
    const help = await workers(['--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^usage: dstore workers /);
    assert.doesNotMatch(help.stdout, /--worker /, 'internal flags are not offered');
    assert.deepEqual(await workers(['--mode', 'foo']), { status: 2, stdout: '', stderr: 'dstore workers: --mode "foo": expected one of linked, attached (see --help)\n' });
    assert.deepEqual(await workers(['--ops', 'abc']), { status: 2, stdout: '', stderr: 'dstore workers: --ops "abc": expected a whole number in 1..10000000 (see --help)\n' });
    assert.deepEqual(await workers(['--help-me']), { status: 2, stdout: '', stderr: 'dstore workers: unknown flag --help-me (see --help)\n' });
  });

  it('runs its workers as child processes against a Global and prints their table', async () => {
    cluster = await TestCluster.start(1);
    await cluster.waitForLeader();
    const r = await workers(['--global', cluster.addresses[0]!, '--workers', '2', '--ops', '20', '--mode', 'attached']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^2 workers \(attached\), 20 operations each/m);
    // An attached worker is a Local of its own (its hits are its own table's), so it has a hit ratio.
    assert.match(r.stdout, /^ +0 +\d+ +\d+\.\d%/m);
    assert.match(r.stdout, /^ +1 +\d+ +\d+\.\d%/m);
  });
});

describe('examples/*.ts', () => {
  it('are the same dstore commands run through tsx, as the README starts them', async () => {
    const run = (example: string): Promise<{ status: number | null; stdout: string }> => {
      const child = spawn(process.execPath, ['--import', 'tsx', `examples/${example}.ts`, '--help'], { stdio: ['ignore', 'pipe', 'inherit'] });
      let stdout = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      return new Promise((resolve) => child.on('exit', (status) => resolve({ status, stdout })));
    };
    const examples = ['global', 'local', 'workers'];
    const results = await Promise.all(examples.map(run));
    for (const [i, r] of results.entries()) {
      assert.equal(r.status, 0, `examples/${examples[i]}.ts --help`);
      assert.match(r.stdout, new RegExp(`^usage: dstore ${examples[i]} `));
    }
  });
});
