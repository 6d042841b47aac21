// One Multi-Paxos replica as a pure, synchronous state machine (docs/consensus.md), shaped
// like etcd raft's RawNode: inputs `step`, `tick`, `propose`, `read`; output `ready()`, then
// `advance()`. No I/O, clock, timers or ambient randomness: same inputs and seed, same outputs.
//
// Every replica is an acceptor and a learner; at most one at a time believes it leads.
//
// Following one proposal from `propose` to decided:
//   1. `propose(commands)` on the leader takes the next instance (`Proposer.nextInstance`),
//      accepts the value itself (`proposeAt`: log + Ready.persist) and queues an Accept to every
//      peer; Accepts for consecutive instances merge into one message (`Outbox.accept`).
//   2. The driver persists, then sends (Ready order). A peer's `onAccept` checks the ballot
//      against its promise, accepts the range (`acceptRange`: log + persist, mustSync) and
//      queues one Accepted reply, sent only after its own persist.
//   3. The leader's `onAccepted` counts acceptances (`Proposer.ack`); a majority marks the
//      instance decided and `Log.advanceDecidedThrough` moves the decided prefix.
//   4. The next `ready()` hands the newly decided prefix to the driver (`Ready.decided`) and
//      announces it to the peers on the next Accept, Heartbeat or a Decided message
//      (`announceDecisions`); peers mark their own copies decided in `learnDecidedPrefix`.
// Leadership comes first: `startPreVote` -> `startPrepare` (phase 1 for every instance from the
// first undecided one) -> `becomeLeader`, which fills every gap in one go.
//
// A replica that starts without a hard state (HardState.recovering; a new or wiped disk) first
// recovers (`startRecovery` .. `maybeFinishRecovery`, recovery.ts): it votes on nothing, asks every
// peer for its state, learns decisions as a learner, and votes again only once that is safe.
// One restarted on its stable state first has its vote stamp confirmed by the others (start-check.ts,
// stamps.ts): a peer that saw a later vote of it shows the data directory was rolled back, and
// the replica recovers instead.

import { assert, assertNever } from '../protocol/assert.ts';
import { ballotEquals, ballotGreater, ballotLess, maxBallot, nextBallot } from './ballot.ts';
import { Campaign, electionDeadlineTicks } from './campaign.ts';
import { validateConfig, type ReplicaConfig, type ValidatedConfig } from './config.ts';
import { Log, toEntry, type Slot } from './log.ts';
import type {
  Message,
  MsgAccept,
  MsgAccepted,
  MsgCatchUp,
  MsgCatchUpRequest,
  MsgDecided,
  MsgHeartbeat,
  MsgHeartbeatReply,
  MsgNack,
  MsgPrepare,
  MsgPreVote,
  MsgPreVoteReply,
  MsgPromise,
  MsgRecoveryQuery,
  MsgRecoveryReply,
  MsgSnapshotNeeded,
  MsgStampCheck,
  MsgStampCheckReply,
  NackReason,
} from './messages.ts';
import { Outbox } from './outbox.ts';
import { Proposer } from './proposer.ts';
import { Members } from './quorum.ts';
import type { Random } from './random.ts';
import { LeaderLease, ReadQueue } from './reads.ts';
import type { ReadState, Ready, RollbackDetected, SnapshotRequest } from './ready.ts';
import { Recovery, type RecoveryStatus } from './recovery.ts';
import { StampBook } from './stamps.ts';
import { StartCheck, type StartCheckStatus } from './start-check.ts';
import {
  compareStamps,
  INITIAL_HARD_STATE,
  STAMP_ZERO,
  type Ballot,
  type LogEntry,
  type RecoveredState,
  type SeenStamp,
  type Value,
  type VoteStamp,
} from './types.ts';
import { commandsValue, NOOP, valuesEqual } from './value.ts';

export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

export type ProposeResult =
  /** Queued at `instance`. It may still end up decided with another value if leadership changes. */
  | { readonly outcome: 'proposed'; readonly instance: number }
  /** Only the leader proposes; `leaderId` is the replica believed to lead, 0 if unknown. */
  | { readonly outcome: 'not-leader'; readonly leaderId: number }
  /** windowInstancesMax instances are in flight: propose again after more are decided. */
  | { readonly outcome: 'window-full' };

export interface ReplicaStatus {
  readonly replicaId: number;
  readonly role: Role;
  /** The replica this one follows (itself when leading), 0 when unknown. */
  readonly leaderId: number;
  readonly promised: Ballot;
  readonly decidedThrough: number;
  readonly appliedThrough: number;
  readonly snapshotThrough: number;
  /** The leader's next instance; 0 when not leading. */
  readonly nextInstance: number;
  readonly leaseValid: boolean;
  /** Set while the replica recovers (it votes on nothing meanwhile); null otherwise. */
  readonly recovery: RecoveryStatus | null;
  /** Set while a restarted replica waits for its vote stamp to be confirmed (every member, or after an election timeout a majority; it votes on nothing meanwhile). */
  readonly startCheck: StartCheckStatus | null;
  /** This replica's vote stamp (types.ts, VoteStamp). */
  readonly stamp: VoteStamp;
}

/** What empty storage gives back: a replica built from it recovers before it votes (in a group of more than one). */
export const EMPTY_RECOVERED_STATE: RecoveredState = Object.freeze({
  hardState: INITIAL_HARD_STATE,
  entries: Object.freeze([]),
  snapshotThrough: 0,
});

export class Replica {
  private readonly config: ValidatedConfig;
  private readonly members: Members;
  private readonly id: number;
  private readonly log = new Log();

  // Acceptor state. Invariant: every undecided slot's ballot <= promised.
  private promised: Ballot;
  private roundSeenMax: number;

  // Role and timers, all in this replica's ticks.
  private role: Role = 'follower';
  private leaderId = 0;
  /** Tick calls so far: the clock of liveness timers (election, check quorum, retries). */
  private nowTicks = 0;
  /**
   * Ticks of real time, a stall counting every tick it lasted: the lease's clock, which must
   * never run slow. Liveness timers count `nowTicks` instead, one per call, so that a stalled
   * process (GC, a long synchronous step, a paused VM) resumes by reading the messages that
   * queued meanwhile, not by campaigning or stepping down on a silence that was its own.
   */
  private clockTicks = 0;
  /** Ticks since a leader was last heard from; starts at 0 so a restarted replica keeps a lease-holder's promise. */
  private leaderSilentTicks = 0;
  private electionElapsedTicks = 0;
  private electionDeadline: number;
  private failedCampaigns = 0;
  private currentCampaign: Campaign | null = null;
  private proposer: Proposer | null = null;
  private lease: LeaderLease | null = null;
  private heartbeatSentTick = 0;
  /**
   * Leader: the decided prefix its phase 1 was told of (Promise.decidedThrough) and who told
   * it. Below it the leader re-proposes nothing and must fetch the values; `decidedMovedTick`
   * says when its own prefix last moved, so a leader that cannot fetch them steps down.
   */
  private prefixToLearn = { through: 0, from: 0 };
  private decidedMovedTick = 0;
  private readonly readQueue = new ReadQueue();
  /** Seq of a heartbeat round queued but not yet handed out: a read arriving now can ride on it. */
  private unsentRoundSeq = 0;
  private readonly announcedDecidedThrough = new Map<number, number>();
  private catchUpSentTick = Number.NEGATIVE_INFINITY;
  /** Non-null while recovering. Invariant: while set, role is 'follower', with no campaign and no proposer, and the replica makes no promise and accepts nothing. */
  private recovery: Recovery | null = null;

