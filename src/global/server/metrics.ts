// Prometheus metrics of one Global replica (issue 7; docs/operations.md lists each one).
//
// What is counted where it happens, kept cheap (no allocation, fixed label sets):
//   request latency (GlobalService, per operation), fsync latency (a metering wrapper around
//   the file system), leader changes (ReplicaNode's onLeaderChange), what peers last told us
//   (the transport's onMessage), refused calls (the auth interceptor).
// Everything else is read from the running replica when scraped (`collect` callbacks):
//   decided and applied positions, proposals in flight, peer connections and lag, WAL, blob
//   and snapshot sizes and ages, key and subscriber counts.
// One `GlobalMetrics` per replica registers on the registry it is given (one per process in
// examples/global.ts; tests give each replica its own).

import { statSync } from 'node:fs';
import { join } from 'node:path';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Message } from '../../consensus/index.ts';
import { FixedHistogram, LATENCY_BUCKETS_SECONDS, type HistogramChild } from '../../protocol/metrics-kit.ts';
import type { FileSystem, OpenMode, StorageFile } from '../storage/fs.ts';
import type { ReplicaNode } from '../replica/replica-node.ts';

/** Operations timed by dstore_request_duration_seconds (Session requests and unary calls alike). */
export const GLOBAL_OPS = ['get', 'set', 'delete', 'txn', 'range', 'missing_blobs', 'status', 'put_blob', 'get_blob'] as const;
export type GlobalOp = (typeof GLOBAL_OPS)[number];

/** What the collectors read from a running replica at scrape time. */
export interface GlobalMetricsSource {
  readonly node: ReplicaNode;
  readonly dataDir: string;
  readonly isConnected: (replicaId: number) => boolean;
  readonly walBytes: () => number;
  readonly blobBytes: () => number;
  readonly latestSnapshotThrough: () => number | undefined;
  readonly subscribers: () => number;
  /** Requests this replica forwarded to the leader and still waits for. */
  readonly forwardsInFlight: () => number;
}

/** What one peer last told this replica. */
interface PeerSeen {
  /** The peer's decided prefix as it last reported it (-1: never heard). */
  decidedThrough: number;
  /** performance.now() of its last message (-1: never). */
  heardMs: number;
}

/** Per-op request timers and failure counts; the children are made once. */
export class RequestTimers {
  private readonly children: Record<GlobalOp, HistogramChild>;
  readonly failures: Record<GlobalOp, number>;

  constructor(readonly histogram: FixedHistogram<GlobalOp>) {
    const children = {} as Record<GlobalOp, HistogramChild>;
    const failures = {} as Record<GlobalOp, number>;
    for (const op of GLOBAL_OPS) {
      children[op] = histogram.child(op);
      failures[op] = 0;
    }
    this.children = children;
    this.failures = failures;
  }

  /** Records one request of `op` that started at `startMs` (performance.now()). */
  done(op: GlobalOp, startMs: number, failed: boolean): void {
    this.children[op].observeSince(startMs);
    if (failed) this.failures[op]++;
  }
}

/** The Session request body (ClientRequest.body) -> its op label. */
export function opOfBody(body: string | undefined): GlobalOp {
  switch (body) {
    case 'get': return 'get';
    case 'set': return 'set';
    case 'delete': return 'delete';
    case 'txn': return 'txn';
    case 'range': return 'range';
    case 'missingBlobs': return 'missing_blobs';
    default: return 'status';
  }
}

export class GlobalMetrics {
  readonly requests: RequestTimers;
  readonly fsync: HistogramChild;
  private source: GlobalMetricsSource | null = null;
  private readonly peers = new Map<number, PeerSeen>();
  private leaderChangeCount = 0;
  private readonly refusals = new Map<string, number>();
  private snapshotMtime: { through: number; mtimeMs: number } | null = null;

  private readonly names: string[] = [];

