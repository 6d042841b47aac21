// The replica driver (docs/consensus.md, docs/architecture.md): wires the pure consensus core to the
// storage engine, the peer transport, the state machine and a ticking clock.
//
// The one loop (`runLoop`) does, for each Ready and nowhere else:
//   persist (durable before anything is sent) -> send -> apply decided -> answer reads
//   -> advance.
// Inputs (peer messages, ticks, proposals, read requests) may arrive while a Ready is being
// persisted; they land in the next Ready, which is how many proposals share one fsync.

import { assert } from '../../protocol/assert.ts';
import type { Clock, Timer } from '../../protocol/backoff.ts';
import { checkInteger } from '../../protocol/config-check.ts';
import { ClosedError, CorruptError, InvalidArgumentError, NotFoundError, NotLeaderError, UnavailableError } from '../../protocol/errors.ts';
import type { TxnRequest__Output } from '../../protocol/generated/dstore/v1/TxnRequest.ts';
import {
  compareBallots,
  defaultConfig,
  Replica,
  SplitMix32,
  type LogEntry,
  type RecoveredState,
  type Message,
  type Ready,
  type ReplicaConfig,
  type RollbackDetected,
  type ReplicaStatus,
  vouchesForPersist,
} from '../../consensus/index.ts';
import { decodeCommand, encodeCommand, txnOf } from './codec.ts';
import { ProgressWaiters } from './progress-waiters.ts';
import { ProposalBatcher, BATCHER_DEFAULTS, type BatcherConfig, type ProposeOutcome } from './proposal-batcher.ts';
import { decodeSnapshot, encodeSnapshot } from '../state/snapshot.ts';
import { StateMachine, STATE_MACHINE_DEFAULTS, type StateMachineConfig } from '../state/state-machine.ts';
import type { Command, InvalidCommand, TxnResult, WriteId } from '../state/types.ts';
import type { StorageEngine } from '../storage/engine.ts';

export interface ReplicaNodeConfig {
  readonly replicaId: number;
  /** Every member, this replica included: id -> "host:port" clients and peers use. */
  readonly members: ReadonlyMap<number, string>;
  /** Milliseconds per consensus tick: election timeout and heartbeats count ticks. */
  readonly tickMs: number;
  /** Overrides of the consensus core's defaults (timeouts in ticks, window, ...). */
  readonly consensus: Partial<Omit<ReplicaConfig, 'replicaId' | 'replicaIds'>>;
  readonly stateMachine: StateMachineConfig;
  readonly batcher: BatcherConfig;
  /** Take a snapshot (and drop the log behind it) every this many applied instances. */
  readonly snapshotEveryInstances: number;
  /** How long a read waits for its read point or minRevision before failing retryably. */
  readonly readWaitMsMax: number;
}

export const REPLICA_NODE_DEFAULTS = {
  tickMs: 50,
  consensus: {},
  stateMachine: STATE_MACHINE_DEFAULTS,
  batcher: BATCHER_DEFAULTS,
  snapshotEveryInstances: 10_000,
  readWaitMsMax: 5_000,
} as const;

export interface ReplicaNodeEnv {
  readonly storage: StorageEngine;
  readonly clock: Clock;
  /** Seed for the consensus core's randomized election timeouts. */
  readonly seed: number;
  /** Hands a consensus message to the network (PeerTransport.send). */
  readonly send: (message: Message) => void;
  /** Called once on an unrecoverable error (a failed fsync, a broken invariant): stop the process. */
  readonly onFatal: (err: unknown) => void;
  /**
   * Runs `work` on a later macrotask (default `setImmediate`): how the loop is scheduled after
   * an input. A simulation passes its own scheduler so every step of the node is ordered by it.
   */
  readonly defer?: (work: () => void) => void;
  /** Told after a Ready when the leader this replica follows changed (0: none known); for logs and metrics. */
  readonly onLeaderChange?: (leaderId: number, previousLeaderId: number) => void;
  /**
   * Told at `start` when the replica starts recovering (its storage held no consensus hard
   * state: a new or wiped data directory), and after the Ready in which it recovered; for logs.
   */
  readonly onRecovery?: (event: 'started' | 'finished', status: ReplicaStatus) => void;
  /**
   * Told after the Ready in which the replica learned that its data directory was rolled back
   * to an older copy (a peer had seen a later vote of it than its storage holds); it has
   * started recovering (onRecovery 'started' follows). For a loud log line.
   */
  readonly onRollback?: (rollback: RollbackDetected) => void;
}

