// A whole cluster in one thread, driven by one seed (after TigerBeetle's VOPR).
//
// Three or five replicas, each a consensus core with a driver that keeps the Ready order
// (persist, sync when told, send, apply, advance), simulated storage that loses unsynced
// writes on a crash, and a state machine that records the decided values. Clients submit
// commands to whoever they believe leads and ask for linearizable reads.
//
// Phases:
//   1. safety: faults on: drops, duplicates, delays (reordering), partitions of every kind,
//      crashes and restarts of any replica (the leader too, and in the middle of a Ready), and
//      wipes (a replica restarted on empty storage, as after a lost disk), and with
//      `rollbacks` a replica restarted on an older copy of its storage, taken while it ran.
// Every replica starts on empty storage, so each seed also bootstraps the cluster (recovery).
//   2. liveness: heal everything; every pending command must be decided, and every replica
//      caught up, within a bound.
//   3. durability: crash a minority (maybe the leader), restart it, submit a little more; the
//      same bound applies, and every decision reported to a client must still be there.
// Checked throughout: one value per decided instance across replicas and restarts, gap-free
// application, reads that reflect every decision reported before they began, no assertion
// failure inside the core; at the end, identical decided prefixes.

import { AssertionError } from '../../src/protocol/assert.ts';
import { defaultConfig, type ReplicaConfig } from '../../src/consensus/config.ts';
import type { Message } from '../../src/consensus/messages.ts';
import { SplitMix32 } from '../../src/consensus/random.ts';
import { Replica } from '../../src/consensus/replica.ts';
import { vouchesForPersist, type Ready } from '../../src/consensus/ready.ts';
import { compareBallots, type LogEntry, type Value } from '../../src/consensus/types.ts';
import { formatBallot } from '../../src/consensus/ballot.ts';
import { valuesEqual } from '../../src/consensus/value.ts';
import { formatMessage, formatValue } from './format.ts';
import { CALM, PARTITION_KINDS, SimNetwork, type LinkFaults } from './network.ts';
import { SimStorage } from './storage.ts';

export interface SimOptions {
  readonly seed: number;
  readonly replicas: number;
  /** Ticks (of about 100 time units) of the faulty phase. */
  readonly safetyTicks?: number;
  /** Ticks allowed for each recovery (liveness) phase. */
  readonly livenessTicksMax?: number;
  readonly clients?: number;
  /** Events kept for the trace printed on a violation. */
  readonly traceEvents?: number;
  /**
   * Also roll replicas back to older copies of their storage (off by default: the start check
   * cannot catch every rollback, docs/consensus.md "A data directory rolled back").
   */
  readonly rollbacks?: boolean;
  /**
   * A deliberate bug, to show the checks catch it: no replica ever tells another that it was
   * rolled back (every stamp check answered "current", no stamps on heartbeats).
   */
  readonly sabotage?: 'rollback-unchecked';
}

export interface SimResult {
  readonly seed: number;
  readonly replicas: number;
  readonly violation: string | null;
  readonly trace: readonly string[];
  readonly stats: Readonly<Record<string, number>>;
}

const TICK_UNITS = 100;
/** A client resends a command not reported decided after this long, to whoever it now thinks leads. */
const CLIENT_RETRY_UNITS = 8 * TICK_UNITS;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

class Violation extends Error {}

interface Event {
  readonly time: number;
  readonly seq: number;
  readonly run: () => void;
}

/** A binary min-heap of events by (time, seq). */
class EventQueue {
  private readonly heap: Event[] = [];
  private seq = 0;

  push(time: number, run: () => void): void {
    const heap = this.heap;
    heap.push({ time, seq: this.seq++, run });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  pop(): Event | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last !== undefined) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && this.less(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && this.less(heap[r]!, heap[m]!)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m]!, heap[i]!];
        i = m;
      }
    }
    return top;
  }

  private less(a: Event, b: Event): boolean {
    return a.time !== b.time ? a.time < b.time : a.seq < b.seq;
  }
}

interface PendingRead {
  readonly requestId: number;
  readonly reportedMaxAtStart: number;
  readThrough: number;
}