  /**
   * Registers every metric of replica `replicaId` (whose peers are `peerIds`) on `registry`;
   * `unregister` removes them again (a replica restarted in the same process registers anew).
   */
  constructor(private readonly registry: Registry, readonly replicaId: number, peerIds: readonly number[]) {
    const before = new Set(registry.getMetricsAsArray().map((m) => m.name));
    for (const id of peerIds) this.peers.set(id, { decidedThrough: -1, heardMs: -1 });
    const requestHistogram = new FixedHistogram<GlobalOp>('dstore_request_duration_seconds', 'Time from receiving a client request to its answer, by operation (Session requests and unary calls).', 'op', GLOBAL_OPS);
    registry.registerMetric(requestHistogram.metric);
    this.requests = new RequestTimers(requestHistogram);
    const fsyncHistogram = new FixedHistogram<''>('dstore_fsync_duration_seconds', 'Duration of each fdatasync (snapshots, blob files) and of each O_DSYNC write (WAL group commits): the disk\'s sync latency.', null, [''], LATENCY_BUCKETS_SECONDS);
    registry.registerMetric(fsyncHistogram.metric);
    this.fsync = fsyncHistogram.child('');
    this.register(registry);
    for (const m of registry.getMetricsAsArray()) if (!before.has(m.name)) this.names.push(m.name);
  }

  /** Removes this replica's metrics from the registry. */
  unregister(): void {
    for (const name of this.names) this.registry.removeSingleMetric(name);
    this.names.length = 0;
  }

  /** Starts reading `source` at scrapes (null: the replica stopped; gauges then read 0). */
  attach(source: GlobalMetricsSource | null): void {
    this.source = source;
  }

  /** A message from a peer (the transport's onMessage): remembers its decided prefix and when. */
  peerMessage(m: Message): void {
    const seen = this.peers.get(m.from);
    if (seen === undefined) return;
    seen.heardMs = performance.now();
    switch (m.type) {
      case 'promise':
      case 'accept':
      case 'accepted':
      case 'heartbeat':
      case 'heartbeatReply':
      case 'decided':
      case 'catchUp':
        seen.decidedThrough = m.decidedThrough;
        break;
      default:
        break;
    }
  }

  leaderChanged(): void {
    this.leaderChangeCount++;
  }

  authRefused(service: string): void {
    this.refusals.set(service, (this.refusals.get(service) ?? 0) + 1);
  }

  /** A FileSystem whose files time every datasync, and every write of a dsync file (the WAL
   *  makes its group commits durable that way), into dstore_fsync_duration_seconds. */
  meterFileSystem(fs: FileSystem): FileSystem {
    const fsync = this.fsync;
    const meter = (file: StorageFile): StorageFile => ({
      dsync: file.dsync,
      write: file.dsync
        ? (bytes, position) => {
          const start = performance.now();
          return file.write(bytes, position).then(() => fsync.observeSince(start));
        }
        : (bytes, position) => file.write(bytes, position),
      read: (buffer, offset, length, position) => file.read(buffer, offset, length, position),
      datasync: () => {
        const start = performance.now();
        return file.datasync().then(() => fsync.observeSince(start));
      },
      truncate: (length) => file.truncate(length),
      sizeBytes: () => file.sizeBytes(),
      close: () => file.close(),
    });
    return {
      open: (path: string, mode: OpenMode) => fs.open(path, mode).then(meter),
      mkdirp: (path) => fs.mkdirp(path),
      readdir: (path) => fs.readdir(path),
      rename: (from, to) => fs.rename(from, to),
      unlink: (path) => fs.unlink(path),
      syncDir: (path) => fs.syncDir(path),
      sizeBytes: (path) => fs.sizeBytes(path),
    };
  }

  /** Seconds since the newest snapshot file was written, or -1 when there is none. */
  private snapshotAgeSeconds(s: GlobalMetricsSource): number {
    const through = s.latestSnapshotThrough();
    if (through === undefined) return -1;
    if (this.snapshotMtime?.through !== through) {
      try {
        const path = join(s.dataDir, 'snapshots', `${String(through).padStart(16, '0')}.snap`);
        this.snapshotMtime = { through, mtimeMs: statSync(path).mtimeMs };
      } catch {
        return -1;
      }
    }
    return (Date.now() - this.snapshotMtime.mtimeMs) / 1000;
  }

