// Proves the storage engine creates its files owner-only (issue 11): after consensus state, a
// snapshot, a small (packed) and a large blob are written through the real file system, every
// file under the data dir is 0600 and every directory 0700, so values and blobs are not
// readable by other users. A data dir whose files were made 0644 before still opens.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { StorageEngine } from '../../src/global/storage/engine.ts';
import { NodeFileSystem } from '../../src/global/storage/fs.ts';
import { hashOf } from '../../src/protocol/hash.ts';

const clock = { nowMs: (): number => 0 };

/** Every path under `dir` (itself excluded) with its permission bits. */
function modes(dir: string): Map<string, { mode: number; isDir: boolean }> {
  const out = new Map<string, { mode: number; isDir: boolean }>();
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const st = statSync(join(dir, name));
    out.set(name, { mode: st.mode & 0o777, isDir: st.isDirectory() });
  }
  return out;
}

describe('data file modes', () => {
  it('creates every file 0600 and every directory 0700', async () => {
    const root = mkdtempSync(join(tmpdir(), 'dstore-modes-'));
    try {
      const dir = join(root, 'data');
      const engine = await StorageEngine.open({ fs: new NodeFileSystem(), dir, clock });
      await engine.stable.persist({ hardState: { promised: { round: 1, replicaId: 1 }, decidedThrough: 1, recovering: false }, entries: [{ instance: 1, ballot: { round: 1, replicaId: 1 }, value: { kind: 'noop' as const }, decided: true }] });
      await engine.snapshots.write(1, [Buffer.from('state with a secret')]);
      await engine.blobs.put(Buffer.from('a small secret blob'));
      const large = Buffer.alloc(100_000, 7);
      await engine.blobs.put(large);
      await engine.close();
      const found = modes(dir);
      assert.ok([...found.values()].filter((m) => !m.isDir).length >= 4, `files were written: ${[...found.keys()].join(', ')}`);
      assert.equal(statSync(dir).mode & 0o777, 0o700, 'the data dir itself');
      for (const [name, { mode, isDir }] of found) {
        assert.equal(mode, isDir ? 0o700 : 0o600, `${name} is ${mode.toString(8)}`);
      }
      // Files left 0644 by an older version still open and serve.
      for (const [name, { isDir }] of found) if (!isDir) chmodSync(join(dir, name), 0o644);
      const again = await StorageEngine.open({ fs: new NodeFileSystem(), dir, clock });
      assert.equal(hashOf(await again.blobs.get(hashOf(large))), hashOf(large));
      assert.equal(again.snapshots.latest()?.throughInstance, 1);
      await again.close();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