class SimNode {
  storage = new SimStorage();
  /** Set by a wipe or a rollback, cleared once the replica votes again (see `amnesiac`). */
  wiped = false;
  /** A copy of what its storage held durably at some point (restored by a rollback). */
  backup: SimStorage | null = null;
  core: Replica | null = null;
  incarnation = 0;
  /** The state machine: values[k] is instance k + 1's decided value. */
  values: Value[] = [];
  appliedThrough = 0;
  /** Client commands the driver will propose (batched) when it leads. */
  queue: Uint8Array[] = [];
  readonly readsWaiting = new Map<number, PendingRead>();
  readsPendingRound = new Map<number, number>();
  tickPeriod = TICK_UNITS;
  snapshotEveryInstances = 20;

  constructor(readonly id: number) {}

  get up(): boolean {
    return this.core !== null;
  }
}

interface Client {
  readonly id: number;
  seq: number;
  pending: { readonly bytes: Uint8Array; readonly name: string; sentAt: number } | null;
  leaderGuess: number;
}

/** The sabotaged network: what would reveal a rolled-back replica never arrives. */
function withoutRollbackCheck(m: Message): Message {
  if (m.type === 'stampCheckReply') return { ...m, rolledBack: false };
  if (m.type === 'heartbeat') return { ...m, stamps: [] };
  return m;
}

export function runSeed(options: SimOptions): SimResult {
  return new Simulation(options).run();
}

class Simulation {
  private readonly random: SplitMix32;
  private readonly ids: number[];
  private readonly nodes = new Map<number, SimNode>();
  private readonly network: SimNetwork;
  private readonly events = new EventQueue();
  private readonly clients: Client[] = [];
  private now = 0;
  private faultsOn = true;
  private clientsSubmitting = true;
  private readonly trace: string[] = [];
  private readonly traceMax: number;
  private readonly groupConfig: ReplicaConfig;

  // Checker state.
  private readonly decided = new Map<number, Value>();
  /** Instance -> value of every decision reported to a client. */
  private readonly reported = new Map<number, Value>();
  private reportedMax = 0;
  /** Rollbacks draw from their own stream, so a seed's other faults stay as they were. */
  private readonly rollbackRandom: SplitMix32;
  private readonly stats = { wipes: 0, rollbacks: 0, rollbacksDetected: 0, crashes: 0, midReadyCrashes: 0, snapshotsInstalled: 0, readsServed: 0, leaseReads: 0, commandsReported: 0, instancesDecided: 0, convergenceTicksMax: 0 };
  private nextReadId = 1;

  constructor(private readonly options: SimOptions) {
    this.random = new SplitMix32(options.seed);
    this.rollbackRandom = new SplitMix32(options.seed * 7_919 + 17);
    this.ids = Array.from({ length: options.replicas }, (_, i) => i + 1);
    this.network = new SimNetwork(this.ids);
    this.traceMax = options.traceEvents ?? 300;
    this.groupConfig = this.drawConfig();
    for (const id of this.ids) this.nodes.set(id, new SimNode(id));
    for (let c = 0; c < (options.clients ?? 3); c++) this.clients.push({ id: c + 1, seq: 0, pending: null, leaderGuess: 1 + this.random.nextInt(options.replicas) });
  }

  private config(id: number): ReplicaConfig {
    return { ...this.groupConfig, replicaId: id };
  }

  /** Drawn once per seed, so seeds cover short and long timeouts, tiny and large windows, lease on and off. */
  private drawConfig(): ReplicaConfig {
    const r = this.random;
    const heartbeatIntervalTicks = 1 + r.nextInt(2);
    return {
      ...defaultConfig(1, this.ids),
      electionTimeoutTicks: Math.max(5, 2 * heartbeatIntervalTicks + 3) + r.nextInt(8),
      heartbeatIntervalTicks,
      clockDriftBoundPercent: [0, 10, 25][r.nextInt(3)]!,
      leaseReadsEnabled: r.nextInt(4) !== 0,
      windowInstancesMax: [1, 3, 8, 16][r.nextInt(4)]!,
      messageEntriesMax: [1, 4, 8][r.nextInt(3)]!,
      retryTicks: 1 + r.nextInt(4),
    };
  }

  private log(text: string): void {
    this.trace.push(`t=${this.now} ${text}`);
    if (this.trace.length > this.traceMax * 2) this.trace.splice(0, this.trace.length - this.traceMax);
  }

  private violation(text: string): never {
    throw new Violation(text);
  }

