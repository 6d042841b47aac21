// `npm run sim -- [--system] --seeds N --from S [--replicas 3|5] [--trace] [--safety-ticks T]
//   [--silent-faults all|no-consensus|off] [--rollbacks] [--sabotage rollback-unchecked]`
// Runs seeds S .. S+N-1 through the consensus core's simulator (simulator.ts), or with
// --system through the whole-system simulation (system/run.ts: real replicas, storage,
// snapshot transfer and clients); on a violation prints the seed, the violation, the last
// events before it and the command line that replays it (--silent-faults: which silent disk
// faults the system simulation injects, system/silent-faults.ts); exits non-zero if any seed failed.
// The last line is always `sim: <N> seeds, <V> violations`.

import { runSeed, type SimResult } from './simulator.ts';
import { runSystemSeed } from './system/run.ts';

interface Args {
  seeds: number;
  from: number;
  replicas: number;
  trace: boolean;
  system: boolean;
  /** The core simulator also rolls replicas back to older copies of their storage. */
  rollbacks: boolean;
  /** A deliberate bug, to show the checks catch it (simulator.ts, run.ts). */
  sabotage?: 'rollback-unchecked';
  safetyTicks: number;
  /** Silent disk faults of the system simulation (default: run.ts's, all unless sabotaged). */
  silentFaults?: 'all' | 'no-consensus' | 'off';
}

function usage(message: string): never {
  console.error(`sim: ${message}\nusage: npm run sim -- [--system] --seeds N --from S [--replicas 3|5] [--trace] [--safety-ticks T] [--silent-faults all|no-consensus|off] [--rollbacks] [--sabotage rollback-unchecked]`);
  process.exit(2);
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { seeds: 100, from: 1, replicas: 3, trace: false, system: false, rollbacks: false, safetyTicks: 600 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === '--trace') { args.trace = true; continue; }
    if (flag === '--system') { args.system = true; continue; }
    if (flag === '--silent-faults') {
      const kind = argv[++i];
      if (kind !== 'all' && kind !== 'no-consensus' && kind !== 'off') usage(`--silent-faults must be all, no-consensus or off, got ${kind}`);
      args.silentFaults = kind;
      continue;
    }
    if (flag === '--rollbacks') { args.rollbacks = true; continue; }
    if (flag === '--sabotage') {
      const kind = argv[++i];
      if (kind !== 'rollback-unchecked') usage(`--sabotage takes rollback-unchecked, got ${kind}`);
      args.sabotage = kind;
      continue;
    }
    const value = Number(argv[++i]);
    if (!Number.isSafeInteger(value) || value < 0) usage(`${flag} needs a non-negative integer, got ${argv[i]}`);
    if (flag === '--seeds') args.seeds = value;
    else if (flag === '--from') args.from = value;
    else if (flag === '--replicas') args.replicas = value;
    else if (flag === '--safety-ticks') args.safetyTicks = value;
    else usage(`unknown flag ${flag}`);
  }
  if (args.replicas !== 3 && args.replicas !== 5) usage(`--replicas must be 3 or 5, got ${args.replicas}`);
  return args;
}

function printViolation(result: Pick<SimResult, 'seed' | 'replicas' | 'violation' | 'trace'>, args: Args): void {
  console.log(`\nVIOLATION seed=${result.seed} replicas=${result.replicas}: ${result.violation}`);
  console.log(`last ${result.trace.length} events:`);
  for (const line of result.trace) console.log(`  ${line}`);
  const flags = args.system ? `--system ${args.silentFaults === undefined ? '' : `--silent-faults ${args.silentFaults} `}` : '';
  const sabotage = (args.rollbacks ? '--rollbacks ' : '') + (args.sabotage === undefined ? '' : `--sabotage ${args.sabotage} `);
  console.log(`replay: npm run sim -- ${flags}${sabotage}--seeds 1 --from ${result.seed} --replicas ${result.replicas} --safety-ticks ${args.safetyTicks} --trace`);
}

const args = parseArgs(process.argv.slice(2));
let violations = 0;
const totals: Record<string, number> = {};
const started = Date.now();
for (let seed = args.from; seed < args.from + args.seeds; seed++) {
  const result = args.system
    ? await runSystemSeed({
      seed,
      replicas: args.replicas,
      traceEvents: args.trace ? Number.POSITIVE_INFINITY : 300,
      ...(args.silentFaults === undefined ? {} : { silentFaults: args.silentFaults }),
      ...(args.sabotage === undefined ? {} : { sabotage: args.sabotage }),
    })
    : runSeed({
      seed,
      replicas: args.replicas,
      safetyTicks: args.safetyTicks,
      traceEvents: args.trace ? 100_000 : 300,
      rollbacks: args.rollbacks,
      ...(args.sabotage === undefined ? {} : { sabotage: args.sabotage }),
    });
  for (const [k, v] of Object.entries(result.stats)) totals[k] = k.endsWith('Max') ? Math.max(totals[k] ?? 0, v) : (totals[k] ?? 0) + v;
  if (result.violation !== null) {
    violations++;
    printViolation(result, args);
  } else if (args.trace) {
    for (const line of result.trace) console.log(line);
  }
}
console.log(`totals: ${Object.entries(totals).map(([k, v]) => `${k}=${v}`).join(' ')} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
console.log(`sim: ${args.seeds} seeds, ${violations} violations`);
process.exit(violations === 0 ? 0 : 1);
