// The simulated replicas of the whole-system simulation: each one the real ReplicaNode (driver,
// ProposalBatcher, state machine, client sessions), its StorageEngine over a FaultFileSystem
// disk, and a real SnapshotFetcher, all on one Scheduler (scheduler.ts). Peer messages, client
// calls and snapshot transfers cross a simulated network (test/sim/network.ts: drop, delay,
// reorder, duplicate, partitions). A replica can crash (the process only: the disk keeps what
// was written; or the machine: unsynced writes lost, or torn, per the fault fs), restart on
// what its disk kept, pause, run a drifting clock, see its clock jump, and meet disk faults
// (EIO, ENOSPC, slow fsync), silent disk faults (silent-faults.ts) and snapshot transfers that
// fail or stall. A replica that stops on corruption its disk took silently is wiped by the
// "operator", as docs/operations.md tells one to, and recovers from its peers. Its disk can be
// copied while it runs and restored at a crash (a data directory rolled back to an older copy).
// A follower forwards what only the leader serves with the real Forwarder
// (src/global/server/forwarder.ts), over the same simulated links: requests and answers may be lost,
// delayed or delivered twice.

import { AssertionError } from '../../../src/protocol/assert.ts';
import type { Clock } from '../../../src/protocol/backoff.ts';
import { CancelledError, CorruptError, UnavailableError } from '../../../src/protocol/errors.ts';
import type { SnapshotChunk, SnapshotChunk__Output } from '../../../src/protocol/generated/dstore/v1/SnapshotChunk.ts';
import { NULL_LOGGER, type Logger } from '../../../src/protocol/log.ts';
import { SplitMix32, type Message } from '../../../src/consensus/index.ts';
import { Forwarder, viaLeader, type ForwardOutcome } from '../../../src/global/server/forwarder.ts';
import { ReplicaNode, REPLICA_NODE_DEFAULTS, type ReplicaNodeConfig } from '../../../src/global/replica/replica-node.ts';
import { snapshotChunks, SnapshotFetcher, type SnapshotSource, type SnapshotStream } from '../../../src/global/peers/snapshot-transfer.ts';
import { stateChecksum } from '../../../src/global/state/snapshot.ts';
import { StorageEngine } from '../../../src/global/storage/engine.ts';
import { FaultFileSystem, type CrashMode, type InjectedFault, type SilentFaultKind } from '../../../src/global/storage/fault-fs.ts';
import { SimNetwork } from '../network.ts';
import { runHere, type SimAnswer, type SimRequest } from './requests.ts';
import { SimProcess, type Scheduler } from './scheduler.ts';

/** A follower's forwarding in the simulation: small cap, so a stalled leader fills it. */
const FORWARDING = { inFlightMax: 16, timeoutMsMax: 2_000 };

export type CrashKind = 'process' | CrashMode;
export type Sabotage = 'vote-before-persist' | 'rollback-unchecked';

export interface ClusterFaults {
  /** Per mille of snapshot fetch steps that fail, and that stall until the fetcher gives up. */
  snapshotFailPermille: number;
  snapshotStallPermille: number;
}

export class SimReplica {
  process: SimProcess | null = null;
  node: ReplicaNode | null = null;
  storage: StorageEngine | null = null;
  fetcher: SnapshotFetcher | null = null;
  forwarder: Forwarder<SimRequest, SimAnswer> | null = null;
  incarnation = 0;
  /** While above 0, each fsync takes up to this long. */
  slowFsyncMs = 0;
  /** The last applied instance the agreement check looked at, per state machine object. */
  checkedInstance = -1;
  /** Set once a disk fault was injected: a fatal storage error is then expected. */
  diskFaulted = false;
  /** Set once its disk took a silent fault: a stop on corruption (CorruptError) is then expected. */
  silentFaulted = false;
  disk: FaultFileSystem;

  constructor(readonly id: number, private readonly sched: Scheduler, seed: number, private readonly random: SplitMix32, private readonly diskLatencyMs: number) {
    this.disk = this.newDisk(seed);
  }

