// The one argument parser and help style of every `dstore` command (node:util parseArgs
// underneath). A command declares its flags once; from that come its --help text and its
// errors: an unknown flag, a missing value or a stray argument is one line naming the flag and
// what is expected, then "(see --help)", and exit status 2. Never a stack trace.

import { parseArgs } from 'node:util';
import { DstoreError } from '../protocol/errors.ts';

export interface FlagSpec {
  readonly type: 'string' | 'boolean';
  /** What a string flag takes, as help shows it: `host:port`, `N`, `FILE`. */
  readonly value?: string;
  readonly help: string;
  readonly short?: string;
  /** Internal (a parent process passes it to its children): accepted, not shown in --help. */
  readonly hidden?: boolean;
}

export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

export type FlagValues<F extends FlagSpecs> = { [K in keyof F]?: F[K]['type'] extends 'boolean' ? boolean : string };

export interface CommandSpec<F extends FlagSpecs> {
  /** As the user types it: `dstore local`. */
  readonly name: string;
  /** The line(s) after `usage: <name>`, e.g. `[flags]`. */
  readonly usage: readonly string[];
  /** What the command does, a few lines. */
  readonly summary: string;
  readonly flags: F;
  /** Positional words the command takes (none when absent). */
  readonly positionals?: { readonly max: number; readonly what: string };
  /** Printed after the flags (examples, notes). */
  readonly notes?: string;
}

/** A command line that cannot be run as given; the message is one line fit to print as is. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** --help of `spec`. */
export function helpText(spec: CommandSpec<FlagSpecs>): string {
  const rows = Object.entries(spec.flags)
    .filter(([, f]) => f.hidden !== true)
    .map(([name, f]) => [`${f.short === undefined ? '    ' : `-${f.short}, `}--${name}${f.value === undefined ? '' : ` ${f.value}`}`, f.help] as const);
  rows.push(['-h, --help', 'print this help and exit']);
  const width = Math.max(...rows.map(([left]) => left.length));
  return [
    ...spec.usage.map((u, i) => `${i === 0 ? 'usage: ' : '       '}${spec.name} ${u}`),
    '',
    spec.summary,
    '',
    'flags:',
    ...rows.map(([left, help]) => `  ${left.padEnd(width)}  ${help}`),
    ...(spec.notes === undefined ? [] : ['', spec.notes]),
  ].join('\n');
}

/** The first quoted word of a parseArgs message: the flag or argument it is about. */
function quoted(message: string): string {
  return /'([^']*)'/.exec(message)?.[1] ?? '';
}

function flagLabel(flags: FlagSpecs, raw: string): string {
  const name = raw.replace(/^-+/, '').split(' ')[0] ?? raw;
  const long = Object.entries(flags).find(([n, f]) => n === name || f.short === name)?.[0] ?? name;
  const spec = flags[long];
  return spec?.value === undefined ? `--${long}` : `--${long} ${spec.value}`;
}

/** parseArgs' errors, each as one line naming the flag. */
function usageFromParseError(err: unknown, flags: FlagSpecs): UsageError {
  const code = (err as { code?: string }).code;
  const message = (err as Error).message;
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new UsageError(`unknown flag ${quoted(message)}`);
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const label = flagLabel(flags, quoted(message));
      return /argument missing/.test(message) ? new UsageError(`${label} needs a value`) : new UsageError(`${label.split(' ')[0]!} takes no value`);
    }
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return new UsageError(`unexpected argument ${JSON.stringify(quoted(message))}`);
    default:
      return new UsageError(message.split('\n')[0] ?? message);
  }
}

export type Parsed<F extends FlagSpecs> = { readonly help: true } | { readonly help: false; readonly values: FlagValues<F>; readonly positionals: string[] };