  run(): SimResult {
    let violation: string | null = null;
    try {
      this.runPhases();
    } catch (error) {
      if (error instanceof Violation) violation = error.message;
      else if (error instanceof AssertionError) violation = `assertion in core: ${error.message}\n${error.stack ?? ''}`;
      else throw error;
    }
    return {
      seed: this.options.seed,
      replicas: this.options.replicas,
      violation,
      trace: this.trace.slice(-this.traceMax),
      stats: { ...this.stats, messages: this.network.sent, dropped: this.network.dropped, duplicated: this.network.duplicated, decided: this.decided.size },
    };
  }

  private runPhases(): void {
    for (const node of this.nodes.values()) this.start(node);
    for (const client of this.clients) this.scheduleClient(client);
    this.scheduleProbeReads();
    const safetyEnd = (this.options.safetyTicks ?? 600) * TICK_UNITS;
    this.scheduleFaultEpoch(safetyEnd);
    this.runUntil(safetyEnd);

    this.log('--- heal: liveness phase');
    this.faultsOn = false;
    this.clientsSubmitting = false;
    this.network.heal();
    this.network.faults = CALM;
    for (const node of this.nodes.values()) if (!node.up) this.restart(node);
    this.awaitConvergence('after heal');

    this.log('--- durability: crash a minority');
    this.crashMinority();
    this.clientsSubmitting = true;
    this.runUntil(this.now + 30 * TICK_UNITS);
    this.clientsSubmitting = false;
    for (const node of this.nodes.values()) if (!node.up) this.restart(node);
    this.awaitConvergence('after minority crash');
    this.finalChecks();
  }

  private runUntil(time: number): void {
    for (;;) {
      const event = this.events.pop();
      if (event === undefined) return;
      if (event.time > time) {
        this.events.push(event.time, event.run);
        this.now = time;
        return;
      }
      this.now = event.time;
      event.run();
    }
  }

  private awaitConvergence(when: string): void {
    const start = this.now;
    const deadline = this.now + (this.options.livenessTicksMax ?? 150) * TICK_UNITS;
    while (this.now < deadline) {
      this.runUntil(this.now + 5 * TICK_UNITS);
      if (this.converged()) {
        this.stats.convergenceTicksMax = Math.max(this.stats.convergenceTicksMax, (this.now - start) / TICK_UNITS);
        return;
      }
    }
    const states = [...this.nodes.values()].map((n) => `${n.id}:${n.core === null ? 'down' : `${n.core.status().role} applied=${n.appliedThrough} decided=${n.core.status().decidedThrough}`}`);
    const pending = this.clients.filter((c) => c.pending !== null).map((c) => c.pending!.name);
    this.violation(`liveness ${when}: not converged within ${this.options.livenessTicksMax ?? 150} ticks; ${states.join(', ')}; pending ${pending.join(' ')}`);
  }

  private converged(): boolean {
    if (this.clients.some((c) => c.pending !== null)) return false;
    const nodes = [...this.nodes.values()];
    if (nodes.some((n) => n.core === null)) return false;
    const applied = nodes[0]!.appliedThrough;
    return nodes.every((n) => n.appliedThrough === applied && n.core!.status().decidedThrough === applied && n.core!.status().leaderId !== 0);
  }

  // ---------------------------------------------------------------------------------------
  // Replicas and their driver

  private start(node: SimNode): void {
    const recovered = node.storage.recover();
    const snapshot = node.storage.snapshot;
    node.values = snapshot.values.slice();
    node.appliedThrough = snapshot.through;
    node.core = new Replica(this.config(node.id), new SplitMix32(this.random.nextUint32()), recovered);
    node.incarnation++;
    // Tick rates differ by up to the stated drift bound, and no more.
    node.tickPeriod = TICK_UNITS + this.random.nextInt(this.groupConfig.clockDriftBoundPercent + 1);
    node.snapshotEveryInstances = 5 + this.random.nextInt(40);
    this.log(`start ${node.id} (incarnation ${node.incarnation}, promised ${recovered.hardState.promised.round}.${recovered.hardState.promised.replicaId}, ${recovered.entries.length} entries, snapshot<=${recovered.snapshotThrough}${node.core.status().recovery === null ? '' : ', recovering'})`);
    this.scheduleTick(node, node.incarnation, this.random.nextInt(node.tickPeriod));
    this.pump(node);
  }