  // Vote stamps (docs/consensus.md, "A data directory rolled back").
  private incarnation: number;
  private voteSeq: number;
  /** voteSeq was raised for the Ready being built: one step per Ready that records a vote. */
  private voteInReady = false;
  /** The stamp of the last Ready handed out, and of the last one advanced (durable): what heartbeats say of us. */
  private readyStamp: VoteStamp;
  private durableStamp: VoteStamp;
  private readonly stamps: StampBook;
  /** Set from a restart on a hard state that is not recovering; kept after it passes, for late "rolled back" answers. */
  private startCheck: StartCheck | null = null;
  /** A rollback found since the last Ready, for the driver to report. */
  private rollback: RollbackDetected | null = null;

  // What the next Ready carries.
  private readonly outbox: Outbox;
  private entriesToPersist: LogEntry[] = [];
  private hardStateDirty = false;
  private syncNeeded = false;
  private readStates: ReadState[] = [];
  private snapshotRequest: SnapshotRequest | null = null;
  /** Decided instances applied (advanced) and handed out in a Ready. */
  private appliedThrough: number;
  private handedThrough: number;
  private readyOutstanding = false;

  /**
   * Builds a replica from its config (validated here: throws InvalidArgumentError), an injected
   * seeded `random`, and what storage recovered (EMPTY_RECOVERED_STATE for a new replica).
   * Keeps `random`; copies what it needs from `recovered`. After a restart, Ready.decided
   * replays the decided instances above the snapshot for the state machine to re-apply. When
   * `recovered.hardState.recovering` is set (storage never recorded a hard state, or recorded
   * one while recovering) and the group has other members, the replica starts recovering: its
   * first Ready asks every peer for its state.
   */
  constructor(config: ReplicaConfig, private readonly random: Random, recovered: RecoveredState = EMPTY_RECOVERED_STATE) {
    this.config = validateConfig(config);
    this.id = this.config.replicaId;
    this.members = new Members(this.config.sortedReplicaIds, this.id, this.config.quorum);
    this.outbox = new Outbox(this.config.messageEntriesMax);
    this.promised = this.restore(recovered);
    this.roundSeenMax = this.promised.round;
    const stamp = recovered.hardState.stamp ?? STAMP_ZERO;
    this.incarnation = stamp.incarnation;
    this.voteSeq = stamp.voteSeq;
    this.readyStamp = this.stamp();
    this.durableStamp = this.readyStamp;
    this.stamps = new StampBook(this.id, recovered.hardState.stampsSeen ?? []);
    this.appliedThrough = this.log.snapshotThrough;
    this.handedThrough = this.log.snapshotThrough;
    this.electionDeadline = electionDeadlineTicks(this.config.electionTimeoutTicks, 0, random);
    if (this.members.size > 1) {
      if (recovered.hardState.recovering) this.startRecovery();
      else this.beginStartCheck();
    }
  }

  /** Loads recovered state into the log; returns the promise (raised to any accepted ballot). */
  private restore(recovered: RecoveredState): Ballot {
    const { hardState, entries, snapshotThrough } = recovered;
    assert(Number.isSafeInteger(snapshotThrough) && snapshotThrough >= 0, `recovered snapshotThrough ${snapshotThrough}`);
    this.log.truncateThrough(snapshotThrough, true);
    let promised = hardState.promised;
    let previous = snapshotThrough;
    for (const entry of entries) {
      assert(entry.instance > previous, `recovered entries not ascending above the snapshot at ${entry.instance}`);
      previous = entry.instance;
      if (entry.decided || entry.instance <= hardState.decidedThrough) {
        this.log.learn(entry.instance, entry.ballot, entry.value);
      } else {
        this.log.accept(entry.instance, entry.ballot, entry.value);
        // Entries are written before the hard state: an accept implies its promise.
        promised = maxBallot(promised, entry.ballot);
      }
    }
    this.log.advanceDecidedThrough();
    assert(
      this.log.decidedThrough >= hardState.decidedThrough,
      `recovered decidedThrough ${hardState.decidedThrough} but instance ${this.log.decidedThrough + 1} is missing`,
    );
    return promised;
  }

  // ---------------------------------------------------------------------------------------
  // Inputs

  /**
   * Advances time: `elapsedTicks` of real time have passed since the last call (more than one
   * after a stall). The lease counts them all; election timeouts, heartbeats and retries count
   * one tick per call.
   */
  tick(elapsedTicks = 1): void {
    assert(Number.isSafeInteger(elapsedTicks) && elapsedTicks >= 1, 'tick: elapsedTicks must be a positive integer');
    this.clockTicks += elapsedTicks;
    this.nowTicks++;
    const recovery = this.recovery;
    if (recovery !== null) return this.tickRecovery(recovery);
    const check = this.startCheck;
    if (check !== null && !check.passed) return this.tickStartCheck(check);
    switch (this.role) {
      case 'follower':
      case 'pre-candidate':
      case 'candidate':
        this.tickElection();
        return;
      case 'leader':
        this.tickLeader();
        return;
      default:
        assertNever(this.role, 'role');
    }
  }

  /**
   * Campaigns now instead of waiting for the election timeout (tests, operators). Returns false,
   * doing nothing, on a leader, on a recovering replica (it does not vote, not even for itself),
   * and on a replica that heard from a leader within electionTimeoutTicks (or restarted less
   * than that ago): it may have acked that leader's lease, and campaigning would break its word.
   * It still runs the pre-vote, so it cannot depose a leader the others still hear.
   */
  campaign(): boolean {
    if (this.recovery !== null || !this.startCheckPassed) return false;
    if (this.role === 'leader' || this.leaderSilentTicks < this.config.electionTimeoutTicks) return false;
    this.startPreVote();
    return true;
  }

  /**
   * Proposes a batch of commands as the value of one new instance. The core keeps the array and
   * the buffers (the caller must not mutate them). Never throws for a normal refusal: see
   * ProposeResult. Decision shows up later in Ready.decided (possibly on another leader).
   */
  propose(commands: readonly Uint8Array[]): ProposeResult {
    assert(commands.length > 0, 'propose: a batch needs at least one command');
    const proposer = this.proposer;
    if (this.role !== 'leader' || proposer === null) return { outcome: 'not-leader', leaderId: this.leaderId };
    if (proposer.windowUsed(this.log.decidedThrough) >= this.config.windowInstancesMax) return { outcome: 'window-full' };
    const instance = proposer.nextInstance++;
    this.proposeAt(proposer, instance, commandsValue(commands));
    return { outcome: 'proposed', instance };
  }

