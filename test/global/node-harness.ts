// A cluster of real ReplicaNodes (driver, batcher, state machine, storage engine over the
// in-memory fault file system) in one process, with time and the network in the test's hands:
// every node reads one shared virtual clock, its timers fire only when the test advances time,
// and messages pass through a filter the test sets. A node's timers can be held back while
// time goes on (a stalled event loop or a paused process: when released, each timer that came
// due fires once, as a late setTimeout does), and messages to it held until it is released.
// For driver-level faults the core transcripts cannot show (issue 13).

import { ReplicaNode, REPLICA_NODE_DEFAULTS, type ReplicaNodeConfig } from '../../src/global/replica/replica-node.ts';
import { StorageEngine } from '../../src/global/storage/engine.ts';
import { FaultFileSystem } from '../../src/global/storage/fault-fs.ts';
import type { Message } from '../../src/consensus/index.ts';
import type { Clock, Timer } from '../../src/protocol/backoff.ts';
import type { TxnRequest__Output } from '../../src/protocol/generated/dstore/v1/TxnRequest.ts';
import { dstoreRoot, TO_OBJECT_OPTIONS } from '../../src/protocol/proto.ts';

/** Lets the event loop run: every pending immediate, I/O callback and fault-fs completion. */
export async function turns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

interface PendingTimer {
  readonly dueMs: number;
  readonly callback: () => void;
  cancelled: boolean;
}

/** One node's view of the shared virtual time. */
export class NodeClock implements Clock {
  private timers: PendingTimer[] = [];
  /** While true no timer fires (the node's event loop is stalled); time goes on regardless. */
  held = false;

  constructor(private readonly time: { nowMs: number }) {}

  nowMs(): number {
    return this.time.nowMs;
  }

  setTimer(callback: () => void, delayMs: number): Timer {
    const timer: PendingTimer = { dueMs: this.time.nowMs + delayMs, callback, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => { timer.cancelled = true; } };
  }

  /** Fires, earliest first, every timer due by now (once each), unless held. */
  fireDue(): void {
    while (!this.held) {
      this.timers = this.timers.filter((t) => !t.cancelled);
      const due = this.timers.filter((t) => t.dueMs <= this.time.nowMs).sort((a, b) => a.dueMs - b.dueMs)[0];
      if (due === undefined) return;
      due.cancelled = true;
      due.callback();
    }
  }
}

export interface ClusterNode {
  readonly id: number;
  readonly node: ReplicaNode;
  readonly clock: NodeClock;
  readonly storage: StorageEngine;
}

const TxnRequestType = dstoreRoot().lookupType('dstore.v1.TxnRequest');

/** A put of `key` = `value` as the service receives it (decoded from the wire). */
export function putRequest(key: string, value: string): TxnRequest__Output {
  const request = { success: [{ put: { key, value: { inline: Buffer.from(value) } } }] };
  return TxnRequestType.toObject(TxnRequestType.decode(TxnRequestType.encode(TxnRequestType.fromObject(request)).finish()), TO_OBJECT_OPTIONS) as TxnRequest__Output;
}

export class NodeCluster {
  readonly time = { nowMs: 0 };
  readonly nodes = new Map<number, ClusterNode>();
  /** Decides each message's fate; true delivers it (on a later macrotask). */
  filter: (m: Message) => boolean = () => true;
  readonly fatalErrors: unknown[] = [];
  private readonly heldMessages = new Map<number, Message[]>();

  private constructor(readonly tickMs: number) {}

  static async start(size: number, overrides: Partial<ReplicaNodeConfig> = {}): Promise<NodeCluster> {
    const config = { ...REPLICA_NODE_DEFAULTS, ...overrides };
    const cluster = new NodeCluster(config.tickMs);
    const members = new Map(Array.from({ length: size }, (_, i) => [i + 1, `replica-${i + 1}:1`] as const));
    for (const id of members.keys()) {
      const clock = new NodeClock(cluster.time);
      const storage = await StorageEngine.open({ fs: new FaultFileSystem({ seed: id }), dir: '/data', clock, walLoss: 'recover' });
      const node = await ReplicaNode.open({ ...config, replicaId: id, members }, {
        storage,
        clock,
        seed: id,
        send: (m) => cluster.send(m),
        onFatal: (err) => cluster.fatalErrors.push(err),
      });
      cluster.nodes.set(id, { id, node, clock, storage });
    }
    for (const n of cluster.nodes.values()) n.node.start();
    return cluster;
  }

  get(id: number): ClusterNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  private send(m: Message): void {
    if (!this.filter(m)) return;
    const target = this.get(m.to);
    if (target.clock.held) {
      this.heldMessages.set(m.to, [...(this.heldMessages.get(m.to) ?? []), m]);
      return;
    }
    setImmediate(() => target.node.step(m));
  }

  /** Advances the virtual time by `ms`, one tick at a time, letting every node run between. */
  async advance(ms: number): Promise<void> {
    for (let elapsed = 0; elapsed < ms; elapsed += this.tickMs) {
      this.time.nowMs += Math.min(this.tickMs, ms - elapsed);
      for (const n of this.nodes.values()) n.clock.fireDue();
      await turns(10);
    }
  }

  /** Advances time tick by tick until `condition` holds; throws naming `what` after `ticksMax`. */
  async until<T>(what: string, condition: () => T | undefined | false, ticksMax = 400): Promise<T> {
    for (let i = 0; i <= ticksMax; i++) {
      const value = condition();
      if (value !== undefined && value !== false) return value;
      await this.advance(this.tickMs);
    }
    throw new Error(`not within ${ticksMax} ticks: ${what}`);
  }

  /** The one node that believes it leads among `ids`, if exactly one does. */
  leaderAmong(ids: readonly number[] = [...this.nodes.keys()]): number | undefined {
    const leaders = ids.filter((id) => this.get(id).node.isLeader());
    return leaders.length === 1 ? leaders[0] : undefined;
  }

  /** Stalls node `id`: its timers stop firing and messages to it wait, while time goes on. */
  hold(id: number): void {
    this.get(id).clock.held = true;
  }

  /** Ends the stall: each timer that came due fires once; held messages stay held until `deliverHeld`. */
  release(id: number): void {
    const n = this.get(id);
    n.clock.held = false;
    n.clock.fireDue();
  }

  /** Delivers the messages held for `id` (in order, each through the filter again). */
  deliverHeld(id: number): void {
    const held = this.heldMessages.get(id) ?? [];
    this.heldMessages.delete(id);
    for (const m of held) this.send(m);
  }

  /** Copies `from`'s newest snapshot into `to`'s snapshot store and installs it there (what snapshot-transfer.ts does over the network). */
  async installSnapshot(to: number, from: number): Promise<void> {
    const source = this.get(from).storage.snapshots;
    const meta = source.latest();
    if (meta === undefined) throw new Error(`node ${from} holds no snapshot`);
    const writer = await this.get(to).storage.snapshots.beginInstall(meta);
    const chunks: Uint8Array[] = [];
    for await (const chunk of source.read(meta.throughInstance)) {
      await writer.write(chunk);
      chunks.push(chunk.bytes);
    }
    await writer.finish();
    await this.get(to).node.installSnapshot(meta.throughInstance, Buffer.concat(chunks));
  }

  async close(): Promise<void> {
    for (const n of this.nodes.values()) n.node.close();
    for (const n of this.nodes.values()) {
      await n.node.snapshotsIdle();
      await n.storage.close();
    }
  }
}
