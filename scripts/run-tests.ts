// Runs the test files under node:test with tsx as the loader, after building dist/ when it is
// older than src/ and a process test will run (scripts/dist-freshness.ts).
// Why a script: Node 20's test runner does not expand globs, and `sh` has no `**`.
// Usage: tsx scripts/run-tests.ts [--tier unit|cluster|process] [--reporter tap] [substring...]
//   --tier      only that tier's files (scripts/test-tiers.ts); all tiers without it
//   --reporter  node:test's own reporter instead of the short summary (scripts/test-reporter.js)
//   substring   only files whose path contains one of them
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildDistIfStale } from './dist-freshness.ts';
import { TIERS, tierOf, type Tier } from './test-tiers.ts';

function testFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...testFiles(path));
    else if (entry.name.endsWith('.test.ts')) files.push(path);
  }
  return files.sort();
}

const { values, positionals: filters } = parseArgs({
  allowPositionals: true,
  options: { tier: { type: 'string' }, reporter: { type: 'string' } },
});
const tier = values.tier as Tier | undefined;
if (tier !== undefined && !TIERS.includes(tier)) {
  console.error(`run-tests: --tier ${tier} is not a tier; use one of ${TIERS.join(', ')}`);
  process.exit(2);
}
const files = testFiles('test')
  .filter((f) => tier === undefined || tierOf(f) === tier)
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error(`run-tests: no ${tier ?? ''} test files match ${filters.join(', ') || 'test/**/*.test.ts'}`);
  process.exit(1);
}
// Child processes in tests run the compiled dstore command (test/dstore-command.ts).
if (files.some((f) => tierOf(f) === 'process')) buildDistIfStale();
const reporter = values.reporter ?? './scripts/test-reporter.js';
const result = spawnSync(
  process.execPath,
  [
    '--import', 'tsx', '--import', './scripts/test-tier-guard.ts',
    '--test', '--test-concurrency=2', '--test-timeout=180000',
    `--test-reporter=${reporter}`, '--test-reporter-destination=stdout',
    ...files,
  ],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
