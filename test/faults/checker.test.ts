// The checker itself, on small hand-written histories: ones it must accept (consistent
// histories, including writes of unknown outcome and reads inside the staleness bound) and,
// for each clause, ones it must reject.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { check, formatViolation, type Clause } from './checker.ts';
import type { Op, ReadOp, WriteOp } from './history.ts';

const CONFIG = { leaseMs: 500, slackMs: 50 };

/** A history, written one operation per line. Times in ms; `at` is [invoke, complete]. */
class History {
  readonly ops: Op[] = [];

  private add<T extends Op>(op: Omit<T, 'id'>): this {
    this.ops.push({ ...op, id: this.ops.length + 1 } as T);
    return this;
  }

  put(key: string, value: string, revision: number, at: [number, number], local: string | null = null): this {
    return this.add<WriteOp>({ kind: 'put', process: local ?? 'g', local, key, value, revision, written: true, outcome: 'ok', invokeMs: at[0], completeMs: at[1] });
  }

  set(key: string, value: string, revision: number | 'occupied', at: [number, number]): this {
    const answer = revision === 'occupied' ? { outcome: 'fail' as const, error: 'KEY_OCCUPIED' } : { outcome: 'ok' as const, revision, written: true };
    return this.add<WriteOp>({ kind: 'set', process: 'g', local: null, key, value, ...answer, invokeMs: at[0], completeMs: at[1] });
  }

  cas(key: string, value: string, expectedModRevision: number, revision: number, written: boolean, at: [number, number]): this {
    return this.add<WriteOp>({ kind: 'cas', process: 'g', local: null, key, value, expectedModRevision, revision, written, outcome: 'ok', invokeMs: at[0], completeMs: at[1] });
  }

  del(key: string, revision: number, prevModRevision: number | null, at: [number, number]): this {
    const removed = prevModRevision === null ? { written: false } : { written: true, prevModRevision };
    return this.add<WriteOp>({ kind: 'delete', process: 'g', local: null, key, revision, ...removed, outcome: 'ok', invokeMs: at[0], completeMs: at[1] });
  }

  unknownPut(key: string, value: string, at: [number, number]): this {
    return this.add<WriteOp>({ kind: 'put', process: 'g', local: null, key, value, outcome: 'unknown', error: 'UNAVAILABLE', invokeMs: at[0], completeMs: at[1] });
  }

  /** A read; `found` is "value@modRevision" or null. Straight to Global unless `local` is given. */
  read(key: string, found: string | null, revision: number, at: [number, number], local: string | null = null, source: ReadOp['source'] = local === null ? undefined : 'cache'): this {
    const observed = found === null ? null : { value: found.split('@')[0]!, modRevision: Number(found.split('@')[1]) };
    return this.add<ReadOp>({ kind: 'read', process: local ?? 'g', local, key, found: observed, revision, ...(source === undefined ? {} : { source }), outcome: 'ok', invokeMs: at[0], completeMs: at[1] });
  }
}

function clauses(h: History): Clause[] {
  const violations = check(h.ops, CONFIG);
  return [...new Set(violations.map((v) => v.clause))].sort();
}

function assertAccepted(h: History): void {
  const violations = check(h.ops, CONFIG);
  assert.deepEqual(violations.map(formatViolation), []);
}

