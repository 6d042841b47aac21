// The simulated clients: each issues real transactions one at a time (put, put-if-absent,
// compare-and-swap, delete, linearizable and serializable reads) against the replicas, with a
// client session (WriteId) so a retry of a write runs at most once, and retries with backoff
// after a lost answer, a leader change or a crash. A client sends to any replica (the leader
// only when a NOT_LEADER named it): a follower forwards writes and linearizable reads to the
// leader (cluster.ts, `serve`), so most requests cross a follower first. Every operation goes into the history the
// fault suite's checker reads (test/faults/history.ts): invoke and complete times, outcome,
// and what the replica answered. Values are unique per write, so a read names the write it saw.

import { NotLeaderError } from '../../../src/protocol/errors.ts';
import type { TxnRequest__Output } from '../../../src/protocol/generated/dstore/v1/TxnRequest.ts';
import type { ReplicaNode } from '../../../src/global/replica/replica-node.ts';
import type { TxnResult, WriteId } from '../../../src/global/state/types.ts';
import type { SplitMix32 } from '../../../src/consensus/index.ts';
import type { Op, ReadOp, WriteOp } from '../../faults/history.ts';
import type { SimCluster } from './cluster.ts';
import { casTxn, deleteTxn, putIfAbsentTxn, putTxn, readHere, type ReadAnswer } from './requests.ts';
import { SimProcess, type Scheduler } from './scheduler.ts';

export const KEYS = ['a', 'b', 'c'];

/** How long one attempt waits for its answer, and one operation for any answer, in ms. */
const ATTEMPT_TIMEOUT_MS = 1_500;
const OPERATION_DEADLINE_MS = 8_000;

type Outcome<T> = { ok: T } | { error: Error } | { timeout: true };

export class History {
  readonly ops: Op[] = [];
  private nextId = 1;

  id(): number {
    return this.nextId++;
  }
}

export class SimClient {
  readonly process: SimProcess;
  private requestId = 0;
  private leaderHint = 0;
  private written = 0;
  /** The newest modRevision this client saw per key (the cas it tries next expects it). */
  private readonly seen = new Map<string, number>();
  busy = false;

  constructor(
    readonly name: string,
    /** The client's end of the network (ids above the replicas'). */
    private readonly netId: number,
    private readonly sched: Scheduler,
    private readonly cluster: SimCluster,
    private readonly random: SplitMix32,
    private readonly history: History,
    private readonly trace: (line: string) => void,
    /** False when clocks may break the lease bound: linearizable reads are then checked only as serializable ones. */
    private readonly leaseTrusted: () => boolean,
  ) {
    this.process = new SimProcess(name, 0, 1, 0);
  }

  /** Issues operations until `stop()` holds, then resolves. */
  async run(stop: () => boolean): Promise<void> {
    this.busy = true;
    try {
      while (!stop()) {
        await this.one();
        await this.sleep(this.random.nextInt(200));
      }
    } finally {
      this.busy = false;
    }
  }

