// A hand-driven cluster for scenario transcripts (etcd raft's interaction tests, in spirit):
// messages wait in one queue until a command delivers or drops them, replicas tick only when
// told, and every observable effect (messages sent, role changes, decisions, reads, snapshot
// requests) is written to the output. Each replica's driver keeps the Ready order: persist
// (sync when told), send, apply, answer reads, advance.
//
// Replicas start as members that bootstrapped before (a synced hard state that is not
// recovering, nothing else) whose start checks passed (delivered silently), so scenarios begin
// with no recovery traffic; `fresh` starts them on empty storage instead (each recovers first),
// and `wipe` restarts one on empty storage. `backup` copies what a replica's storage holds
// durably; `restore` crashes it and restarts it on that copy (a rolled-back data directory).

import { defaultConfig, type ReplicaConfig } from '../../src/consensus/config.ts';
import { formatBallot } from '../../src/consensus/ballot.ts';
import type { Message } from '../../src/consensus/messages.ts';
import { SplitMix32 } from '../../src/consensus/random.ts';
import { Replica, type ReplicaStatus } from '../../src/consensus/replica.ts';
import { BALLOT_ZERO, type Value } from '../../src/consensus/types.ts';
import { formatEntry, formatMessage, formatStamp, formatValue } from '../sim/format.ts';
import { SimStorage } from '../sim/storage.ts';

const encoder = new TextEncoder();

class Node {
  storage = new SimStorage();
  core: Replica | null = null;
  values: Value[] = [];
  appliedThrough = 0;
  restarts = 0;
  backup: SimStorage | null = null;

  constructor(readonly id: number, readonly config: ReplicaConfig) {}
}

export interface Filter {
  from?: number;
  to?: number;
  type?: string;
}

function matches(m: Message, f: Filter): boolean {
  return (f.from === undefined || m.from === f.from) && (f.to === undefined || m.to === f.to) && (f.type === undefined || m.type === f.type);
}

export class Cluster {
  private readonly nodes = new Map<number, Node>();
  private queue: Message[] = [];
  private readonly groupOf = new Map<number, number>();
  private out: string[] = [];

  constructor(ids: readonly number[], overrides: Partial<ReplicaConfig>, fresh = false) {
    for (const id of ids) {
      const node = new Node(id, { ...defaultConfig(id, ids), ...overrides, replicaId: id });
      if (!fresh) {
        node.storage.append({ entries: [], hardState: { promised: BALLOT_ZERO, decidedThrough: 0, recovering: false } });
        node.storage.sync();
      }
      this.nodes.set(id, node);
      this.start(node);
    }
    if (!fresh) {
      this.stabilize();
      this.out = [];
    }
  }

  get ids(): number[] {
    return [...this.nodes.keys()];
  }

  /** Output produced since the last call. */
  takeOutput(): string[] {
    const out = this.out;
    this.out = [];
    return out;
  }

  private print(line: string): void {
    this.out.push(line);
  }