/** Told after each applied instance that changed the revision (subscribers, blob fetches). */
export type AppliedListener = (revision: number, commands: readonly (Command | InvalidCommand)[]) => void;
/** Told when consensus needs a snapshot from a peer (Ready.snapshotRequest). */
export type SnapshotNeededHandler = (fromReplicaId: number, throughInstanceMin: number) => void;

function checkConfig(config: ReplicaNodeConfig): void {
  checkInteger('tickMs', config.tickMs, 1, 60_000);
  checkInteger('snapshotEveryInstances', config.snapshotEveryInstances, 1);
  checkInteger('readWaitMsMax', config.readWaitMsMax, 1);
  if (!config.members.has(config.replicaId)) {
    throw new InvalidArgumentError(`replica id ${config.replicaId} is not among the members ${[...config.members.keys()].join(', ')}`);
  }
}

interface ReadWaiter {
  readonly resolve: (readThrough: number) => void;
  readonly reject: (err: Error) => void;
}

export class ReplicaNode {
  private readonly replica: Replica;
  private sm: StateMachine;
  private readonly batcher: ProposalBatcher<TxnResult>;
  private readonly applied: ProgressWaiters;
  private readonly revisions: ProgressWaiters;
  private ticker: Timer | null = null;
  /** `clock.nowMs()` at start: the core's ticks count whole tickMs from here. */
  private tickEpochMs = 0;
  /** Ticks since start accounted for (fed to the core, or skipped in a capped burst). */
  private ticksCounted = 0;
  private loopScheduled = false;
  private loopRunning = false;
  private closed = false;
  private wasLeader = false;
  private lastLeaderId = 0;
  private wasRecovering = false;
  /** Work that must run between advance() and the next ready(). */
  private atLoopBoundary: (() => void)[] = [];
  private snapshotting = false;
  /** Storage steps of snapshots, one at a time (see "snapshots" below). */
  private snapshotWork: Promise<void> = Promise.resolve();
  // Invariant: a snapshot through `snapshotThrough` is durable in the snapshot store and the
  // state machine has applied (or is about to install) at least that far; a snapshot step at
  // or below it is obsolete.
  private snapshotThrough: number;
  private collectingRead: { id: number; waiters: ReadWaiter[] } | null = null;
  private readonly readsInFlight = new Map<number, ReadWaiter[]>();
  private nextReadId = 1;
  private readonly appliedListeners: AppliedListener[] = [];
  /**
   * Commands this replica proposed, by the identity of their encoded bytes, as `decodeCommand`
   * would return them: applying its own proposals the leader skips decoding them again. The
   * log hands back the very same arrays; entries leave with them.
   */
  private readonly proposedHere = new WeakMap<Uint8Array, Command>();
  private snapshotNeeded: SnapshotNeededHandler | null = null;

  private constructor(
    readonly config: ReplicaNodeConfig,
    private readonly env: ReplicaNodeEnv,
    stateMachine: StateMachine,
  ) {
    this.sm = stateMachine;
    const recovered = recoveredAbove(env.storage.recovered(), stateMachine.appliedInstance);
    const consensus: ReplicaConfig = { ...defaultConfig(config.replicaId, [...config.members.keys()]), ...config.consensus };
    this.replica = new Replica(consensus, new SplitMix32(env.seed), recovered);
    this.snapshotThrough = recovered.snapshotThrough;
    this.batcher = new ProposalBatcher<TxnResult>((commands) => this.propose(commands), config.batcher);
    this.applied = new ProgressWaiters('applied instance', env.clock);
    this.revisions = new ProgressWaiters('applied revision', env.clock);
    this.applied.reset(stateMachine.appliedInstance);
    this.revisions.reset(stateMachine.revision);
  }

