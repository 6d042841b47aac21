// Proves the storage engine opens its three stores under one directory and checks them
// against each other: the WAL is only compacted behind a snapshot the snapshot store holds,
// and a WAL compacted past every snapshot on disk is refused on open.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CorruptError, InvalidArgumentError } from '../../src/protocol/errors.ts';
import { StorageEngine } from '../../src/global/storage/engine.ts';
import { FaultFileSystem } from '../../src/global/storage/fault-fs.ts';
import { hashOf } from '../../src/protocol/hash.ts';

const clock = { nowMs: (): number => 0 };

describe('StorageEngine', () => {
  it('recovers consensus state, snapshot and blobs together after a crash', async () => {
    const fs = new FaultFileSystem({ seed: 1 });
    const engine = await StorageEngine.open({ fs, dir: '/data', clock });
    await engine.stable.persist({ hardState: { promised: { round: 1, replicaId: 1 }, decidedThrough: 2, recovering: false }, entries: [1, 2, 3].map((instance) => ({ instance, ballot: { round: 1, replicaId: 1 }, value: { kind: 'noop' as const }, decided: instance <= 2 })) });
    const snapshot = await engine.snapshots.write(2, [Buffer.from('state through 2')]);
    await engine.compactToSnapshot(snapshot);
    const hash = await engine.blobs.put(Buffer.from('value'));
    await engine.close();
    const again = await StorageEngine.open({ fs: fs.crashNow('lose-unsynced'), dir: '/data', clock });
    assert.equal(again.recovered().snapshotThrough, 2);
    assert.deepEqual(again.recovered().entries.map((e) => e.instance), [3]);
    assert.equal(again.snapshots.latest()?.throughInstance, 2);
    assert.equal(hashOf(await again.blobs.get(hash)), hash);
    await again.close();
  });

  it('refuses to compact behind a snapshot it does not hold', async () => {
    const engine = await StorageEngine.open({ fs: new FaultFileSystem({ seed: 2 }), dir: '/data', clock });
    const fake = { throughInstance: 5, payloadBytes: 0, payloadHash: hashOf(new Uint8Array(0)), metadata: new Uint8Array(0) };
    await assert.rejects(engine.compactToSnapshot(fake), (err: unknown) => err instanceof InvalidArgumentError && /snapshot through 5 is not in the snapshot store/.test(err.message));
    await engine.close();
  });

  it('refuses to open when the WAL was compacted past every snapshot on disk', async () => {
    const fs = new FaultFileSystem({ seed: 3 });
    const engine = await StorageEngine.open({ fs, dir: '/data', clock });
    const snapshot = await engine.snapshots.write(4, [Buffer.from('s')]);
    await engine.compactToSnapshot(snapshot);
    await engine.close();
    await fs.unlink('/data/snapshots/0000000000000004.snap');
    await assert.rejects(StorageEngine.open({ fs, dir: '/data', clock }), (err: unknown) => err instanceof CorruptError && /compacted through instance 4, but the newest snapshot is through 0/.test(err.message));
  });
});