  /** A new, empty disk (at boot, and when the operator replaces a damaged one). */
  newDisk(seed: number): FaultFileSystem {
    const { sched, random, diskLatencyMs } = this;
    return new FaultFileSystem({
      seed,
      defer: (work, op) => {
        // The process that called owns the completion: a crash drops it, a pause holds it.
        const owner = this.process;
        if (owner === null) return;
        // Writes (durable on the WAL's O_DSYNC files) and fsyncs take a while; the rest is instant.
        const durable = op === 'datasync' || op === 'write';
        const delayMs = durable ? (this.slowFsyncMs > 0 ? random.nextInt(this.slowFsyncMs) : random.nextInt(diskLatencyMs)) : 0;
        sched.at(delayMs, owner, work);
      },
    });
  }

  get up(): boolean {
    return this.process !== null;
  }
}

export interface ClusterOptions {
  readonly replicas: number;
  readonly seed: number;
  readonly node: Partial<ReplicaNodeConfig>;
  /** Clock rate of each new incarnation, drawn per boot. */
  readonly clockRate: () => number;
  readonly trace: (line: string) => void;
  readonly violation: (message: string) => void;
  /**
   * A deliberate bug, to show the checks catch it: votes leave before they are durable
   * ('vote-before-persist'), or no replica ever tells another that it was rolled back
   * ('rollback-unchecked': every stamp check answered "current", no stamps on heartbeats).
   * Both also blind the rollback check, which would otherwise turn the votes a crash lost
   * into a detected rollback.
   */
  readonly sabotage?: Sabotage;
  /** Writes and fsyncs take 0 to this many ms (default 3), outside slow-fsync spells. */
  readonly diskLatencyMs?: number;
}

const DIR = '/data';

export class SimCluster {
  readonly replicas = new Map<number, SimReplica>();
  readonly network: SimNetwork;
  readonly members: ReadonlyMap<number, string>;
  readonly faults: ClusterFaults = { snapshotFailPermille: 0, snapshotStallPermille: 0 };
  /** State checksum seen at each applied instance (agreement). */
  private readonly checksums = new Map<number, { replicaId: number; checksum: string }>();
  stats = {
    crashes: 0, restarts: 0, fatal: 0, snapshotsInstalled: 0, snapshotFetchFailures: 0, rollbacks: 0, rollbacksDetected: 0, forwarded: 0,
    // Silent disk faults that landed, per kind, and what the replicas did about them.
    bitFlips: 0, lostWrites: 0, lostPages: 0, misdirectedOffset: 0, misdirectedFile: 0, corruptStops: 0, walLossRecoveries: 0, corruptRepairs: 0,
  };

  constructor(
    readonly sched: Scheduler,
    readonly random: SplitMix32,
    private readonly options: ClusterOptions,
  ) {
    const ids = Array.from({ length: options.replicas }, (_, i) => i + 1);
    this.members = new Map(ids.map((id) => [id, `replica-${id}:1`]));
    this.network = new SimNetwork(ids);
    for (const id of ids) this.replicas.set(id, new SimReplica(id, sched, options.seed * 31 + id, random, options.diskLatencyMs ?? 3));
  }

  get(id: number): SimReplica {
    const r = this.replicas.get(id);
    if (r === undefined) throw new Error(`no replica ${id}`);
    return r;
  }

  // ---- life cycle ----

  /** Starts a new incarnation of `r` on what its disk holds. */
  boot(r: SimReplica): void {
    if (r.up) return;
    const process = new SimProcess(`r${r.id}#${++r.incarnation}`, this.sched.nowMs, this.options.clockRate(), this.random.nextInt(1_000_000));
    r.process = process;
    r.checkedInstance = -1;
    if (r.incarnation > 1) this.stats.restarts++;
    const clock = this.sched.clockOf(process);
    this.sched.at(0, process, () => {
      // A failed start is a fatal error like any other: expected only after a disk fault.
      this.open(r, process, clock).catch((err: unknown) => this.fatal(r, process, err));
    });
  }