  private crash(node: SimNode, why: string): void {
    if (node.core === null) return;
    node.core = null;
    node.queue = [];
    node.readsWaiting.clear();
    node.readsPendingRound.clear();
    node.storage.crash(this.random);
    this.stats.crashes++;
    this.log(`crash ${node.id} (${why})`);
  }

  private restart(node: SimNode): void {
    if (node.core === null) this.start(node);
  }

  private scheduleTick(node: SimNode, incarnation: number, delay: number): void {
    this.events.push(this.now + delay, () => {
      if (node.core === null || node.incarnation !== incarnation) return;
      node.core.tick();
      this.pump(node);
      this.scheduleTick(node, incarnation, node.tickPeriod);
    });
  }

  /** The driver: propose queued commands, then handle Readies in the one allowed order. */
  private pump(node: SimNode): void {
    for (;;) {
      const core = node.core;
      if (core === null) return;
      this.proposeQueued(node, core);
      const ready = core.ready();
      if (ready === null) return;
      if (!this.handleReady(node, core, ready)) return;
    }
  }

  private proposeQueued(node: SimNode, core: Replica): void {
    while (node.queue.length > 0) {
      const batch = node.queue.slice(0, 1 + this.random.nextInt(3));
      const result = core.propose(batch);
      if (result.outcome !== 'proposed') return;
      node.queue.splice(0, batch.length);
    }
  }

  /** Returns false when the node crashed in the middle. */
  private handleReady(node: SimNode, core: Replica, ready: Ready): boolean {
    // As the real driver does: what is not a vote leaves before the disk write, so a crash
    // before the sync below can follow Accepts that were already sent.
    if (ready.rollback !== undefined) {
      this.stats.rollbacksDetected++;
      this.log(`${node.id} rolled back: ${ready.rollback.reportedBy} saw a later vote; recovering`);
    }
    for (const message of ready.messages) if (!vouchesForPersist(message)) this.send(message);
    node.storage.append(ready.persist);
    if (ready.mustSync) {
      if (this.faultsOn && this.random.nextInt(1000) < 3) {
        this.stats.midReadyCrashes++;
        this.crash(node, 'before sync, in the middle of a Ready');
        return false;
      }
      node.storage.sync();
    }
    for (const message of ready.messages) if (vouchesForPersist(message)) this.send(message);
    for (const entry of ready.decided) this.apply(node, entry);
    for (const read of ready.reads) this.readAnswered(node, read);
    core.advance();
    this.serveReads(node);
    this.maybeCompact(node, core);
    if (ready.snapshotRequest !== undefined) this.installSnapshot(node, core, ready.snapshotRequest.fromReplicaId, ready.snapshotRequest.throughInstanceMin);
    return true;
  }

  private send(sent: Message): void {
    const message = this.options.sabotage === undefined ? sent : withoutRollbackCheck(sent);
    for (const delay of this.network.route(message.from, message.to, this.random)) {
      this.events.push(this.now + delay, () => this.deliver(message));
    }
  }

  private deliver(message: Message): void {
    const node = this.nodes.get(message.to)!;
    if (node.core === null) return;
    this.log(formatMessage(message));
    node.core.step(message);
    this.pump(node);
  }

  private apply(node: SimNode, entry: LogEntry): void {
    if (entry.instance !== node.appliedThrough + 1) this.violation(`replica ${node.id} applied ${entry.instance} after ${node.appliedThrough}`);
    const known = this.decided.get(entry.instance);
    if (known === undefined) {
      this.decided.set(entry.instance, entry.value);
      this.stats.instancesDecided++;
      this.log(`decided ${entry.instance} = ${formatValue(entry.value)} (first at ${node.id})`);
    } else if (!valuesEqual(known, entry.value)) {
      this.violation(`agreement: instance ${entry.instance} decided ${formatValue(known)} but replica ${node.id} applied ${formatValue(entry.value)}`);
    }
    node.values[entry.instance - 1] = entry.value;
    node.appliedThrough = entry.instance;
    if (entry.value.kind === 'commands') for (const command of entry.value.commands) this.maybeReport(node, entry, command);
  }

