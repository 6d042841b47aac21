// The `dstore` command: `dstore global|local|status|workers [flags]` (each takes --help).
// The examples (examples/global.ts, examples/local.ts, examples/workers.ts) run the same
// commands through runCli.

import { runCommand, type CommandContext } from './args.ts';
import { globalCommand } from './global-command.ts';
import { localCommand } from './local-command.ts';
import { statusCommand } from './status-command.ts';
import { workersCommand } from './workers-command.ts';

const COMMANDS = { global: globalCommand, local: localCommand, status: statusCommand, workers: workersCommand } as const;
type CommandName = keyof typeof COMMANDS;

const HELP = `usage: dstore <command> [flags]

dstore is a two-tier cache: a replicated Global store and per-node Local caches.

commands:
  global    run a Global replica, or a cluster of 3 or 5 (--cluster)
  local     the Local REPL: a cache serving this node's workers, and a prompt (or a script on stdin)
  status    the state of a cluster's replicas, as a table or JSON
  workers   a demonstration: N worker processes sharing keys through dstore

Each command takes --help.`;

function isCommand(word: string | undefined): word is CommandName {
  return word !== undefined && Object.hasOwn(COMMANDS, word);
}

/**
 * Runs `dstore` with `argv` (the words after the program). `script` is the file a child
 * process runs to start a command again (`--cluster` replicas, workers).
 */
export async function runCli(argv: readonly string[], script: string): Promise<void> {
  const [word, ...rest] = argv;
  if (isCommand(word)) {
    const context: CommandContext = { relaunch: [script, word] };
    // `dstore global status ...` is `dstore status ...`, as `examples/global.ts status` always was.
    if (word === 'global' && rest[0] === 'status') return run('status', rest.slice(1), { relaunch: [script, 'status'] });
    return run(word, rest, context);
  }
  if (word === '--help' || word === '-h' || word === 'help') {
    process.stdout.write(`${HELP}\n`);
    return process.exit(0);
  }
  if (word === undefined) {
    // No command is a usage error: the help goes where errors go.
    process.stderr.write(`${HELP}\n`);
    return process.exit(2);
  }
  process.stderr.write(`dstore: unknown command ${JSON.stringify(word)}: expected global, local, status or workers (see --help)\n`);
  process.exit(2);
}

/** Runs one command; `context.relaunch` starts it again in a child process. */
export function run(name: CommandName, argv: readonly string[], context: CommandContext): Promise<void> {
  // Each command's flag type differs; the table only dispatches.
  const command = COMMANDS[name] as unknown as Parameters<typeof runCommand>[0];
  return runCommand(command, argv, context);
}
