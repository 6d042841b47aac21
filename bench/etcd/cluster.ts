// Starts an etcd cluster (the `etcd` binary, Debian package etcd-server) on loopback for the
// same-run comparison in bench global: one process per member, free ports found at start,
// each member's data in its own dir under one temp dir; stops it, kills it if this process
// exits first, and removes the data.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../global/cluster.ts';

/** Room for every revision a bench run writes: etcd refuses writes past its quota (default 2 GiB). */
const QUOTA_BACKEND_BYTES = 8 * 2 ** 30;
const READY_TIMEOUT_MS = 30_000;

/** `etcd --version`'s first line, or null when there is no `etcd` on PATH. */
export function etcdVersion(): string | null {
  const result = spawnSync('etcd', ['--version'], { encoding: 'utf8' });
  if (result.error !== undefined || result.status !== 0) return null;
  return result.stdout.split('\n')[0]!.trim();
}

export interface EtcdCluster {
  /** Client endpoints (host:port), in member order. */
  readonly endpoints: string[];
  /** Process ids of the members, in member order. */
  readonly pids: number[];
  /** The flags every member gets besides its name, URLs and data dir (for the report). */
  readonly flags: string[];
  /** The endpoint of the member that leads now. */
  leaderEndpoint(): Promise<string>;
  stop(): Promise<void>;
}

async function memberStatus(endpoint: string): Promise<{ memberId: string; leader: string }> {
  const response = await fetch(`http://${endpoint}/v3/maintenance/status`, { method: 'POST', body: '{}' });
  if (!response.ok) throw new Error(`etcd ${endpoint}: status answered HTTP ${response.status}`);
  const body = (await response.json()) as { header?: { member_id?: string }; leader?: string };
  return { memberId: body.header?.member_id ?? '', leader: body.leader ?? '0' };
}

async function healthy(endpoint: string): Promise<boolean> {
  try {
    const response = await fetch(`http://${endpoint}/health`);
    return response.ok && ((await response.json()) as { health?: string }).health === 'true';
  } catch {
    return false;
  }
}

export async function startEtcdCluster(size: number): Promise<EtcdCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'dstore-bench-etcd-'));
  const clientPorts = await Promise.all(Array.from({ length: size }, () => freePort()));
  const peerPorts = await Promise.all(Array.from({ length: size }, () => freePort()));
  const endpoints = clientPorts.map((p) => `127.0.0.1:${p}`);
  const peerUrls = peerPorts.map((p) => `http://127.0.0.1:${p}`);
  const initialCluster = peerUrls.map((u, i) => `m${i + 1}=${u}`).join(',');
  const flags = ['--initial-cluster-state=new', '--initial-cluster-token=bench', `--quota-backend-bytes=${QUOTA_BACKEND_BYTES}`, '--logger=zap', '--log-level=error'];
  const children: ChildProcess[] = [];
  const stderr: string[] = endpoints.map(() => '');
  const exited = endpoints.map((_, i) => new Promise<never>((_resolve, reject) => {
    const child = spawn('etcd', [
      `--name=m${i + 1}`,
      `--data-dir=${join(dir, `m${i + 1}`)}`,
      `--listen-client-urls=http://${endpoints[i]}`,
      `--advertise-client-urls=http://${endpoints[i]}`,
      `--listen-peer-urls=${peerUrls[i]}`,
      `--initial-advertise-peer-urls=${peerUrls[i]}`,
      `--initial-cluster=${initialCluster}`,
      ...flags,
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(child);
    child.stderr.on('data', (chunk: Buffer) => { stderr[i] = (stderr[i]! + chunk.toString()).slice(-2000); });
    child.once('exit', (code, signal) => reject(new Error(`etcd member m${i + 1} exited (${code ?? signal}) before the cluster was ready: ${stderr[i]}`)));
  }));
  for (const e of exited) e.catch(() => {}); // only the race below reports exits; later ones are the stop's own
  // A bench that dies (watchdog, exception) must not leave etcd running.
  const killOnExit = (): void => { for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL'); };
  process.once('exit', killOnExit);
  const stop = async (): Promise<void> => {
    process.removeListener('exit', killOnExit);
    await Promise.all(children.map((c) => new Promise<void>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) return resolve();
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    })));
    rmSync(dir, { recursive: true, force: true });
  };
  const allHealthy = async (): Promise<void> => {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if ((await Promise.all(endpoints.map(healthy))).every(Boolean)) return;
      if (Date.now() > deadline) throw new Error(`etcd cluster on ${endpoints.join(', ')} not healthy after ${READY_TIMEOUT_MS} ms: ${stderr.join(' | ')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  try {
    await Promise.race([allHealthy(), ...exited]);
  } catch (err) {
    await stop();
    throw err;
  }
  const leaderEndpoint = async (): Promise<string> => {
    const statuses = await Promise.all(endpoints.map(memberStatus));
    const i = statuses.findIndex((s) => s.memberId === s.leader);
    if (i === -1) throw new Error(`etcd cluster on ${endpoints.join(', ')} has no leader: ${JSON.stringify(statuses)}`);
    return endpoints[i]!;
  };
  return { endpoints, pids: children.map((c) => c.pid!), flags, leaderEndpoint, stop };
}