  private maybeReport(node: SimNode, entry: LogEntry, command: Uint8Array): void {
    const name = decoder.decode(command);
    const client = this.clients.find((c) => c.pending?.name === name);
    if (client === undefined) return;
    client.pending = null;
    this.reported.set(entry.instance, entry.value);
    if (entry.instance > this.reportedMax) this.reportedMax = entry.instance;
    this.stats.commandsReported++;
    this.log(`reported ${name} decided at ${entry.instance} by ${node.id}`);
  }

  private maybeCompact(node: SimNode, core: Replica): void {
    if (node.appliedThrough - node.storage.snapshot.through < node.snapshotEveryInstances) return;
    node.storage.saveSnapshot({ through: node.appliedThrough, values: node.values.slice(0, node.appliedThrough) });
    core.compact(node.appliedThrough);
  }

  private installSnapshot(node: SimNode, core: Replica, fromId: number, throughMin: number): void {
    const source = this.nodes.get(fromId)!;
    const snapshot = source.storage.snapshot;
    if (snapshot.through < throughMin || snapshot.through <= node.appliedThrough) return;
    for (let i = 1; i <= snapshot.through; i++) {
      const known = this.decided.get(i);
      if (known !== undefined && !valuesEqual(known, snapshot.values[i - 1]!)) this.violation(`snapshot from ${fromId} disagrees at ${i}`);
    }
    node.storage.saveSnapshot(snapshot);
    node.values = snapshot.values.slice();
    node.appliedThrough = snapshot.through;
    core.installSnapshot(snapshot.through);
    this.stats.snapshotsInstalled++;
    this.log(`replica ${node.id} installed snapshot<=${snapshot.through} from ${fromId}`);
  }

  // ---------------------------------------------------------------------------------------
  // Reads

  private readAnswered(node: SimNode, read: Ready['reads'][number]): void {
    const pending = node.readsWaiting.get(read.requestId);
    if (pending === undefined) return;
    if (read.outcome === 'failed') {
      node.readsWaiting.delete(read.requestId);
      return;
    }
    if (read.via === 'lease') {
      this.stats.leaseReads++;
      this.checkLeaseExclusive(node);
    }
    pending.readThrough = read.readThrough;
    node.readsPendingRound.set(read.requestId, read.readThrough);
  }

  /**
   * A lease read is only sound if no other replica can have decided anything meanwhile: no other
   * replica may lead with a higher ballot while this one's lease holds.
   */
  private checkLeaseExclusive(node: SimNode): void {
    const mine = node.core!.status().promised;
    for (const other of this.nodes.values()) {
      const status = other.core?.status();
      if (other === node || status === undefined || status.role !== 'leader') continue;
      if (compareBallots(status.promised, mine) > 0) {
        this.violation(`lease overlap: replica ${node.id} served a lease read at ballot ${formatBallot(mine)} while replica ${other.id} leads at ${formatBallot(status.promised)}`);
      }
    }
  }

  /** Serves every read whose read point is applied, checking it reflects every decision reported before it began. */
  private serveReads(node: SimNode): void {
    for (const [requestId, readThrough] of node.readsPendingRound) {
      if (node.appliedThrough < readThrough) continue;
      const pending = node.readsWaiting.get(requestId)!;
      node.readsPendingRound.delete(requestId);
      node.readsWaiting.delete(requestId);
      if (readThrough < pending.reportedMaxAtStart) {
        this.violation(`stale read at replica ${node.id}: read point ${readThrough} but instance ${pending.reportedMaxAtStart} was reported decided before the read began`);
      }
      this.stats.readsServed++;
    }
  }

  // ---------------------------------------------------------------------------------------
  // Clients

  private scheduleClient(client: Client): void {
    this.events.push(this.now + 20 + this.random.nextInt(300), () => this.clientAct(client));
  }

  /** One client step: maybe a read, then a new command or a retry of the pending one. Reschedules itself forever. */
  private clientAct(client: Client): void {
    this.scheduleClient(client);
    if (this.random.nextInt(4) === 0) this.clientRead(client);
    if (client.pending === null) {
      if (!this.clientsSubmitting) return;
      client.seq++;
      const name = `c${client.id}.${client.seq}`;
      client.pending = { bytes: encoder.encode(name), name, sentAt: this.now };
      this.submit(client);
    } else if (this.now - client.pending.sentAt > CLIENT_RETRY_UNITS) {
      // A client that waited too long fails over half the time, as a real one whose leader went quiet would.
      if (this.random.nextInt(2) === 0) client.leaderGuess = 1 + this.random.nextInt(this.ids.length);
      this.submit(client);
    }
  }