  private async open(r: SimReplica, process: SimProcess, clock: Clock): Promise<void> {
    const storage = await StorageEngine.open({
      fs: r.disk,
      dir: DIR,
      clock,
      walLoss: 'recover',
      wal: { segmentBytesTarget: 4096 },
      snapshots: { chunkBytes: 512, snapshotsRetained: 2 },
    });
    if (!process.alive) return;
    if (this.options.sabotage === 'vote-before-persist') {
      const persist = storage.stable.persist.bind(storage.stable);
      Object.assign(storage.stable, { persist: (p: Parameters<typeof persist>[0]) => {
        persist(p).catch(() => undefined);
        return Promise.resolve();
      } });
    }
    for (const w of storage.warnings) {
      if (w.event === 'storage.wal_loss') this.stats.walLossRecoveries++;
      if (w.event === 'storage.wal_corrupt' || w.event === 'storage.snapshot_corrupt') this.stats.corruptRepairs++;
      this.options.trace(`r${r.id}: ${w.event}${r.silentFaulted ? ` ${w.message}` : ''}`);
    }
    const forwarder: Forwarder<SimRequest, SimAnswer> = new Forwarder(r.id, FORWARDING, clock, {
      send: (leaderId, id, request) => this.forwardTo(process, forwarder, r.id, leaderId, id, request),
    });
    const node = await ReplicaNode.open({ ...REPLICA_NODE_DEFAULTS, ...this.options.node, replicaId: r.id, members: this.members }, {
      storage,
      clock,
      seed: this.random.nextInt(2 ** 31),
      send: (m) => this.send(process, m),
      onFatal: (err) => this.fatal(r, process, err),
      defer: (work) => this.sched.at(0, process, work),
      onLeaderChange: (leader) => {
        forwarder.leaderChanged(leader);
        this.options.trace(`r${r.id}: leader is ${leader === 0 ? 'unknown' : `r${leader}`}`);
      },
      onRecovery: (event) => this.options.trace(`r${r.id}: recovery ${event}`),
      onRollback: (rb) => {
        this.stats.rollbacksDetected++;
        this.options.trace(`r${r.id}: rolled back (r${rb.reportedBy} saw ${rb.seen.incarnation}:${rb.seen.voteSeq} above ${rb.restored.incarnation}:${rb.restored.voteSeq})`);
      },
    });
    if (!process.alive) return;
    const peers = new Map([...this.members].filter(([id]) => id !== r.id));
    const log = this.logger(r);
    const fetcher = new SnapshotFetcher({
      peers,
      source: this.snapshotSource(r, process),
      clock,
      random: randomOf(new SplitMix32(this.random.nextUint32())),
      snapshots: storage.snapshots,
      install: (through, payload) => node.installSnapshot(through, payload),
      appliedInstance: () => node.stateMachine.appliedInstance,
      log,
      config: { idleTimeoutMs: 1_000, backoff: { backoffInitialMs: 50, backoffMaxMs: 1_000 } },
    });
    node.setSnapshotNeededHandler((from, min) => fetcher.request(from, min));
    r.storage = storage;
    r.node = node;
    r.fetcher = fetcher;
    r.forwarder = forwarder;
    node.start();
    this.options.trace(`r${r.id}: up (incarnation ${r.incarnation}, applied ${node.stateMachine.appliedInstance})`);
  }

  private logger(r: SimReplica): Logger {
    const line = (event: string, fields?: Record<string, unknown>): void => {
      if (event === 'snapshot.installed') this.stats.snapshotsInstalled++;
      if (event === 'snapshot.fetch_failed') this.stats.snapshotFetchFailures++;
      this.options.trace(`r${r.id}: ${event} ${JSON.stringify(fields ?? {})}`);
    };
    const logger: Logger = { ...NULL_LOGGER, info: line, warn: line, error: line, child: () => logger };
    return logger;
  }

  /** Kills `r`'s process; with a CrashMode the machine loses power too (fault-fs.ts decides what the disk keeps). */
  crash(r: SimReplica, kind: CrashKind): void {
    const process = r.process;
    if (process === null) return;
    process.alive = false;
    r.process = null;
    r.node = null;
    r.storage = null;
    r.fetcher = null;
    r.forwarder = null;
    r.slowFsyncMs = 0;
    if (kind !== 'process') r.disk = r.disk.crashNow(kind);
    this.stats.crashes++;
    this.options.trace(`r${r.id}: crash (${kind})`);
  }

