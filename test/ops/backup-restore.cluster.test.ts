// Proves the backup and restore procedure of docs/operations.md: from a running three-replica
// cluster, copy the newest snapshots/*.snap file and then the blobs/ directory of one replica;
// later writes are not in the backup. A new cluster whose replicas each start on an empty data
// directory holding only those copies comes up with exactly the state of the snapshot
// (inline values and a blob readable, later writes absent), agrees on its state checksum, and
// takes new writes.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { hashOf } from '../../src/protocol/hash.ts';
import { NULL_LOGGER } from '../../src/protocol/log.ts';
import { TestCluster } from '../global/cluster-harness.ts';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('backup and restore from a snapshot', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it('restores a new cluster to the snapshot\'s state', async () => {
    const backup = mkdtempSync(join(tmpdir(), 'dstore-backup-'));
    cleanup.push(() => rmSync(backup, { recursive: true, force: true }));
    const original = await TestCluster.start(3, { listen: () => ({ logger: NULL_LOGGER }) });
    cleanup.push(() => original.stop());
    const leaderId = await original.waitForLeader();
    const client = original.client();
    for (let i = 0; i < 10; i++) await client.set(`b/${i}`, text(`value ${i}`));
    const big = new Uint8Array(200_000).fill(42); // above the inline limit: a blob
    await client.set('b/big', big);
    // The backup: the newest snapshot (taken here on demand; replicas take one every
    // snapshotEveryInstances on their own), then the blobs, from a follower that applied it.
    const followerId = [1, 2, 3].find((id) => id !== leaderId)!;
    await original.convergedChecksums();
    const through = await original.server(followerId).node.snapshotNow();
    const dataDir = original.dataDirs.get(followerId)!;
    const snaps = readdirSync(join(dataDir, 'snapshots')).filter((n) => n.endsWith('.snap')).sort();
    const newest = snaps[snaps.length - 1]!;
    assert.equal(newest, `${String(through).padStart(16, '0')}.snap`);
    mkdirSync(join(backup, 'snapshots'));
    cpSync(join(dataDir, 'snapshots', newest), join(backup, 'snapshots', newest));
    cpSync(join(dataDir, 'blobs'), join(backup, 'blobs'), { recursive: true });
    const backedUp = await original.status(followerId, true);
    await client.set('b/after-backup', text('not in the backup'));
    await original.stop();

    const restored = await TestCluster.start(3, {
      listen: () => ({ logger: NULL_LOGGER }),
      prepareDataDir: (_id, dir) => cpSync(backup, dir, { recursive: true }),
    });
    cleanup.push(() => restored.stop());
    await restored.waitForLeader();
    const checksums = await restored.convergedChecksums();
    assert.equal(new Set(checksums.values()).size, 1, 'every restored replica holds the same state');
    assert.equal([...checksums.values()][0], Buffer.from(backedUp.stateChecksum).toString('hex'), 'the state is the backed-up one');
    const c = restored.client();
    assert.equal(new TextDecoder().decode((await c.get('b/7')).kv?.value ?? new Uint8Array()), 'value 7');
    const bigKv = (await c.get('b/big')).kv;
    assert.ok(bigKv !== null && bigKv !== undefined);
    assert.equal(bigKv.hash, hashOf(big));
    assert.ok(Buffer.from(await c.getBlob(bigKv.hash)).equals(Buffer.from(big)), 'the blob came back whole');
    assert.equal((await c.get('b/after-backup')).kv, null, 'writes after the snapshot are not restored');
    const { revision } = await c.set('b/new', text('written after the restore'));
    assert.equal(revision, backedUp.appliedRevision + 1, 'revisions continue from the snapshot');
  });
});
