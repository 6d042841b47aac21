// One Global replica as a process component: storage engine, replica node, peer transport
// and the gRPC server (Global, Replica, health). `GlobalServer.listen` binds first (port 0
// gives a free port) so that a cluster's addresses are known before its members start.

import * as grpc from '@grpc/grpc-js';
import { randomInt } from 'node:crypto';
import { systemClock, systemRandom, type Clock } from '../../protocol/backoff.ts';
import { UnavailableError, InvalidArgumentError, UnauthenticatedError } from '../../protocol/errors.ts';
import { fromErrorDetail, toGrpcStatus } from '../../protocol/grpc-status.ts';
import { createLogger, errorFields, type Logger } from '../../protocol/log.ts';
import type { Registry } from 'prom-client';
import { dstoreProto } from '../../protocol/proto.ts';
import type { GlobalHandlers } from '../../protocol/generated/dstore/v1/Global.ts';
import type { ReplicaHandlers } from '../../protocol/generated/dstore/v1/Replica.ts';
import { BlobReplicator, stateMachineReferences, type BlobReplicatorConfig } from '../blobs/blob-replicator.ts';
import { BlobService } from '../blobs/blob-service.ts';
import { checkServerLimits, GlobalService, RUN_HERE, type ResponseBody, type ServerLimits } from './global-service.ts';
import { FORWARDER_DEFAULTS, Forwarder, type ForwarderConfig } from './forwarder.ts';
import type { ClientRequest } from '../../protocol/generated/dstore/v1/ClientRequest.ts';
import { HoldService } from './hold-service.ts';
import { addReflection, ServingHealth } from './introspection.ts';
import { GlobalMetrics, type RequestTimers } from './metrics.ts';
import { checkServerSecurity, NO_SECURITY, peerCredentials, serverSide, type ServerSecurity } from './server-security.ts';
import { PeerTransport } from '../peers/peer-transport.ts';
import { PeerIdentity, type CallWithAuth } from '../peers/peer-identity.ts';
import { receiveBytesMax } from '../../protocol/receive-limit.ts';
import { guardingServer, guardRequests, refuseGuardedMessages } from '../../protocol/request-guard.ts';
import { prescanGlobalRequest } from './request-prescan.ts';
import { REPLICA_NODE_DEFAULTS, ReplicaNode, type ReplicaNodeConfig } from '../replica/replica-node.ts';
import { defaultConfig, formatBallot } from '../../consensus/index.ts';
import { grpcSnapshotSource, serveSnapshot, SnapshotFetcher, type SnapshotFetcherConfig } from '../peers/snapshot-transfer.ts';
import { NodeFileSystem } from '../storage/fs.ts';
import { checkSubscriptionHubConfig, SUBSCRIPTION_HUB_DEFAULTS, SubscriptionHub, type SubscriptionHubConfig } from './subscriptions.ts';
import { serveAdmitted, StreamCaps } from '../../protocol/stream-caps.ts';
import { StorageEngine, type StorageEngineOptions } from '../storage/engine.ts';
import { validateBlobStoreConfig, type BlobStoreConfig } from '../storage/blob-store.ts';