  /** The machine loses power and its disk is replaced by `copy`, an older copy of it (a restored backup or volume snapshot). */
  restoreDisk(r: SimReplica, copy: FaultFileSystem, takenAtMs: number): void {
    this.crash(r, 'lose-unsynced');
    r.disk = copy;
    this.stats.rollbacks++;
    this.options.trace(`r${r.id}: disk restored to its copy from ${takenAtMs.toFixed(1)} ms`);
  }

  /** A crash armed on a disk (`armCrash`) landed on one of its operations: the machine is down. */
  noticeCrashedDisks(): void {
    for (const r of this.replicas.values()) {
      const after = r.disk.afterCrash;
      if (after === undefined) continue;
      if (r.process !== null) this.crash(r, 'process');
      r.disk = after;
      this.options.trace(`r${r.id}: the machine crashed in the middle of a disk operation`);
      this.sched.at(50 + this.random.nextInt(1_000), null, () => this.boot(r));
    }
  }

  /** A fatal error ends the process (as exit 70 would); a broken invariant is a violation. */
  private fatal(r: SimReplica, process: SimProcess, err: unknown): void {
    if (!process.alive) return;
    this.stats.fatal++;
    // Expected only after an injected disk fault, and never as a broken invariant or a bug.
    const bug = err instanceof AssertionError || err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError;
    if (!bug && r.silentFaulted && err instanceof CorruptError) {
      this.corruptStop(r, err);
      return;
    }
    if (bug || !r.diskFaulted) {
      this.options.violation(`r${r.id} failed${r.node === null ? ' to start on what its disk kept' : ''}: ${describe(err)}`);
    }
    this.options.trace(`r${r.id}: fatal ${describe(err)}`);
    this.crash(r, 'process');
    this.sched.at(100 + this.random.nextInt(900), null, () => this.boot(r));
  }

  /**
   * A replica stopped on corruption its disk took silently: acceptable when the error names
   * the file and the byte offset (the operator must know what to replace). The operator then
   * does what the message says for a replica with peers: wipes the data directory (here a new
   * disk) and starts it, and it recovers from its peers.
   */
  private corruptStop(r: SimReplica, err: CorruptError): void {
    this.stats.corruptStops++;
    this.options.trace(`r${r.id}: stopped on corruption: ${describe(err)}`);
    if (!/\/data\/\S+/.test(err.message) || !/\bbyte \d+/.test(err.message)) {
      this.options.violation(`r${r.id} stopped on corruption without naming the file and byte offset: ${describe(err)}`);
    }
    this.crash(r, 'process');
    this.sched.at(200 + this.random.nextInt(1_000), null, () => {
      if (r.up) return;
      r.disk = r.newDisk(this.random.nextUint32());
      r.silentFaulted = false;
      this.watchSilentFaults(r);
      this.options.trace(`r${r.id}: operator wiped the data directory`);
      this.boot(r);
    });
  }

  /** Counts and traces the silent faults `r`'s disk takes (silent-faults.ts). */
  watchSilentFaults(r: SimReplica): void {
    const counter: Record<SilentFaultKind, keyof SimCluster['stats']> = {
      'bit-flip': 'bitFlips', 'lost-write': 'lostWrites', 'lost-page': 'lostPages', 'misdirected-offset': 'misdirectedOffset', 'misdirected-file': 'misdirectedFile',
    };
    r.disk.onSilentFault = (fault) => {
      r.silentFaulted = true;
      this.stats[counter[fault.kind]]++;
      this.options.trace(`r${r.id}: silent fault: ${fault.description}`);
    };
  }

  pause(r: SimReplica): void {
    if (r.process === null || r.process.paused) return;
    this.sched.pause(r.process);
    this.options.trace(`r${r.id}: paused`);
  }

  resume(r: SimReplica): void {
    if (r.process === null || !r.process.paused) return;
    this.sched.resume(r.process);
    this.options.trace(`r${r.id}: resumed`);
  }

  /** Moves `r`'s monotonic clock forward by `jumpMs` at once. */
  jumpClock(r: SimReplica, jumpMs: number): void {
    if (r.process === null) return;
    r.process.originMs += jumpMs;
    this.options.trace(`r${r.id}: clock jumps ${jumpMs} ms`);
  }

