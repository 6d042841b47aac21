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
import { checkServerLimits, GlobalService, type ServerLimits } from './global-service.ts';
import { PEER_MESSAGE_BYTES_MAX, PeerTransport } from './peer-transport.ts';
import { guardRequests } from './request-guard.ts';
import { REPLICA_NODE_DEFAULTS, ReplicaNode, type ReplicaNodeConfig } from './replica-node.ts';
import { NodeFileSystem } from './storage/fs.ts';
import { StorageEngine } from './storage/engine.ts';

export interface GlobalServerOptions {
  readonly replicaId: number;
  /** Every member, this one included: id -> "host:port". A single replica lists only itself. */
  readonly members: ReadonlyMap<number, string>;
  readonly dataDir: string;
  /** Refuses peers of another cluster; every member must use the same one. */
  readonly clusterId: string;
  readonly node?: Partial<Omit<ReplicaNodeConfig, 'replicaId' | 'members'>>;
  readonly limits?: Partial<ServerLimits>;
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
}

export class GlobalServer {
  private running: Running | null = null;
  private stopped = false;

  private constructor(
    private readonly server: grpc.Server,
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
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(listen, grpc.ServerCredentials.createInsecure(), (err, p) => {
        if (err !== null) reject(new UnavailableError(`cannot listen on ${listen}: ${err.message} (is another server using the port?)`));
        else resolve(p);
      });
    });
    const host = listen.slice(0, listen.lastIndexOf(':'));
    const self = new GlobalServer(server, `${host}:${port}`);
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
    const storage = await StorageEngine.open({ fs: new NodeFileSystem(), dir: options.dataDir, clock: { nowMs: () => Date.now() } });
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
    const service = new GlobalService({
      node,
      limits,
      blobSize: (hash) => storage.blobs.sizeBytes(hash),
      isConnected: (id) => transport.isConnected(id),
      walBytes: () => storage.stable.walBytes(),
      blobBytes: () => storage.blobs.totalBytes(),
    });
    this.running = { storage, node, transport, service };
    transport.start();
    node.start();
  }

  get node(): ReplicaNode {
    if (this.running === null) throw new UnavailableError('server not started');
    return this.running.node;
  }

  /** Stops serving, replicating and ticking; closes storage. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const running = this.running;
    this.running = null;
    running?.node.close();
    running?.transport.close();
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
  const unimplemented = (what: string) => (call: grpc.ServerReadableStream<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>) => {
    call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: `${what} is not available in this build yet`, metadata: new grpc.Metadata() });
  };
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
    PutBlob: unimplemented('PutBlob'),
    GetBlob: unimplemented('GetBlob'),
    Subscribe: unimplemented('Subscribe'),
  };
}

function replicaHandlers(target: () => Running | null): ReplicaHandlers {
  const unimplemented = (what: string) => (call: grpc.ServerReadableStream<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>) => {
    call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: `${what} is not available in this build yet`, metadata: new grpc.Metadata() });
  };
  return {
    Exchange: (call) => {
      const running = target();
      if (running === null) {
        call.emit('error', unavailable());
        return;
      }
      running.transport.handleExchange(call);
    },
    StoreBlob: unimplemented('StoreBlob'),
    FetchBlob: unimplemented('FetchBlob'),
    FetchSnapshot: unimplemented('FetchSnapshot'),
  };
}