export interface GlobalServerOptions {
  readonly replicaId: number;
  /** Every member, this one included: id -> "host:port". A single replica lists only itself. */
  readonly members: ReadonlyMap<number, string>;
  readonly dataDir: string;
  /** Refuses peers of another cluster; every member must use the same one. */
  readonly clusterId: string;
  readonly node?: Partial<Omit<ReplicaNodeConfig, 'replicaId' | 'members'>>;
  readonly limits?: Partial<ServerLimits>;
  /** Overrides of the Subscribe streams' limits (flow control, message sizes, progress interval, subscribersMax in all). */
  readonly subscriptions?: Partial<SubscriptionHubConfig>;
  /** Caps on open Session and Subscribe streams (per connection, and Sessions in all). */
  readonly streams?: Partial<StreamLimits>;
  /** Blob store (grace period, ...) and blob replication (GC period, fetches, ...) settings. */
  readonly blobs?: { readonly store?: Partial<BlobStoreConfig>; readonly replication?: Partial<BlobReplicatorConfig> };
  /** Storage tuning (WAL segment size, snapshots retained, ...); defaults suit production. */
  readonly storage?: Pick<StorageEngineOptions, 'wal' | 'snapshots' | 'blobs'>;
  readonly snapshotFetch?: Partial<SnapshotFetcherConfig>;
  /**
   * Strict holds (docs/coherence.md `strict`): how long a Local may serve strict keys after an
   * answered keep-alive. 0 (the default) turns them off: Hold is refused, and writes never
   * wait for holders nor for a new leader's grace period.
   */
  readonly holderLeaseMs?: number;
  /** Times a supervisor restarted this replica (Status `restarts`; global.ts --cluster). */
  readonly restarts?: number;
  /** Requests a follower forwards to the leader: how many wait at once, how long at most (forwarder.ts). */
  readonly forwarding?: Partial<ForwarderConfig>;
  readonly clock?: Clock;
  /** Called on an unrecoverable error; the default logs and exits the process. */
  readonly onFatal?: (err: unknown) => void;
}

/** What `GlobalServer.listen` needs before the port opens: how it is protected, logged and measured. */
export interface ListenOptions {
  /** TLS and tokens (server-security.ts); default plaintext and open. */
  readonly security?: ServerSecurity;
  /** Where events go; default: warnings and errors as JSON lines on stderr. */
  readonly logger?: Logger;
  /** Registry the replica's metrics are registered on (metrics.ts); default none. */
  readonly metrics?: Registry;
  /**
   * limits.request_bytes_max, needed before the port opens: grpc-js refuses any message over
   * it (plus a margin, receive-limit.ts) from its length prefix, before buffering it. `start`
   * takes it as ServerLimits.requestBytesMax and refuses a different one. Default 16 MiB.
   */
  readonly requestBytesMax?: number;
}

/** How long a stopping server waits for calls in flight before cutting them. */
export const SHUTDOWN_GRACE_MS = 500;

export const SERVER_LIMITS_DEFAULTS: ServerLimits = Object.freeze({
  valueInlineBytesMax: REPLICA_NODE_DEFAULTS.stateMachine.valueInlineBytesMax,
  blobBytesMax: 1024 * 1024 * 1024,
  requestBytesMax: 16 * 1024 * 1024,
  frameRequestsMax: 1024,
  rangeKeysMax: REPLICA_NODE_DEFAULTS.stateMachine.rangeKeysMax,
  // Four frames of the largest size per stream, so a client can pipeline; the replica holds
  // at most 1 GiB of requests in flight however many streams send (docs/limits.md).
  sessionBytesInFlightMax: 64 * 1024 * 1024,
  allSessionsBytesInFlightMax: 1024 * 1024 * 1024,
});

/** The default limits for a server bound with `requestBytesMax`: Sessions can always hold one frame of that size. */
function defaultLimitsFor(requestBytesMax: number): ServerLimits {
  const d = SERVER_LIMITS_DEFAULTS;
  const sessionBytesInFlightMax = Math.max(d.sessionBytesInFlightMax, requestBytesMax);
  return { ...d, requestBytesMax, sessionBytesInFlightMax, allSessionsBytesInFlightMax: Math.max(d.allSessionsBytesInFlightMax, sessionBytesInFlightMax) };
}

/**
 * Caps on long-lived client streams; beyond one, a new stream is refused RESOURCE_EXHAUSTED
 * naming it. Subscribe streams in all are capped by SubscriptionHubConfig.subscribersMax.
 */
export interface StreamLimits {
  readonly sessionsMax: number;
  readonly sessionsPerConnectionMax: number;
  readonly subscribesPerConnectionMax: number;
}

export const STREAM_LIMITS_DEFAULTS: StreamLimits = Object.freeze({
  sessionsMax: 1024,
  sessionsPerConnectionMax: 64,
  subscribesPerConnectionMax: 64,
});

