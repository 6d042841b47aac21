// Proves a replica restarted on an older copy of its whole data directory (consensus/ included,
// as a restored backup or volume snapshot) is loud about it and does not vote on what it
// forgot: in a cluster of three, a follower whose directory is replaced by a copy taken 30
// writes earlier logs `consensus.rolled_back` at warn naming its data directory, recovers from
// its peers and converges with every write.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createLogger } from '../../src/protocol/log.ts';
import { eventually, TestCluster } from './cluster-harness.ts';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

interface Line {
  readonly id: number;
  readonly level: string;
  readonly event: string;
  readonly dataDir?: string;
  readonly action?: string;
}

describe('a replica restarted on an older copy of its data directory', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const step of cleanup.reverse()) await step();
  });

  it('logs consensus.rolled_back at warn, recovers from its peers and loses nothing', async () => {
    const lines: Line[] = [];
    const cluster = await TestCluster.start(3, {
      listen: (id) => ({ logger: createLogger({ level: 'info', write: (line) => lines.push({ id, ...(JSON.parse(line) as Omit<Line, 'id'>) }) }) }),
    });
    cleanup.push(() => cluster.stop());
    const client = cluster.client();
    cleanup.push(() => client.close());
    for (let i = 0; i < 20; i++) await client.set(`k/${i}`, text(`v${i}`));
    const leader = await cluster.waitForLeader();
    const id = [1, 2, 3].find((r) => r !== leader)!;
    const dataDir = cluster.dataDirs.get(id)!;
    const backup = mkdtempSync(join(tmpdir(), 'dstore-rollback-'));
    cleanup.push(() => rmSync(backup, { recursive: true, force: true }));
    await cluster.stopReplica(id);
    cpSync(dataDir, backup, { recursive: true });
    await cluster.restartReplica(id);
    // It votes on the next writes only once its own start check passed: until then they are
    // decided without it, and the copy would have forgotten nothing.
    const copied = cluster.server(id).node.status().stamp;
    await eventually('the restarted replica to pass its start check', () => {
      const status = cluster.server(id).node.status();
      return status.startCheck === null && status.recovery === null;
    });
    for (let i = 20; i < 50; i++) await client.set(`k/${i}`, text(`v${i}`));
    await cluster.convergedChecksums();
    assert.ok(cluster.server(id).node.status().stamp.voteSeq > copied.voteSeq, 'it voted on writes the copy does not hold');
    await cluster.stopReplica(id);
    rmSync(dataDir, { recursive: true, force: true });
    cpSync(backup, dataDir, { recursive: true });
    lines.length = 0;
    await cluster.restartReplica(id);
    const mine = (event: string): Line | undefined => lines.find((l) => l.id === id && l.event === event);
    const warning = await eventually('the restored replica to notice it was rolled back', () => mine('consensus.rolled_back'));
    assert.equal(warning.level, 'warn');
    assert.equal(warning.dataDir, dataDir);
    assert.equal(warning.action, 'recovering');
    await eventually('the restored replica to finish recovering', () => mine('recovery.finished'), 15_000);
    for (let i = 50; i < 55; i++) await client.set(`k/${i}`, text(`v${i}`));
    const sums = await cluster.convergedChecksums(15_000);
    assert.equal(new Set(sums.values()).size, 1, `checksums differ: ${JSON.stringify([...sums])}`);
    assert.equal(cluster.server(id).node.stateMachine.keyCount, 55);
  });
});