  /**
   * Asks for a linearizable read point. The answer arrives in Ready.reads under `requestId` (any
   * number the caller chooses): at once under a valid lease, after a read-index round otherwise,
   * or a failure when this replica does not lead.
   */
  read(requestId: number): void {
    const proposer = this.proposer;
    const lease = this.lease;
    if (this.role !== 'leader' || proposer === null || lease === null) {
      this.readStates.push({ requestId, outcome: 'failed', reason: 'not-leader', leaderId: this.leaderId });
      return;
    }
    const readThrough = proposer.nextInstance - 1;
    if (this.config.leaseReadsEnabled && lease.leaseValid(this.clockTicks)) {
      this.readStates.push({ requestId, outcome: 'ready', readThrough, via: 'lease' });
      return;
    }
    if (this.unsentRoundSeq === 0) this.broadcastHeartbeat(proposer, lease);
    this.readQueue.add(requestId, readThrough, this.unsentRoundSeq);
    this.readQueue.release(lease.quorumSeq, this.readStates);
  }

  /**
   * Feeds one message from a peer. The core does not keep `message` beyond the call except the
   * values and entries in it (which must not be mutated afterwards). Throws AssertionError only
   * on a bug or a message that breaks the protocol (wrong receiver, unknown sender).
   */
  step(message: Message): void {
    assert(message.to === this.id, `message for ${message.to} stepped into replica ${this.id}`);
    assert(message.from !== this.id && this.members.isMember(message.from), `message from non-peer ${message.from}`);
    const recovery = this.recovery;
    if (recovery === null) {
      const check = this.startCheck;
      if (check !== null && !check.passed && this.stepWhileChecking(message)) return;
      return this.dispatch(message);
    }
    if (!this.stepWhileRecovering(recovery, message)) this.dispatch(message);
    this.maybeFinishRecovery(recovery);
  }

  private dispatch(message: Message): void {
    switch (message.type) {
      case 'preVote': return this.onPreVote(message);
      case 'preVoteReply': return this.onPreVoteReply(message);
      case 'prepare': return this.onPrepare(message);
      case 'promise': return this.onPromise(message);
      case 'accept': return this.onAccept(message);
      case 'accepted': return this.onAccepted(message);
      case 'nack': return this.onNack(message);
      case 'heartbeat': return this.onHeartbeat(message);
      case 'heartbeatReply': return this.onHeartbeatReply(message);
      case 'decided': return this.onDecided(message);
      case 'catchUpRequest': return this.onCatchUpRequest(message);
      case 'catchUp': return this.onCatchUp(message);
      case 'snapshotNeeded': return this.onSnapshotNeeded(message);
      case 'recoveryQuery': return this.onRecoveryQuery(message);
      case 'recoveryReply': return; // an answer to a recovery this replica no longer runs
      case 'stampCheck': return this.onStampCheck(message);
      case 'stampCheckReply': return this.onStampCheckReply(message);
      default: return assertNever(message, 'message');
    }
  }

  /**
   * The state machine has a durable snapshot through `throughInstance` (<= appliedThrough):
   * drop the log below it. A peer asking for those instances is told to fetch a snapshot.
   */
  compact(throughInstance: number): void {
    assert(Number.isSafeInteger(throughInstance) && throughInstance >= 0, `compact through ${throughInstance}`);
    assert(throughInstance <= this.appliedThrough, `compact through ${throughInstance} beyond applied ${this.appliedThrough}`);
    this.log.truncateThrough(throughInstance, false);
  }

  /**
   * The driver replaced the state machine with a snapshot through `throughInstance` (fetched
   * from a peer after Ready.snapshotRequest). Call it between `advance()` and `ready()`.
   */
  installSnapshot(throughInstance: number): void {
    assert(!this.readyOutstanding, 'installSnapshot between ready() and advance()');
    assert(Number.isSafeInteger(throughInstance) && throughInstance >= 0, `installSnapshot through ${throughInstance}`);
    if (throughInstance <= this.appliedThrough) return;
    this.log.truncateThrough(throughInstance, true);
    this.decidedMovedTick = this.nowTicks;
    this.appliedThrough = throughInstance;
    this.handedThrough = throughInstance;
    this.hardStateDirty = true;
    if (this.snapshotRequest !== null && this.snapshotRequest.throughInstanceMin <= throughInstance) this.snapshotRequest = null;
    this.catchUpSentTick = Number.NEGATIVE_INFINITY;
    if (this.recovery !== null) this.maybeFinishRecovery(this.recovery);
    const proposer = this.proposer;
    if (proposer === null) return;
    // A snapshot says that its instances are decided, not with which values. Only this
    // leader decides in its ballot, and it learns of such a decision first; so a snapshot
    // through an instance it proposed and has not seen decided (tracked), or through one it
    // has not proposed at all, means a higher ballot decided there, possibly another value.
    // Leading on would announce a decided prefix in this ballot, and a follower holding this
    // leader's value there would take it as decided. It steps down instead; the next phase 1
    // starts above the snapshot at a higher ballot (docs/consensus.md, "A leader that learns
    // it is stale"). A snapshot that reaches only instances it saw decided is harmless.
    let stale = throughInstance >= proposer.nextInstance;
    for (const instance of [...proposer.trackedInstances()]) {
      if (instance > throughInstance) continue;
      proposer.forget(instance);
      stale = true;
    }
    if (stale) this.stepDown();
  }

  // ---------------------------------------------------------------------------------------
  // Output

  hasReady(): boolean {
    return (
      !this.outbox.isEmpty ||
      this.entriesToPersist.length > 0 ||
      this.hardStateDirty ||
      this.log.decidedThrough > this.handedThrough ||
      this.readStates.length > 0 ||
      this.snapshotRequest !== null ||
      this.rollback !== null
    );
  }

  /**
   * What to persist, send and apply now (see ready.ts for the order), or null when nothing.
   * Call `advance()` after handling it and before calling `ready()` again.
   */
  ready(): Ready | null {
    assert(!this.readyOutstanding, 'ready() called again before advance()');
    if (!this.hasReady()) return null;
    this.announceDecisions();
    const hardState = this.hardStateDirty
      ? { promised: this.promised, decidedThrough: this.log.decidedThrough, recovering: this.recovery !== null, stamp: this.stamp(), stampsSeen: this.stamps.list() }
      : undefined;
    const ready: Ready = {
      persist: hardState === undefined ? { entries: this.entriesToPersist } : { entries: this.entriesToPersist, hardState },
      mustSync: this.syncNeeded,
      messages: this.outbox.take(),
      decided: this.decidedToHandOut(),
      reads: this.readStates,
      ...(this.snapshotRequest === null ? {} : { snapshotRequest: this.snapshotRequest }),
      ...(this.rollback === null ? {} : { rollback: this.rollback }),
    };
    this.rollback = null;
    this.voteInReady = false;
    this.readyStamp = this.stamp();
    this.entriesToPersist = [];
    this.hardStateDirty = false;
    this.syncNeeded = false;
    this.readStates = [];
    this.snapshotRequest = null;
    this.unsentRoundSeq = 0;
    this.readyOutstanding = true;
    return ready;
  }