  private submit(client: Client): void {
    const pending = client.pending!;
    pending.sentAt = this.now;
    const node = this.nodes.get(client.leaderGuess)!;
    const status = node.core?.status();
    if (status === undefined || status.role !== 'leader') {
      client.leaderGuess = status !== undefined && status.leaderId !== 0 ? status.leaderId : 1 + this.random.nextInt(this.ids.length);
      pending.sentAt = this.now - CLIENT_RETRY_UNITS + 3 * TICK_UNITS; // retry soon
      return;
    }
    node.queue.push(pending.bytes);
    this.log(`client ${client.id} submits ${pending.name} to ${node.id}`);
    this.pump(node);
  }

  /**
   * The adversarial reader: every half tick or so, a read at every replica that believes it
   * leads, so an old leader that trusts an expired lease is caught serving a stale read.
   */
  private scheduleProbeReads(): void {
    this.events.push(this.now + 10 + this.random.nextInt(80), () => {
      for (const node of this.nodes.values()) if (node.core?.status().role === 'leader') this.readAt(node);
      this.scheduleProbeReads();
    });
  }

  private clientRead(client: Client): void {
    this.readAt(this.nodes.get(client.leaderGuess)!);
  }

  private readAt(node: SimNode): void {
    if (node.core === null) return;
    const requestId = this.nextReadId++;
    node.readsWaiting.set(requestId, { requestId, reportedMaxAtStart: this.reportedMax, readThrough: 0 });
    node.core.read(requestId);
    this.pump(node);
  }

  // ---------------------------------------------------------------------------------------
  // Faults

  private scheduleFaultEpoch(safetyEnd: number): void {
    const at = this.now + (10 + this.random.nextInt(50)) * TICK_UNITS;
    if (at >= safetyEnd) return;
    this.events.push(at, () => {
      if (!this.faultsOn) return;
      this.changeFaults();
      this.scheduleFaultEpoch(safetyEnd);
    });
  }

  private changeFaults(): void {
    const r = this.random;
    const faults: LinkFaults = {
      dropPermille: [0, 0, 20, 100, 300][r.nextInt(5)]!,
      duplicatePermille: [0, 10, 50][r.nextInt(3)]!,
      delayMin: 1,
      delayMax: [10, 60, 200, 600][r.nextInt(4)]!,
      longDelayPermille: [0, 0, 5, 30][r.nextInt(4)]!,
      longDelayMax: 40 * TICK_UNITS,
    };
    this.network.faults = faults;
    const partition = r.nextInt(3) === 0 ? 'none' : PARTITION_KINDS[r.nextInt(PARTITION_KINDS.length)]!;
    const described = partition === 'none' ? (this.network.heal(), 'healed') : this.network.partition(partition, r);
    this.log(`faults: drop ${faults.dropPermille}‰ dup ${faults.duplicatePermille}‰ delay<=${faults.delayMax} long ${faults.longDelayPermille}‰; ${described}`);
    if (r.nextInt(3) === 0) this.crashSomeone();
    if (r.nextInt(5) === 0) this.wipeSomeone();
    if (this.options.rollbacks === true) this.copyOrRollBackSomeone();
    if (r.nextInt(4) === 0) this.forceCampaigns(1 + r.nextInt(2));
    for (const node of this.nodes.values()) {
      if (!node.up && r.nextInt(2) === 0) this.events.push(this.now + r.nextInt(20 * TICK_UNITS), () => this.restart(node));
    }
  }

  /** Operator-style `campaign()` on one or two replicas at the same instant: duelling candidates. */
  private forceCampaigns(count: number): void {
    for (let k = 0; k < count; k++) {
      const node = this.nodes.get(1 + this.random.nextInt(this.ids.length))!;
      if (node.core === null) continue;
      this.log(`force campaign at ${node.id}: ${node.core.campaign() ? 'campaigning' : 'refused (hears a leader)'}`);
      this.pump(node);
    }
  }

