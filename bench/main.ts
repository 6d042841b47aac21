// `npm run bench` runs every suite; `npm run bench -- <suite> [<suite>...]` runs some.
// Each suite runs in its own process so one suite's heap and JIT state cannot skew another.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const available = readdirSync(new URL('./suites/', import.meta.url))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3))
  .sort();
const asked = process.argv.slice(2);
const unknown = asked.filter((s) => !available.includes(s));
if (unknown.length > 0) {
  console.error(`bench: unknown suite ${unknown.join(', ')}; available: ${available.join(', ')}`);
  process.exit(2);
}
let failed = 0;
for (const suite of asked.length > 0 ? asked : available) {
  const file = new URL(`./suites/${suite}.ts`, import.meta.url).pathname;
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', file], { stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`bench: suite ${suite} failed with status ${result.status ?? result.signal}`);
    failed++;
  }
}
process.exit(failed === 0 ? 0 : 1);
