// Proves `dstore global` as a user runs it, in real child processes: a lone replica
// prints the address it bound and serves; bad flags exit with status 2 and a usage line;
// `--cluster 3` starts three replicas on consecutive ports that elect a leader and take a
// write; Ctrl-C (SIGINT to the parent) stops every replica, and so does the parent dying by
// SIGKILL. Servers bind 127.0.0.1: port 0 for the lone replica, and for the cluster ports
// found free at test time (retried when another process takes one first).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { GlobalClient } from '../../src/local/client/client.ts';
import { eventually } from './cluster-harness.ts';
import { freeConsecutivePorts, GlobalProcess, pidAlive, StatusReader } from './process-harness.ts';

const processes: GlobalProcess[] = [];
const dirs: string[] = [];
const statuses = new StatusReader();
const clients: GlobalClient[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dstore-cli-'));
  dirs.push(dir);
  return dir;
}

function start(args: readonly string[]): GlobalProcess {
  const p = GlobalProcess.start(args);
  processes.push(p);
  return p;
}

after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  statuses.close();
  await Promise.all(processes.map((p) => p.stop('SIGKILL')));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Children's pids and ports as the parent printed them. */
interface StartedCluster {
  readonly parent: GlobalProcess;
  readonly firstPort: number;
  readonly pids: number[];
}

/**
 * Starts `--cluster 3` on ports free right now; if a child cannot bind (another process
 * took the port meanwhile), stops that attempt and tries new ports.
 */
async function startCluster(attemptsMax = 3): Promise<StartedCluster> {
  for (let attempt = 1; ; attempt++) {
    const firstPort = await freeConsecutivePorts(3);
    const parent = start(['--cluster', '3', '--listen', `127.0.0.1:${firstPort}`, '--data', tempDir()]);
    try {
      const pids: number[] = [];
      for (let id = 1; id <= 3; id++) {
        const port = firstPort + id - 1;
        await parent.waitForLine(new RegExp(`^\\[${id}\\] Dstore server listening on 127\\.0\\.0\\.1:${port}$`));
        const m = await parent.waitForLine(new RegExp(`^\\[${id}\\] replica ${id} of 3 \\(pid (\\d+)\\)`));
        pids.push(Number(m[1]));
      }
      return { parent, firstPort, pids };
    } catch (err) {
      const busy = parent.lines.some((l) => l.includes('cannot listen on'));
      await parent.stop('SIGINT');
      if (!busy || attempt >= attemptsMax) throw err;
    }
  }
}

describe('dstore global', () => {
  it('a lone replica prints the address it bound, serves, and exits 0 on SIGINT', async () => {
    const p = start(['--listen', '127.0.0.1:0', '--data', tempDir()]);
    const m = await p.waitForLine(/^Dstore server listening on (127\.0\.0\.1):(\d+)$/);
    const port = Number(m[2]);
    assert.ok(port > 0 && port <= 65535, `bound a real port, got ${port}`);
    const address = `127.0.0.1:${port}`;
    const s = await eventually('the replica to lead itself', async () => {
      const st = await statuses.status(address);
      return st.isLeader ? st : undefined;
    });
    assert.equal(s.replicaId, 1);
    assert.equal(s.members.length, 1);
    assert.equal(s.members[0]?.address, address, 'a lone replica advertises the address it bound');
    const client = new GlobalClient({ addresses: [address] });
    clients.push(client);
    const w = await client.set('cli/lone', new TextEncoder().encode('v'));
    assert.equal(w.kv.version, 1);
    statuses.drop(address);
    const exit = await p.stop('SIGINT');
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.ok(p.lines.includes('replica 1: SIGINT, shutting down'), p.output());
  });

  it('bad flags exit with status 2 and one line naming the flag; --help exits 0', async () => {
    const p = start(['--cluster', '4']);
    const exit = await p.exited;
    assert.deepEqual(exit, { code: 2, signal: null });
    assert.deepEqual(p.lines, ['dstore global: --cluster must be 3 or 5, got "4" (see --help)']);
    const q = start(['--bogus']);
    assert.deepEqual(await q.exited, { code: 2, signal: null });
    assert.deepEqual(q.lines, ['dstore global: unknown flag --bogus (see --help)']);
    const h = start(['--help']);
    assert.deepEqual(await h.exited, { code: 0, signal: null });
    assert.match(h.lines[0] ?? '', /^usage: dstore global /);
  });

  // One cluster for the whole life of a supervised cluster: started, written to, a replica
  // killed and restarted, stopped (each cluster started costs four processes).
  it('--cluster 3 starts three replicas on consecutive ports that take writes, restarts one killed with SIGKILL (saying so with its command line; status shows it), and SIGINT stops them all', async () => {
    const { parent, firstPort, pids } = await startCluster();
    assert.equal(new Set(pids).size, 3);
    const addresses = [0, 1, 2].map((i) => `127.0.0.1:${firstPort + i}`);
    const client = new GlobalClient({ addresses });
    clients.push(client);
    const before = await client.set('cli/cluster', new TextEncoder().encode('v'));
    assert.ok(before.revision >= 1);
    const leaders = await eventually('one leader every replica knows', async () => {
      const all = await Promise.all(addresses.map((a) => statuses.status(a)));
      const ids = new Set(all.map((s) => s.leaderId));
      return ids.size === 1 && !ids.has(0) ? all.filter((s) => s.isLeader) : undefined;
    });
    assert.equal(leaders.length, 1);

    const address2 = addresses[1]!;
    statuses.drop(address2);
    process.kill(pids[1]!, 'SIGKILL');
    const said = await parent.waitForLine(/^\[2\] exited \(SIGKILL\) after \d+ ms; restart 1 in \d+ ms: (.*)$/);
    assert.match(said[1]!, /bin\.js global --id 2 --peers 1=127\.0\.0\.1:\d+,2=127\.0\.0\.1:\d+,3=127\.0\.0\.1:\d+ --data \S+\/replica-2 --cluster-id dstore/);
    const again = await parent.waitForLine(new RegExp(`^\\[2\\] replica 2 of 3 \\(pid (?!${pids[1]}\\))(\\d+)\\)`));
    const newPid = Number(again[1]);
    const s = await eventually('the restarted replica to answer and catch up', async () => {
      const st = await statuses.status(address2);
      return st.appliedRevision >= before.revision ? st : undefined;
    });
    assert.equal(s.restarts, 1);

    for (const a of addresses) statuses.drop(a);
    const exit = await parent.stop('SIGINT');
    assert.deepEqual(exit, { code: 0, signal: null }, parent.output());
    for (const pid of [pids[0]!, newPid, pids[2]!]) assert.equal(pidAlive(pid), false, `pid ${pid} stopped with its parent`);
    for (let id = 1; id <= 3; id++) assert.ok(parent.lines.includes(`[${id}] replica ${id}: SIGTERM, shutting down`) || parent.lines.includes(`[${id}] replica ${id}: SIGINT, shutting down`), parent.output());
  });

  it('--cluster 3: the replicas stop by themselves when the parent is killed with SIGKILL', async () => {
    const { parent, pids } = await startCluster();
    await parent.stop('SIGKILL');
    await eventually('every replica to exit after its parent died', () => pids.every((pid) => !pidAlive(pid)), 10_000);
    assert.equal(pids.filter(pidAlive).length, 0);
  });
});
