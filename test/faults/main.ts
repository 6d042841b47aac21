// `npm run faults -- --time S --seed N [--replicas 3|5] [--lease-ms L] [--kinds K,..] [--history FILE]` (docs/faults.md)
// Runs the fault suite for S seconds of faults, prints each fault as it is injected, then
// every violation found and the summary; the last line is always
// `faults: seed=N ... violations=V`. Exits non-zero if any violation was found. --history
// writes the recorded history to FILE, one operation per line as JSON (for a closer look);
// --kinds limits the nemesis to some fault kinds (nemesis.ts FAULT_KINDS), to study one.
import { writeFileSync } from 'node:fs';
import { buildDistIfStale } from '../../scripts/dist-freshness.ts';
import { formatViolation } from './checker.ts';
import { FAULT_KINDS, type FaultKind } from './nemesis.ts';
import { runFaults, summary } from './run.ts';

const VIOLATIONS_SHOWN_MAX = 30;

interface Args {
  time: number;
  seed: number;
  replicas: number;
  leaseMs: number;
  history: string | null;
  kinds: FaultKind[];
}

function usage(message: string): never {
  console.error(`faults: ${message}\nusage: npm run faults -- --time S --seed N [--replicas 3|5] [--lease-ms L] [--kinds K,..] [--history FILE]\nfault kinds: ${FAULT_KINDS.join(', ')}`);
  process.exit(2);
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { time: 60, seed: Math.floor(Math.random() * 2 ** 31), replicas: 3, leaseMs: 500, history: null, kinds: [...FAULT_KINDS] };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === '--history') {
      args.history = argv[++i] ?? usage('--history needs a file name');
      continue;
    }
    if (flag === '--kinds') {
      const kinds = (argv[++i] ?? '').split(',').filter((k) => k !== '');
      const unknown = kinds.filter((k) => !(FAULT_KINDS as readonly string[]).includes(k));
      if (kinds.length === 0 || unknown.length > 0) usage(`--kinds needs fault kinds separated by commas, got ${JSON.stringify(argv[i] ?? '')}`);
      args.kinds = kinds as FaultKind[];
      continue;
    }
    const value = Number(argv[++i]);
    if (!Number.isSafeInteger(value) || value < 0) usage(`${flag} needs a non-negative integer, got ${argv[i]}`);
    if (flag === '--time') args.time = value;
    else if (flag === '--seed') args.seed = value;
    else if (flag === '--replicas') args.replicas = value;
    else if (flag === '--lease-ms') args.leaseMs = value;
    else usage(`unknown flag ${flag}`);
  }
  if (args.replicas !== 3 && args.replicas !== 5) usage(`--replicas must be 3 or 5, got ${args.replicas}`);
  return args;
}

const args = parseArgs(process.argv.slice(2));
// The replicas run the compiled dstore command (test/dstore-command.ts).
buildDistIfStale();
const kindsFlag = args.kinds.length === FAULT_KINDS.length ? '' : ` --kinds ${args.kinds.join(',')}`;
console.log(`faults: seed=${args.seed} time=${args.time}s replicas=${args.replicas} leaseMs=${args.leaseMs}${kindsFlag}`);
const result = await runFaults({ timeS: args.time, seed: args.seed, replicas: args.replicas, leaseMs: args.leaseMs, kinds: args.kinds, log: (line) => console.log(`  ${line}`) });
if (args.history !== null) writeFileSync(args.history, result.history.map((op) => JSON.stringify(op)).join('\n') + '\n');
for (const v of result.violations.slice(0, VIOLATIONS_SHOWN_MAX)) console.log(`\nVIOLATION ${formatViolation(v)}`);
if (result.violations.length > VIOLATIONS_SHOWN_MAX) console.log(`\n... and ${result.violations.length - VIOLATIONS_SHOWN_MAX} more`);
if (result.violations.length > 0) console.log(`\nreplay (same faults, not the same timing): npm run faults -- --time ${args.time} --seed ${args.seed} --replicas ${args.replicas} --lease-ms ${args.leaseMs}${kindsFlag}`);
console.log('');
for (const line of summary(result)) console.log(line);
process.exit(result.violations.length === 0 ? 0 : 1);