  /**
   * Restores the state machine from the newest snapshot in `env.storage` and builds the
   * replica on what the WAL recovered. Throws InvalidArgumentError for a bad config,
   * CorruptError for a snapshot that does not decode.
   */
  static async open(config: ReplicaNodeConfig, env: ReplicaNodeEnv): Promise<ReplicaNode> {
    checkConfig(config);
    let sm = new StateMachine(config.stateMachine);
    if (env.storage.snapshots.latest() !== undefined) {
      const chunks: Uint8Array[] = [];
      for await (const chunk of env.storage.snapshots.read()) chunks.push(chunk.bytes);
      sm = decodeSnapshot(Buffer.concat(chunks), config.stateMachine);
    }
    return new ReplicaNode(config, env, sm);
  }

  /** Starts ticking. Peer messages are fed with `step` by the transport. */
  start(): void {
    assert(this.ticker === null, 'ReplicaNode.start called twice');
    const status = this.replica.status();
    this.wasRecovering = status.recovery !== null;
    if (this.wasRecovering) this.env.onRecovery?.('started', status);
    this.tickEpochMs = this.env.clock.nowMs();
    const tick = (): void => {
      if (this.closed) return;
      this.catchUpTicks();
      // Aimed at the next tick boundary on the monotonic clock, so lateness does not add up.
      const nextMs = this.tickEpochMs + (this.ticksCounted + 1) * this.config.tickMs;
      this.ticker = this.env.clock.setTimer(tick, Math.max(1, nextMs - this.env.clock.nowMs()), false);
    };
    this.ticker = this.env.clock.setTimer(tick, this.config.tickMs, false);
    this.kick();
  }

  /**
   * Brings the core's tick count up to the monotonic clock: one tick per whole tickMs since
   * start (docs/consensus.md, "Time and the lease"). A timer only says when to look; the clock
   * says how many ticks are due, so a stalled event loop (GC, a long synchronous step, a paused
   * VM or process) resumes with every tick it missed instead of one. Called before anything
   * that depends on time: each timer, each lease read, `hasLiveLeader`. The core's lease counts
   * every missed tick; its election and check-quorum timers count one per call, so a stall
   * reads the messages queued meanwhile before it can look like silence (replica.ts, `tick`).
   */
  private catchUpTicks(): void {
    if (this.closed || this.ticker === null) return;
    const due = Math.floor((this.env.clock.nowMs() - this.tickEpochMs) / this.config.tickMs);
    const missed = due - this.ticksCounted;
    if (missed <= 0) return;
    this.ticksCounted = due;
    this.replica.tick(missed);
    this.kick();
  }

  /** Registers a listener for applied revisions; listeners run synchronously, in order. */
  addAppliedListener(listener: AppliedListener): void {
    this.appliedListeners.push(listener);
  }

  /** Sets who fetches and installs a snapshot when consensus asks for one. */
  setSnapshotNeededHandler(handler: SnapshotNeededHandler): void {
    this.snapshotNeeded = handler;
  }

  get stateMachine(): StateMachine {
    return this.sm;
  }

  get replicaId(): number {
    return this.config.replicaId;
  }

  status(): ReplicaStatus {
    return this.replica.status();
  }

  /** "host:port" of the replica this one believes leads, or '' when unknown. */
  leaderAddress(): string {
    const leaderId = this.replica.status().leaderId;
    return leaderId === 0 ? '' : (this.config.members.get(leaderId) ?? '');
  }

