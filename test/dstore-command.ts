// The `dstore` command as tests start it in child processes: the compiled dist/cli/bin.js, the
// same code examples/*.ts run through tsx, without tsx's cost in every child (about 0.6 s of
// CPU each). scripts/run-tests.ts builds dist/ first when src/ changed; a test file run on its
// own (`npx tsx --test ...`) fails at its first start rather than run a stale build.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { distStaleness } from '../scripts/dist-freshness.ts';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DSTORE_BIN = join(REPO_ROOT, 'dist/cli/bin.js');

export type DstoreCommand = 'global' | 'local' | 'status' | 'workers';

let fresh = false;

/** Throws unless dist/ was built from the sources as they are (scripts/dist-freshness.ts). */
export function assertFreshDist(): void {
  if (fresh) return;
  const stale = distStaleness();
  if (stale !== null) throw new Error(`${stale}, and tests run the compiled dstore command: run \`npm run build\` first, or run the file through \`npx tsx scripts/run-tests.ts <path>\`, which builds it`);
  fresh = true;
}

/** The arguments after `node` that run `dstore <command> ...args`. */
export function dstoreArgs(command: DstoreCommand, args: readonly string[] = []): string[] {
  assertFreshDist();
  return [DSTORE_BIN, command, ...args];
}