describe('history checker: accepts', () => {
  it('a sequential history of every operation, Global and cached', () => {
    assertAccepted(new History()
      .set('k', 'v1', 1, [0, 1])
      .read('k', 'v1@1', 1, [2, 3])
      .set('k', 'x', 'occupied', [4, 5])
      .cas('k', 'v2', 1, 2, true, [6, 7])
      .cas('k', 'v3', 1, 2, false, [8, 9])
      .read('k', 'v2@2', 2, [10, 11], 'L1')
      .put('k', 'v4', 3, [12, 13], 'L1')
      .read('k', 'v4@3', 3, [14, 15], 'L1')
      .del('k', 4, 3, [16, 17])
      .del('k', 4, null, [18, 19])
      .read('k', null, 4, [20, 21]));
  });

  it('concurrent writes in either order, and reads that overlap them', () => {
    assertAccepted(new History()
      .put('k', 'a', 2, [0, 10])
      .put('k', 'b', 1, [1, 9])
      .read('k', 'b@1', 1, [2, 3])
      .read('k', 'a@2', 2, [4, 20]));
  });

  it('a write of unknown outcome seen by a later read, and one never seen', () => {
    assertAccepted(new History()
      .put('k', 'v1', 1, [0, 1])
      .unknownPut('k', 'lost', [2, 100])
      .unknownPut('k', 'v2', [3, 100])
      .read('k', 'v1@1', 1, [4, 5])
      .read('k', 'v2@2', 2, [50, 51])
      .read('k', 'v2@2', 2, [200, 201]));
  });

  it('a cas of unknown outcome seen by a read, its condition held', () => {
    const h = new History().put('k', 'v1', 1, [0, 1]);
    h.ops.push({ id: 99, kind: 'cas', process: 'g', local: null, key: 'k', value: 'v2', expectedModRevision: 1, outcome: 'unknown', error: 'UNAVAILABLE', invokeMs: 2, completeMs: 100 });
    assertAccepted(h.read('k', 'v2@2', 2, [50, 51]));
  });

  it('a revision nobody acknowledged when a write of unknown outcome may have taken it', () => {
    assertAccepted(new History()
      .put('k', 'v1', 1, [0, 1])
      .unknownPut('j', 'maybe', [2, 100])
      .put('k', 'v3', 3, [20, 21])
      .read('k', 'v3@3', 3, [22, 23]));
  });

  it('a cached read older than a write acknowledged less than leaseMs + slackMs before it began', () => {
    assertAccepted(new History()
      .put('k', 'v1', 1, [0, 1])
      .put('k', 'v2', 2, [100, 101])
      .read('k', 'v1@1', 1, [101 + CONFIG.leaseMs + CONFIG.slackMs - 1, 660], 'L1'));
  });
});

