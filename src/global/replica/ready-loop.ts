// The boundary between the consensus core and I/O: the one loop that takes each Ready and
// does, for it and nowhere else:
//   persist (durable before any vote on it leaves) -> send -> apply decided -> answer reads
//   -> advance.
// Inputs (peer messages, ticks, proposals, read requests) may arrive while a Ready is being
// persisted; they land in the next Ready, which is how many proposals share one fsync.
// Work that must not run inside a Ready (swapping the state machine, the core dropping its
// log) waits for the boundary between advance() and the next ready().

import { ClosedError } from '../../protocol/errors.ts';
import { vouchesForPersist, type LogEntry, type Message, type Ready, type Replica } from '../../consensus/index.ts';

/** What a Ready's steps are carried out with; the coordinator (ReplicaNode) provides them. */
export interface ReadyIo {
  /**
   * Writes the Ready's persist part to the WAL; resolves once it is durable. `deferrable`:
   * it only moves decisions, so it may wait to be written with the next record.
   */
  readonly persist: (update: Ready['persist'], deferrable: boolean) => Promise<void>;
  /** Hands a consensus message to the network. */
  readonly send: (message: Message) => void;
  /** Applies one decided entry to the state machine, in order. */
  readonly apply: (entry: LogEntry) => void;
  readonly answerRead: (read: Ready['reads'][number]) => void;
  readonly snapshotNeeded: (request: NonNullable<Ready['snapshotRequest']>) => void;
  /** Runs after each advance(): leadership, rollback and recovery notices. */
  readonly advanced: (ready: Ready) => void;
  /** An unrecoverable error (a failed write): stop the process. */
  readonly fatal: (err: unknown) => void;
  /** Runs `work` on a later macrotask: how the loop is scheduled after an input. */
  readonly defer: (work: () => void) => void;
}

export class ReadyLoop {
  private scheduled = false;
  private running = false;
  private closed = false;
  /** Work that must run between advance() and the next ready(). */
  private boundaryWork: (() => void)[] = [];

  constructor(
    private readonly replica: Replica,
    private readonly io: ReadyIo,
  ) {}

  /** Schedules a run of the loop (after any input to the core). */
  kick(): void {
    if (this.scheduled || this.running || this.closed) return;
    this.scheduled = true;
    this.io.defer(() => {
      this.scheduled = false;
      this.run().catch((err: unknown) => this.io.fatal(err));
    });
  }

  /** Runs `work` at the next loop boundary (it must not throw). */
  atBoundary(work: () => void): void {
    this.boundaryWork.push(work);
    this.kick();
  }

  /** Runs `work` between advance() and the next ready(); rejects with what it throws. */
  atNextBoundary(work: () => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.closed) return reject(new ClosedError('replica is shutting down'));
      this.atBoundary(() => {
        if (this.closed) return reject(new ClosedError('replica is shutting down'));
        try {
          work();
          resolve();
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
    });
  }

  /** Stops the loop: no Ready is taken after the one being handled. */
  close(): void {
    this.closed = true;
  }

  /** After close: boundary work will never run in a loop now; let what waits on it fail. */
  settleBoundaryWork(): void {
    this.runBoundaryWork();
  }

  private runBoundaryWork(): void {
    const work = this.boundaryWork;
    this.boundaryWork = [];
    for (const w of work) w();
  }

  private async run(): Promise<void> {
    if (this.running || this.closed) return;
    this.running = true;
    try {
      for (;;) {
        this.runBoundaryWork();
        const ready = this.replica.ready();
        if (ready === null) break;
        await this.handle(ready);
        if (this.closed) return;
        this.replica.advance();
        this.io.advanced(ready);
      }
    } finally {
      this.running = false;
    }
  }

  private async handle(ready: Ready): Promise<void> {
    // 2a. Messages that are not votes leave at once: a leader's Accepts travel while its
    // own disk write runs (ready.ts explains why that is safe). Announcements of decisions
    // (Decided) wait for a later macrotask, so the leader answers its clients first.
    let announcements: Message[] | undefined;
    for (const message of ready.messages) {
      if (vouchesForPersist(message)) continue;
      if (message.type === 'decided') (announcements ??= []).push(message);
      else this.io.send(message);
    }
    // 1. persist: durable before any vote on it (Promise, Accepted) leaves. A Ready that
    // only moves decisions (mustSync false) is not waited for, and the WAL may hold it for its
    // next record (stable-store.ts): losing it in a crash is safe, it stays ahead of every later
    // record, and writing it at once put a disk write between the next proposal and its accept.
    if (ready.persist.entries.length > 0 || ready.persist.hardState !== undefined) {
      const written = this.io.persist(ready.persist, !ready.mustSync);
      if (ready.mustSync) {
        await written;
      } else {
        written.catch((err: unknown) => this.io.fatal(err));
      }
    }
    // 2b. The votes.
    for (const message of ready.messages) if (vouchesForPersist(message)) this.io.send(message);
    // 3. apply, in order.
    for (const entry of ready.decided) this.io.apply(entry);
    // 4. answer reads now that this Ready's decisions are applied.
    for (const read of ready.reads) this.io.answerRead(read);
    if (ready.snapshotRequest !== undefined) this.io.snapshotNeeded(ready.snapshotRequest);
    if (announcements !== undefined) {
      const later = announcements;
      this.io.defer(() => {
        for (const message of later) this.io.send(message);
      });
    }
  }
}