  /** The last Ready was persisted, sent and applied. */
  advance(): void {
    assert(this.readyOutstanding, 'advance() without a ready()');
    this.appliedThrough = this.handedThrough;
    // A Ready that recorded a vote synced it before its votes left, so its stamp is durable now.
    this.durableStamp = this.readyStamp;
    this.readyOutstanding = false;
  }

  status(): ReplicaStatus {
    return {
      replicaId: this.id,
      role: this.role,
      leaderId: this.leaderId,
      promised: this.promised,
      decidedThrough: this.log.decidedThrough,
      appliedThrough: this.appliedThrough,
      snapshotThrough: this.log.snapshotThrough,
      nextInstance: this.proposer?.nextInstance ?? 0,
      leaseValid: this.lease?.leaseValid(this.clockTicks) ?? false,
      recovery: this.recovery?.status() ?? null,
      startCheck: this.startCheck !== null && !this.startCheck.passed && this.recovery === null ? this.startCheck.status() : null,
      stamp: this.stamp(),
    };
  }

  /** The value this replica holds for `instance` and whether it knows it decided (tests, tools). */
  entryAt(instance: number): LogEntry | undefined {
    const slot = this.log.get(instance);
    return slot === undefined ? undefined : toEntry(instance, slot);
  }

  private decidedToHandOut(): LogEntry[] {
    const decided: LogEntry[] = [];
    for (let i = this.handedThrough + 1; i <= this.log.decidedThrough; i++) {
      const slot = this.log.get(i);
      assert(slot !== undefined && slot.decided, `decided instance ${i} missing from the log`);
      decided.push(toEntry(i, slot));
    }
    this.handedThrough = this.log.decidedThrough;
    return decided;
  }

  /** Leader: make sure every peer hears the decided prefix (piggybacked where possible). */
  private announceDecisions(): void {
    const proposer = this.proposer;
    if (this.role !== 'leader' || proposer === null) return;
    const decidedThrough = this.log.decidedThrough;
    for (const peer of this.members.peerIds) {
      if ((this.announcedDecidedThrough.get(peer) ?? 0) >= decidedThrough) continue;
      this.outbox.announceDecided(this.id, peer, proposer.ballot, decidedThrough);
      this.announcedDecidedThrough.set(peer, decidedThrough);
    }
  }

  // ---------------------------------------------------------------------------------------
  // Election: pre-vote, then phase 1 ("prepare to infinity"), then leadership

  private tickElection(): void {
    this.leaderSilentTicks++;
    this.electionElapsedTicks++;
    const campaign = this.currentCampaign;
    if (this.role === 'candidate' && campaign !== null && this.nowTicks - campaign.sentTick >= this.config.retryTicks) {
      this.sendPrepares(campaign);
    }
    if (this.electionElapsedTicks < this.electionDeadline) return;
    if (this.role !== 'follower') this.failedCampaigns++;
    this.startPreVote();
  }

  /** Would this replica help `candidateId` lead? Not while it hears from (or is) a live leader. */
  private mayFollowNewLeader(candidateId: number): boolean {
    if (this.role === 'leader') return false;
    return this.leaderSilentTicks >= this.config.electionTimeoutTicks || candidateId === this.leaderId;
  }

  private resetElectionTimer(): void {
    this.electionElapsedTicks = 0;
    this.electionDeadline = electionDeadlineTicks(this.config.electionTimeoutTicks, this.failedCampaigns, this.random);
  }

  private startPreVote(): void {
    // Invariant: a replica never votes for itself while bound by a lease it may have acked.
    assert(this.leaderSilentTicks >= this.config.electionTimeoutTicks, 'campaigning while a leader may hold our lease');
    this.role = 'pre-candidate';
    this.leaderId = 0;
    this.resetElectionTimer();
    const campaign = new Campaign('pre-vote', nextBallot(Math.max(this.roundSeenMax, this.promised.round), this.id), this.members, this.nowTicks);
    this.currentCampaign = campaign;
    for (const to of this.members.peerIds) this.outbox.send({ type: 'preVote', from: this.id, to, ballot: campaign.ballot });
    if (campaign.won()) this.startPrepare();
  }

  private onPreVote(m: MsgPreVote): void {
    this.observeRound(m.ballot.round);
    const granted = this.mayFollowNewLeader(m.from);
    this.outbox.send({ type: 'preVoteReply', from: this.id, to: m.from, ballot: m.ballot, granted, promised: this.promised });
  }

  private onPreVoteReply(m: MsgPreVoteReply): void {
    this.observeRound(m.promised.round);
    const campaign = this.currentCampaign;
    if (this.role !== 'pre-candidate' || campaign === null || !ballotEquals(m.ballot, campaign.ballot)) return;
    if (m.granted) {
      if (campaign.grant(m.from)) this.startPrepare();
    } else if (campaign.refuse(m.from)) {
      this.campaignFailed();
    }
  }

  /** Phase 1a: promise ourselves a fresh ballot and ask everyone about every undecided instance. */
  private startPrepare(): void {
    const ballot = nextBallot(Math.max(this.roundSeenMax, this.promised.round), this.id);
    this.role = 'candidate';
    this.leaderId = 0;
    this.promise(ballot);
    this.observeRound(ballot.round);
    const campaign = new Campaign('prepare', ballot, this.members, this.nowTicks);
    this.currentCampaign = campaign;
    campaign.mergePromise(this.id, this.log.decidedThrough, this.log.entriesAbove(this.log.decidedThrough));
    this.sendPrepares(campaign);
    if (campaign.won()) this.becomeLeader(campaign);
  }

  private sendPrepares(campaign: Campaign): void {
    campaign.sentTick = this.nowTicks;
    const fromInstance = this.log.decidedThrough + 1;
    for (const to of this.members.peerIds) {
      if (!campaign.hasGranted(to)) this.outbox.send({ type: 'prepare', from: this.id, to, ballot: campaign.ballot, fromInstance });
    }
  }

  /** Phase 1b (acceptor). The Promise goes out after the promise is durable (mustSync). */
  private onPrepare(m: MsgPrepare): void {
    this.observeRound(m.ballot.round);
    if (ballotLess(m.ballot, this.promised)) return this.nack(m.from, m.ballot, 'promised-higher');
    const fresh = ballotGreater(m.ballot, this.promised);
    if (fresh && !this.mayFollowNewLeader(m.from)) return this.nack(m.from, m.ballot, 'leader-alive');
    if (fresh) {
      if (this.role !== 'follower') this.becomeFollower(0);
      this.promise(m.ballot);
      this.electionElapsedTicks = 0;
    }
    const entries = this.log.entriesAbove(Math.max(m.fromInstance - 1, this.log.decidedThrough));
    this.outbox.send({ type: 'promise', from: this.id, to: m.from, ballot: m.ballot, decidedThrough: this.log.decidedThrough, entries, stamp: this.stamp() });
  }