/** Parses `argv` against `spec`; throws UsageError. --help wins over every other problem but an unknown flag. */
export function parseCommandLine<F extends FlagSpecs>(spec: CommandSpec<F>, argv: readonly string[]): Parsed<F> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, f] of Object.entries(spec.flags)) options[name] = f.short === undefined ? { type: f.type } : { type: f.type, short: f.short };
  if (argv.includes('--help') || argv.includes('-h')) return { help: true };
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
  } catch (err) {
    throw usageFromParseError(err, spec.flags);
  }
  const max = spec.positionals?.max ?? 0;
  if (parsed.positionals.length > max) {
    const extra = parsed.positionals[max]!;
    throw new UsageError(extra.startsWith('-') ? `unknown flag ${extra}` : `unexpected argument ${JSON.stringify(extra)}${spec.positionals === undefined ? '' : ` (takes ${spec.positionals.what})`}`);
  }
  // A string flag given an empty value is a mistake every command would have to catch.
  for (const [name, value] of Object.entries(parsed.values)) {
    if (value === '') throw new UsageError(`${flagLabel(spec.flags, name)}: the value is empty`);
  }
  return { help: false, values: parsed.values as FlagValues<F>, positionals: parsed.positionals };
}

/** A whole number flag in [min, max], or `fallback` when absent. */
export function intFlag(text: string | undefined, flag: string, min: number, max: number, fallback: number, what = 'a whole number'): number {
  if (text === undefined) return fallback;
  const n = /^[0-9]{1,16}$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max)) throw new UsageError(`${flag} ${JSON.stringify(text)}: expected ${what} in ${min}..${max}`);
  return n;
}

/** One of `choices`, or `fallback` when absent. */
export function choiceFlag<T extends string>(text: string | undefined, flag: string, choices: readonly T[], fallback: T): T {
  if (text === undefined) return fallback;
  const found = choices.find((c) => c === text);
  if (found === undefined) throw new UsageError(`${flag} ${JSON.stringify(text)}: expected one of ${choices.join(', ')}`);
  return found;
}

export interface CommandContext {
  /**
   * How to start this same command again in a child process: the script and the words before
   * the command's flags (`[.../dstore.js, 'global']`, or `[examples/global.ts]`). Node's own
   * flags (process.execArgv: a TypeScript loader under tsx) are added by whoever spawns.
   */
  readonly relaunch: readonly string[];
}

/**
 * A command: `check` turns flags into arguments (throwing UsageError, or InvalidArgumentError
 * from a shared validator: both are usage errors, exit 2); `run` does the work and resolves
 * to an exit status, or to null when the process keeps serving (it exits on a signal).
 */
export interface Command<F extends FlagSpecs, A> {
  readonly spec: CommandSpec<F>;
  check(values: FlagValues<F>, positionals: string[]): A;
  run(args: A, context: CommandContext): Promise<number | null>;
}

function oneLine(text: string): string {
  return text.split('\n')[0] ?? text;
}

/** Parses, checks and runs `command` with `argv`, and exits with its status (unless it serves on). */
export async function runCommand<F extends FlagSpecs, A>(command: Command<F, A>, argv: readonly string[], context: CommandContext): Promise<void> {
  const name = command.spec.name;
  let args: A;
  try {
    const parsed = parseCommandLine(command.spec, argv);
    if (parsed.help) {
      process.stdout.write(`${helpText(command.spec)}\n`);
      return process.exit(0);
    }
    args = command.check(parsed.values, parsed.positionals);
  } catch (err) {
    if (!(err instanceof UsageError || err instanceof DstoreError)) throw err;
    process.stderr.write(`${name}: ${oneLine(err.message)} (see --help)\n`);
    return process.exit(2);
  }
  let status: number | null;
  try {
    status = await command.run(args, context);
  } catch (err) {
    // An operating error says what was wrong; anything else is a bug, still one line.
    const text = err instanceof DstoreError || err instanceof UsageError ? err.message : `internal error: ${err instanceof Error ? err.message : String(err)}`;
    process.stderr.write(`${name}: ${oneLine(text)}\n`);
    status = 1;
  }
  if (status !== null) process.exit(status);
}
