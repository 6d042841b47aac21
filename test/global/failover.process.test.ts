// Proves failover on real processes (issue 5, item 13): three `dstore global` replicas on
// loopback take writes from the Global client; the leader is killed with SIGKILL while
// writers keep going; a write issued after the kill is acknowledged by a new leader (waited
// for with a deadline; the time it took is a diagnostic, not an assertion, so a busy machine
// cannot fail it); no writer's call fails meanwhile (the client waits out the election with the
// default deadline instead of surfacing errors); the old leader is restarted on its address
// and data and catches up; every acknowledged write is then present with its value, no write
// was applied twice, and the three replicas report the same state checksum at the same
// applied instance.
//
// Ports are found free at test time (peers must know each other's addresses up front) and
// a start that loses its port to another process is retried on new ports. Every process
// is killed and every data dir removed in `after`, whatever happened.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, describe, it } from 'node:test';
import { GlobalClient } from '../../src/local/client/client.ts';
import { DstoreError, KeyOccupiedError } from '../../src/protocol/errors.ts';
import { eventually } from './cluster-harness.ts';
import { freePorts, GlobalProcess, StatusReader } from './process-harness.ts';

/** A deadline for the first write after the kill, far above an election (about 1 s); not a bound being proved. */
const FAILOVER_DEADLINE_MS = 15_000;
const WRITERS = 4;

interface Replica {
  readonly id: number;
  readonly address: string;
  readonly args: readonly string[];
  process: GlobalProcess;
}

const replicas: Replica[] = [];
const everyProcess: GlobalProcess[] = [];
const dirs: string[] = [];
const statuses = new StatusReader();
let client: GlobalClient | null = null;

after(async () => {
  await client?.close();
  statuses.close();
  await Promise.all(everyProcess.map((p) => p.stop('SIGKILL')));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function launch(args: readonly string[]): GlobalProcess {
  const p = GlobalProcess.start(args);
  everyProcess.push(p);
  return p;
}

/** Starts three replicas on free ports; retries on new ports when one is taken meanwhile. */
async function startReplicas(attemptsMax = 3): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const ports = await freePorts(3);
    const peers = ports.map((p, i) => `${i + 1}=127.0.0.1:${p}`).join(',');
    replicas.length = 0;
    for (const [i, port] of ports.entries()) {
      const dir = mkdtempSync(join(tmpdir(), `dstore-failover-r${i + 1}-`));
      dirs.push(dir);
      const args = ['--id', String(i + 1), '--listen', `127.0.0.1:${port}`, '--peers', peers, '--data', dir, '--cluster-id', 'failover-test'];
      replicas.push({ id: i + 1, address: `127.0.0.1:${port}`, args, process: launch(args) });
    }
    try {
      await Promise.all(replicas.map((r) => r.process.waitForLine(/^Dstore server listening on /)));
      return;
    } catch (err) {
      const busy = replicas.some((r) => r.process.lines.some((l) => l.includes('cannot listen on')));
      await Promise.all(replicas.map((r) => r.process.stop('SIGKILL')));
      if (!busy || attempt >= attemptsMax) throw err;
    }
  }
}

/** The leader every running replica agrees on. */
function agreedLeader(running: readonly Replica[], timeoutMs = 10_000): Promise<Replica> {
  return eventually('one leader all running replicas follow', async () => {
    const all = await Promise.all(running.map((r) => statuses.status(r.address)));
    const leaders = new Set(all.map((s) => s.leaderId));
    if (leaders.size !== 1 || leaders.has(0)) return undefined;
    return running.find((r) => r.id === all[0]!.leaderId);
  }, timeoutMs);
}

interface Ack {
  readonly key: string;
  readonly value: string;
  readonly startedAtMs: number;
  readonly ackedAtMs: number;
}

/** Writers that each SET fresh keys one after another until stopped; every ack is recorded. */
class Writers {
  readonly acks: Ack[] = [];
  readonly failures: DstoreError[] = [];
  private stopped = false;
  private next = 0;
  private readonly loops: Promise<void>[];
  private readonly ackListeners = new Set<() => void>();