  isLeader(): boolean {
    return this.replica.status().role === 'leader';
  }

  /** The leader this replica follows (itself when it leads), 0 when none is known. */
  leaderId(): number {
    return this.replica.status().leaderId;
  }

  /**
   * True while this replica leads under a valid lease, or follows a leader it heard from
   * within the election timeout: its applied state is not known to be stale.
   */
  hasLiveLeader(): boolean {
    this.catchUpTicks();
    const s = this.replica.status();
    return s.role === 'leader' ? s.leaseValid : s.role === 'follower' && s.leaderId !== 0;
  }

  private notLeader(): NotLeaderError {
    const hint = this.leaderAddress();
    return new NotLeaderError(
      hint === '' ? `replica ${this.config.replicaId} is not the leader and knows no leader yet (election in progress): retry shortly` : `replica ${this.config.replicaId} is not the leader; the leader is at ${hint}`,
      hint,
    );
  }

  /** A peer's consensus message. */
  step(message: Message): void {
    if (this.closed) return;
    this.replica.step(message);
    this.kick();
  }

  // ---- writes ---------------------------------------------------------------------

  /**
   * Proposes a transaction (already checked by `txnOf` when it came from a client) and
   * resolves with its result once decided and applied here. Fails with NotLeaderError
   * (retry at the hint), UnavailableError (retry), InvalidArgumentError.
   */
  submit(writeId: WriteId | null, txn: TxnRequest__Output): Promise<TxnResult> {
    if (this.closed) return Promise.reject(new ClosedError('replica is shutting down'));
    if (!this.isLeader()) return Promise.reject(this.notLeader());
    // Converted from the very object encoded, so it is what a follower decodes (codec.test.ts).
    const bytes = encodeCommand(writeId, txn);
    this.proposedHere.set(bytes, { writeId, txn: txnOf(txn) });
    return this.batcher.submit(bytes);
  }

  private propose(commands: readonly Uint8Array[]): ProposeOutcome {
    const r = this.replica.propose(commands);
    this.kick();
    switch (r.outcome) {
      case 'proposed': return r;
      case 'window-full': return r;
      case 'not-leader': return { outcome: 'not-leader', leaderHint: r.leaderId === 0 ? '' : (this.config.members.get(r.leaderId) ?? '') };
    }
  }

  // ---- reads ------------------------------------------------------------------------

  /**
   * Resolves when the state machine may serve a linearizable read: this replica leads and
   * has applied everything decided before the read began (lease or read-index round).
   */
  async linearizableBarrier(): Promise<void> {
    if (this.closed) throw new ClosedError('replica is shutting down');
    // The lease is judged against the clock as it is now, not as of the last timer that ran.
    this.catchUpTicks();
    if (!this.isLeader()) throw this.notLeader();
    const readThrough = await new Promise<number>((resolve, reject) => {
      if (this.collectingRead === null) {
        const round = { id: this.nextReadId++, waiters: [] as ReadWaiter[] };
        this.collectingRead = round;
        // Every read that arrives in this turn shares one consensus read round.
        queueMicrotask(() => {
          this.collectingRead = null;
          this.readsInFlight.set(round.id, round.waiters);
          this.catchUpTicks();
          this.replica.read(round.id);
          this.kick();
        });
      }
      this.collectingRead.waiters.push({ resolve, reject });
    });
    await this.applied.wait(readThrough, this.config.readWaitMsMax);
  }

  /** Resolves once this replica has applied `revision` (read-your-writes on any replica). */
  waitForRevision(revision: number): Promise<void> {
    return this.revisions.wait(revision, this.config.readWaitMsMax);
  }

  // ---- the loop ----------------------------------------------------------------------

  private kick(): void {
    if (this.loopScheduled || this.loopRunning || this.closed) return;
    this.loopScheduled = true;
    (this.env.defer ?? setImmediate)(() => {
      this.loopScheduled = false;
      this.runLoop().catch((err: unknown) => this.fatal(err));
    });
  }