function unavailable(): grpc.ServiceError {
  const s = toGrpcStatus(new UnavailableError('replica is starting or stopping: retry shortly'));
  return Object.assign(new Error(s.details), s);
}

interface Running {
  readonly storage: StorageEngine;
  readonly node: ReplicaNode;
  readonly transport: PeerTransport;
  readonly service: GlobalService;
  readonly holds: HoldService;
  /** The service's unary handlers, built once at start (not per call). */
  readonly unary: ReturnType<GlobalService['unaryHandlers']>;
  readonly subscriptions: SubscriptionHub;
  readonly blobReplicator: BlobReplicator;
  readonly blobService: BlobService;
  readonly fetcher: SnapshotFetcher;
  readonly clusterId: string;
  readonly requests: RequestTimers | undefined;
  /** Whether a Replica-service caller's certificate names a member's host (peer-identity.ts). */
  readonly identity: PeerIdentity;
  readonly sessionCaps: StreamCaps;
  readonly subscribeCaps: StreamCaps;
  readonly forwarder: Forwarder<ClientRequest, ResponseBody>;
}

export class GlobalServer {
  private running: Running | null = null;
  private stopped = false;
  private metrics: GlobalMetrics | null = null;
  private log: Logger;

  private constructor(
    private readonly server: grpc.Server,
    private readonly health: ServingHealth,
    /** The bound "host:port". */
    readonly address: string,
    private readonly security: ServerSecurity,
    private readonly options: ListenOptions,
    private readonly refusals: Map<string, number>,
  ) {
    this.log = options.logger ?? createLogger();
  }

