// Proves the engine refuses odd file types where it expects its own files, naming the file,
// instead of hanging or misreading: a FIFO in place of the snapshot (which used to block
// start-up forever in open(2)), a directory in place of a WAL segment, a symlink in place of
// a blob file. Real file system (NodeFileSystem): the in-memory twin has only regular files.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { constants, mkdirSync, mkdtempSync, openSync, closeSync, readdirSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { StorageEngine } from '../../src/global/storage/engine.ts';
import { NotRegularFileError } from '../../src/global/storage/errors.ts';
import { NodeFileSystem } from '../../src/global/storage/fs.ts';

const clock = { nowMs: (): number => 0 };
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function engineWithData(): Promise<{ dir: string; blob: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'dstore-odd-'));
  dirs.push(dir);
  const engine = await StorageEngine.open({ fs: new NodeFileSystem(), dir, clock });
  await engine.stable.persist({ hardState: { promised: { round: 1, replicaId: 1 }, decidedThrough: 1, recovering: false }, entries: [{ instance: 1, ballot: { round: 1, replicaId: 1 }, value: { kind: 'noop' }, decided: true }] });
  await engine.snapshots.write(1, [Buffer.from('state through 1')]);
  const hash = await engine.blobs.put(Buffer.alloc(64 * 1024, 7));
  await engine.close();
  return { dir, blob: join(dir, 'blobs', 'large', `${hash}.blob`) };
}

/** Opens the engine, failing the test (not hanging it) if that takes more than 5 s. */
async function openWithin5s(dir: string, unblock: () => void): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      unblock();
      reject(new Error('StorageEngine.open hung for 5 s'));
    }, 5_000);
  });
  try {
    const engine = await Promise.race([StorageEngine.open({ fs: new NodeFileSystem(), dir, clock }), timeout]);
    await engine.close();
    return undefined;
  } catch (err) {
    return err;
  } finally {
    clearTimeout(timer);
  }
}

describe('odd file types', () => {
  it('refuses a FIFO in place of the snapshot file, naming it, without hanging', async () => {
    const { dir } = await engineWithData();
    const snap = join(dir, 'snapshots', readdirSync(join(dir, 'snapshots')).find((n) => n.endsWith('.snap'))!);
    unlinkSync(snap);
    execFileSync('mkfifo', [snap]);
    // On a hang, a writer opening the FIFO releases the blocked open(2) so the process can end.
    const err = await openWithin5s(dir, () => {
      try {
        closeSync(openSync(snap, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // no reader blocked on it
      }
    });
    assert.ok(err instanceof NotRegularFileError, `expected NotRegularFileError, got ${String(err)}`);
    assert.equal(err.file, snap);
    assert.match(err.message, /is a FIFO, not a regular file/);
  });

  it('refuses a directory in place of a WAL segment', async () => {
    const { dir } = await engineWithData();
    const consensus = join(dir, 'consensus');
    const segment = join(consensus, readdirSync(consensus).find((n) => n.endsWith('.wal'))!);
    unlinkSync(segment);
    mkdirSync(segment);
    const err = await openWithin5s(dir, () => undefined);
    assert.ok(err instanceof NotRegularFileError, `expected NotRegularFileError, got ${String(err)}`);
    assert.equal(err.file, segment);
    assert.match(err.message, /is a directory/);
  });

  it('refuses a symlink in place of a blob file when the blob is read', async () => {
    const { dir, blob } = await engineWithData();
    const elsewhere = join(dir, 'elsewhere');
    writeFileSync(elsewhere, Buffer.alloc(64 * 1024, 7));
    unlinkSync(blob);
    symlinkSync(elsewhere, blob);
    const engine = await StorageEngine.open({ fs: new NodeFileSystem(), dir, clock });
    try {
      const hash = engine.blobs.hashes()[0]!;
      await assert.rejects(engine.blobs.get(hash), (err: unknown) => err instanceof NotRegularFileError && err.file === blob && /symbolic link/.test(err.message));
    } finally {
      await engine.close();
    }
  });
});