  node(id: number): Node {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no replica ${id}`);
    return node;
  }

  private core(id: number): Replica {
    const core = this.node(id).core;
    if (core === null) throw new Error(`replica ${id} is down`);
    return core;
  }

  private start(node: Node): void {
    const recovered = node.storage.recover();
    node.values = node.storage.snapshot.values.slice();
    node.appliedThrough = node.storage.snapshot.through;
    node.core = new Replica(node.config, new SplitMix32(node.id * 1000 + node.restarts), recovered);
    this.drain(node);
  }

  /** Runs `input` on a replica, then handles its Readies, printing what changed. */
  private withReplica(id: number, input: (core: Replica) => void): void {
    const node = this.node(id);
    const core = this.core(id);
    const before = core.status();
    input(core);
    this.reportRole(before, core.status());
    this.drain(node);
  }

  private reportRole(before: ReplicaStatus, after: ReplicaStatus): void {
    const id = after.replicaId;
    if (before.recovery !== null && after.recovery === null) this.print(`${id}: recovered (promised ${formatBallot(after.promised)}, decided<=${after.decidedThrough})`);
    if (before.role === after.role && before.leaderId === after.leaderId) return;
    if (after.role === 'leader') this.print(`${id}: became leader at ${formatBallot(after.promised)}`);
    else if (after.role === 'follower') this.print(`${id}: became follower${after.leaderId === 0 ? '' : ` of ${after.leaderId}`} (promised ${formatBallot(after.promised)})`);
    else this.print(`${id}: became ${after.role}`);
  }

  private drain(node: Node): void {
    for (;;) {
      const core = node.core;
      if (core === null) return;
      const ready = core.ready();
      if (ready === null) return;
      node.storage.append(ready.persist);
      if (ready.mustSync) node.storage.sync();
      for (const m of ready.messages) {
        this.print(formatMessage(m));
        this.queue.push(m);
      }
      for (const entry of ready.decided) {
        node.values[entry.instance - 1] = entry.value;
        node.appliedThrough = entry.instance;
        this.print(`${node.id}: applied ${entry.instance} ${formatValue(entry.value)}`);
      }
      for (const read of ready.reads) {
        this.print(read.outcome === 'ready'
          ? `${node.id}: read ${read.requestId} ready through ${read.readThrough} via ${read.via}`
          : `${node.id}: read ${read.requestId} failed: not leader (leader ${read.leaderId})`);
      }
      if (ready.rollback !== undefined) {
        const { reportedBy, restored, seen } = ready.rollback;
        this.print(`${node.id}: rolled back: ${reportedBy} saw stamp ${formatStamp(seen)} above the restored ${formatStamp(restored)}; recovering`);
      }
      if (ready.snapshotRequest !== undefined) {
        this.print(`${node.id}: needs a snapshot through >= ${ready.snapshotRequest.throughInstanceMin} from ${ready.snapshotRequest.fromReplicaId}`);
      }
      core.advance();
    }
  }

  // ---------------------------------------------------------------------------------------
  // Commands

  tick(ids: readonly number[], times: number): void {
    for (let t = 0; t < times; t++) for (const id of ids) if (this.node(id).core !== null) this.withReplica(id, (c) => c.tick());
  }

  /** Ticks `id` (and `others` alongside) until its role changes; prints how many ticks it took. */
  tickUntilRoleChanges(id: number, others: readonly number[], limit: number): void {
    const role = this.core(id).status().role;
    for (let t = 1; t <= limit; t++) {
      this.tick([id, ...others], 1);
      if (this.node(id).core?.status().role !== role) {
        this.print(`(${t} ticks)`);
        return;
      }
    }
    this.print(`(no change in ${limit} ticks)`);
  }

  campaign(id: number): void {
    this.withReplica(id, (c) => {
      if (!c.campaign()) this.print(`${id}: will not campaign (leader ${c.status().leaderId} heard within the election timeout)`);
    });
  }

  propose(id: number, commands: readonly string[]): void {
    this.withReplica(id, (c) => {
      const result = c.propose(commands.map((s) => encoder.encode(s)));
      this.print(result.outcome === 'proposed' ? `${id}: proposed at ${result.instance}` : result.outcome === 'not-leader' ? `${id}: not leader (leader ${result.leaderId})` : `${id}: window full`);
    });
  }

  read(id: number, requestId: number): void {
    this.withReplica(id, (c) => c.read(requestId));
  }

  /** Delivers (or drops) up to `countMax` queued messages that match, in queue order. */
  deliver(filter: Filter, countMax: number, drop: boolean): void {
    const chosen: Message[] = [];
    const rest: Message[] = [];
    for (const m of this.queue) (chosen.length < countMax && matches(m, filter) ? chosen : rest).push(m);
    this.queue = rest;
    for (const m of chosen) this.deliverOne(m, drop);
  }

  private deliverOne(m: Message, drop: boolean): void {
    const target = this.node(m.to);
    if (drop || target.core === null || this.cut(m.from, m.to)) {
      this.print(`dropped ${formatMessage(m)}${drop ? '' : target.core === null ? ' (down)' : ' (partitioned)'}`);
      return;
    }
    this.withReplica(m.to, (c) => c.step(m));
  }

  /** Delivers until no message is queued (messages sent meanwhile included). */
  stabilize(roundsMax = 100): void {
    for (let round = 0; this.queue.length > 0; round++) {
      if (round === roundsMax) throw new Error(`not stable after ${roundsMax} rounds`);
      this.deliver({}, this.queue.length, false);
    }
  }

  partition(groups: readonly (readonly number[])[]): void {
    this.groupOf.clear();
    groups.forEach((group, index) => group.forEach((id) => this.groupOf.set(id, index)));
  }

  heal(): void {
    this.groupOf.clear();
  }

  private cut(from: number, to: number): boolean {
    return this.groupOf.size > 0 && this.groupOf.get(from) !== this.groupOf.get(to);
  }

  crash(id: number): void {
    const node = this.node(id);
    node.core = null;
    // Every Ready here syncs what it must at once, so only unsynced (decision-only) writes are at risk.
    node.storage.crash(new SplitMix32(id));
    this.print(`${id}: crashed`);
  }

  restart(id: number): void {
    const node = this.node(id);
    node.restarts++;
    this.print(`${id}: restarted`);
    this.start(node);
  }

  /** Copies what `id`'s storage holds durably (a backup, a volume snapshot). */
  backup(id: number): void {
    const node = this.node(id);
    node.backup = node.storage.durableCopy();
    this.print(`${id}: storage copied`);
  }

  /** The data directory rolled back: `id` crashes and restarts on the copy `backup` took. */
  restore(id: number): void {
    const node = this.node(id);
    const backup = node.backup;
    if (backup === null) throw new Error(`replica ${id} has no backup`);
    node.core = null;
    node.storage = backup.durableCopy();
    node.restarts++;
    this.print(`${id}: restarted on the copy of its storage`);
    this.start(node);
  }

  /** A lost disk: the replica stops, its storage (log, hard state, snapshot) is replaced by an empty one, and it starts again. */
  wipe(id: number): void {
    const node = this.node(id);
    node.core = null;
    node.storage = new SimStorage();
    node.values = [];
    node.appliedThrough = 0;
    node.restarts++;
    this.print(`${id}: wiped and restarted on empty storage`);
    this.start(node);
  }

  /** The state machine snapshots what it applied; the log below is dropped. */
  compact(id: number): void {
    const node = this.node(id);
    node.storage.saveSnapshot({ through: node.appliedThrough, values: node.values.slice(0, node.appliedThrough) });
    this.core(id).compact(node.appliedThrough);
    this.print(`${id}: compacted through ${node.appliedThrough}`);
  }

  installSnapshot(id: number, fromId: number): void {
    const node = this.node(id);
    const snapshot = this.node(fromId).storage.snapshot;
    node.storage.saveSnapshot(snapshot);
    node.values = snapshot.values.slice();
    node.appliedThrough = snapshot.through;
    this.withReplica(id, (c) => c.installSnapshot(snapshot.through));
    this.print(`${id}: installed snapshot through ${snapshot.through} from ${fromId}`);
  }

  status(ids: readonly number[]): void {
    for (const id of ids) {
      const core = this.node(id).core;
      if (core === null) {
        this.print(`${id}: down`);
        continue;
      }
      const s = core.status();
      const lease = s.role === 'leader' ? ` lease=${s.leaseValid ? 'valid' : 'expired'}` : '';
      const r = s.recovery;
      const recovering = r === null ? '' : ` recovering (answers ${r.peersAnswered}/${r.peersTotal}, decided target ${r.decidedTarget})`;
      const checking = s.startCheck === null ? '' : ` checking stamp ${formatStamp(s.stamp)} (confirmed ${s.startCheck.confirmed}/${s.startCheck.needed})`;
      this.print(`${id}: ${s.role} leader=${s.leaderId} promised=${formatBallot(s.promised)} decided<=${s.decidedThrough} applied<=${s.appliedThrough} snapshot<=${s.snapshotThrough}${lease}${recovering}${checking}`);
    }
  }

  /** The log of each replica, instance by instance (`!` = known decided). */
  logs(ids: readonly number[]): void {
    for (const id of ids) {
      const core = this.core(id);
      const s = core.status();
      const entries: string[] = [];
      const highest = Math.max(s.decidedThrough, ...this.highestInstances());
      for (let i = s.snapshotThrough + 1; i <= highest; i++) {
        const entry = core.entryAt(i);
        entries.push(entry === undefined ? `${i}:-` : formatEntry(entry));
      }
      this.print(`${id}: ${entries.join(' ') || '(empty)'}`);
    }
  }

  private highestInstances(): number[] {
    const highest: number[] = [0];
    for (const node of this.nodes.values()) {
      const core = node.core;
      if (core === null) continue;
      let i = core.status().snapshotThrough + 1;
      let last = 0;
      for (let misses = 0; misses < 8; i++) {
        if (core.entryAt(i) === undefined) misses++;
        else { misses = 0; last = i; }
      }
      highest.push(last);
    }
    return highest;
  }

  /** Checks agreement: every instance applied on two replicas holds the same value on both. */
  agree(): void {
    const chosen = new Map<number, { id: number; text: string }>();
    let conflicts = 0;
    for (const node of this.nodes.values()) {
      for (let i = 1; i <= node.appliedThrough; i++) {
        const value = node.values[i - 1];
        if (value === undefined) continue;
        const text = formatValue(value);
        const first = chosen.get(i);
        if (first === undefined) chosen.set(i, { id: node.id, text });
        else if (first.text !== text) {
          conflicts++;
          this.print(`DISAGREE at ${i}: ${first.id} applied ${first.text}, ${node.id} applied ${text}`);
        }
      }
    }
    if (conflicts === 0) this.print(`agreement: every applied instance holds one value (through ${Math.max(0, ...chosen.keys())})`);
  }

  queued(): void {
    for (const m of this.queue) this.print(`queued ${formatMessage(m)}`);
    if (this.queue.length === 0) this.print('(no messages queued)');
  }
}
