// The processes of a fault run: Global replicas (`dstore global`, compiled) on loopback ports found
// free at start, each with its own data directory kept across restarts, and Local node
// servers (node-server.ts). Replicas can be killed with SIGKILL, paused with SIGSTOP,
// continued and restarted on their address and data; `stopAll` kills every process started
// and removes the data, whatever state it is in.
//
// Every link goes through a proxy the suite controls (link-proxy.ts): replica i reaches
// replica j through `peerLink(i, j)` (its --peers names the proxy), and clients (Locals, the
// node server, the Global client) reach replica j through `clientLink(j)`. The suite's own
// status checks go straight to the replicas, so they see through any partition. Leader hints
// name the address a replica knows its peer by, i.e. a peer link: a client that follows one
// crosses that link (and its partition) to the leader.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts, GlobalProcess, StatusReader } from '../global/process-harness.ts';
import { LinkProxy } from './link-proxy.ts';

const LISTENING = /^Dstore server listening on /;
const NODE_LISTENING = /^node server listening on (\S+)$/;
const START_TIMEOUT_MS = 60_000;

export type ReplicaState = 'up' | 'paused' | 'down';

export interface Replica {
  readonly id: number;
  readonly address: string;
  readonly args: readonly string[];
  process: GlobalProcess;
  state: ReplicaState;
}

export class FaultCluster {
  readonly replicas: Replica[] = [];
  /** `${from}->${to}`: replica `from`'s link to replica `to`. */
  private readonly peerLinks = new Map<string, LinkProxy>();
  /** By replica id: the clients' link to it. */
  private readonly clientLinks = new Map<number, LinkProxy>();
  private readonly everyProcess: GlobalProcess[] = [];
  private readonly statuses = new StatusReader();
  private readonly dataRoot = mkdtempSync(join(tmpdir(), 'dstore-faults-'));

  /** The addresses clients use: each replica through its client link. */
  get addresses(): string[] {
    return this.replicas.map((r) => this.clientLink(r.id).address);
  }

  /** Replica `from`'s link to replica `to` (from != to). */
  peerLink(from: number, to: number): LinkProxy {
    const link = this.peerLinks.get(`${from}->${to}`);
    if (link === undefined) throw new Error(`no link ${from}->${to}`);
    return link;
  }

  /** The clients' link to replica `id`. */
  clientLink(id: number): LinkProxy {
    const link = this.clientLinks.get(id);
    if (link === undefined) throw new Error(`no client link to ${id}`);
    return link;
  }

  /** Every link, to heal them all. */
  get links(): LinkProxy[] {
    return [...this.peerLinks.values(), ...this.clientLinks.values()];
  }

  private launch(args: readonly string[], fixture?: string): GlobalProcess {
    const p = fixture === undefined ? GlobalProcess.start(args) : GlobalProcess.startFixture(fixture, args);
    this.everyProcess.push(p);
    return p;
  }

  /** Starts `count` replicas on free ports; retries on new ports when one was taken meanwhile. */
  async start(count: number, attemptsMax = 3): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const ports = await freePorts(count);
      await this.stopLinks();
      for (const [j, port] of ports.entries()) {
        this.clientLinks.set(j + 1, await LinkProxy.start({ host: '127.0.0.1', port }));
        for (let i = 0; i < count; i++) if (i !== j) this.peerLinks.set(`${i + 1}->${j + 1}`, await LinkProxy.start({ host: '127.0.0.1', port }));
      }
      this.replicas.length = 0;
      for (const [i, port] of ports.entries()) {
        const dir = mkdtempSync(join(this.dataRoot, `r${i + 1}-`));
        const peers = ports.map((p, j) => `${j + 1}=${i === j ? `127.0.0.1:${p}` : this.peerLink(i + 1, j + 1).address}`).join(',');
        const args = ['--id', String(i + 1), '--listen', `127.0.0.1:${port}`, '--peers', peers, '--data', dir, '--cluster-id', 'faults'];
        this.replicas.push({ id: i + 1, address: `127.0.0.1:${port}`, args, process: this.launch(args), state: 'up' });
      }
      try {
        await Promise.all(this.replicas.map((r) => r.process.waitForLine(LISTENING, START_TIMEOUT_MS)));
        return;
      } catch (err) {
        const busy = this.replicas.some((r) => r.process.lines.some((l) => l.includes('cannot listen on')));
        await Promise.all(this.replicas.map((r) => r.process.stop('SIGKILL')));
        if (!busy || attempt >= attemptsMax) throw err;
      }
    }
  }

  /** Starts a Local node server process following the replicas; resolves with its address. */
  async startNodeServer(leaseMs: number, deadlineMs: number): Promise<string> {
    const args = ['--global', this.addresses.join(','), '--lease-ms', String(leaseMs), '--deadline-ms', String(deadlineMs)];
    const p = this.launch(args, 'test/faults/node-server.ts');
    const m = await p.waitForLine(NODE_LISTENING, START_TIMEOUT_MS);
    return m[1]!;
  }

  /** The leader a majority of the running replicas name (each asked with a short deadline), or null. */
  async leader(): Promise<Replica | null> {
    const up = this.replicas.filter((r) => r.state === 'up');
    const named = await Promise.all(up.map((r) => this.statuses.status(r.address, false, 500).then((s) => s.leaderId, () => 0)));
    const votes = new Map<number, number>();
    for (const id of named) if (id !== 0) votes.set(id, (votes.get(id) ?? 0) + 1);
    const majority = Math.floor(this.replicas.length / 2) + 1;
    for (const [id, n] of votes) if (n >= majority) return this.replicas.find((r) => r.id === id && r.state === 'up') ?? null;
    return null;
  }

  /** Waits until a majority names one running leader; false after `timeoutMs`. */
  async awaitLeader(timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      if ((await this.leader()) !== null) return true;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return false;
  }

  async kill(r: Replica): Promise<void> {
    if (r.state === 'down') return;
    r.process.child.kill('SIGKILL');
    await r.process.exited;
    this.statuses.drop(r.address);
    r.state = 'down';
  }

  pause(r: Replica): void {
    if (r.state !== 'up') return;
    r.process.child.kill('SIGSTOP');
    r.state = 'paused';
  }

  resume(r: Replica): void {
    if (r.state !== 'paused') return;
    r.process.child.kill('SIGCONT');
    r.state = 'up';
  }

  /** Starts a killed replica again on its address and data; resolves once it listens. */
  async restart(r: Replica): Promise<void> {
    if (r.state !== 'down') return;
    r.process = this.launch(r.args);
    await r.process.waitForLine(LISTENING, START_TIMEOUT_MS);
    r.state = 'up';
  }

  /** Kills every process started (paused ones too) and removes the data. */
  async stopAll(): Promise<void> {
    this.statuses.close();
    await Promise.all(this.everyProcess.map((p) => p.stop('SIGKILL')));
    await this.stopLinks();
    rmSync(this.dataRoot, { recursive: true, force: true });
  }

  private async stopLinks(): Promise<void> {
    await Promise.all(this.links.map((l) => l.stop()));
    this.peerLinks.clear();
    this.clientLinks.clear();
  }
}
