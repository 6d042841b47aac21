// An in-process Global cluster for tests: N replicas on 127.0.0.1 port 0, each with its own
// temp data dir, plus helpers to wait for a leader, stop/restart/wipe a replica, read each
// replica's status (with the state checksum) directly, and clean everything up.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GlobalServer, type GlobalServerOptions, type ListenOptions } from '../../src/global/server/global-server.ts';
import { clientChannel, PLAINTEXT, type ClientSecurity } from '../../src/protocol/tls.ts';
import type { GlobalClient as GlobalClientType } from '../../src/protocol/generated/dstore/v1/Global.ts';
import type { StatusResponse__Output } from '../../src/protocol/generated/dstore/v1/StatusResponse.ts';
import { dstoreProto } from '../../src/protocol/proto.ts';
import { GlobalClient, type GlobalClientConfig } from '../../src/local/client/client.ts';

export type StatusOf = StatusResponse__Output;

export interface TestClusterOptions {
  readonly node?: GlobalServerOptions['node'];
  readonly limits?: GlobalServerOptions['limits'];
  readonly blobs?: GlobalServerOptions['blobs'];
  readonly streams?: GlobalServerOptions['streams'];
  readonly subscriptions?: GlobalServerOptions['subscriptions'];
  readonly storage?: GlobalServerOptions['storage'];
  readonly holderLeaseMs?: number;
  readonly forwarding?: GlobalServerOptions['forwarding'];
  /** Security, logger and metrics registry of replica `id` (default: plaintext, no metrics). */
  readonly listen?: (id: number) => ListenOptions;
  /** How `client()` and `status()` reach the replicas (default: plaintext, no token). */
  readonly clientSecurity?: ClientSecurity;
  /** Fills replica `id`'s fresh data dir before it starts (e.g. a restored backup). */
  readonly prepareDataDir?: (id: number, dir: string) => void;
  /**
   * The host replicas are dialled by (they listen on 127.0.0.1 whatever it is). Over TLS use
   * 'localhost': grpc-js sends the host it dials as the TLS server name, and Node deprecates
   * an IP address there (DEP0123; grpc/grpc-node#1919).
   */
  readonly dialHost?: string;
}

/**
 * `promise`, or a rejection naming `what` if it has not settled within `timeoutMs`. For "at
 * once, not at some deadline": give the thing waited on a deadline far beyond `timeoutMs`, and
 * `timeoutMs` room for a loaded machine, so only the behaviour tested can end the wait in time.
 */
