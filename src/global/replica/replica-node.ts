// The replica driver (docs/consensus.md, docs/architecture.md): wires the pure consensus core to the
// storage engine, the peer transport, the state machine and a ticking clock. It coordinates;
// each part lives in its own file:
//   ready-loop.ts   the loop over the core's Ready: persist -> send -> apply -> reads -> advance
//   proposals.ts    the leader's proposals (encoding, batching, settling)
//   read-rounds.ts  linearizable read rounds
//   snapshots.ts    taking, installing and restoring snapshots
//   ticks.ts        the core's ticks on the monotonic clock

import { assert } from '../../protocol/assert.ts';
import type { Clock } from '../../protocol/backoff.ts';
import { checkInteger } from '../../protocol/config-check.ts';
import { ClosedError, InvalidArgumentError, NotLeaderError, UnavailableError } from '../../protocol/errors.ts';
import type { TxnRequest__Output } from '../../protocol/generated/dstore/v1/TxnRequest.ts';
import {
  defaultConfig,
  Replica,
  SplitMix32,
  type LogEntry,
  type Message,
  type Ready,
  type ReplicaConfig,
  type RollbackDetected,
  type ReplicaStatus,
} from '../../consensus/index.ts';
import { ProgressWaiters } from './progress-waiters.ts';
import { Proposals } from './proposals.ts';
import { BATCHER_DEFAULTS, type BatcherConfig, type ProposeOutcome } from './proposal-batcher.ts';
import { ReadRounds } from './read-rounds.ts';
import { ReadyLoop } from './ready-loop.ts';
import { recoveredAbove, restoreStateMachine, Snapshots } from './snapshots.ts';
import { Ticks } from './ticks.ts';
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

export class ReplicaNode {
  private readonly replica: Replica;
  private sm: StateMachine;
  private readonly loop: ReadyLoop;
  private readonly ticks: Ticks;
  private readonly proposals: Proposals;
  private readonly reads: ReadRounds;
  private readonly snapshots: Snapshots;
  private readonly applied: ProgressWaiters;
  private readonly revisions: ProgressWaiters;
  private started = false;
  private closed = false;
  private wasLeader = false;
  private lastLeaderId = 0;
  private wasRecovering = false;
  private readonly appliedListeners: AppliedListener[] = [];
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
    this.loop = new ReadyLoop(this.replica, {
      persist: (update, deferrable) => env.storage.stable.persist(update, deferrable),
      send: env.send,
      apply: (entry) => this.apply(entry),
      answerRead: (read) => this.reads.answer(read, () => this.notLeader()),
      snapshotNeeded: (request) => this.snapshotNeeded?.(request.fromReplicaId, request.throughInstanceMin),
      advanced: (ready) => this.advanced(ready),
      fatal: (err) => this.fatal(err),
      defer: env.defer ?? setImmediate,
    });
    this.ticks = new Ticks(env.clock, config.tickMs, (missed) => {
      env.storage.stable.ageDeferred();
      this.replica.tick(missed);
      this.loop.kick();
    });
    this.snapshots = new Snapshots({
      storage: env.storage,
      closed: () => this.closed,
      compactLog: (through) => this.loop.atBoundary(() => this.replica.compact(through)),
      fatal: (err) => this.fatal(err),
    }, config.snapshotEveryInstances, recovered.snapshotThrough);
    this.proposals = new Proposals((commands) => this.propose(commands), config.batcher);
    this.reads = new ReadRounds((roundId) => {
      this.ticks.catchUp();
      this.replica.read(roundId);
      this.loop.kick();
    });
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
    return new ReplicaNode(config, env, await restoreStateMachine(env.storage, config.stateMachine));
  }

  /** Starts ticking. Peer messages are fed with `step` by the transport. */
  start(): void {
    assert(!this.started, 'ReplicaNode.start called twice');
    this.started = true;
    const status = this.replica.status();
    this.wasRecovering = status.recovery !== null;
    if (this.wasRecovering) this.env.onRecovery?.('started', status);
    this.ticks.start();
    this.loop.kick();
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
    this.ticks.catchUp();
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
    this.loop.kick();
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
    return this.proposals.submit(writeId, txn);
  }

  private propose(commands: readonly Uint8Array[]): ProposeOutcome {
    const r = this.replica.propose(commands);
    this.loop.kick();
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
    this.ticks.catchUp();
    if (!this.isLeader()) throw this.notLeader();
    const readThrough = await this.reads.readPoint();
    await this.applied.wait(readThrough, this.config.readWaitMsMax);
  }

  /** Resolves once this replica has applied `revision` (read-your-writes on any replica). */
  waitForRevision(revision: number): Promise<void> {
    return this.revisions.wait(revision, this.config.readWaitMsMax);
  }

  // ---- what each Ready does here ------------------------------------------------------

  private apply(entry: LogEntry): void {
    // A snapshot newer than the WAL's compaction point already holds this instance.
    if (entry.instance <= this.sm.appliedInstance) return;
    const commands = this.proposals.commandsOf(entry);
    const revisionBefore = this.sm.revision;
    const results = this.sm.applyInstance(entry.instance, commands);
    this.proposals.decided(entry, results);
    this.applied.advance(this.sm.appliedInstance);
    if (this.sm.revision !== revisionBefore) {
      this.revisions.advance(this.sm.revision);
      for (const listener of this.appliedListeners) listener(this.sm.revision, commands);
    }
    this.snapshots.maybeTake(this.sm);
  }

  private advanced(ready: Ready): void {
    if (ready.rollback !== undefined) this.noticeRollback(ready.rollback);
    this.noticeLeadership();
    this.noticeRecovery();
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
      this.proposals.failAllPending(err);
      this.reads.failInFlight(() => this.notLeader());
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

  // ---- snapshots (snapshots.ts) ------------------------------------------------------

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
    const incoming = await this.snapshots.prepareInstall(through, bytes, this.config.stateMachine);
    await this.loop.atNextBoundary(() => {
      if (through > this.sm.appliedInstance) {
        this.sm = incoming;
        this.applied.reset(this.sm.appliedInstance);
        this.revisions.reset(this.sm.revision);
      }
      // A no-op when the core already applied through it. A leader whose proposals the
      // snapshot covers steps down here (replica.ts explains why).
      this.replica.installSnapshot(through);
      // The instances it covers are never handed out as decided: settle their waiters now.
      this.proposals.coveredBySnapshot(through, this.sm, (instance) => new UnavailableError(
        `instance ${instance} was covered by a snapshot installed from a peer before this replica learned what was decided there; the write may or may not have run: retry with the same write id (it runs at most once)`,
      ));
    });
  }

  /** Forces a snapshot now (operators, tests); resolves once it is durable. */
  snapshotNow(): Promise<number> {
    return this.snapshots.takeNow(this.sm);
  }

  /** Resolves once no snapshot write or compaction is running (before storage closes). */
  snapshotsIdle(): Promise<void> {
    return this.snapshots.idle();
  }

  private fatal(err: unknown): void {
    if (this.closed) return;
    this.env.onFatal(err);
  }

  /** Stops ticking and fails everything pending with ClosedError. Storage is the caller's. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.loop.close();
    this.ticks.stop();
    const err = new ClosedError('replica is shutting down');
    this.proposals.failAllPending(err);
    this.reads.failInFlight(() => err);
    this.applied.close();
    this.revisions.close();
    // Boundary work will never run now: let anything waiting on it (installSnapshot) fail.
    this.loop.settleBoundaryWork();
  }
}
