// Linearizable reads on the leader: every read that arrives in one turn of the event loop
// shares one consensus read round (lease or read-index, src/consensus/reads.ts); the round
// answers with the read point, the instance the state machine must have applied.

import type { Ready } from '../../consensus/index.ts';

interface ReadWaiter {
  readonly resolve: (readThrough: number) => void;
  readonly reject: (err: Error) => void;
}

export class ReadRounds {
  private collecting: { id: number; waiters: ReadWaiter[] } | null = null;
  private readonly inFlight = new Map<number, ReadWaiter[]>();
  private nextId = 1;

  /** `begin` hands a round to consensus (Replica.read) at the end of the turn. */
  constructor(private readonly begin: (roundId: number) => void) {}

  /** Resolves with the read point of the round this read joins. */
  readPoint(): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      if (this.collecting === null) {
        const round = { id: this.nextId++, waiters: [] as ReadWaiter[] };
        this.collecting = round;
        queueMicrotask(() => {
          this.collecting = null;
          this.inFlight.set(round.id, round.waiters);
          this.begin(round.id);
        });
      }
      this.collecting.waiters.push({ resolve, reject });
    });
  }

  /** A round's outcome from a Ready; `notLeader` is the error when it failed. */
  answer(read: Ready['reads'][number], notLeader: () => Error): void {
    const waiters = this.inFlight.get(read.requestId);
    if (waiters === undefined) return;
    this.inFlight.delete(read.requestId);
    if (read.outcome === 'ready') {
      for (const w of waiters) w.resolve(read.readThrough);
    } else {
      const err = notLeader();
      for (const w of waiters) w.reject(err);
    }
  }

  /** Fails every round handed to consensus (leadership lost, closing). */
  failInFlight(err: () => Error): void {
    for (const waiters of this.inFlight.values()) for (const w of waiters) w.reject(err());
    this.inFlight.clear();
  }
}
