// Proves a replica whose consensus log lost records is loud about it and never votes on what
// it may have forgotten: in a cluster of three, a follower restarted on a log cut in half
// logs `storage.wal_loss` at warn, recovers from its peers (recovery.started) and converges
// with all 50 writes; a single replica refuses to start on such a log, naming the mark file,
// and starts on what is left once the operator deletes the mark.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, truncateSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { GlobalServer } from '../../src/global/server/global-server.ts';
import { GlobalClient } from '../../src/local/client/client.ts';
import { createLogger } from '../../src/protocol/log.ts';
import { CorruptError } from '../../src/protocol/errors.ts';
import { eventually, TestCluster } from './cluster-harness.ts';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Cuts the newest WAL segment of `dataDir` in half (a truncated log). */
function truncateWal(dataDir: string): void {
  const dir = join(dataDir, 'consensus');
  const segment = join(dir, readdirSync(dir).filter((n) => n.endsWith('.wal')).sort().at(-1)!);
  truncateSync(segment, Math.floor(statSync(segment).size / 2));
}

describe('a replica on a consensus log that lost records', () => {
  const cleanup: (() => Promise<void>)[] = [];
  after(async () => {
    for (const step of cleanup.reverse()) await step();
  });

  it('in a cluster: logs storage.wal_loss at warn, recovers from its peers and loses nothing', async () => {
    const lines: { id: number; level: string; event: string }[] = [];
    const cluster = await TestCluster.start(3, {
      node: { snapshotEveryInstances: 20 },
      listen: (id) => ({ logger: createLogger({ level: 'info', write: (line) => lines.push({ id, ...(JSON.parse(line) as { level: string; event: string }) }) }) }),
    });
    cleanup.push(() => cluster.stop());
    const client = cluster.client();
    for (let i = 0; i < 50; i++) await client.set(`k/${i}`, text(`v${i}`));
    const leader = await cluster.waitForLeader();
    const id = [1, 2, 3].find((r) => r !== leader)!;
    await cluster.stopReplica(id);
    truncateWal(cluster.dataDirs.get(id)!);
    lines.length = 0;
    await cluster.restartReplica(id);
    const mine = (event: string): { level: string } | undefined => lines.find((l) => l.id === id && l.event === event);
    assert.equal(mine('storage.wal_loss')?.level, 'warn', `no storage.wal_loss warning from replica ${id}: ${JSON.stringify(lines.filter((l) => l.id === id))}`);
    await eventually('the damaged replica to start recovering', () => mine('recovery.started'));
    await eventually('the damaged replica to finish recovering', () => mine('recovery.finished'), 15_000);
    const sums = await cluster.convergedChecksums(15_000);
    assert.equal(new Set(sums.values()).size, 1, `checksums differ: ${JSON.stringify([...sums])}`);
    assert.equal(cluster.server(id).node.stateMachine.keyCount, 50);
  });

  it('alone: refuses to start, naming the mark file; starts on what is left once the mark is deleted', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dstore-walloss-'));
    cleanup.push(() => Promise.resolve(rmSync(dataDir, { recursive: true, force: true })));
    const start = async (): Promise<GlobalServer> => {
      const server = await GlobalServer.listen('127.0.0.1:0');
      cleanup.push(() => server.stop());
      await server.start({ replicaId: 1, members: new Map([[1, server.address]]), dataDir, clusterId: 'test', onFatal: (err) => assert.fail(String(err)) });
      return server;
    };
    const first = await start();
    const client = new GlobalClient({ addresses: [first.address] });
    for (let i = 0; i < 50; i++) await client.set(`k/${i}`, text(`v${i}`));
    await client.close();
    await first.stop();
    truncateWal(dataDir);
    const mark = join(dataDir, 'consensus.mark');
    await assert.rejects(start(), (err: unknown) => {
      assert.ok(err instanceof CorruptError, String(err));
      assert.ok(err.message.includes(`${join(dataDir, 'consensus')} is shorter than ${mark} records`), err.message);
      assert.ok(err.message.includes(`delete ${mark} and start again`), err.message);
      return true;
    });
    unlinkSync(mark);
    const again = await start();
    const kept = again.node.stateMachine.keyCount;
    assert.ok(kept < 50, `expected writes lost with the truncated log, found ${kept} keys`);
  });
});
