// Proves dstore installs as a package and runs on plain node (issue 15, item 1): `npm pack` of
// dist/ as built from the sources now (scripts/run-tests.ts builds it when stale; `prepare` is
// skipped so that no rebuild happens under the other process tests, which run dist/ too), then
// `npm install` of the tarball into a new project,
// offline: the project gets a lockfile made of this repository's (its production entries), so
// npm takes every dependency from its cache, where `npm ci` put them. Then a worker.mjs that
// imports 'dstore' starts an embedded Global (port 0, a temporary directory) and a Local, does
// a put and a get and exits 0, and the installed `dstore` bin (node_modules/.bin/dstore, what
// `npx dstore` runs) answers --help and refuses a bad flag.
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { assertFreshDist } from '../dstore-command.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const STEP_TIMEOUT_MS = 120_000;
const dir = mkdtempSync(join(tmpdir(), 'dstore-package-'));

after(() => rmSync(dir, { recursive: true, force: true }));

function sh(command: string, args: readonly string[], cwd: string): SpawnSyncReturns<string> {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: STEP_TIMEOUT_MS });
  if (r.error !== undefined) throw r.error;
  return r;
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  assert.equal(r.status, 0, `${what} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

interface LockFile {
  readonly packages: Record<string, { readonly dev?: boolean }>;
}

const WORKER = `
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GlobalServer, KeyOccupiedError, Local } from 'dstore';

const dataDir = mkdtempSync(join(tmpdir(), 'dstore-package-data-'));
const server = await GlobalServer.listen('127.0.0.1:0');
await server.start({ replicaId: 1, members: new Map([[1, server.address]]), dataDir, clusterId: 'package-test' });
const local = Local.open({ global: [server.address] });
try {
  const { revision } = await local.put('job/1', new TextEncoder().encode('queued'));
  const text = await local.getText('job/1', { minRevision: revision });
  const occupied = await local.set('job/1', 'again').then(() => false, (err) => err instanceof KeyOccupiedError);
  console.log(JSON.stringify({ text, revision, occupied }));
} finally {
  await local.close();
  await server.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
`;

describe('the npm package', () => {
  it('packs, installs offline into another project, and runs on plain node', () => {
    assertFreshDist();
    const packed = JSON.parse(ok(sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], REPO), 'npm pack')) as { filename: string; files: { path: string }[] }[];
    const files = packed[0]!.files.map((f) => f.path);
    assert.ok(files.includes('dist/index.js') && files.includes('dist/index.d.ts') && files.includes('dist/cli/bin.js'), 'the compiled API, its types and the bin');
    assert.ok(files.includes('dist/protocol/proto/dstore/v1/global.proto') && files.includes('dist/global/state/snapshot.proto'), 'the .proto files loaded at run time');
    assert.deepEqual(files.filter((f) => /^(src|test|bench|scripts|examples)\//.test(f)), [], 'no sources or tests');

    const project = join(dir, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    // This repository's production dependencies, pinned: npm needs no registry to resolve them.
    const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as LockFile;
    const packages = Object.fromEntries(Object.entries(lock.packages).filter(([path, entry]) => path !== '' && entry.dev !== true));
    writeFileSync(join(project, 'package-lock.json'), JSON.stringify({ name: 'consumer', lockfileVersion: 3, requires: true, packages: { '': { name: 'consumer' }, ...packages } }));
    ok(sh('npm', ['install', '--offline', '--no-audit', '--no-fund', join(dir, packed[0]!.filename)], project), 'npm install --offline');

    writeFileSync(join(project, 'worker.mjs'), WORKER);
    const worker = sh(process.execPath, ['worker.mjs'], project);
    assert.equal(worker.status, 0, worker.stderr);
    assert.deepEqual(JSON.parse(worker.stdout) as unknown, { text: 'queued', revision: 1, occupied: true });

    const dstore = join(project, 'node_modules/.bin/dstore');
    const help = sh(dstore, ['--help'], project);
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /^usage: dstore <command>/);
    const localHelp = sh(dstore, ['local', '--help'], project);
    assert.equal(localHelp.status, 0, localHelp.stderr);
    assert.match(localHelp.stdout, /^usage: dstore local /);
    const bad = sh(dstore, ['workers', '--ops', 'abc'], project);
    assert.deepEqual([bad.status, bad.stderr], [2, 'dstore workers: --ops "abc": expected a whole number in 1..10000000 (see --help)\n']);
  });
});
