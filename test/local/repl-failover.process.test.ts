// The REPL rides out a failover (issue 14, observation 1 and Deliver 1): three replica
// processes, a REPL on all three; a SET typed right after the leader is paused (SIGSTOP) or
// killed (SIGKILL) is answered "Database updated" once the others elected a new leader, well
// within the REPL's default 10 s deadline, because its retries end at the deadline only and a
// paused replica's connection is left when it stops answering PINGs (session.ts).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { eventually } from '../global/cluster-harness.ts';
import { freePorts, GlobalProcess, StatusReader } from '../global/process-harness.ts';
import { ReplProcess } from './repl-process.ts';

interface Replica {
  readonly id: number;
  readonly address: string;
  readonly process: GlobalProcess;
}

const replicas: Replica[] = [];
const dirs: string[] = [];
const statuses = new StatusReader();
let repl: ReplProcess | null = null;

after(async () => {
  await repl?.stop();
  statuses.close();
  for (const r of replicas) {
    try {
      process.kill(r.process.pid, 'SIGCONT'); // a paused one must be able to die by SIGKILL's reaping
    } catch {
      // already gone
    }
  }
  await Promise.all(replicas.map((r) => r.process.stop('SIGKILL')));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function startReplicas(): Promise<void> {
  const ports = await freePorts(3);
  const peers = ports.map((p, i) => `${i + 1}=127.0.0.1:${p}`).join(',');
  for (const [i, port] of ports.entries()) {
    const dir = mkdtempSync(join(tmpdir(), `dstore-repl-failover-r${i + 1}-`));
    dirs.push(dir);
    replicas.push({ id: i + 1, address: `127.0.0.1:${port}`, process: GlobalProcess.start(['--id', String(i + 1), '--listen', `127.0.0.1:${port}`, '--peers', peers, '--data', dir, '--cluster-id', 'repl-failover']) });
  }
  await Promise.all(replicas.map((r) => r.process.waitForLine(/^Dstore server listening on /)));
}

/** The leader the running replicas agree on. */
function leader(running: readonly Replica[]): Promise<Replica> {
  return eventually('one leader the running replicas follow', async () => {
    const all = await Promise.all(running.map((r) => statuses.status(r.address)));
    const ids = new Set(all.map((s) => s.leaderId));
    return ids.size === 1 && !ids.has(0) ? running.find((r) => r.id === all[0]!.leaderId) : undefined;
  }, 15_000);
}

describe('REPL during a failover', () => {
  it('a SET typed right after the leader is paused, then after the next leader is killed, succeeds', async () => {
    await startReplicas();
    const first = await leader(replicas);
    const listenPort = (await freePorts(1))[0]!;
    repl = await ReplProcess.start(['--global', replicas.map((r) => r.address).join(','), '--listen', `127.0.0.1:${listenPort}`, '--no-embed']);
    assert.equal(await repl.run('SET before v0'), 'Database updated');

    process.kill(first.process.pid, 'SIGSTOP');
    const paused = await repl.run('SET during-pause v1', 15_000);
    assert.equal(paused, 'Database updated', `stderr: ${repl.stderr}`);
    const others = replicas.filter((r) => r !== first);
    const second = await leader(others);
    process.kill(first.process.pid, 'SIGCONT');

    await second.process.stop('SIGKILL');
    const killed = await repl.run('SET after-kill v2', 15_000);
    assert.equal(killed, 'Database updated', `stderr: ${repl.stderr}`);
    assert.match(await repl.run('GET during-pause'), /-> v1/);
  });
});
