// Operations on ballots. A ballot `(round, replicaId)` names one proposer's attempt to lead;
// ballots are totally ordered (round first, then replicaId), so two replicas never share one.

import { assert } from '../protocol/assert.ts';
import { compareBallots, type Ballot } from './types.ts';

export function ballotEquals(a: Ballot, b: Ballot): boolean {
  return a.round === b.round && a.replicaId === b.replicaId;
}

export function ballotLess(a: Ballot, b: Ballot): boolean {
  return compareBallots(a, b) < 0;
}

export function ballotGreater(a: Ballot, b: Ballot): boolean {
  return compareBallots(a, b) > 0;
}

export function maxBallot(a: Ballot, b: Ballot): Ballot {
  return compareBallots(a, b) >= 0 ? a : b;
}

/** The ballot `replicaId` campaigns with: one round above every round it has seen. */
export function nextBallot(roundSeenMax: number, replicaId: number): Ballot {
  const round = roundSeenMax + 1;
  assert(Number.isSafeInteger(round), `ballot round overflow after ${roundSeenMax}`);
  return { round, replicaId };
}

/** `round.replicaId`, as transcripts and traces print it. */
export function formatBallot(b: Ballot): string {
  return `${b.round}.${b.replicaId}`;
}