  /**
   * Binds `listen` ("host:port"; port 0 picks a free one) and serves UNAVAILABLE until
   * `start`. With `options.security`, the port speaks only TLS and/or checks tokens from the
   * first call (server-security.ts). Throws UnavailableError naming the address when it
   * cannot bind.
   */
  static async listen(listen: string, options: ListenOptions = {}): Promise<GlobalServer> {
    const security = options.security ?? NO_SECURITY;
    const holder: { self: GlobalServer | null } = { self: null };
    // Refusals before start (or of a replica without metrics) are still counted for the log.
    const refusals = new Map<string, number>();
    const side = serverSide(security, (service, method, reason) => {
      const self = holder.self;
      if (self?.metrics) self.metrics.authRefused(service);
      else refusals.set(service, (refusals.get(service) ?? 0) + 1);
      self?.log.debug('auth.refused', { service, method, reason });
    });
    const listenRequestBytesMax = options.requestBytesMax ?? SERVER_LIMITS_DEFAULTS.requestBytesMax;
    checkServerLimits(defaultLimitsFor(listenRequestBytesMax));
    const server = new grpc.Server({
      'grpc.max_receive_message_length': receiveBytesMax(listenRequestBytesMax),
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.http2.min_ping_interval_without_data_ms': 5_000,
      // After the credential checks: oversized or undecodable messages of every method end
      // their call with INVALID_ARGUMENT (request-guard.ts).
      interceptors: [...side.interceptors, refuseGuardedMessages],
    });
    const target = (): Running | null => holder.self?.running ?? null;
    const requestBytesMax = (): number => listenRequestBytesMax;
    const frameRequestsMax = (): number => target()?.service.limits.frameRequestsMax ?? SERVER_LIMITS_DEFAULTS.frameRequestsMax;
    server.addService(guardRequests(dstoreProto().dstore.v1.Global.service, requestBytesMax, (method, bytes) => prescanGlobalRequest(method, bytes, frameRequestsMax())), globalHandlers(target));
    server.addService(guardRequests(dstoreProto().dstore.v1.Replica.service, () => receiveBytesMax(listenRequestBytesMax)), replicaHandlers(target));
    const health = new ServingHealth();
    health.addTo(guardingServer(server, requestBytesMax));
    addReflection(guardingServer(server, requestBytesMax));
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(listen, side.credentials, (err, p) => {
        if (err !== null) reject(new UnavailableError(`cannot listen on ${listen}: ${err.message} (is another server using the port?)`));
        else resolve(p);
      });
    });
    const host = listen.slice(0, listen.lastIndexOf(':'));
    const self = new GlobalServer(server, health, `${host}:${port}`, security, options, refusals);
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
    const requestBytesMax = this.options.requestBytesMax ?? SERVER_LIMITS_DEFAULTS.requestBytesMax;
    const limits = { ...defaultLimitsFor(requestBytesMax), valueInlineBytesMax: stateMachine.valueInlineBytesMax, rangeKeysMax: stateMachine.rangeKeysMax, ...options.limits };
    checkServerLimits(limits);
    if (limits.requestBytesMax !== requestBytesMax) {
      throw new InvalidArgumentError(`limits.requestBytesMax (${limits.requestBytesMax}) differs from the ${requestBytesMax} the server was bound with (ListenOptions.requestBytesMax): give both the same value`);
    }
    const streams = { ...STREAM_LIMITS_DEFAULTS, ...options.streams };
    const subscriptionConfig = { ...SUBSCRIPTION_HUB_DEFAULTS, ...options.subscriptions };
    checkSubscriptionHubConfig(subscriptionConfig);
    const where = `replica ${options.replicaId}`;
    const sessionCaps = new StreamCaps('Session streams', where, { totalMax: streams.sessionsMax, totalName: 'sessionsMax', perConnectionMax: streams.sessionsPerConnectionMax, perConnectionName: 'sessionsPerConnectionMax' });
    const subscribeCaps = new StreamCaps('Subscribe streams', where, {
      totalMax: subscriptionConfig.subscribersMax,
      totalName: 'subscribersMax',
      perConnectionMax: streams.subscribesPerConnectionMax,
      perConnectionName: 'subscribesPerConnectionMax',
    });
    checkServerSecurity(this.security, options.members.size);
    const log = (this.options.logger ?? createLogger()).child({ replica: options.replicaId });
    this.log = log;
    const peerIds = [...options.members.keys()].filter((id) => id !== options.replicaId);
    const metrics = this.options.metrics === undefined ? null : new GlobalMetrics(this.options.metrics, options.replicaId, peerIds);
    for (const [service, n] of this.refusals) for (let i = 0; i < n; i++) metrics?.authRefused(service);
    this.metrics = metrics;
    const clock = options.clock ?? systemClock;
    const blobBytesMax = options.limits?.blobBytesMax ?? SERVER_LIMITS_DEFAULTS.blobBytesMax;
    const blobStoreConfig = validateBlobStoreConfig({ ...options.storage?.blobs, ...options.blobs?.store, blobBytesMax });
    const fs = metrics === null ? new NodeFileSystem() : metrics.meterFileSystem(new NodeFileSystem());
    // A consensus log that lost records is recovered from peers when there are any; a single
    // replica has none, so its start is refused with what to do (storage/engine.ts).
    const walLoss = options.members.size > 1 ? 'recover' : 'refuse';
    const storage = await StorageEngine.open({ ...options.storage, fs, dir: options.dataDir, clock: { nowMs: () => Date.now() }, blobs: blobStoreConfig, walLoss });
    for (const warning of storage.warnings) log.warn(warning.event, { message: warning.message, dataDir: options.dataDir });
    const peers = new Map([...options.members].filter(([id]) => id !== options.replicaId));
    const onFatal = options.onFatal ?? ((err: unknown) => {
      log.error('replica.fatal', errorFields(err, true));
      process.exit(70);
    });
    const credentials = peerCredentials(this.security);
    const identity = new PeerIdentity(options.members, this.security.tls !== null);
    const holder: { node: ReplicaNode | null; holds: HoldService | null; service: GlobalService | null; forwarder: Forwarder<ClientRequest, ResponseBody> | null } = { node: null, holds: null, service: null, forwarder: null };
    const transport = new PeerTransport({
      selfId: options.replicaId,
      clusterId: options.clusterId,
      peers,
      credentials,
      clock,
      random: systemRandom,
      onMessage: metrics === null
        ? (m) => holder.node?.step(m)
        : (m) => {
          metrics.peerMessage(m);
          holder.node?.step(m);
        },
      onPeerState: (peer, connected) => {
        if (!connected) holder.forwarder?.linkDown(peer);
        log.info(connected ? 'peer.connected' : 'peer.disconnected', { peer, address: peers.get(peer) });
      },
      identity,
      // A peer forwarded a client request to this replica: run it here, never forwarding it on.
      onForwarded: (_peer, request) => holder.service === null ? Promise.reject(new UnavailableError(`replica ${options.replicaId} is still starting: not run; retry`)) : holder.service.route(request, RUN_HERE),
      onForwardReply: (peer, response) => {
        const { id } = response;
        holder.forwarder?.answer(peer, id, response.body === 'error' && response.error !== null && response.error !== undefined ? { error: fromErrorDetail(response.error) } : { ok: response });
      },
    });
    const forwarder = new Forwarder<ClientRequest, ResponseBody>(options.replicaId, { ...FORWARDER_DEFAULTS, ...options.forwarding }, clock, {
      send: (leaderId, id, request, timeoutMs) => transport.forward(leaderId, { ...request, id }, timeoutMs),
    });
    holder.forwarder = forwarder;
    const node = await ReplicaNode.open(
      { ...REPLICA_NODE_DEFAULTS, ...options.node, replicaId: options.replicaId, members: options.members },
      {
        storage,
        clock,
        seed: randomInt(2 ** 31),
        send: (m) => transport.send(m),
        onFatal,
        onLeaderChange: (leader, previous) => {
          forwarder.leaderChanged(leader);
          metrics?.leaderChanged();
          holder.holds?.noticeLeadership();
          log.info('leader.changed', { leader, previous, self: leader === options.replicaId });
        },
        onRollback: (r) => {
          // The operator restored a whole data directory (consensus/ included): say what was found and done.
          log.warn('consensus.rolled_back', {
            dataDir: options.dataDir,
            message:
              `the data directory holds an older copy of this replica's consensus state (vote stamp ${r.restored.incarnation}:${r.restored.voteSeq}; ` +
              `replica ${r.reportedBy} saw ${r.seen.incarnation}:${r.seen.voteSeq}), as after restoring a backup or volume snapshot of the whole directory; ` +
              'promises and accepts since the copy are forgotten, so the replica stopped voting and recovers from every other member (docs/operations.md, "Backup and restore")',
            reportedBy: r.reportedBy,
            restoredStamp: `${r.restored.incarnation}:${r.restored.voteSeq}`,
            seenStamp: `${r.seen.incarnation}:${r.seen.voteSeq}`,
            action: 'recovering',
          });
        },
        onRecovery: (event, s) => {
          if (event === 'started') log.info('recovery.started', { peers: s.recovery?.peersTotal ?? 0, decidedInstance: s.decidedThrough });
          else log.info('recovery.finished', { promised: formatBallot(s.promised), decidedInstance: s.decidedThrough });
        },
      },
    );
    holder.node = node;
    const blobReplicator = new BlobReplicator({
      selfId: options.replicaId,
      members: options.members,
      clusterId: options.clusterId,
      credentials,
      blobs: storage.blobs,
      references: stateMachineReferences(() => node.stateMachine),
      leaderId: () => node.status().leaderId,
      blobBytesMax,
      pinMs: blobStoreConfig.graceMs,
      clock,
      random: systemRandom,
      ...(options.blobs?.replication === undefined ? {} : { config: options.blobs.replication }),
      onFatal,
      log: (line) => log.warn('blob.background', { message: line }),
    });
    node.addAppliedListener(blobReplicator.onApplied);
    const blobService = new BlobService({ blobs: storage.blobs, replicator: blobReplicator, blobBytesMax });
    const holds = new HoldService(node, clock, {
      holderLeaseMs: options.holderLeaseMs ?? 0,
      clockDriftBoundPercent: options.node?.consensus?.clockDriftBoundPercent ?? defaultConfig(options.replicaId, [options.replicaId]).clockDriftBoundPercent,
    });
    holder.holds = holds;
    holds.noticeLeadership();
    const service = new GlobalService({
      node,
      holds,
      limits,
      blobSize: (hash) => storage.blobs.sizeBytes(hash),
      ensureBlobDurable: (hash) => blobReplicator.ensureDurable(hash),
      isConnected: (id) => transport.isConnected(id),
      walBytes: () => storage.stable.walBytes(),
      blobBytes: () => storage.blobs.totalBytes(),
      restarts: options.restarts ?? 0,
      forwarder,
      ...(metrics === null ? {} : { requests: metrics.requests }),
    });
    holder.service = service;
    const fetcher = new SnapshotFetcher({
      peers,
      source: grpcSnapshotSource(peers, options.clusterId, credentials),
      clock,
      random: systemRandom,
      snapshots: storage.snapshots,
      // An installed snapshot may reference blobs this replica never received: fetch them now.
      install: (through, payload) => node.installSnapshot(through, payload).then(() => blobReplicator.sweep()),
      appliedInstance: () => node.stateMachine.appliedInstance,
      log,
      ...(options.snapshotFetch === undefined ? {} : { config: options.snapshotFetch }),
    });
    node.setSnapshotNeededHandler((from, throughMin) => fetcher.request(from, throughMin));
    const subscriptions = new SubscriptionHub(() => node.stateMachine, clock, options.replicaId, subscriptionConfig, () => node.hasLiveLeader());
    node.addAppliedListener((revision) => subscriptions.applied(revision));
    this.running = { storage, node, transport, service, holds, unary: service.unaryHandlers(), subscriptions, blobReplicator, blobService, fetcher, clusterId: options.clusterId, requests: metrics?.requests, identity, sessionCaps, subscribeCaps, forwarder };
    metrics?.attach({
      node,
      dataDir: options.dataDir,
      isConnected: (id) => transport.isConnected(id),
      walBytes: () => storage.stable.walBytes(),
      blobBytes: () => storage.blobs.totalBytes(),
      latestSnapshotThrough: () => storage.snapshots.latest()?.throughInstance,
      subscribers: () => subscriptions.subscriberCount,
      forwardsInFlight: () => forwarder.inFlight,
    });
    transport.start();
    node.start();
    blobReplicator.start();
    if (!this.stopped) this.health.setServing(true);
    log.info('replica.started', {
      address: this.address,
      members: options.members.size,
      dataDir: options.dataDir,
      clusterId: options.clusterId,
      tls: this.security.tls !== null,
      clientAuth: this.security.clientTokens !== null,
      peerAuth: this.security.peerToken !== null,
      appliedInstance: node.stateMachine.appliedInstance,
      appliedRevision: node.stateMachine.revision,
    });
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

  /** Requests this replica forwarded to the leader and still waits for (tests, tools). */
  get forwardsInFlight(): number {
    if (this.running === null) throw new UnavailableError('server not started');
    return this.running.forwarder.inFlight;
  }

  /** Bytes held by Session frames with requests unanswered, all streams together (tests, tools). */
  get sessionBytesInFlight(): number {
    if (this.running === null) throw new UnavailableError('server not started');
    return this.running.service.sessionBytesInFlight;
  }

  /** Stops serving, replicating and ticking; closes storage. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.health.setServing(false);
    const running = this.running;
    this.running = null;
    this.log.info('replica.stopping', { address: this.address });
    this.metrics?.attach(null);
    this.metrics?.unregister();
    running?.subscriptions.close();
    const fetched = running?.fetcher.close();
    running?.forwarder.close();
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
    this.log.info('replica.stopped', { address: this.address });
  }
}

/**
 * A streaming handler that answers UNAVAILABLE until the server has started. A throw from
 * `serve` ends the call with its mapped status (grpc-js would answer UNKNOWN).
 */
