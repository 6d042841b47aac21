// One Global replica as a process component: storage engine, replica node, peer transport
// and the gRPC server (Global, Replica, health). `GlobalServer.listen` binds first (port 0
// gives a free port) so that a cluster's addresses are known before its members start.

import * as grpc from '@grpc/grpc-js';
import { randomInt } from 'node:crypto';
import { systemClock, systemRandom, type Clock } from '../protocol/backoff.ts';
import { UnavailableError, InvalidArgumentError } from '../protocol/errors.ts';
import { toGrpcStatus } from '../protocol/grpc-status.ts';
import { dstoreProto } from '../protocol/proto.ts';
import type { GlobalHandlers } from '../protocol/generated/dstore/v1/Global.ts';
import type { ReplicaHandlers } from '../protocol/generated/dstore/v1/Replica.ts';
import { BlobReplicator, stateMachineReferences, type BlobReplicatorConfig } from './blob-replicator.ts';
import { BlobService } from './blob-service.ts';
import { checkServerLimits, GlobalService, type ServerLimits } from './global-service.ts';
import { addReflection, ServingHealth } from './introspection.ts';
import { PEER_MESSAGE_BYTES_MAX, PeerTransport } from './peer-transport.ts';
import { guardRequests } from './request-guard.ts';
import { REPLICA_NODE_DEFAULTS, ReplicaNode, type ReplicaNodeConfig } from './replica-node.ts';
import { serveSnapshot, SnapshotFetcher, type SnapshotFetcherConfig } from './snapshot-transfer.ts';
import { NodeFileSystem } from './storage/fs.ts';
import { SUBSCRIPTION_HUB_DEFAULTS, SubscriptionHub, type SubscriptionHubConfig } from './subscriptions.ts';
import { StorageEngine, type StorageEngineOptions } from './storage/engine.ts';
import { validateBlobStoreConfig, type BlobStoreConfig } from './storage/blob-store.ts';

export interface GlobalServerOptions {
  readonly replicaId: number;
  /** Every member, this one included: id -> "host:port". A single replica lists only itself. */
  readonly members: ReadonlyMap<number, string>;
  readonly dataDir: string;
  /** Refuses peers of another cluster; every member must use the same one. */
  readonly clusterId: string;
  readonly node?: Partial<Omit<ReplicaNodeConfig, 'replicaId' | 'members'>>;
  readonly limits?: Partial<ServerLimits>;
  /** Overrides of the Subscribe streams' limits (flow control, message sizes, progress interval). */
  readonly subscriptions?: Partial<SubscriptionHubConfig>;
  /** Blob store (grace period, ...) and blob replication (GC period, fetches, ...) settings. */
  readonly blobs?: { readonly store?: Partial<BlobStoreConfig>; readonly replication?: Partial<BlobReplicatorConfig> };
  /** Storage tuning (WAL segment size, snapshots retained, ...); defaults suit production. */
  readonly storage?: Pick<StorageEngineOptions, 'wal' | 'snapshots' | 'blobs'>;
  readonly snapshotFetch?: Partial<SnapshotFetcherConfig>;
  readonly clock?: Clock;
  /** Called on an unrecoverable error; the default logs and exits the process. */
  readonly onFatal?: (err: unknown) => void;
}

/** How long a stopping server waits for calls in flight before cutting them. */
export const SHUTDOWN_GRACE_MS = 500;

export const SERVER_LIMITS_DEFAULTS: ServerLimits = Object.freeze({
  valueInlineBytesMax: REPLICA_NODE_DEFAULTS.stateMachine.valueInlineBytesMax,
  blobBytesMax: 1024 * 1024 * 1024,
  requestBytesMax: 16 * 1024 * 1024,
  frameRequestsMax: 1024,
  rangeKeysMax: REPLICA_NODE_DEFAULTS.stateMachine.rangeKeysMax,
});

/** Methods whose handlers answer a RefusedMessage (GlobalService's unary calls and Session). */
const GUARDED_GLOBAL_METHODS = ['Get', 'Set', 'Delete', 'Txn', 'Range', 'MissingBlobs', 'Status', 'Session'];

function unavailable(): grpc.ServiceError {
  const s = toGrpcStatus(new UnavailableError('replica is starting or stopping: retry shortly'));
  return Object.assign(new Error(s.details), s);
}

interface Running {
  readonly storage: StorageEngine;
  readonly node: ReplicaNode;
  readonly transport: PeerTransport;
  readonly service: GlobalService;
  readonly subscriptions: SubscriptionHub;
  readonly blobReplicator: BlobReplicator;
  readonly blobService: BlobService;
  readonly fetcher: SnapshotFetcher;
  readonly clusterId: string;
}

export class GlobalServer {
  private running: Running | null = null;
  private stopped = false;

  private constructor(
    private readonly server: grpc.Server,
    private readonly health: ServingHealth,
    /** The bound "host:port". */
    readonly address: string,
  ) {}