export async function within<T>(what: string, promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `condition` every 20 ms until it holds or `timeoutMs` passes (then throws `what`). */
export async function eventually<T>(what: string, condition: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError === undefined ? '' : `; last error: ${lastError instanceof Error ? lastError.message : JSON.stringify(lastError)}`}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Replica `id`'s listen options; the request limit is known at listen time, as the server needs. */
function listenOptions(options: TestClusterOptions, id: number): ListenOptions {
  const requestBytesMax = options.limits?.requestBytesMax;
  return { ...(requestBytesMax === undefined ? {} : { requestBytesMax }), ...options.listen?.(id) };
}

export class TestCluster {
  private readonly servers = new Map<number, GlobalServer>();
  private readonly clients: GlobalClient[] = [];
  private readonly rawClients = new Map<number, GlobalClientType>();

  private constructor(
    readonly members: ReadonlyMap<number, string>,
    readonly dataDirs: ReadonlyMap<number, string>,
    private readonly options: TestClusterOptions,
  ) {}

  static async start(size: number, options: TestClusterOptions = {}): Promise<TestCluster> {
    const bound = await Promise.all(Array.from({ length: size }, (_, i) => GlobalServer.listen('127.0.0.1:0', listenOptions(options, i + 1))));
    const dialHost = options.dialHost ?? '127.0.0.1';
    const members = new Map(bound.map((s, i) => [i + 1, s.address.replace(/^127\.0\.0\.1:/, `${dialHost}:`)]));
    const dirs = new Map(bound.map((_, i) => [i + 1, mkdtempSync(join(tmpdir(), `dstore-test-r${i + 1}-`))]));
    for (const [id, dir] of dirs) options.prepareDataDir?.(id, dir);
    const cluster = new TestCluster(members, dirs, options);
    await Promise.all(bound.map((s, i) => cluster.startOn(i + 1, s)));
    return cluster;
  }

  private async startOn(id: number, server: GlobalServer): Promise<void> {
    this.servers.set(id, server);
    await server.start({
      replicaId: id,
      members: this.members,
      dataDir: this.dataDirs.get(id)!,
      clusterId: 'test',
      ...(this.options.node === undefined ? {} : { node: this.options.node }),
      ...(this.options.limits === undefined ? {} : { limits: this.options.limits }),
      ...(this.options.blobs === undefined ? {} : { blobs: this.options.blobs }),
      ...(this.options.streams === undefined ? {} : { streams: this.options.streams }),
      ...(this.options.subscriptions === undefined ? {} : { subscriptions: this.options.subscriptions }),
      ...(this.options.storage === undefined ? {} : { storage: this.options.storage }),
      ...(this.options.holderLeaseMs === undefined ? {} : { holderLeaseMs: this.options.holderLeaseMs }),
      ...(this.options.forwarding === undefined ? {} : { forwarding: this.options.forwarding }),
      onFatal: (err) => {
        throw err instanceof Error ? err : new Error(String(err));
      },
    });
  }

  get addresses(): string[] {
    return [...this.members.values()];
  }

  server(id: number): GlobalServer {
    const s = this.servers.get(id);
    if (s === undefined) throw new Error(`replica ${id} is not running`);
    return s;
  }

  isRunning(id: number): boolean {
    return this.servers.has(id);
  }

  /** A Global client over every replica; closed by `stop`. */
  client(config: Partial<GlobalClientConfig> = {}): GlobalClient {
    const security = this.options.clientSecurity;
    const c = new GlobalClient({ addresses: this.addresses, ...(security === undefined ? {} : { security }), ...config });
    this.clients.push(c);
    return c;
  }

  /** The replica id that leads, once one does (and every running replica agrees). */
  waitForLeader(timeoutMs = 10_000): Promise<number> {
    return eventually('a leader', () => {
      const running = [...this.servers.values()];
      const leaders = running.filter((s) => s.node.isLeader());
      if (leaders.length !== 1) return undefined;
      const id = leaders[0]!.node.replicaId;
      return running.every((s) => s.node.status().leaderId === id) ? id : undefined;
    }, timeoutMs);
  }

  /** A generated gRPC client of replica `id` alone (no leader finding, no retries); closed by `stop`. */
  raw(id: number): GlobalClientType {
    let raw = this.rawClients.get(id);
    if (raw === undefined) {
      const channel = clientChannel(this.options.clientSecurity ?? PLAINTEXT);
      raw = new (dstoreProto().dstore.v1.Global)(this.members.get(id)!, channel.credentials, channel.options);
      this.rawClients.set(id, raw);
    }
    return raw;
  }

  /** Status straight from one replica (unary call, optionally with the state checksum). */
  status(id: number, withChecksum = false): Promise<StatusOf> {
    const client = this.raw(id);
    return new Promise((resolve, reject) => {
      client.Status({ withChecksum }, { deadline: Date.now() + 5_000 }, (err, res) => (err !== null || res === undefined ? reject(err ?? new Error('no status')) : resolve(res)));
    });
  }

  /** Waits until every running replica applied the same instance, then returns their checksums. */
  async convergedChecksums(timeoutMs = 10_000): Promise<Map<number, string>> {
    return eventually('replicas to converge', async () => {
      const ids = [...this.servers.keys()];
      const statuses = await Promise.all(ids.map((id) => this.status(id, true)));
      const instances = new Set(statuses.map((s) => s.appliedInstance));
      if (instances.size !== 1) return undefined;
      return new Map(ids.map((id, i) => [id, Buffer.from(statuses[i]!.stateChecksum).toString('hex')]));
    }, timeoutMs);
  }

  /** Stops one replica (its data stays). */
  async stopReplica(id: number): Promise<void> {
    const s = this.server(id);
    this.servers.delete(id);
    this.rawClients.get(id)?.close();
    this.rawClients.delete(id);
    await s.stop();
  }

  /** Starts a stopped replica again on its old address and data dir. */
  async restartReplica(id: number): Promise<void> {
    if (this.servers.has(id)) throw new Error(`replica ${id} is running`);
    const s = await GlobalServer.listen(this.members.get(id)!, listenOptions(this.options, id));
    await this.startOn(id, s);
  }

  /** Deletes a stopped replica's data (a lost disk). */
  wipeReplica(id: number): void {
    if (this.servers.has(id)) throw new Error(`replica ${id} is running: stop it first`);
    rmSync(this.dataDirs.get(id)!, { recursive: true, force: true });
  }

  async stop(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.close()));
    for (const raw of this.rawClients.values()) raw.close();
    await Promise.all([...this.servers.values()].map((s) => s.stop()));
    this.servers.clear();
    for (const dir of this.dataDirs.values()) rmSync(dir, { recursive: true, force: true });
  }
}