function whenRunning<C extends { emit(event: 'error', err: unknown): boolean }>(target: () => Running | null, serve: (running: Running, call: C) => void): (call: C) => void {
  return (call) => {
    const running = target();
    if (running === null) {
      call.emit('error', unavailable());
      return;
    }
    try {
      serve(running, call);
    } catch (err) {
      call.emit('error', toGrpcStatus(err));
    }
  };
}

/** A handler with a callback (unary or client-streaming) that answers UNAVAILABLE until started; a throw is answered as whenRunning's. */
function whenRunningWithCallback<C, R>(target: () => Running | null, serve: (running: Running, call: C, callback: grpc.sendUnaryData<R>) => void): (call: C, callback: grpc.sendUnaryData<R>) => void {
  return (call, callback) => {
    const running = target();
    if (running === null) {
      callback(unavailable());
      return;
    }
    try {
      serve(running, call, callback);
    } catch (err) {
      callback(toGrpcStatus(err));
    }
  };
}

function globalHandlers(target: () => Running | null): GlobalHandlers {
  const unary = (name: 'Get' | 'Set' | 'Delete' | 'Txn' | 'Range' | 'MissingBlobs' | 'Status') =>
    whenRunningWithCallback<grpc.ServerUnaryCall<unknown, unknown>, unknown>(target, (running, call, callback) => {
      (running.unary[name] as grpc.handleUnaryCall<unknown, unknown>)(call, callback);
    }) as never;
  return {
    Get: unary('Get'),
    Set: unary('Set'),
    Delete: unary('Delete'),
    Txn: unary('Txn'),
    Range: unary('Range'),
    MissingBlobs: unary('MissingBlobs'),
    Status: unary('Status'),
    Session: whenRunning(target, (running, call) => serveAdmitted(running.sessionCaps, call, () => running.service.session(call))),
    PutBlob: whenRunningWithCallback(target, (running, call, callback) => {
      const timers = running.requests;
      if (timers === undefined) return running.blobService.handlePutBlob(call, callback);
      const startMs = performance.now();
      running.blobService.handlePutBlob(call, (err, value) => {
        timers.done('put_blob', startMs, err !== null && err !== undefined);
        callback(err, value);
      });
    }),
    GetBlob: whenRunning(target, (running, call) => {
      const timers = running.requests;
      if (timers !== undefined) {
        const startMs = performance.now();
        let timed = false;
        const done = (failed: boolean): void => {
          if (timed) return;
          timed = true;
          timers.done('get_blob', startMs, failed);
        };
        call.once('finish', () => done(false));
        call.once('error', () => done(true));
      }
      running.blobService.handleGetBlob(call);
    }),
    Subscribe: whenRunning(target, (running, call) => serveAdmitted(running.subscribeCaps, call, () => running.subscriptions.subscribe(call))),
    Hold: whenRunning(target, (running, call) => running.holds.hold(call)),
  };
}