  private async one(): Promise<void> {
    const key = KEYS[this.random.nextInt(KEYS.length)]!;
    const roll = this.random.nextInt(100);
    if (roll < 20) return this.write('put', key);
    if (roll < 32) return this.write('set', key);
    if (roll < 50) return this.write('cas', key);
    if (roll < 60) return this.write('delete', key);
    if (roll < 85) return void (await this.read(key, 'linearizable'));
    return void (await this.read(key, 'serializable'));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.sched.at(ms, this.process, resolve));
  }

  private rpc<T>(replicaId: number, handler: (node: ReplicaNode) => Promise<T>): Promise<Outcome<T>> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (o: Outcome<T>): void => {
        if (done) return;
        done = true;
        timer.cancel();
        resolve(o);
      };
      const timer = this.sched.at(ATTEMPT_TIMEOUT_MS, this.process, () => finish({ timeout: true }));
      this.cluster.call(this.process, this.netId, replicaId, handler, finish);
    });
  }

  private target(): number {
    if (this.leaderHint !== 0) return this.leaderHint;
    return 1 + this.random.nextInt(this.cluster.replicas.size);
  }

  /** Learns the leader from a NotLeaderError's hint ("replica-2:1"), or forgets it. */
  private learn(err: Error | null): void {
    const hint = err instanceof NotLeaderError ? /^replica-(\d+):/.exec(err.leaderHint ?? '')?.[1] : undefined;
    this.leaderHint = hint === undefined ? 0 : Number(hint);
  }

  async write(kind: WriteOp['kind'], key: string): Promise<void> {
    const requestId = ++this.requestId;
    const writeId: WriteId = { clientId: this.name, requestId, firstIncomplete: requestId };
    const value = kind === 'delete' ? undefined : `${this.name}-${++this.written}`;
    const expected = kind === 'cas' ? (this.random.nextInt(4) === 0 ? 0 : (this.seen.get(key) ?? 0)) : undefined;
    const txn: TxnRequest__Output = kind === 'put' ? putTxn(key, value!) : kind === 'set' ? putIfAbsentTxn(key, value!) : kind === 'cas' ? casTxn(key, value!, expected!) : deleteTxn(key);
    const invokeMs = this.sched.nowMs;
    const deadlineMs = invokeMs + OPERATION_DEADLINE_MS;
    const base = { id: this.history.id(), process: this.name, local: null, key, invokeMs, kind, ...(value === undefined ? {} : { value }), ...(expected === undefined ? {} : { expectedModRevision: expected }) };
    let attempts = 0;
    for (;;) {
      attempts++;
      const target = this.target();
      const o = await this.rpc(target, (node) => this.cluster.serve(target, node, { kind: 'write', writeId, txn }, ATTEMPT_TIMEOUT_MS) as Promise<TxnResult>);
      if ('ok' in o) {
        this.learn(null);
        this.record({ ...base, completeMs: this.sched.nowMs, ...this.writeOutcome(kind, key, o.ok) } as WriteOp, attempts);
        return;
      }
      this.learn('error' in o ? o.error : null);
      if (this.sched.nowMs >= deadlineMs) {
        this.record({ ...base, completeMs: this.sched.nowMs, outcome: 'unknown', error: 'error' in o ? o.error.name : 'timeout' }, attempts);
        return;
      }
      await this.sleep(this.leaderHint !== 0 ? 5 : 20 + this.random.nextInt(200));
    }
  }

  private writeOutcome(kind: WriteOp['kind'], key: string, r: TxnResult): Partial<WriteOp> {
    if (r.failure !== null) {
      // Put-if-absent on a bound key definitely did nothing; an expired or forgotten session
      // says the write may or may not have run.
      if (r.failure.code === 'KEY_OCCUPIED') return { outcome: 'fail', error: r.failure.code };
      return { outcome: 'unknown', error: r.failure.code };
    }
    const first = r.results[0];
    if (kind === 'delete') {
      const prev = first?.kind === 'delete' ? first.prev : null;
      if (prev !== null) this.seen.set(key, 0);
      return { outcome: 'ok', revision: r.revision, written: prev !== null, ...(prev === null ? {} : { prevModRevision: prev.modRevision }) };
    }
    if (kind === 'cas' && !r.succeeded) return { outcome: 'ok', revision: r.revision, written: false };
    this.seen.set(key, r.revision);
    return { outcome: 'ok', revision: r.revision, written: true };
  }

  /** A read; resolves with what it answered (or null when it got no answer). */
  async read(key: string, consistency: 'linearizable' | 'serializable', deadlineAfterMs = OPERATION_DEADLINE_MS): Promise<ReadAnswer | null> {
    const invokeMs = this.sched.nowMs;
    const deadlineMs = invokeMs + deadlineAfterMs;
    const id = this.history.id();
    let attempts = 0;
    for (;;) {
      attempts++;
      const target = consistency === 'linearizable' ? this.target() : 1 + this.random.nextInt(this.cluster.replicas.size);
      const o = await this.rpc(target, (node): Promise<ReadAnswer> => consistency === 'linearizable'
        ? this.cluster.serve(target, node, { kind: 'read', key }, ATTEMPT_TIMEOUT_MS) as Promise<ReadAnswer>
        : Promise.resolve(readHere(node, key)));
      if ('ok' in o) {
        if (consistency === 'linearizable') this.learn(null);
        if (o.ok.found !== null) this.seen.set(key, o.ok.found.modRevision);
        // A serializable read (or a linearizable one whose lease the clocks may have broken) is
        // checked only for returning a written value: its own "Local" keeps it out of the
        // linearizable order and the per-Local clauses.
        const checkedAsLinearizable = consistency === 'linearizable' && this.leaseTrusted();
        const op: ReadOp = { id, process: this.name, local: checkedAsLinearizable ? null : `${this.name}-read-${id}`, key, invokeMs, completeMs: this.sched.nowMs, outcome: 'ok', kind: 'read', source: 'global', revision: o.ok.revision, found: o.ok.found };
        this.record(op, attempts, consistency);
        return o.ok;
      }
      if (consistency === 'linearizable') this.learn('error' in o ? o.error : null);
      if (this.sched.nowMs >= deadlineMs) return null;
      await this.sleep(this.leaderHint !== 0 ? 5 : 20 + this.random.nextInt(200));
    }
  }

  private record(op: Op, attempts: number, note = ''): void {
    this.history.ops.push(op);
    const answer = op.outcome !== 'ok' ? `${op.outcome}${op.error === undefined ? '' : ` (${op.error})`}`
      : op.kind === 'read' ? (op.found === null || op.found === undefined ? 'not found' : `${op.found.value}@${op.found.modRevision}`)
      : op.written === true ? 'written' : 'not written';
    const what = op.kind === 'read' ? `read ${op.key}${note === '' ? '' : ` ${note}`}` : `${op.kind} ${op.key}${op.value === undefined ? '' : ` ${op.value}`}${op.expectedModRevision === undefined ? '' : ` if mod=${op.expectedModRevision}`}`;
    this.trace(`${this.name}: #${op.id} ${what} -> ${answer}${op.revision === undefined ? '' : ` rev=${op.revision}`} (${attempts} attempt${attempts === 1 ? '' : 's'})`);
  }
}