  private onPromise(m: MsgPromise): void {
    this.stamps.observe(m.from, m.stamp);
    const campaign = this.currentCampaign;
    if (this.role !== 'candidate' || campaign === null || !ballotEquals(m.ballot, campaign.ballot)) return;
    if (campaign.hasGranted(m.from)) return;
    campaign.mergePromise(m.from, m.decidedThrough, m.entries);
    if (campaign.grant(m.from)) this.becomeLeader(campaign);
  }

  /**
   * A majority promised. Learn every decided value reported, re-propose the highest accepted
   * value in every undecided instance above the highest reported decided prefix and a no-op in
   * every gap, all in this ballot; new proposals then go above them without phase 1.
   */
  private becomeLeader(campaign: Campaign): void {
    assert(campaign.won(), 'becomeLeader without a majority');
    const ballot = campaign.ballot;
    assert(ballotEquals(ballot, this.promised), 'leading a ballot not promised');
    const recoverFrom = Math.max(this.log.decidedThrough, campaign.decidedThroughMax) + 1;
    const nextInstance = Math.max(recoverFrom, campaign.highestInstance + 1, this.log.highestInstance + 1);
    const proposer = new Proposer(ballot, nextInstance, this.members, this.nowTicks);
    const lease = new LeaderLease(this.members, this.config.leaseTicks, this.clockTicks, this.nowTicks);
    this.role = 'leader';
    this.leaderId = this.id;
    this.currentCampaign = null;
    this.proposer = proposer;
    this.lease = lease;
    this.failedCampaigns = 0;
    this.announcedDecidedThrough.clear();
    this.prefixToLearn = { through: campaign.decidedThroughMax, from: campaign.decidedThroughSource };
    this.decidedMovedTick = this.nowTicks;
    for (let instance = this.log.decidedThrough + 1; instance < nextInstance; instance++) {
      if (this.log.isDecided(instance)) continue;
      const reported = campaign.reported(instance);
      if (reported?.decided === true) this.learnDecided(instance, reported.ballot, reported.value);
      else if (instance >= recoverFrom) this.proposeAt(proposer, instance, reported?.value ?? NOOP);
    }
    this.advanceDecided();
    this.broadcastHeartbeat(proposer, lease);
    if (this.log.decidedThrough < campaign.decidedThroughMax) this.requestCatchUp(campaign.decidedThroughSource);
  }

  private campaignFailed(): void {
    this.failedCampaigns++;
    this.becomeFollower(0);
  }

  /** Leaves any leading or campaigning role. Pending reads fail. */
  private becomeFollower(leaderId: number): void {
    if (this.role === 'leader') this.readQueue.failAll(leaderId, this.readStates);
    this.role = 'follower';
    this.leaderId = leaderId;
    this.currentCampaign = null;
    this.proposer = null;
    this.lease = null;
    this.resetElectionTimer();
  }

  /** A leader that lost its majority or met a higher ballot: stop leading, and let others campaign at once. */
  private stepDown(): void {
    this.becomeFollower(0);
    this.leaderSilentTicks = this.config.electionTimeoutTicks;
  }

  // ---------------------------------------------------------------------------------------
  // Phase 2: proposing, accepting, deciding

  /** Leader: accept `value` at `instance` in our ballot and send it to every peer. */
  private proposeAt(proposer: Proposer, instance: number, value: Value): void {
    this.acceptLocally(instance, proposer.ballot, value);
    proposer.track(instance, this.nowTicks);
    for (const to of this.members.peerIds) {
      this.outbox.accept(this.id, to, proposer.ballot, instance, value, this.log.decidedThrough);
    }
    if (this.members.quorum === 1 && proposer.ack(instance, this.id)) {
      this.decide(instance); // a group of one: our own acceptance is the majority
      this.advanceDecided();
    }
  }

  /** Phase 2b (acceptor): accept the range unless promised higher; reply after persisting. */
  private onAccept(m: MsgAccept): void {
    this.observeRound(m.ballot.round);
    if (ballotLess(m.ballot, this.promised)) return this.nack(m.from, m.ballot, 'promised-higher');
    this.followLeader(m.from, m.ballot);
    const { firstInstance, count } = this.acceptRange(m);
    this.learnDecidedPrefix(m.from, m.ballot, m.decidedThrough);
    this.outbox.accepted(this.id, m.from, m.ballot, firstInstance, count, this.log.decidedThrough, this.stamp());
  }

  /**
   * Accepts each value of `m` and returns the acknowledged range: consecutive instances, from
   * the first above our snapshot, that now hold m's value. Instances already decided here are
   * left alone (and acknowledged only when they hold the same value); the range stops at the
   * first that differs, which can only come from a stale leader.
   */
  private acceptRange(m: MsgAccept): { firstInstance: number; count: number } {
    const firstInstance = Math.max(m.firstInstance, this.log.snapshotThrough + 1);
    let count = 0;
    let contiguous = true;
    for (let instance = firstInstance; instance < m.firstInstance + m.values.length; instance++) {
      const value = m.values[instance - m.firstInstance]!;
      const slot = this.log.get(instance);
      if (slot?.decided === true) {
        contiguous &&= valuesEqual(slot.value, value);
      } else if (slot !== undefined && ballotEquals(slot.ballot, m.ballot)) {
        assert(valuesEqual(slot.value, value), `two values for instance ${instance} in ballot ${m.ballot.round}.${m.ballot.replicaId}`);
      } else {
        this.acceptLocally(instance, m.ballot, value);
      }
      if (contiguous) count++;
    }
    return { firstInstance, count };
  }

  /** Leader: count acceptances; a majority decides. A peer ahead of us is a source to catch up from. */
  private onAccepted(m: MsgAccepted): void {
    this.stamps.observe(m.from, m.stamp);
    const proposer = this.proposer;
    if (this.role !== 'leader' || proposer === null || !ballotEquals(m.ballot, proposer.ballot)) return;
    for (let instance = m.firstInstance; instance < m.firstInstance + m.count; instance++) {
      if (proposer.ack(instance, m.from)) this.decide(instance);
    }
    this.advanceDecided();
    if (m.decidedThrough > this.log.decidedThrough) this.requestCatchUp(m.from);
  }

  private decide(instance: number): void {
    const slot = this.log.get(instance);
    assert(slot !== undefined && !slot.decided, `deciding instance ${instance} twice`);
    this.log.markDecided(instance);
  }

  private advanceDecided(): void {
    if (!this.log.advanceDecidedThrough()) return;
    this.hardStateDirty = true;
    this.decidedMovedTick = this.nowTicks;
  }

  /**
   * Follower: everything <= `decidedThrough` is decided by the leader of `ballot`; each slot we
   * hold with exactly that ballot holds the leader's value there, so it is decided. Anything
   * else we must fetch.
   */
  private learnDecidedPrefix(from: number, ballot: Ballot, decidedThrough: number): void {
    if (decidedThrough <= this.log.decidedThrough) return;
    for (let instance = this.log.decidedThrough + 1; instance <= decidedThrough; instance++) {
      const slot = this.log.get(instance);
      if (slot === undefined) break;
      if (slot.decided) continue;
      if (!ballotEquals(slot.ballot, ballot)) break;
      this.log.markDecided(instance);
    }
    this.advanceDecided();
    if (this.log.decidedThrough < decidedThrough) this.requestCatchUp(from);
  }

