// Whether dist/ (npm run build) was built from the sources as they are now. Tests start their
// child processes from dist/cli/bin.js, compiled (tsx costs each child about 0.6 s of CPU), so
// scripts/run-tests.ts builds dist/ first when it is stale, and a test file run on its own
// refuses a stale one: nobody tests code older than the sources.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** What the build reads (scripts/build.js, tsconfig.build.json). */
const INPUTS = ['src', 'tsconfig.json', 'tsconfig.build.json', 'scripts/build.js'];
const DIST = join(ROOT, 'dist');

function mtimesMs(path: string): number[] {
  if (!statSync(path).isDirectory()) return [statSync(path).mtimeMs];
  return readdirSync(path).flatMap((name) => mtimesMs(join(path, name)));
}

/** Why dist/ is stale (missing, or older than a source), or null when it is fresh. */
export function distStaleness(): string | null {
  if (!existsSync(join(DIST, 'cli/bin.js'))) return 'dist/ is not built';
  // The build removes dist/ and writes every file anew: its oldest file is when it started.
  const builtMs = Math.min(...mtimesMs(DIST));
  const changed = INPUTS.flatMap((input) => mtimesMs(join(ROOT, input))).some((ms) => ms > builtMs);
  return changed ? 'dist/ is older than src/' : null;
}

/** Builds dist/ (npm run build) when it is stale; says so on stderr. */
export function buildDistIfStale(): void {
  const why = distStaleness();
  if (why === null) return;
  process.stderr.write(`${why}: building it (npm run build)\n`);
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts/build.js')], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`npm run build failed (status ${r.status})`);
}
