// `npm run bench` runs every suite; `npm run bench -- <suite> [<suite>...]` runs some.
// Flags after the suite names (from the first `--...` on, e.g. `global --vs etcd`) are passed
// to every suite run; suites that take none ignore them.
// Each suite runs in its own process so one suite's heap and JIT state cannot skew another.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const available = readdirSync(new URL('./suites/', import.meta.url))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3))
  .sort();
const argv = process.argv.slice(2);
const firstFlag = argv.findIndex((a) => a.startsWith('--'));
const asked = firstFlag === -1 ? argv : argv.slice(0, firstFlag);
const suiteArgs = firstFlag === -1 ? [] : argv.slice(firstFlag);
const unknown = asked.filter((s) => !available.includes(s));
if (unknown.length > 0) {
  console.error(`bench: unknown suite ${unknown.join(', ')}; available: ${available.join(', ')}`);
  process.exit(2);
}
let failed = 0;
for (const suite of asked.length > 0 ? asked : available) {
  const file = new URL(`./suites/${suite}.ts`, import.meta.url).pathname;
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', file, ...suiteArgs], { stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`bench: suite ${suite} failed with status ${result.status ?? result.signal}`);
    failed++;
  }
}
process.exit(failed === 0 ? 0 : 1);