  constructor(private readonly c: GlobalClient, count: number) {
    this.loops = Array.from({ length: count }, () => this.loop());
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const n = this.next++;
      const key = `acked/${String(n).padStart(6, '0')}`;
      const value = `value ${n}`;
      const startedAtMs = performance.now();
      try {
        await this.c.set(key, new TextEncoder().encode(value));
        this.acks.push({ key, value, startedAtMs, ackedAtMs: performance.now() });
        for (const wake of this.ackListeners) wake();
      } catch (err) {
        if (!(err instanceof DstoreError)) throw err;
        this.failures.push(err);
      }
    }
  }

  /** Resolves with the first ack matching `accept` (already recorded or future); rejects after `timeoutMs`. */
  waitForAck(what: string, accept: (a: Ack) => boolean, timeoutMs: number): Promise<Ack> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const found = this.acks.find(accept);
        if (found === undefined) return;
        this.ackListeners.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        this.ackListeners.delete(check);
        reject(new Error(`no ${what} within ${timeoutMs} ms (${this.acks.length} acks, failures: ${this.failures.map((f) => f.message).join('; ')})`));
      }, timeoutMs);
      this.ackListeners.add(check);
      check();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }
}

describe('a 3-replica Global cluster of real processes', () => {
  it('loses its leader to SIGKILL, resumes writes on a new leader, and loses nothing', async (t) => {
    await startReplicas();
    const oldLeader = await agreedLeader(replicas);
    client = new GlobalClient({ addresses: replicas.map((r) => r.address) });
    const writers = new Writers(client, WRITERS);
    try {
      await writers.waitForAck('50 acks before the kill', () => writers.acks.length >= 50, 15_000);

      oldLeader.process.child.kill('SIGKILL');
      const killedAtMs = performance.now();
      assert.equal((await oldLeader.process.exited).signal, 'SIGKILL');
      statuses.drop(oldLeader.address);
      const resumed = await writers.waitForAck('write issued after the kill to be acknowledged', (a) => a.startedAtMs > killedAtMs, FAILOVER_DEADLINE_MS);
      t.diagnostic(`failover: SIGKILL of replica ${oldLeader.id} -> first acknowledged write issued after it: ${(resumed.ackedAtMs - killedAtMs).toFixed(0)} ms`);
      const survivors = replicas.filter((r) => r !== oldLeader);
      const newLeader = await agreedLeader(survivors);
      assert.notEqual(newLeader.id, oldLeader.id);

      const acksAtRestart = writers.acks.length;
      oldLeader.process = launch(oldLeader.args);
      await oldLeader.process.waitForLine(/^Dstore server listening on /);
      await writers.waitForAck('30 more acks with the old leader back', () => writers.acks.length >= acksAtRestart + 30, 10_000);
    } finally {
      await writers.stop();
    }

    for (const f of writers.failures.slice(0, 3)) t.diagnostic(`failed write: ${f.message}`);
    t.diagnostic(`${writers.acks.length} writes acknowledged, ${writers.failures.length} failed (${[...new Set(writers.failures.map((f) => f.code))].join(', ') || 'none'})`);
    assert.deepEqual(writers.failures.filter((f) => f instanceof KeyOccupiedError).map((f) => f.message), [], 'no write was applied twice');
    assert.deepEqual(writers.failures.map((f) => f.message), [], 'no write failed: the client rode out the failover within its deadline');
    const sums = await eventually('all three replicas at the same applied instance', async () => {
      const all = await Promise.all(replicas.map((r) => statuses.status(r.address, true)));
      return new Set(all.map((s) => s.appliedInstance)).size === 1 ? all : undefined;
    }, 15_000);
    const checksums = sums.map((s) => Buffer.from(s.stateChecksum).toString('hex'));
    assert.equal(checksums[0]!.length, 64);
    assert.equal(new Set(checksums).size, 1, `state checksums differ: ${checksums.join(' ')}`);
    const keyCount = sums[0]!.keyCount;
    assert.equal(keyCount, writers.acks.length, 'exactly the acknowledged writes are stored');

    const range = await client.range({ prefix: 'acked/', withValues: true });
    assert.equal(range.more, false);
    const stored = new Map(range.kvs.map((kv) => [kv.key, new TextDecoder().decode(kv.value ?? new Uint8Array())]));
    const lost = writers.acks.filter((a) => stored.get(a.key) !== a.value);
    assert.deepEqual(lost.map((a) => a.key), [], 'every acknowledged write is present with its value');
  });
});