  injectDiskFault(r: SimReplica, fault: InjectedFault): void {
    if (r.disk.isCrashed) return;
    r.diskFaulted = true;
    r.disk.inject(fault);
    this.options.trace(`r${r.id}: disk fault ${fault.code} on ${fault.op}${fault.pathIncludes === undefined ? '' : ` (${fault.pathIncludes})`}`);
  }

  // ---- the network ----

  private send(from: SimProcess, m: Message): void {
    if (!from.alive) return;
    const target = this.replicas.get(m.to);
    if (target === undefined) return;
    const delivered = this.options.sabotage === undefined ? m : withoutRollbackCheck(m);
    for (const delayMs of this.network.route(m.from, m.to, this.random)) {
      const owner = target.process;
      if (owner === null) continue;
      this.sched.at(delayMs, owner, () => target.node?.step(delivered));
    }
  }

  /**
   * Serves a write or linearizable read that arrived at replica `replicaId` (running `node`)
   * as a real replica does: here when it leads or knows no leader, else forwarded to the leader.
   */
  serve(replicaId: number, node: ReplicaNode, request: SimRequest, timeoutMs: number): Promise<SimAnswer> {
    return viaLeader(node, this.get(replicaId).forwarder, request, request.kind === 'write', timeoutMs, () => runHere(node, request));
  }

  /**
   * A forwarded request crosses the link to the leader (false when its process is down: a
   * real follower's stream to it would be broken), runs there as the leader's own, and the
   * answer crosses back to `forwarder`, the incarnation that sent it.
   */
  private forwardTo(from: SimProcess, forwarder: Forwarder<SimRequest, SimAnswer>, fromId: number, leaderId: number, id: number, request: SimRequest): boolean {
    const target = this.replicas.get(leaderId);
    if (!from.alive || target === undefined || target.process === null) return false;
    this.stats.forwarded++;
    for (const delayMs of this.network.route(fromId, leaderId, this.random)) {
      const owner = target.process;
      this.sched.at(delayMs, owner, () => {
        const node = target.node;
        if (node === null) return; // still starting: never answered, the follower's deadline ends the wait
        const back = (outcome: ForwardOutcome<SimAnswer>): void => {
          if (!owner.alive) return;
          for (const d of this.network.route(leaderId, fromId, this.random)) this.sched.at(d, from, () => forwarder.answer(leaderId, id, outcome));
        };
        runHere(node, request).then((ok) => back({ ok }), (error: unknown) => back({ error: error instanceof Error ? error : new Error(String(error)) }));
      });
    }
    return true;
  }

  /**
   * A client's call: the request crosses the link (it may be lost, delayed or delivered twice),
   * runs on the replica's process, and the answer crosses back to the client's process.
   */
  call<T>(client: SimProcess, clientNetId: number, replicaId: number, handler: (node: ReplicaNode) => Promise<T>, reply: (outcome: { ok: T } | { error: Error }) => void): void {
    const target = this.get(replicaId);
    for (const delayMs of this.network.route(clientNetId, replicaId, this.random)) {
      const owner = target.process;
      if (owner === null) continue;
      this.sched.at(delayMs, owner, () => {
        const node = target.node;
        const back = (outcome: { ok: T } | { error: Error }): void => {
          if (!owner.alive) return;
          for (const d of this.network.route(replicaId, clientNetId, this.random)) this.sched.at(d, client, () => reply(outcome));
        };
        let result: Promise<T>;
        try {
          result = node === null ? Promise.reject(new UnavailableError(`replica ${replicaId} is starting`)) : handler(node);
        } catch (err) {
          result = Promise.reject(err instanceof Error ? err : new Error(String(err)));
        }
        result.then((ok) => back({ ok }), (error: unknown) => back({ error: error instanceof Error ? error : new Error(String(error)) }));
      });
    }
  }

  private snapshotSource(r: SimReplica, process: SimProcess): SnapshotSource {
    return { fetch: (peerId, min) => new SimSnapshotStream(this, process, r.id, peerId, min) };
  }

