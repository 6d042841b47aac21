// The cache's byte budget is true: what a cached binding costs in memory beyond its value's
// and key's lengths (measured by scripts/measure-entry-overhead.ts in a child process with
// --expose-gc) is at most ENTRY_OVERHEAD_BYTES, what the cache charges for it (issue 12
// fault 10: charged 160, cost about 650).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';

function measure(args: string[]): Promise<{ overheadBytes: number; entryOverheadBytesConstant: number }> {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', 'scripts/measure-entry-overhead.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`the measurement exited ${code}: ${err}`));
      else resolve(JSON.parse(out) as { overheadBytes: number; entryOverheadBytesConstant: number });
    });
  });
}

describe('cache entry overhead', () => {
  it('charges each binding at least what it costs', async () => {
    const small = await measure(['30000', '4', '8']);
    assert.ok(small.overheadBytes <= small.entryOverheadBytesConstant, `a binding costs ${small.overheadBytes} bytes beyond its lengths; ENTRY_OVERHEAD_BYTES is ${small.entryOverheadBytesConstant}`);
    assert.ok(small.overheadBytes > small.entryOverheadBytesConstant / 2, `measured ${small.overheadBytes}: the constant should not be far above the cost either`);
  });
});
