// `npm run build` (and `prepare`, so `npm pack`, `npm ci` and installing from git build too):
// compiles src/ to dist/ (JavaScript and .d.ts, tsconfig.build.json) and copies the .proto files
// the code loads at run time (src/protocol/proto, src/global/state/snapshot.proto) to the same
// paths under dist/. Plain JavaScript so it runs before anything is compiled.
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import process from 'node:process';

const SRC = 'src';
const DIST = 'dist';

function copyProtos(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) copyProtos(path);
    else if (entry.name.endsWith('.proto')) cpSync(path, join(DIST, relative(SRC, path)));
  }
}

rmSync(DIST, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
if (result.status !== 0) process.exit(result.status ?? 1);
copyProtos(SRC);