  // ---- checks ----

  /** Agreement: every replica that applied through an instance holds the same state there. */
  checkAgreement(): void {
    for (const r of this.replicas.values()) {
      const node = r.node;
      if (node === null) continue;
      const sm = node.stateMachine;
      if (sm.appliedInstance === r.checkedInstance) continue;
      r.checkedInstance = sm.appliedInstance;
      const checksum = stateChecksum(sm);
      const seen = this.checksums.get(sm.appliedInstance);
      if (seen === undefined) this.checksums.set(sm.appliedInstance, { replicaId: r.id, checksum });
      else if (seen.checksum !== checksum) {
        this.options.violation(`agreement: r${r.id} and r${seen.replicaId} hold different states at applied instance ${sm.appliedInstance}`);
      }
    }
  }
}

/** A sabotaged network: what would reveal a rolled-back replica never arrives. */
function withoutRollbackCheck(m: Message): Message {
  if (m.type === 'stampCheckReply') return { ...m, rolledBack: false };
  if (m.type === 'heartbeat') return { ...m, stamps: [] };
  return m;
}

function randomOf(rng: SplitMix32): { next: () => number } {
  return { next: () => rng.nextUint32() / 2 ** 32 };
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** A snapshot fetch over the simulated network, from the peer's real snapshot store. */
class SimSnapshotStream implements SnapshotStream {
  private cancelled = false;
  private rejectCancelled: (err: Error) => void = () => undefined;
  private readonly whenCancelled: Promise<never>;
  private chunks: AsyncGenerator<SnapshotChunk> | null = null;

  constructor(
    private readonly cluster: SimCluster,
    private readonly process: SimProcess,
    private readonly selfId: number,
    private readonly peerId: number,
    private readonly minThroughInstance: number,
  ) {
    this.whenCancelled = new Promise<never>((_, reject) => {
      this.rejectCancelled = reject;
    });
    this.whenCancelled.catch(() => undefined);
  }

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.rejectCancelled(new CancelledError('snapshot fetch cancelled'));
    this.chunks?.return(undefined).catch(() => undefined);
  }

  close(): void {
    this.cancel();
  }

  [Symbol.asyncIterator](): AsyncIterator<SnapshotChunk__Output> {
    return {
      next: () => Promise.race([this.step(), this.whenCancelled]),
      return: () => {
        this.cancel();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }

  private async step(): Promise<IteratorResult<SnapshotChunk__Output>> {
    await this.hop();
    const { faults, random } = this.cluster;
    if (random.nextInt(1000) < faults.snapshotFailPermille) throw new UnavailableError(`injected: snapshot stream from r${this.peerId} broke`);
    if (random.nextInt(1000) < faults.snapshotStallPermille) await this.whenCancelled;
    if (this.chunks === null) {
      const storage = this.cluster.get(this.peerId).storage;
      if (storage === null) throw new UnavailableError(`r${this.peerId} is down`);
      const latest = storage.snapshots.latest();
      if (latest === undefined || latest.throughInstance < this.minThroughInstance) {
        throw new UnavailableError(`no snapshot through instance ${this.minThroughInstance} or later on r${this.peerId}`);
      }
      this.chunks = snapshotChunks(storage.snapshots, latest);
    }
    const next = await this.chunks.next();
    if (next.done === true) return { done: true, value: undefined };
    const c = next.value;
    return {
      done: false,
      value: {
        throughInstance: Number(c.throughInstance ?? 0),
        size: Number(c.size ?? 0),
        hash: Buffer.from((c.hash ?? new Uint8Array(0)) as Uint8Array),
        offset: Number(c.offset ?? 0),
        data: Buffer.from((c.data ?? new Uint8Array(0)) as Uint8Array),
      },
    };
  }

  /** One crossing of the link from the peer: delayed, or lost (the stream then stalls until cancelled). */
  private async hop(): Promise<void> {
    const delays = this.cluster.network.route(this.peerId, this.selfId, this.cluster.random);
    if (delays.length === 0) return this.whenCancelled;
    await new Promise<void>((resolve) => this.cluster.sched.at(delays[0]!, this.process, resolve));
  }
}