  private register(registry: Registry): void {
    // collect() runs with `this` bound to the prom-client metric: these arrows read our state.
    const source = (): GlobalMetricsSource | null => this.source;
    const leaderChanges = (): number => this.leaderChangeCount;
    const failures = (op: GlobalOp): number => this.requests.failures[op];
    const refusals = (): ReadonlyMap<string, number> => this.refusals;
    const peers = (): ReadonlyMap<number, PeerSeen> => this.peers;
    const gauge = (name: string, help: string, read: (s: GlobalMetricsSource) => number): void => {
      registry.registerMetric(new Gauge({
        name,
        help,
        registers: [],
        collect() {
          const s = source();
          this.set(s === null ? 0 : read(s));
        },
      }));
    };
    gauge('dstore_replica_id', 'This replica\'s id.', () => this.replicaId);
    gauge('dstore_is_leader', '1 while this replica leads, else 0.', (s) => (s.node.isLeader() ? 1 : 0));
    gauge('dstore_recovering', '1 while this replica recovers after starting without its consensus state (it does not vote), else 0.', (s) => (s.node.status().recovery === null ? 0 : 1));
    gauge('dstore_leader_id', 'The replica this one follows (itself when leading); 0 when none is known.', (s) => s.node.status().leaderId);
    gauge('dstore_decided_instance', 'Highest consensus instance known decided here (every instance up to it is decided).', (s) => s.node.status().decidedThrough);
    gauge('dstore_applied_instance', 'Highest consensus instance applied to the state machine.', (s) => s.node.stateMachine.appliedInstance);
    gauge('dstore_applied_revision', 'Revision of the state machine (committed key changes applied).', (s) => s.node.stateMachine.revision);
    gauge('dstore_proposals_in_flight', 'Instances this leader proposed that are not decided yet (0 on followers).', (s) => {
      const st = s.node.status();
      return st.nextInstance === 0 ? 0 : Math.max(0, st.nextInstance - 1 - st.decidedThrough);
    });
    gauge('dstore_keys', 'Keys bound in the state machine.', (s) => s.node.stateMachine.keyCount);
    gauge('dstore_wal_bytes', 'Bytes of the consensus WAL on disk.', (s) => s.walBytes());
    gauge('dstore_blob_bytes', 'Bytes of blobs stored on this replica.', (s) => s.blobBytes());
    gauge('dstore_snapshot_through_instance', 'Instance the newest snapshot on disk covers (0: none).', (s) => s.latestSnapshotThrough() ?? 0);
    gauge('dstore_snapshot_age_seconds', 'Seconds since the newest snapshot file was written; -1 when there is none.', (s) => this.snapshotAgeSeconds(s));
    gauge('dstore_subscribers', 'Subscribe streams served by this replica.', (s) => s.subscribers());
    gauge('dstore_forwards_in_flight', 'Client requests this follower forwarded to the leader and waits for (cap: forwarding.inFlightMax).', (s) => s.forwardsInFlight());
    registry.registerMetric(new Counter({
      name: 'dstore_leader_changes_total',
      help: 'Times the leader this replica follows changed (including to "none known" during an election).',
      registers: [],
      collect() {
        this.reset();
        this.inc(leaderChanges());
      },
    }));
    registry.registerMetric(new Counter({
      name: 'dstore_request_failures_total',
      help: 'Client requests answered with an error, by operation.',
      labelNames: ['op'],
      registers: [],
      collect() {
        this.reset();
        for (const op of GLOBAL_OPS) this.inc({ op }, failures(op));
      },
    }));
    registry.registerMetric(new Counter({
      name: 'dstore_auth_refused_total',
      help: 'Calls refused with UNAUTHENTICATED (missing or unknown token), by gRPC service.',
      labelNames: ['service'],
      registers: [],
      collect() {
        this.reset();
        for (const [service, n] of refusals()) this.inc({ service }, n);
      },
    }));
    const peerGauge = (name: string, help: string, read: (s: GlobalMetricsSource, id: number, seen: PeerSeen) => number): void => {
      registry.registerMetric(new Gauge({
        name,
        help,
        labelNames: ['peer'],
        registers: [],
        collect() {
          this.reset();
          const s = source();
          if (s === null) return;
          for (const [id, seen] of peers()) this.set({ peer: String(id) }, read(s, id, seen));
        },
      }));
    };
    peerGauge('dstore_peer_connected', '1 while this replica\'s stream to the peer is up, else 0.', (s, id) => (s.isConnected(id) ? 1 : 0));
    peerGauge('dstore_peer_lag_instances', 'This replica\'s decided instance minus the one the peer last reported (replication lag; -1 when never heard).', (s, _id, seen) =>
      seen.decidedThrough < 0 ? -1 : Math.max(0, s.node.status().decidedThrough - seen.decidedThrough));
    peerGauge('dstore_peer_last_message_age_seconds', 'Seconds since the last consensus message from the peer; -1 when never heard.', (_s, _id, seen) =>
      seen.heardMs < 0 ? -1 : (performance.now() - seen.heardMs) / 1000);
  }
}