/** The refusal of a Replica-service caller whose certificate names no member's host, or null. */
function impostor(running: Running, call: CallWithAuth): grpc.ServiceError | null {
  const problem = running.identity.problem(call);
  if (problem === null) return null;
  const s = toGrpcStatus(new UnauthenticatedError(problem));
  return Object.assign(new Error(s.details), s);
}

function replicaHandlers(target: () => Running | null): ReplicaHandlers {
  return {
    // Exchange checks the certificate against the replica its hello names (peer-transport.ts).
    Exchange: whenRunning(target, (running, call) => running.transport.handleExchange(call)),
    StoreBlob: whenRunningWithCallback(target, (running, call, callback) => {
      const refusal = impostor(running, call);
      if (refusal === null) running.blobReplicator.handleStoreBlob(call, callback);
      else callback(refusal);
    }),
    FetchBlob: whenRunning(target, (running, call) => {
      const refusal = impostor(running, call);
      if (refusal === null) running.blobReplicator.handleFetchBlob(call);
      else call.emit('error', refusal);
    }),
    FetchSnapshot: whenRunning(target, (running, call) => {
      const refusal = impostor(running, call);
      if (refusal === null) serveSnapshot(running.storage.snapshots, call, running.clusterId);
      else call.emit('error', refusal);
    }),
  };
}