  /**
   * Records a value known to be decided. A leader is stale (a higher ballot decided there) when
   * it had proposed something else there in its own ballot, or when the instance is at or above
   * its next instance: its phase 1 saw every value decided before its ballot, and every one it
   * proposes goes below that point. A stale leader steps down before announcing anything, and
   * before its next proposal would land on a decided instance.
   */
  private learnDecided(instance: number, ballot: Ballot, value: Value): void {
    const slot = this.log.get(instance);
    const proposer = this.proposer;
    const stale = proposer !== null && (
      instance >= proposer.nextInstance ||
      (slot !== undefined && !slot.decided && ballotEquals(slot.ballot, proposer.ballot) && !valuesEqual(slot.value, value))
    );
    if (this.log.learn(instance, ballot, value)) this.persistEntry(instance, this.log.get(instance)!);
    proposer?.forget(instance);
    if (stale) this.stepDown();
  }

  // ---------------------------------------------------------------------------------------
  // Leader upkeep: heartbeats, retries, check-quorum

  private tickLeader(): void {
    const proposer = this.proposer;
    const lease = this.lease;
    assert(proposer !== null && lease !== null, 'leader without proposer or lease');
    // Check quorum: a leader no majority has answered for two election timeouts stops leading.
    if (this.nowTicks - lease.quorumContactLiveTick >= 2 * this.config.electionTimeoutTicks) return this.stepDown();
    if (this.log.decidedThrough < this.prefixToLearn.through) {
      // The promiser that reported this prefix may have lost it since (a wiped replica's
      // Promise still in flight): ask again, and if nothing comes for two election timeouts,
      // step down so that the next phase 1 starts at this prefix and carries the values.
      if (this.nowTicks - this.decidedMovedTick >= 2 * this.config.electionTimeoutTicks) return this.stepDown();
      this.requestCatchUp(this.prefixToLearn.from);
    }
    if (this.nowTicks - this.heartbeatSentTick >= this.config.heartbeatIntervalTicks) this.broadcastHeartbeat(proposer, lease);
    if (this.nowTicks - proposer.retriedTick >= this.config.retryTicks) this.resendUnaccepted(proposer);
  }

  private broadcastHeartbeat(proposer: Proposer, lease: LeaderLease): void {
    const seq = lease.openRound(this.clockTicks, this.nowTicks);
    this.heartbeatSentTick = this.nowTicks;
    this.unsentRoundSeq = seq;
    const stamps = this.heartbeatStamps();
    for (const to of this.members.peerIds) {
      this.outbox.send({ type: 'heartbeat', from: this.id, to, ballot: proposer.ballot, decidedThrough: this.log.decidedThrough, seq, stamps });
      this.announcedDecidedThrough.set(to, this.log.decidedThrough);
    }
  }

  /** Sends every instance still short of a majority, proposed retryTicks ago or more, to each peer that lacks it. */
  private resendUnaccepted(proposer: Proposer): void {
    proposer.retriedTick = this.nowTicks;
    for (const instance of proposer.trackedInstances()) {
      if (this.nowTicks - proposer.proposedTick(instance) < this.config.retryTicks) continue;
      const slot = this.log.get(instance);
      assert(slot !== undefined && !slot.decided, `tracked instance ${instance} not pending in the log`);
      for (const to of this.members.peerIds) {
        if (proposer.lacks(instance, to)) this.outbox.accept(this.id, to, proposer.ballot, instance, slot.value, this.log.decidedThrough);
      }
    }
  }

  private onHeartbeat(m: MsgHeartbeat): void {
    this.hearStamps(m);
    if (this.recovery !== null) return; // the leader had seen a later vote of ours: we recover
    this.observeRound(m.ballot.round);
    if (ballotLess(m.ballot, this.promised)) return this.nack(m.from, m.ballot, 'promised-higher');
    this.followLeader(m.from, m.ballot);
    this.learnDecidedPrefix(m.from, m.ballot, m.decidedThrough);
    this.outbox.send({ type: 'heartbeatReply', from: this.id, to: m.from, ballot: m.ballot, seq: m.seq, decidedThrough: this.log.decidedThrough });
  }

  private onHeartbeatReply(m: MsgHeartbeatReply): void {
    const proposer = this.proposer;
    const lease = this.lease;
    if (this.role !== 'leader' || proposer === null || lease === null || !ballotEquals(m.ballot, proposer.ballot)) return;
    lease.ack(m.from, m.seq);
    this.readQueue.release(lease.quorumSeq, this.readStates);
    if (m.decidedThrough > this.log.decidedThrough) this.requestCatchUp(m.from);
  }

  private onDecided(m: MsgDecided): void {
    this.observeRound(m.ballot.round);
    if (ballotLess(m.ballot, this.promised)) return this.nack(m.from, m.ballot, 'promised-higher');
    this.followLeader(m.from, m.ballot);
    this.learnDecidedPrefix(m.from, m.ballot, m.decidedThrough);
  }

  /** A refusal. A leader or candidate that meets a higher promise stops; refusals may also sink a campaign. */
  private onNack(m: MsgNack): void {
    this.observeRound(m.promised.round);
    const proposer = this.proposer;
    if (this.role === 'leader' && proposer !== null && ballotEquals(m.ballot, proposer.ballot)) {
      if (ballotGreater(m.promised, proposer.ballot)) this.stepDown();
      return;
    }
    const campaign = this.currentCampaign;
    if (this.role !== 'candidate' || campaign === null || !ballotEquals(m.ballot, campaign.ballot)) return;
    if (ballotGreater(m.promised, campaign.ballot) || campaign.refuse(m.from)) this.campaignFailed();
  }

  // ---------------------------------------------------------------------------------------
  // Catch-up and snapshots

  /** Asks `from` for decided values above our prefix, at most once per retryTicks. */
  private requestCatchUp(from: number): void {
    if (from === this.id || from === 0) return;
    if (this.nowTicks - this.catchUpSentTick < this.config.retryTicks) return;
    this.catchUpSentTick = this.nowTicks;
    this.outbox.send({ type: 'catchUpRequest', from: this.id, to: from, fromInstance: this.log.decidedThrough + 1 });
  }

  private onCatchUpRequest(m: MsgCatchUpRequest): void {
    if (m.fromInstance <= this.log.snapshotThrough) {
      this.outbox.send({ type: 'snapshotNeeded', from: this.id, to: m.from, snapshotThrough: this.log.snapshotThrough });
      return;
    }
    const entries = this.log.decidedFrom(m.fromInstance, this.config.messageEntriesMax);
    this.outbox.send({ type: 'catchUp', from: this.id, to: m.from, entries, decidedThrough: this.log.decidedThrough });
  }

  private onCatchUp(m: MsgCatchUp): void {
    for (const entry of m.entries) {
      assert(entry.decided, `catch-up entry ${entry.instance} not decided`);
      this.learnDecided(entry.instance, entry.ballot, entry.value);
    }
    this.advanceDecided();
    this.catchUpSentTick = Number.NEGATIVE_INFINITY;
    if (m.decidedThrough > this.log.decidedThrough) this.requestCatchUp(m.from);
  }