  /**
   * Binds `listen` ("host:port"; port 0 picks a free one) and serves UNAVAILABLE until
   * `start`. Throws UnavailableError naming the address when it cannot bind.
   */
  static async listen(listen: string): Promise<GlobalServer> {
    const server = new grpc.Server({
      'grpc.max_receive_message_length': Math.max(PEER_MESSAGE_BYTES_MAX, SERVER_LIMITS_DEFAULTS.requestBytesMax),
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.http2.min_ping_interval_without_data_ms': 5_000,
    });
    const holder: { self: GlobalServer | null } = { self: null };
    const target = (): Running | null => holder.self?.running ?? null;
    // Refusals of oversized or undecodable messages reach these handlers (request-guard.ts).
    const requestBytesMax = (): number => target()?.service.limits.requestBytesMax ?? SERVER_LIMITS_DEFAULTS.requestBytesMax;
    server.addService(guardRequests(dstoreProto().dstore.v1.Global.service, GUARDED_GLOBAL_METHODS, requestBytesMax), globalHandlers(target));
    server.addService(guardRequests(dstoreProto().dstore.v1.Replica.service, ['Exchange'], () => PEER_MESSAGE_BYTES_MAX), replicaHandlers(target));
    const health = new ServingHealth();
    health.addTo(server);
    addReflection(server);
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(listen, grpc.ServerCredentials.createInsecure(), (err, p) => {
        if (err !== null) reject(new UnavailableError(`cannot listen on ${listen}: ${err.message} (is another server using the port?)`));
        else resolve(p);
      });
    });
    const host = listen.slice(0, listen.lastIndexOf(':'));
    const self = new GlobalServer(server, health, `${host}:${port}`);
    holder.self = self;
    return self;
  }

  /** Opens storage, recovers, and starts serving and replicating. */
  async start(options: GlobalServerOptions): Promise<void> {
    if (options.members.get(options.replicaId) === undefined) {
      throw new InvalidArgumentError(`replica ${options.replicaId} is not in the member list`);
    }
    // Checked before anything is opened, so a bad limit leaks nothing.
    const stateMachine = options.node?.stateMachine ?? REPLICA_NODE_DEFAULTS.stateMachine;
    const limits = { ...SERVER_LIMITS_DEFAULTS, valueInlineBytesMax: stateMachine.valueInlineBytesMax, rangeKeysMax: stateMachine.rangeKeysMax, ...options.limits };
    checkServerLimits(limits);
    const clock = options.clock ?? systemClock;
    const blobBytesMax = options.limits?.blobBytesMax ?? SERVER_LIMITS_DEFAULTS.blobBytesMax;
    const blobStoreConfig = validateBlobStoreConfig({ ...options.storage?.blobs, ...options.blobs?.store, blobBytesMax });
    const storage = await StorageEngine.open({ ...options.storage, fs: new NodeFileSystem(), dir: options.dataDir, clock: { nowMs: () => Date.now() }, blobs: blobStoreConfig });
    const peers = new Map([...options.members].filter(([id]) => id !== options.replicaId));
    const onFatal = options.onFatal ?? ((err: unknown) => {
      console.error(`dstore replica ${options.replicaId}: fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      process.exit(70);
    });
    const holder: { node: ReplicaNode | null } = { node: null };
    const transport = new PeerTransport({
      selfId: options.replicaId,
      clusterId: options.clusterId,
      peers,
      credentials: grpc.credentials.createInsecure(),
      clock,
      random: systemRandom,
      onMessage: (m) => holder.node?.step(m),
    });
    const node = await ReplicaNode.open(
      { ...REPLICA_NODE_DEFAULTS, ...options.node, replicaId: options.replicaId, members: options.members },
      { storage, clock, seed: randomInt(2 ** 31), send: (m) => transport.send(m), onFatal },
    );
    holder.node = node;
    const blobReplicator = new BlobReplicator({
      selfId: options.replicaId,
      members: options.members,
      clusterId: options.clusterId,
      credentials: grpc.credentials.createInsecure(),
      blobs: storage.blobs,
      references: stateMachineReferences(() => node.stateMachine),
      leaderId: () => node.status().leaderId,
      blobBytesMax,
      pinMs: blobStoreConfig.graceMs,
      clock,
      random: systemRandom,
      ...(options.blobs?.replication === undefined ? {} : { config: options.blobs.replication }),
      onFatal,
    });
    node.addAppliedListener(blobReplicator.onApplied);
    const blobService = new BlobService({ blobs: storage.blobs, replicator: blobReplicator, blobBytesMax });
    const service = new GlobalService({
      node,
      limits,
      blobSize: (hash) => storage.blobs.sizeBytes(hash),
      ensureBlobDurable: (hash) => blobReplicator.ensureDurable(hash),
      isConnected: (id) => transport.isConnected(id),
      walBytes: () => storage.stable.walBytes(),
      blobBytes: () => storage.blobs.totalBytes(),
    });
    const fetcher = new SnapshotFetcher({
      peers,
      clusterId: options.clusterId,
      credentials: grpc.credentials.createInsecure(),
      clock,
      random: systemRandom,
      snapshots: storage.snapshots,
      // An installed snapshot may reference blobs this replica never received: fetch them now.
      install: (through, payload) => node.installSnapshot(through, payload).then(() => blobReplicator.sweep()),
      appliedInstance: () => node.stateMachine.appliedInstance,
      log: (line) => console.error(`dstore replica ${options.replicaId}: ${line}`),
      ...(options.snapshotFetch === undefined ? {} : { config: options.snapshotFetch }),
    });
    node.setSnapshotNeededHandler((from, throughMin) => fetcher.request(from, throughMin));
    const subscriptions = new SubscriptionHub(() => node.stateMachine, clock, options.replicaId, { ...SUBSCRIPTION_HUB_DEFAULTS, ...options.subscriptions }, () => node.hasLiveLeader());
    node.addAppliedListener((revision) => subscriptions.applied(revision));
    this.running = { storage, node, transport, service, subscriptions, blobReplicator, blobService, fetcher, clusterId: options.clusterId };
    transport.start();
    node.start();
    blobReplicator.start();
    if (!this.stopped) this.health.setServing(true);
  }

  get node(): ReplicaNode {
    if (this.running === null) throw new UnavailableError('server not started');
    return this.running.node;
  }

  get subscriptions(): SubscriptionHub {
    if (this.running === null) throw new UnavailableError('server not started');
    return this.running.subscriptions;
  }

  /** The blob store and its replicator (tests and tools: GC now, fetch counters). */
  get blobs(): { readonly store: StorageEngine['blobs']; readonly replicator: BlobReplicator } {
    if (this.running === null) throw new UnavailableError('server not started');
    return { store: this.running.storage.blobs, replicator: this.running.blobReplicator };
  }

  /** Stops serving, replicating and ticking; closes storage. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.health.setServing(false);
    const running = this.running;
    this.running = null;
    running?.subscriptions.close();
    const fetched = running?.fetcher.close();
    running?.node.close();
    running?.transport.close();
    running?.blobReplicator.close();
    // Long-lived streams (client sessions, peers' Exchange) never end on their own: give
    // unary calls a moment to finish, then cut the rest so clients move to another replica.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, SHUTDOWN_GRACE_MS);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.server.forceShutdown();
    // A snapshot being fetched, written or compacted finishes (or is abandoned) first.
    await fetched;
    await running?.node.snapshotsIdle();
    await running?.storage.close();
  }
}

function globalHandlers(target: () => Running | null): GlobalHandlers {
  const unary = (name: 'Get' | 'Set' | 'Delete' | 'Txn' | 'Range' | 'MissingBlobs' | 'Status') =>
    ((call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const running = target();
      if (running === null) return callback(unavailable());
      (running.service.unaryHandlers()[name] as grpc.handleUnaryCall<unknown, unknown>)(call, callback);
    }) as never;
  return {
    Get: unary('Get'),
    Set: unary('Set'),
    Delete: unary('Delete'),
    Txn: unary('Txn'),
    Range: unary('Range'),
    MissingBlobs: unary('MissingBlobs'),
    Status: unary('Status'),
    Session: (call) => {
      const running = target();
      if (running === null) {
        call.emit('error', unavailable());
        return;
      }
      running.service.session(call);
    },
    PutBlob: (call, callback) => {
      const running = target();
      if (running === null) return callback(unavailable());
      running.blobService.handlePutBlob(call, callback);
    },
    GetBlob: (call) => {
      const running = target();
      if (running === null) return void call.emit('error', unavailable());
      running.blobService.handleGetBlob(call);
    },
    Subscribe: (call) => {
      const running = target();
      if (running === null) {
        call.emit('error', unavailable());
        return;
      }
      running.subscriptions.subscribe(call);
    },
  };
}

function replicaHandlers(target: () => Running | null): ReplicaHandlers {
  return {
    Exchange: (call) => {
      const running = target();
      if (running === null) {
        call.emit('error', unavailable());
        return;
      }
      running.transport.handleExchange(call);
    },
    StoreBlob: (call, callback) => {
      const running = target();
      if (running === null) return callback(unavailable());
      running.blobReplicator.handleStoreBlob(call, callback);
    },
    FetchBlob: (call) => {
      const running = target();
      if (running === null) return void call.emit('error', unavailable());
      running.blobReplicator.handleFetchBlob(call);
    },
    FetchSnapshot: (call) => {
      const running = target();
      if (running === null) {
        call.emit('error', unavailable());
        return;
      }
      serveSnapshot(running.storage.snapshots, call, running.clusterId);
    },
  };
}