  private crashSomeone(): void {
    const up = [...this.nodes.values()].filter((n) => n.up);
    if (up.length <= 1) return;
    const leader = up.find((n) => n.core!.status().role === 'leader');
    const victim = leader !== undefined && this.random.nextInt(2) === 0 ? leader : up[this.random.nextInt(up.length)]!;
    this.crash(victim, victim === leader ? 'leader' : 'random');
  }

  /**
   * A lost disk: crash a replica (if up) and give it empty storage; it restarts with the
   * others. At most f = (n - 1) / 2 replicas are amnesiac at once (wiped and not yet
   * recovered): more could lose decided values no protocol can bring back.
   */
  private wipeSomeone(): void {
    const nodes = [...this.nodes.values()];
    const amnesiac = nodes.filter((n) => this.amnesiac(n)).length;
    if (amnesiac >= Math.floor((nodes.length - 1) / 2)) return;
    const candidates = nodes.filter((n) => !this.amnesiac(n));
    const victim = candidates[this.random.nextInt(candidates.length)]!;
    this.crash(victim, 'before a wipe');
    victim.storage = new SimStorage();
    victim.wiped = true;
    this.stats.wipes++;
    this.log(`wipe ${victim.id} (storage lost)`);
  }

  /**
   * Now and then a copy of a running replica's durable storage; now and then a replica crashes
   * and restarts on its copy (a data directory rolled back), within the same bound on
   * amnesiac replicas as wipes.
   */
  private copyOrRollBackSomeone(): void {
    const r = this.rollbackRandom;
    const node = this.nodes.get(1 + r.nextInt(this.ids.length))!;
    const choice = r.nextInt(4);
    if (choice === 0 && node.up) {
      node.backup = node.storage.durableCopy();
      this.log(`copy ${node.id}'s storage`);
      return;
    }
    const backup = node.backup;
    if (choice !== 1 || backup === null) return;
    const nodes = [...this.nodes.values()];
    if (this.amnesiac(node) || nodes.filter((n) => this.amnesiac(n)).length >= Math.floor((nodes.length - 1) / 2)) return;
    this.crash(node, 'before a rollback');
    node.storage = backup;
    node.backup = null;
    node.wiped = true;
    this.stats.rollbacks++;
    this.log(`roll back ${node.id} (storage restored to an older copy)`);
  }

  /** Wiped or rolled back, and not voting yet: down, or up and still checking its stamp or recovering. */
  private amnesiac(node: SimNode): boolean {
    if (!node.wiped) return false;
    const status = node.core?.status();
    if (status === undefined || status.recovery !== null || status.startCheck !== null) return true;
    node.wiped = false;
    return false;
  }

  private crashMinority(): void {
    const nodes = [...this.nodes.values()];
    const count = Math.floor((nodes.length - 1) / 2);
    const leader = nodes.find((n) => n.core?.status().role === 'leader');
    const victims = new Set<SimNode>();
    if (leader !== undefined && this.random.nextInt(2) === 0) victims.add(leader);
    while (victims.size < count) victims.add(nodes[this.random.nextInt(nodes.length)]!);
    for (const victim of victims) this.crash(victim, 'minority crash');
  }

  // ---------------------------------------------------------------------------------------
  // Final checks

  private finalChecks(): void {
    const nodes = [...this.nodes.values()];
    const through = nodes[0]!.appliedThrough;
    for (const node of nodes) {
      if (node.appliedThrough !== through) this.violation(`prefix: replica ${node.id} applied ${node.appliedThrough}, replica 1 ${through}`);
      for (let i = 1; i <= through; i++) {
        const value = node.values[i - 1];
        const known = this.decided.get(i);
        if (value === undefined || known === undefined || !valuesEqual(value, known)) {
          this.violation(`prefix: replica ${node.id} instance ${i} holds ${value === undefined ? 'nothing' : formatValue(value)}, decided ${known === undefined ? 'nothing' : formatValue(known)}`);
        }
      }
    }
    for (const [instance, value] of this.reported) {
      if (instance > through) this.violation(`reported decision at ${instance} lost: replicas applied only through ${through}`);
      for (const node of nodes) {
        if (!valuesEqual(node.values[instance - 1]!, value)) this.violation(`reported decision at ${instance} changed on replica ${node.id}`);
      }
    }
    if (this.stats.commandsReported === 0) this.violation('no command was ever reported decided');
  }
}