describe('history checker: rejects', () => {
  it('(a) a Global read older than a write acknowledged before it began', () => {
    assert.deepEqual(clauses(new History()
      .put('k', 'v1', 1, [0, 1])
      .put('k', 'v2', 2, [2, 3])
      .read('k', 'v1@1', 1, [4, 5])), ['a']);
  });

  it('(a) a Global read that does not return the last write before its revision', () => {
    assert.deepEqual(clauses(new History()
      .put('k', 'v1', 1, [0, 1])
      .put('k', 'v2', 2, [0, 3])
      .read('k', 'v1@1', 2, [0, 5])), ['a']);
  });

  it('(a) a cas that succeeded though the key was not at the revision it expected', () => {
    assert.deepEqual(clauses(new History()
      .put('k', 'v1', 1, [0, 1])
      .put('k', 'v2', 2, [2, 3])
      .cas('k', 'v3', 1, 3, true, [4, 5])), ['a']);
  });

  it('(a) a set refused as occupied while the key was unbound all along', () => {
    assert.deepEqual(clauses(new History()
      .put('k', 'v1', 1, [0, 1])
      .del('k', 2, 1, [2, 3])
      .set('k', 'v2', 'occupied', [4, 5])
      .read('k', null, 2, [6, 7])), ['a']);
  });

  it('(b) a cached read older than a write acknowledged more than leaseMs + slackMs before it began', () => {
    const h = new History()
      .put('k', 'v1', 1, [0, 1])
      .put('k', 'v2', 2, [100, 101])
      .read('k', 'v1@1', 1, [101 + CONFIG.leaseMs + CONFIG.slackMs + 1, 700], 'L1');
    assert.deepEqual(clauses(h), ['b']);
    assert.match(check(h.ops, CONFIG)[0]!.message, /through L1 began 551 ms after a write to k was acknowledged at revision 2 \(bound: 550 ms\)/);
  });

  it('(b) a Local read of a value no write wrote', () => {
    assert.deepEqual(clauses(new History()
      .put('k', 'v1', 1, [0, 1])
      .read('k', 'forged@1', 1, [2, 3], 'L1')), ['b']);
  });

  it('(c) a read through a Local that misses a write acknowledged through it', () => {
    assert.deepEqual(clauses(new History()
      .put('k', 'v1', 1, [0, 1])
      .put('k', 'v2', 2, [10, 11], 'L1')
      .read('k', 'v1@1', 1, [12, 13], 'L1')), ['c']);
  });

  it('(c) an own delete undone by the next read through the same Local', () => {
    const h = new History().put('k', 'v1', 1, [0, 1]);
    h.ops.push({ id: 99, kind: 'delete', process: 'L1', local: 'L1', key: 'k', revision: 2, written: true, prevModRevision: 1, outcome: 'ok', invokeMs: 10, completeMs: 11 });
    h.read('k', 'v1@1', 2, [12, 13], 'L1');
    assert.deepEqual(clauses(h), ['c']);
  });

  it('(d) a read through a Local older than an earlier read through it', () => {
    assert.deepEqual(clauses(new History()
      .put('k', 'v1', 1, [0, 1])
      .put('k', 'v2', 2, [2, 3])
      .read('k', 'v2@2', 2, [4, 5], 'L1', 'global')
      .read('k', 'v1@1', 1, [6, 7], 'L1')), ['d']);
  });

  it('(d) a binding served after the same Local found the key deleted', () => {
    assert.deepEqual(clauses(new History()
      .put('k', 'v1', 1, [0, 1])
      .del('k', 2, 1, [2, 3])
      .read('k', null, 2, [4, 5], 'L1', 'global')
      .read('k', 'v1@1', 2, [6, 7], 'L1')), ['d']);
  });

  it('(e) a value seen at two revisions', () => {
    assert.deepEqual(clauses(new History()
      .unknownPut('k', 'v1', [0, 100])
      .put('k', 'v2', 2, [1, 2])
      .read('k', 'v1@1', 1, [3, 4], 'L1', 'global')
      .read('k', 'v1@3', 3, [5, 6], 'L2', 'global')), ['e']);
  });

  it('(e) a write reported as not applied that a read then sees', () => {
    assert.ok(clauses(new History()
      .put('k', 'v1', 1, [0, 1])
      .set('k', 'v2', 'occupied', [2, 3])
      .read('k', 'v2@2', 2, [4, 5])).includes('e'));
  });

  it('(e) a revision no write accounts for (a write applied twice, answered once)', () => {
    assert.deepEqual(clauses(new History()
      .put('k', 'v1', 1, [0, 1])
      .put('k', 'v2', 3, [2, 3])
      .read('k', 'v2@3', 3, [4, 5])), ['e']);
  });

  it('(e) two writes answered with one revision', () => {
    assert.ok(clauses(new History()
      .put('k', 'v1', 1, [0, 1])
      .put('j', 'w1', 1, [0, 1])).includes('e'));
  });
});

describe('history checker: unknownWriteExplainsFailedSets', () => {
  // A put of unknown outcome bound the key (revision 2, taken by no acknowledged write); two
  // put-if-absents fail on it later, before another write replaces it (system simulation,
  // 5 replicas, seed 1939).
  const h = new History()
    .put('a', 'x1', 1, [0, 10])
    .unknownPut('b', 'u1', [5, 900])
    .set('b', 's1', 'occupied', [20, 60])
    .put('c', 'x2', 3, [30, 40])
    .set('b', 's2', 'occupied', [50, 80])
    .put('c', 'x4', 4, [85, 88])
    .put('b', 'x3', 5, [90, 100])
    .read('b', 'x3@5', 5, [110, 120]);

  it('off (the fault suite): the unknown put explains only one of the failed sets', () => {
    assert.deepEqual(clauses(h), ['a']);
  });

  it('on: the unknown put explains both', () => {
    assert.deepEqual(check(h.ops, { ...CONFIG, unknownWriteExplainsFailedSets: true }).map(formatViolation), []);
  });
});
