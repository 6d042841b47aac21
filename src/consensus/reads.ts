// Linearizable reads without writing to the log.
//
// A read is safe once the state machine has applied every instance that might have been decided
// before the read arrived: all of them are below the leader's nextInstance, because its phase 1
// saw every value a previous leader could have decided and it proposes new ones above them. The
// leader must also still lead, which it proves one of two ways:
//   - lease: a majority acked a heartbeat sent at tick t. Each acker refuses other candidates for
//     electionTimeoutTicks of its own ticks after receiving it, so no other leader can decide
//     anything before t + leaseTicks on this leader's clock (config.ts, leaseTicksFor, states the
//     clock-drift bound this rests on). No messages needed.
//   - read index: a heartbeat round sent after the read arrived is acked by a majority at this
//     ballot; any newer leader would have had to win one of them over first.

import type { Members } from './quorum.ts';
import type { ReadState } from './ready.ts';

/** Heartbeat rounds and their acknowledgements, for the lease, read index and check-quorum. */
export class LeaderLease {
  private seqLast = 0;
  /** Send ticks by round: `clock` is real time (the lease), `live` counts tick calls (check quorum). */
  private readonly sendTickBySeq = new Map<number, { readonly clock: number; readonly live: number }>();
  /** Highest seq acked by each replica, indexed like `Members.bit`. */
  private readonly ackedSeqByIndex: number[];
  private quorumSeqValue = 0;
  /** Send ticks of the newest round a majority acked: the last time a majority surely followed us. */
  private quorumContact: { readonly clock: number; readonly live: number };

  constructor(
    private readonly members: Members,
    private readonly leaseTicks: number,
    clockTicks: number,
    liveTicks: number,
  ) {
    this.ackedSeqByIndex = new Array<number>(members.size).fill(0);
    this.quorumContact = { clock: clockTicks, live: liveTicks };
  }

  /** Opens a heartbeat round sent at `clockTicks` of real time and `liveTicks` tick calls; returns its seq. */
  openRound(clockTicks: number, liveTicks: number): number {
    this.seqLast++;
    this.sendTickBySeq.set(this.seqLast, { clock: clockTicks, live: liveTicks });
    // The leader acks its own round; in a group of one that alone is a majority.
    this.recomputeQuorumSeq();
    return this.seqLast;
  }

  get lastSeq(): number { return this.seqLast; }
  /** The newest round a majority (this leader included) acknowledged; 0 before any. */
  get quorumSeq(): number { return this.quorumSeqValue; }
  /** The same contact in tick calls, for check quorum (a liveness timer). */
  get quorumContactLiveTick(): number { return this.quorumContact.live; }

  /** Records a follower's ack of round `seq` (stale or duplicate acks are harmless). */
  ack(fromId: number, seq: number): void {
    const index = Math.log2(this.members.bit(fromId));
    const before = this.ackedSeqByIndex[index];
    if (before === undefined || seq <= before || seq > this.seqLast) return;
    this.ackedSeqByIndex[index] = seq;
    this.recomputeQuorumSeq();
  }

  private recomputeQuorumSeq(): void {
    const selfIndex = Math.log2(this.members.bit(this.members.selfId));
    const seqs = this.ackedSeqByIndex.map((seq, index) => (index === selfIndex ? this.seqLast : seq));
    seqs.sort((a, b) => b - a);
    const quorumSeq = seqs[this.members.quorum - 1] ?? 0;
    if (quorumSeq <= this.quorumSeqValue) return;
    this.quorumSeqValue = quorumSeq;
    this.quorumContact = this.sendTickBySeq.get(quorumSeq) ?? this.quorumContact;
    for (const seq of this.sendTickBySeq.keys()) {
      if (seq >= quorumSeq) break;
      this.sendTickBySeq.delete(seq);
    }
  }

  /** True while a majority's acks guarantee no other leader can decide anything. */
  leaseValid(clockTicks: number): boolean {
    return this.quorumSeqValue > 0 && clockTicks < this.quorumContact.clock + this.leaseTicks;
  }
}

interface PendingRead {
  readonly requestId: number;
  readonly readThrough: number;
  /** The heartbeat round, sent after the read arrived, that must be acked by a majority. */
  readonly seq: number;
}

/** Reads waiting for their read-index round. */
export class ReadQueue {
  private pending: PendingRead[] = [];

  add(requestId: number, readThrough: number, seq: number): void {
    this.pending.push({ requestId, readThrough, seq });
  }

  /** Moves every read whose round a majority acked into `out`. Rounds ascend, so it pops a prefix. */
  release(quorumSeq: number, out: ReadState[]): void {
    let released = 0;
    for (const read of this.pending) {
      if (read.seq > quorumSeq) break;
      out.push({ requestId: read.requestId, outcome: 'ready', readThrough: read.readThrough, via: 'read-index' });
      released++;
    }
    if (released > 0) this.pending = this.pending.slice(released);
  }

  /** Fails every pending read (leadership lost). */
  failAll(leaderId: number, out: ReadState[]): void {
    for (const read of this.pending) out.push({ requestId: read.requestId, outcome: 'failed', reason: 'not-leader', leaderId });
    this.pending = [];
  }

  get size(): number {
    return this.pending.length;
  }
}