  private onSnapshotNeeded(m: MsgSnapshotNeeded): void {
    if (m.snapshotThrough <= this.log.decidedThrough) return;
    this.snapshotRequest = { fromReplicaId: m.from, throughInstanceMin: m.snapshotThrough };
  }

  // ---------------------------------------------------------------------------------------
  // Recovery after starting without stable state (recovery.ts; docs/consensus.md,
  // "Recovering after a lost disk")

  private startRecovery(): void {
    // 53 random bits: a reply echoing it answers this incarnation's query and no earlier one's.
    const nonce = this.random.nextInt(2 ** 32) * 2 ** 21 + this.random.nextInt(2 ** 21);
    const recovery = new Recovery(nonce, this.members, this.nowTicks);
    this.recovery = recovery;
    this.sendRecoveryQueries(recovery);
  }

  /** Asks every peer that has not answered yet. */
  private sendRecoveryQueries(recovery: Recovery): void {
    recovery.sentTick = this.nowTicks;
    for (const to of this.members.peerIds) {
      if (!recovery.hasAnswered(to)) this.outbox.send({ type: 'recoveryQuery', from: this.id, to, nonce: recovery.nonce });
    }
  }

  /** No elections while recovering: re-ask the peers every retryTicks, and pull decisions a peer has. */
  private tickRecovery(recovery: Recovery): void {
    this.leaderSilentTicks++;
    // The leader it heard is no longer known to be alive: do not name it (hints, status).
    if (this.leaderSilentTicks >= this.config.electionTimeoutTicks) this.leaderId = 0;
    if (this.nowTicks - recovery.sentTick >= this.config.retryTicks) this.sendRecoveryQueries(recovery);
    this.pullDecisions(recovery);
  }

  /** Asks the peer that reported the longest decided prefix for what this replica lacks (at most once per retryTicks). */
  private pullDecisions(recovery: Recovery): void {
    if (recovery.decidedTarget > this.log.decidedThrough) this.requestCatchUp(recovery.decidedSource);
  }

  /**
   * A recovering replica votes on nothing: it refuses every pre-vote, ignores Prepares and
   * Accepts (no Promise, no Accepted, no Nack), does not ack heartbeats, and takes a leader's
   * message only as news of decisions to fetch. Returns false for the messages it handles like
   * any replica: catch-up and snapshots, recovery queries, and replies addressed to a campaign
   * or a leadership it does not have (they find none and change nothing).
   */
  /** A replica that may not vote yet (recovering, or checking its stamp) refuses a pre-vote and ignores a Prepare; either way it learns the round. */
  private refuseVote(m: Extract<Message, { type: 'preVote' | 'prepare' }>): void {
    this.observeRound(m.ballot.round);
    if (m.type === 'preVote') this.outbox.send({ type: 'preVoteReply', from: this.id, to: m.from, ballot: m.ballot, granted: false, promised: this.promised });
  }

  private stepWhileRecovering(recovery: Recovery, m: Message): boolean {
    switch (m.type) {
      case 'preVote':
      case 'prepare':
        this.refuseVote(m);
        return true;
      case 'accept':
      case 'heartbeat':
      case 'decided':
        this.hearLeaderWhileRecovering(recovery, m.from, m.ballot, m.decidedThrough);
        return true;
      case 'recoveryReply':
        if (m.nonce !== recovery.nonce) return true;
        recovery.record(m);
        this.pullDecisions(recovery);
        return true;
      default:
        return false;
    }
  }

  /** A learner's view of a leader: fetch the decisions it announces, promise nothing. */
  private hearLeaderWhileRecovering(recovery: Recovery, from: number, ballot: Ballot, decidedThrough: number): void {
    assert(ballot.replicaId === from, `leader message from ${from} carries ballot of ${ballot.replicaId}`);
    this.observeRound(ballot.round);
    if (recovery.hearLeader(ballot)) {
      this.leaderId = from;
      this.leaderSilentTicks = 0;
    }
    if (decidedThrough > this.log.decidedThrough) this.requestCatchUp(from);
  }

  /**
   * Every peer answered and every instance through the longest decided prefix they reported is
   * decided here: promise the highest ballot any of them reported, take over the merged entries
   * above the decided prefix (each the highest-ballot value any of them accepted there, or a
   * decided one), and vote again. What that writes is synced with the first vote (a vote forces
   * the sync of everything before it); a crash before that restarts the recovery, which is
   * always safe.
   */
  private maybeFinishRecovery(recovery: Recovery): void {
    if (!recovery.allAnswered || this.log.decidedThrough < recovery.decidedTarget) return;
    assert(this.role === 'follower' && this.currentCampaign === null && this.proposer === null, 'recovering replica campaigned or led');
    this.recovery = null;
    // A new life of this acceptor: above every stamp of it the others know, so that a copy of
    // the data directory from before the recovery is told apart from what follows.
    this.incarnation = Math.max(this.incarnation, recovery.knownStamp.incarnation) + 1;
    this.voteSeq = 0;
    this.voteInReady = false;
    this.castVote();
    if (ballotGreater(recovery.promisedMax, this.promised)) this.promised = recovery.promisedMax;
    this.observeRound(this.promised.round);
    for (const entry of recovery.entriesAbove(this.log.decidedThrough)) {
      if (entry.decided) {
        this.learnDecided(entry.instance, entry.ballot, entry.value);
      } else if (this.log.get(entry.instance)?.decided !== true) {
        // Invariant: accepted ballot <= promised; its holder had promised at least this ballot.
        this.acceptLocally(entry.instance, entry.ballot, entry.value);
      }
    }
    this.advanceDecided();
    this.hardStateDirty = true;
    this.syncNeeded = true;
  }

  /**
   * Any replica answers a recovering peer with its state now (in memory: what it may not have
   * synced yet only makes the answer larger, which is safe): its promise, its decided prefix and
   * every entry above it.
   */
  private onRecoveryQuery(m: MsgRecoveryQuery): void {
    const reply: MsgRecoveryReply = {
      type: 'recoveryReply',
      from: this.id,
      to: m.from,
      nonce: m.nonce,
      promised: this.promised,
      decidedThrough: this.log.decidedThrough,
      entries: this.log.entriesAbove(this.log.decidedThrough),
      recovering: this.recovery !== null,
      known: this.stamps.get(m.from),
    };
    this.outbox.send(reply);
  }

  // ---------------------------------------------------------------------------------------
  // The start check and rolled-back data directories (start-check.ts, stamps.ts;
  // docs/consensus.md, "A data directory rolled back")

  private beginStartCheck(): void {
    const nonce = this.random.nextInt(2 ** 32) * 2 ** 21 + this.random.nextInt(2 ** 21);
    // Waiting for every member forever leaves no window for a rolled-back copy (config.ts).
    const waitAllTicks = this.config.startCheckEveryMember ? Number.POSITIVE_INFINITY : this.config.electionTimeoutTicks;
    const check = new StartCheck(nonce, this.stamp(), this.members, this.nowTicks, waitAllTicks);
    this.startCheck = check;
    this.sendStampChecks(check);
  }