  private async runLoop(): Promise<void> {
    if (this.loopRunning || this.closed) return;
    this.loopRunning = true;
    try {
      for (;;) {
        this.runBoundaryWork();
        const ready = this.replica.ready();
        if (ready === null) break;
        await this.handle(ready);
        if (this.closed) return;
        this.replica.advance();
        if (ready.rollback !== undefined) this.noticeRollback(ready.rollback);
        this.noticeLeadership();
        this.noticeRecovery();
      }
    } finally {
      this.loopRunning = false;
    }
  }

  private async handle(ready: Ready): Promise<void> {
    // 2a. Messages that are not votes leave at once: a leader's Accepts travel while its
    // own disk write runs (ready.ts explains why that is safe).
    for (const message of ready.messages) if (!vouchesForPersist(message)) this.env.send(message);
    // 1. persist: durable before any vote on it (Promise, Accepted) leaves. A Ready that
    // only moves decisions (mustSync false) is written but not waited for: losing it in a
    // crash is safe, the WAL keeps it ahead of every later record, and waiting would hold the
    // answer to the client for a disk write (and the next Ready behind it).
    if (ready.persist.entries.length > 0 || ready.persist.hardState !== undefined) {
      const written = this.env.storage.stable.persist(ready.persist);
      if (ready.mustSync) {
        await written;
      } else {
        written.catch((err: unknown) => this.fatal(err));
      }
    }
    // 2b. The votes.
    for (const message of ready.messages) if (vouchesForPersist(message)) this.env.send(message);
    // 3. apply, in order.
    for (const entry of ready.decided) this.apply(entry);
    // 4. answer reads now that this Ready's decisions are applied.
    for (const read of ready.reads) this.answerRead(read);
    if (ready.snapshotRequest !== undefined) {
      this.snapshotNeeded?.(ready.snapshotRequest.fromReplicaId, ready.snapshotRequest.throughInstanceMin);
    }
  }

  private runBoundaryWork(): void {
    const work = this.atLoopBoundary;
    this.atLoopBoundary = [];
    for (const w of work) w();
  }

  private apply(entry: LogEntry): void {
    // A snapshot newer than the WAL's compaction point already holds this instance.
    if (entry.instance <= this.sm.appliedInstance) return;
    const raw = entry.value.kind === 'noop' ? [] : entry.value.commands;
    const commands = raw.map((bytes): Command | InvalidCommand => {
      const mine = this.proposedHere.get(bytes);
      if (mine !== undefined) return mine;
      try {
        return decodeCommand(bytes);
      } catch (err) {
        return { invalid: (err as Error).message };
      }
    });
    const revisionBefore = this.sm.revision;
    const results = this.sm.applyInstance(entry.instance, commands);
    this.batcher.decided(entry.instance, raw, results);
    this.applied.advance(this.sm.appliedInstance);
    if (this.sm.revision !== revisionBefore) {
      this.revisions.advance(this.sm.revision);
      for (const listener of this.appliedListeners) listener(this.sm.revision, commands);
    }
    this.maybeSnapshot();
  }

  private answerRead(read: Ready['reads'][number]): void {
    const waiters = this.readsInFlight.get(read.requestId);
    if (waiters === undefined) return;
    this.readsInFlight.delete(read.requestId);
    if (read.outcome === 'ready') {
      for (const w of waiters) w.resolve(read.readThrough);
    } else {
      const err = this.notLeader();
      for (const w of waiters) w.reject(err);
    }
  }

  private noticeLeadership(): void {
    const leaderId = this.replica.status().leaderId;
    if (leaderId !== this.lastLeaderId) {
      const previous = this.lastLeaderId;
      this.lastLeaderId = leaderId;
      this.env.onLeaderChange?.(leaderId, previous);
    }
    const leader = this.isLeader();
    if (this.wasLeader && !leader) {
      const err = new UnavailableError(`replica ${this.config.replicaId} lost leadership before the write was decided: retry (exactly-once with the same write id)`);
      this.batcher.failAllPending(err);
      for (const waiters of this.readsInFlight.values()) for (const w of waiters) w.reject(this.notLeader());
      this.readsInFlight.clear();
    }
    this.wasLeader = leader;
  }

