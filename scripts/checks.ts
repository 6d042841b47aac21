// `npm run checks`: typecheck, lint and deps at once (each is one process on one core, and
// they need nothing from each other), each one's output shown whole when it ends, in this
// order; fails if any failed. `npm test` runs it before the tests.
import { spawn } from 'node:child_process';

const CHECKS = ['typecheck', 'lint', 'deps'];
const startedMs = performance.now();

function run(script: string): Promise<{ status: number | null; output: string; seconds: string }> {
  const child = spawn('npm', ['run', '--silent', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, output, seconds: ((performance.now() - startedMs) / 1000).toFixed(1) })));
}

const runs = CHECKS.map(run);
let failed = 0;
for (const [i, result] of runs.entries()) {
  const { status, output, seconds } = await result;
  console.log(`${status === 0 ? 'ok' : 'FAIL'} npm run ${CHECKS[i]} (${seconds} s)`);
  if (output.trim() !== '') console.log(output.trimEnd());
  if (status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
