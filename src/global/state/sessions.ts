// Exactly-once results for retried writes, per (clientId, requestId).
//
// Part of the replicated state: every replica applies the same commands, so every replica
// holds the same sessions in the same order, and snapshots carry them. Bounded in two
// ways, both deterministic: at most `clientsMax` clients (the least recently active is
// forgotten first) and at most `resultsPerClientMax` results per client (the earliest
// recorded are forgotten first). A retry older than what is kept is refused rather
// than run twice. Read results are not kept (they can be large): a duplicate gets its
// writes' results and `notRetained` in place of reads.
//
// A forgotten client (session expired): request ids start at 1, so a write from a client
// with no session and a request id above 1 comes from a client that wrote before; its
// earlier writes, this one included, may have run under the forgotten session. It is
// refused (`expired`: SESSION_EXPIRED, the outcome unknown to the client, never run twice)
// and the session starts again with `expiredThrough` set to its request id. From then on
// every write the client sent before it had that answer is refused the same way: those
// say so by their WriteId.firstIncomplete <= expiredThrough (the refused write was still
// outstanding when they were sent). Writes sent after run exactly once as usual. (Raft
// dissertation section 6.3 and etcd's sessions expire the same way: with an error, never a
// second run.) A client that does not send firstIncomplete (0) is judged by its request id.
// A session opens with an empty write (no compares, no ops) at request id 1: the client sends
// it, and waits for its answer, before its first real write (Raft dissertation section 6.3's
// RegisterClient). Re-running it changes nothing, so a retry of request 1 after the session
// was forgotten is harmless, and any other write from a client with no session is refused
// `expired` however it is numbered. A client that says no firstIncomplete (0) is taken at its
// word as before: its write 1 opens the session (such a client cannot be told from a new one).
// What this cannot tell apart: a copy of the opening write decided only after its session was
// forgotten opens it again (docs/architecture.md).

import { assert } from '../../protocol/assert.ts';
import type { OpResult, TxnResult, WriteId } from './types.ts';

export interface ClientSession {
  /** Results by request id, ascending by insertion (request ids increase per client). */
  readonly results: Map<number, TxnResult>;
  /** Highest request id forgotten for this client; 0 = none. */
  forgottenThrough: number;
  /** The write at which this client's session was found expired (see above); 0 = never. */
  expiredThrough: number;
}

export type SessionLookup =
  | { readonly kind: 'new' }
  | { readonly kind: 'duplicate'; readonly result: TxnResult }
  | { readonly kind: 'tooOld'; readonly forgottenThrough: number }
  /** The client's session was forgotten and this write may have run under it (see above). */
  | { readonly kind: 'expired' };

function retained(result: OpResult): OpResult {
  return result.kind === 'get' || result.kind === 'range' ? { kind: 'notRetained' } : result;
}

export class Sessions {
  // Map iteration order is insertion order: re-inserting on every touch makes the first
  // entry the least recently active client.
  private readonly clients = new Map<string, ClientSession>();

  constructor(
    private readonly clientsMax: number,
    private readonly resultsPerClientMax: number,
  ) {
    assert(Number.isSafeInteger(clientsMax) && clientsMax > 0, `sessions clientsMax must be a positive integer, got ${clientsMax}`);
    assert(
      Number.isSafeInteger(resultsPerClientMax) && resultsPerClientMax > 0,
      `sessions resultsPerClientMax must be a positive integer, got ${resultsPerClientMax}`,
    );
  }

  /** `opens`: the write is empty (no compares, no ops), the way a client opens its session. */
  lookup(id: WriteId, opens = false): SessionLookup {
    const session = this.clients.get(id.clientId);
    if (session === undefined) return id.requestId === 1 && (opens || id.firstIncomplete === 0) ? { kind: 'new' } : { kind: 'expired' };
    const result = session.results.get(id.requestId);
    if (result !== undefined) return { kind: 'duplicate', result };
    if (id.requestId <= session.forgottenThrough) return { kind: 'tooOld', forgottenThrough: session.forgottenThrough };
    const sentWhileOutstanding = id.firstIncomplete === 0 ? id.requestId : id.firstIncomplete;
    if (sentWhileOutstanding <= session.expiredThrough) return { kind: 'expired' };
    return { kind: 'new' };
  }

  /**
   * Records the refusal of a write `lookup` found `expired`, so its retries get the same
   * answer; a client without a session gets a new one that remembers the expiry.
   */
  expire(id: WriteId, refusal: TxnResult): void {
    if (!this.clients.has(id.clientId)) this.clients.set(id.clientId, { results: new Map(), forgottenThrough: 0, expiredThrough: id.requestId });
    this.record(id, refusal);
  }

  record(id: WriteId, result: TxnResult): void {
    let session = this.clients.get(id.clientId);
    if (session === undefined) {
      session = { results: new Map(), forgottenThrough: 0, expiredThrough: 0 };
    } else {
      this.clients.delete(id.clientId);
    }
    this.clients.set(id.clientId, session);
    session.results.set(id.requestId, { ...result, results: result.results.map(retained), duplicate: true });
    this.forgetAnswered(session, id.firstIncomplete);
    while (session.results.size > this.resultsPerClientMax) this.forgetOldest(session);
    while (this.clients.size > this.clientsMax) {
      const oldest = this.clients.keys().next().value as string;
      this.clients.delete(oldest);
    }
  }

  // The client has every answer below `firstIncomplete` and will not retry those: forget
  // them. Results are recorded in ascending order but for reordering among requests in
  // flight, so this trims from the front; stragglers go with the per-client cap.
  private forgetAnswered(session: ClientSession, firstIncomplete: number): void {
    if (firstIncomplete - 1 > session.forgottenThrough) session.forgottenThrough = firstIncomplete - 1;
    for (const requestId of session.results.keys()) {
      if (requestId >= firstIncomplete) break;
      session.results.delete(requestId);
    }
  }

  // Forgets the earliest recorded result: clients number requests upward, so this is the
  // lowest id but for reordering among requests in flight, which only makes a very late
  // retry of a lower id count as too old (refused, never run twice).
  private forgetOldest(session: ClientSession): void {
    const oldest = session.results.keys().next().value as number;
    session.results.delete(oldest);
    session.forgottenThrough = Math.max(session.forgottenThrough, oldest);
  }

  /** In activity order, least recent first; for snapshots. */
  entries(): IterableIterator<[string, ClientSession]> {
    return this.clients.entries();
  }

  restore(entries: Iterable<[string, ClientSession]>): void {
    this.clients.clear();
    for (const [clientId, session] of entries) this.clients.set(clientId, session);
  }

  get size(): number {
    return this.clients.size;
  }
}