  private get startCheckPassed(): boolean {
    return this.startCheck === null || this.startCheck.passed;
  }

  /** Asks every peer that has not answered yet. */
  private sendStampChecks(check: StartCheck): void {
    check.sentTick = this.nowTicks;
    for (const to of this.members.peerIds) {
      if (!check.hasAnswered(to)) this.outbox.send({ type: 'stampCheck', from: this.id, to, nonce: check.nonce, stamp: check.stamp });
    }
  }

  /** No elections before the check passes: re-ask the peers every retryTicks. */
  private tickStartCheck(check: StartCheck): void {
    this.leaderSilentTicks++;
    if (this.leaderSilentTicks >= this.config.electionTimeoutTicks) this.leaderId = 0;
    if (check.settle(this.nowTicks)) return;
    if (this.nowTicks - check.sentTick >= this.config.retryTicks) this.sendStampChecks(check);
  }

  /**
   * Before its check passes a restarted replica votes on nothing, as a recovering one: it refuses
   * pre-votes, ignores Prepares and Accepts, does not ack heartbeats, and takes a leader's
   * messages only as news of decisions. Returns false for the messages it handles as usual.
   */
  private stepWhileChecking(m: Message): boolean {
    switch (m.type) {
      case 'preVote':
      case 'prepare':
        this.refuseVote(m);
        return true;
      case 'heartbeat':
        this.hearStamps(m);
        if (this.recovery !== null) return true;
        this.hearLeaderWhileChecking(m.from, m.ballot, m.decidedThrough);
        return true;
      case 'accept':
      case 'decided':
        this.hearLeaderWhileChecking(m.from, m.ballot, m.decidedThrough);
        return true;
      default:
        return false;
    }
  }

  private hearLeaderWhileChecking(from: number, ballot: Ballot, decidedThrough: number): void {
    assert(ballot.replicaId === from, `leader message from ${from} carries ballot of ${ballot.replicaId}`);
    this.observeRound(ballot.round);
    if (ballotLess(ballot, this.promised)) return;
    this.leaderId = from;
    this.leaderSilentTicks = 0;
    // Marking decided what we hold at exactly the leader's ballot votes on nothing.
    this.learnDecidedPrefix(from, ballot, decidedThrough);
  }

  /**
   * Any replica answers, checking or recovering or not, from what it has seen of the asker: a
   * later stamp than the one asked about means the asker's storage forgot votes it sent.
   */
  private onStampCheck(m: MsgStampCheck): void {
    const seen = this.stamps.get(m.from);
    const rolledBack = compareStamps(seen, m.stamp) > 0;
    if (!rolledBack) this.stamps.observe(m.from, m.stamp);
    this.outbox.send({ type: 'stampCheckReply', from: this.id, to: m.from, nonce: m.nonce, rolledBack, seen });
  }

  /**
   * Counts an answer. A "rolled back" one sends this replica into recovery, even after the
   * check passed, unless what the peer saw is no later than our own stamp: once we voted
   * again, a query that arrived late may be answered from our own new votes.
   */
  private onStampCheckReply(m: MsgStampCheckReply): void {
    const check = this.startCheck;
    if (check === null || m.nonce !== check.nonce || this.recovery !== null) return;
    if (check.record(m)) {
      if (compareStamps(m.seen, this.stamp()) > 0) this.detectRollback(m.from, m.seen);
      return;
    }
    check.settle(this.nowTicks);
  }

  /** A leader passes on the stamps it has seen; one of ours above our own shows we were rolled back. */
  private hearStamps(m: MsgHeartbeat): void {
    for (const seen of m.stamps) {
      if (seen.replicaId !== this.id) this.stamps.observe(seen.replicaId, seen);
      else if (compareStamps(seen, this.stamp()) > 0) this.detectRollback(m.from, seen);
    }
  }

  /**
   * A peer saw a later vote of ours than we hold: the data directory was rolled back to an older
   * copy, and the promises and accepts since are forgotten. Stop voting and recover, which does
   * not depend on what we hold; record the recovering state durably, so that a crash now does
   * not bring back a replica that votes.
   */
  private detectRollback(reportedBy: number, seen: VoteStamp): void {
    if (this.recovery !== null) return;
    this.rollback = { reportedBy, restored: this.startCheck?.stamp ?? this.stamp(), seen: { incarnation: seen.incarnation, voteSeq: seen.voteSeq } };
    this.startCheck = null;
    if (this.role !== 'follower') this.becomeFollower(0);
    this.leaderId = 0;
    this.startRecovery();
    this.hardStateDirty = true;
    this.syncNeeded = true;
  }

  /** What heartbeats pass on: every stamp seen, and our own as far as it is durable. */
  private heartbeatStamps(): SeenStamp[] {
    const stamps = this.stamps.list();
    stamps.push({ replicaId: this.id, ...this.durableStamp });
    return stamps.sort((a, b) => a.replicaId - b.replicaId);
  }

  // ---------------------------------------------------------------------------------------
  // Small helpers

  /** Obey a leader whose ballot is >= our promise: promise it, reset timers, yield if we lead or campaign. */
  private followLeader(from: number, ballot: Ballot): void {
    assert(ballot.replicaId === from, `leader message from ${from} carries ballot of ${ballot.replicaId}`);
    if (ballotGreater(ballot, this.promised)) this.promise(ballot);
    if (this.role !== 'follower') this.becomeFollower(from);
    this.leaderId = from;
    this.leaderSilentTicks = 0;
    this.electionElapsedTicks = 0;
    this.failedCampaigns = 0;
  }

  private promise(ballot: Ballot): void {
    assert(ballotGreater(ballot, this.promised), 'a promise only grows');
    this.promised = ballot;
    this.castVote();
  }

  /** A promise or an accept goes into the Ready being built: its hard state records one more vote, synced. */
  private castVote(): void {
    this.hardStateDirty = true;
    this.syncNeeded = true;
    if (this.voteInReady) return;
    this.voteInReady = true;
    this.voteSeq++;
  }

  private stamp(): VoteStamp {
    return { incarnation: this.incarnation, voteSeq: this.voteSeq };
  }

  private observeRound(round: number): void {
    if (round > this.roundSeenMax) this.roundSeenMax = round;
  }

  private nack(to: number, ballot: Ballot, reason: NackReason): void {
    this.outbox.send({ type: 'nack', from: this.id, to, ballot, promised: this.promised, reason });
  }

  /** Accepts (phase 2b, or the leader's own proposal) and persists it; the reply must wait for the sync. */
  private acceptLocally(instance: number, ballot: Ballot, value: Value): void {
    // Invariant: accepted ballot <= promised ballot (callers promised it first).
    assert(!ballotGreater(ballot, this.promised), `accepting at ballot ${ballot.round}.${ballot.replicaId} above the promise`);
    this.persistEntry(instance, this.log.accept(instance, ballot, value));
    this.castVote();
  }

  private persistEntry(instance: number, slot: Slot): void {
    this.entriesToPersist.push(toEntry(instance, slot));
  }
}