  private noticeRollback(rollback: RollbackDetected): void {
    this.env.onRollback?.(rollback);
    this.wasRecovering = true;
    this.env.onRecovery?.('started', this.replica.status());
  }

  private noticeRecovery(): void {
    if (!this.wasRecovering) return;
    const status = this.replica.status();
    if (status.recovery !== null) return;
    this.wasRecovering = false;
    this.env.onRecovery?.('finished', status);
  }

  // ---- snapshots --------------------------------------------------------------------
  //
  // Every snapshot step that touches storage (a local snapshot and the WAL compaction behind
  // it, the compaction behind a snapshot installed from a peer) runs one at a time, in call
  // order, on `snapshotWork`. Without that, a slow local snapshot could try to compact the
  // WAL to an instance below a newer snapshot's compaction point (refused by the stable
  // store, which would be fatal). A step at or below `snapshotThrough` has nothing to do.

  private maybeSnapshot(): void {
    if (this.snapshotting || this.sm.appliedInstance - this.snapshotThrough < this.config.snapshotEveryInstances) return;
    this.snapshotting = true;
    // Encoding is synchronous, so the snapshot is exactly the state at this instance.
    const through = this.sm.appliedInstance;
    const bytes = encodeSnapshot(this.sm);
    this.writeSnapshot(through, bytes)
      .catch((err: unknown) => this.fatal(err))
      .finally(() => {
        this.snapshotting = false;
      });
  }

  private serially(work: () => Promise<void>): Promise<void> {
    const run = this.snapshotWork.then(work);
    this.snapshotWork = run.catch(() => undefined);
    return run;
  }

  /** Writes the local snapshot, drops the WAL behind it, then the core's log behind it. */
  private writeSnapshot(through: number, bytes: Uint8Array): Promise<void> {
    return this.serially(async () => {
      if (through <= this.snapshotThrough || this.closed) return;
      const meta = await this.env.storage.snapshots.write(through, [bytes]);
      await this.env.storage.compactToSnapshot(meta);
      this.snapshotThrough = through;
      this.atLoopBoundary.push(() => this.replica.compact(through));
      this.kick();
    });
  }

  /**
   * Replaces the state machine with a snapshot fetched from a peer: `bytes` is its payload,
   * already durable and verified in the snapshot store as the snapshot through `through`.
   * Order (each step survives a crash after it): the WAL is compacted to the snapshot, so no
   * restart can find a decided prefix the WAL cannot back; then, at the next loop boundary,
   * the state machine is swapped and the core told (its next Ready persists the new decided
   * prefix). A snapshot this replica has already applied past changes nothing but the core's
   * snapshot point. Throws NotFoundError when the store no longer holds the snapshot (a newer
   * one replaced it), CorruptError when the payload does not decode as a state through
   * `through`, ClosedError when the node closes first. Does not keep `bytes`.
   */
  async installSnapshot(through: number, bytes: Uint8Array): Promise<void> {
    if (this.closed) throw new ClosedError('replica is shutting down');
    const meta = this.env.storage.snapshots.list().find((s) => s.throughInstance === through);
    if (meta === undefined) throw new NotFoundError(`snapshot through ${through} is not in the snapshot store`);
    const incoming = decodeSnapshot(bytes, this.config.stateMachine);
    if (incoming.appliedInstance !== through) {
      throw new CorruptError(`snapshot through ${through} holds a state applied through ${incoming.appliedInstance}`);
    }
    await this.serially(async () => {
      if (through <= this.snapshotThrough || this.closed) return;
      await this.env.storage.compactToSnapshot(meta);
      this.snapshotThrough = through;
    });
    await this.atNextBoundary(() => {
      if (through > this.sm.appliedInstance) {
        this.sm = incoming;
        this.applied.reset(this.sm.appliedInstance);
        this.revisions.reset(this.sm.revision);
      }
      // A no-op when the core already applied through it. A leader whose proposals the
      // snapshot covers steps down here (replica.ts explains why).
      this.replica.installSnapshot(through);
      // The instances it covers are never handed out as decided: settle their waiters now.
      this.batcher.coveredBySnapshot(through, (command) => this.resultInState(command), (instance) => new UnavailableError(
        `instance ${instance} was covered by a snapshot installed from a peer before this replica learned what was decided there; the write may or may not have run: retry with the same write id (it runs at most once)`,
      ));
    });
  }

