// Loaded into every test file's process by scripts/run-tests.ts: holds a file to its tier
// (scripts/test-tiers.ts) by making what the tier rules out throw, so a misnamed file fails
// at once instead of slowing `npm run test:unit`. Unit files open no sockets and start no
// Node processes; cluster files start no Node processes. Tools (openssl, protoc, mkfifo) are allowed.
import childProcess, { ChildProcess } from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';
import { tierOf, type Tier } from './test-tiers.ts';

const file = process.argv[1] ?? '';
const tier: Tier | null = file.endsWith('.test.ts') ? tierOf(file) : null;

class TierViolation extends Error {
  constructor(what: string, allowedIn: string) {
    super(`${file} is a ${tier} test (scripts/test-tiers.ts) but ${what}; rename it to *.${allowedIn}.test.ts or take that out`);
    this.name = 'TierViolation';
  }
}

if (tier === 'unit') {
  net.Server.prototype.listen = (): never => {
    throw new TierViolation('listens on a socket', 'cluster');
  };
  net.Socket.prototype.connect = (): never => {
    throw new TierViolation('connects a socket', 'cluster');
  };
}

if (tier === 'unit' || tier === 'cluster') {
  const startsNode = (command: unknown): boolean => command === process.execPath || command === 'node';
  // spawn, exec, execFile and fork all start through ChildProcess#spawn (not in @types/node).
  const proto = ChildProcess.prototype as unknown as { spawn: (this: ChildProcess, options: { file?: string }) => unknown };
  const spawn = proto.spawn;
  proto.spawn = function (this: ChildProcess, options: { file?: string }): unknown {
    if (startsNode(options.file)) throw new TierViolation('starts a Node process', 'process');
    return spawn.call(this, options);
  };
  for (const name of ['spawnSync', 'execFileSync'] as const) {
    const original = childProcess[name] as (command: string, ...rest: unknown[]) => unknown;
    (childProcess as unknown as Record<string, unknown>)[name] = (command: string, ...rest: unknown[]): unknown => {
      if (startsNode(command)) throw new TierViolation('starts a Node process', 'process');
      return original(command, ...rest);
    };
  }
  syncBuiltinESMExports();
}