  /**
   * The result the state machine recorded for a command this replica proposed, when its
   * WriteId's session holds one (the command ran); undefined when that is not known.
   */
  private resultInState(bytes: Uint8Array): TxnResult | undefined {
    const writeId = this.proposedHere.get(bytes)?.writeId ?? null;
    if (writeId === null) return undefined;
    const seen = this.sm.sessions.lookup(writeId);
    return seen.kind === 'duplicate' ? seen.result : undefined;
  }

  /** Runs `work` between advance() and the next ready(); rejects with what it throws. */
  private atNextBoundary(work: () => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.closed) return reject(new ClosedError('replica is shutting down'));
      this.atLoopBoundary.push(() => {
        if (this.closed) return reject(new ClosedError('replica is shutting down'));
        try {
          work();
          resolve();
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
      this.kick();
    });
  }

  /** Forces a snapshot now (operators, tests); resolves once it is durable. */
  async snapshotNow(): Promise<number> {
    const through = this.sm.appliedInstance;
    await this.writeSnapshot(through, encodeSnapshot(this.sm));
    return through;
  }

  /** Resolves once no snapshot write or compaction is running (before storage closes). */
  snapshotsIdle(): Promise<void> {
    return this.snapshotWork;
  }

  private fatal(err: unknown): void {
    if (this.closed) return;
    this.env.onFatal(err);
  }

  /** Stops ticking and fails everything pending with ClosedError. Storage is the caller's. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.ticker?.cancel();
    const err = new ClosedError('replica is shutting down');
    this.batcher.failAllPending(err);
    for (const waiters of this.readsInFlight.values()) for (const w of waiters) w.reject(err);
    this.readsInFlight.clear();
    this.applied.close();
    this.revisions.close();
    // Boundary work will never run now: let anything waiting on it (installSnapshot) fail.
    const work = this.atLoopBoundary;
    this.atLoopBoundary = [];
    for (const w of work) w();
  }
}

/**
 * What the consensus core restarts from when the state machine was restored from a snapshot
 * through `snapshotThrough` that is newer than the WAL's compaction point: a crash came
 * between a snapshot becoming durable and the WAL compaction behind it, or after a peer's
 * snapshot was installed. The core then starts at the snapshot (entries at or below it are
 * dropped) instead of replaying a log the state machine is already past, or finding a decided
 * prefix the WAL cannot back. An accepted entry dropped here still raises the promise, as the
 * core does for every recovered accept. Pure; does not modify `recovered`.
 */
export function recoveredAbove(recovered: RecoveredState, snapshotThrough: number): RecoveredState {
  if (snapshotThrough <= recovered.snapshotThrough) return recovered;
  let promised = recovered.hardState.promised;
  const entries: LogEntry[] = [];
  for (const entry of recovered.entries) {
    if (entry.instance > snapshotThrough) entries.push(entry);
    else if (!entry.decided && entry.instance > recovered.hardState.decidedThrough && compareBallots(entry.ballot, promised) > 0) promised = entry.ballot;
  }
  return { hardState: { ...recovered.hardState, promised }, entries, snapshotThrough };
}
