// Proves the state machine's contract (docs/architecture.md): write-once SET, atomic
// mini-transactions with compares and structured ops, gap-free revisions, change events,
// exactly-once retries, byte-ordered ranges, value reference counts, and snapshots that
// restore an equal state (same checksum, same behaviour afterwards).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashOf } from '../../src/protocol/hash.ts';
import { decodeInteger, decodeList, decodeMap, encodeInteger } from '../../src/protocol/structured-values.ts';
import { decodeSnapshot, encodeSnapshot, stateChecksum } from '../../src/global/state/snapshot.ts';
import { StateMachine, STATE_MACHINE_DEFAULTS } from '../../src/global/state/state-machine.ts';
import type { Command, Compare, KeyValue, Op, RangeSpec, TxnResult, WriteId } from '../../src/global/state/types.ts';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const inline = (s: string) => ({ kind: 'inline' as const, bytes: text(s) });
const put = (key: string, v: string): Op => ({ kind: 'put', key, value: inline(v) });
const setOp = (key: string, v: string): Op => ({ kind: 'putIfAbsent', key, value: inline(v) });
const del = (key: string): Op => ({ kind: 'delete', key });
const txn = (success: Op[], compares: Compare[] = [], failure: Op[] = [], writeId: WriteId | null = null): Command => ({
  writeId,
  txn: { compares, success, failure },
});
const range = (over: Partial<RangeSpec>): Op => ({ kind: 'range', range: { start: '', end: '', prefix: '', limit: 0, withValues: false, ...over } });

class Harness {
  readonly sm: StateMachine;
  private instance = 0;
  constructor(sm = new StateMachine()) {
    this.sm = sm;
    this.instance = sm.appliedInstance;
  }
  run(...commands: Command[]): TxnResult[] {
    return this.sm.applyInstance(++this.instance, commands);
  }
  one(command: Command): TxnResult {
    return this.run(command)[0]!;
  }
  value(key: string): string | undefined {
    const kv = this.sm.get(key, true);
    return kv?.value ? new TextDecoder().decode(kv.value) : undefined;
  }
}

describe('state machine: SET, DEL and revisions', () => {
  it('SET binds a new key once; a second SET is refused and changes nothing', () => {
    const h = new Harness();
    const first = h.one(txn([setOp('k', 'v1')]));
    assert.equal(first.failure, null);
    assert.equal(first.revision, 1);
    const second = h.one(txn([setOp('k', 'v2')]));
    assert.equal(second.failure?.code, 'KEY_OCCUPIED');
    assert.match(second.failure.message, /"k" is occupied/);
    assert.equal(second.revision, 1, 'a refused SET does not advance the revision');
    assert.equal(h.value('k'), 'v1');
  });

  it('gives each writing transaction the next revision and stamps bindings with it', () => {
    const h = new Harness();
    h.one(txn([put('a', '1')]));
    h.one(txn([put('a', '2')]));
    const r = h.one(txn([put('b', 'x'), put('a', '3')]));
    assert.equal(r.revision, 3);
    const a = h.sm.get('a', false)!;
    assert.deepEqual([a.createRevision, a.modRevision, a.version], [1, 3, 3]);
    const b = h.sm.get('b', false)!;
    assert.deepEqual([b.createRevision, b.modRevision, b.version], [3, 3, 1]);
    assert.equal(h.sm.revision, 3);
  });

  it('counts versions per transaction, not per op, when one transaction writes a key twice', () => {
    const h = new Harness();
    h.one(txn([put('a', '1')]));
    h.one(txn([put('a', '2'), put('a', '3')]));
    assert.equal(h.sm.get('a', false)!.version, 2);
    assert.equal(h.value('a'), '3');
  });

  it('DEL removes a binding and reports it; deleting a missing key changes nothing', () => {
    const h = new Harness();
    h.one(txn([put('a', '1')]));
    const r = h.one(txn([del('a')]));
    const result = r.results[0]!;
    assert.equal(result.kind, 'delete');
    assert.equal(result.kind === 'delete' && result.prev?.key, 'a');
    assert.equal(r.revision, 2);
    assert.equal(h.sm.get('a', false), null);
    const again = h.one(txn([del('a')]));
    assert.equal(again.revision, 2, 'no change, no new revision');
    assert.deepEqual(again.results, [{ kind: 'delete', prev: null }]);
  });

  it('a deleted key can be SET again and starts over at version 1', () => {
    const h = new Harness();
    h.one(txn([setOp('a', '1')]));
    h.one(txn([del('a')]));
    h.one(txn([setOp('a', '2')]));
    const a = h.sm.get('a', false)!;
    assert.deepEqual([a.createRevision, a.version], [3, 1]);
  });

  it('refuses an out-of-order instance as a bug', () => {
    const sm = new StateMachine();
    assert.throws(() => sm.applyInstance(2, []), /apply instance 2 after 0/);
  });

  it('applies a no-op instance without changing the revision', () => {
    const h = new Harness();
    h.run();
    assert.equal(h.sm.appliedInstance, 1);
    assert.equal(h.sm.revision, 0);
  });
});

describe('state machine: mini-transactions', () => {
  it('runs the success branch when every compare holds, else the failure branch', () => {
    const h = new Harness();
    h.one(txn([put('a', '1')]));
    const a = h.sm.get('a', false)!;
    const cases: [Compare, boolean][] = [
      [{ key: 'a', target: 'exists', operator: 'equal', exists: true }, true],
      [{ key: 'zz', target: 'exists', operator: 'equal', exists: true }, false],
      [{ key: 'zz', target: 'exists', operator: 'notEqual', exists: true }, true],
      [{ key: 'a', target: 'hash', operator: 'equal', hash: a.hash }, true],
      [{ key: 'a', target: 'hash', operator: 'notEqual', hash: a.hash }, false],
      [{ key: 'zz', target: 'hash', operator: 'equal', hash: null }, true],
      [{ key: 'a', target: 'version', operator: 'equal', number: 1 }, true],
      [{ key: 'a', target: 'version', operator: 'greater', number: 1 }, false],
      [{ key: 'a', target: 'modRevision', operator: 'less', number: 2 }, true],
      [{ key: 'zz', target: 'modRevision', operator: 'equal', number: 0 }, true],
    ];
    for (const [compare, expected] of cases) {
      const r = h.one(txn([{ kind: 'get', key: 'a', withValue: false }], [compare], []));
      assert.equal(r.succeeded, expected, JSON.stringify(compare));
      assert.equal(r.results.length, expected ? 1 : 0);
    }
  });

  it('is all or nothing: a refused put-if-absent undoes the ops before it', () => {
    const h = new Harness();
    h.one(txn([put('taken', 'x')]));
    const r = h.one(txn([put('a', '1'), del('taken'), setOp('taken', 'y')]));
    assert.equal(r.failure, null, 'taken was deleted earlier in the same transaction, so SET succeeds');
    const r2 = h.one(txn([put('b', '1'), setOp('taken', 'z')]));
    assert.equal(r2.failure?.code, 'KEY_OCCUPIED');
    assert.equal(h.sm.get('b', false), null, 'put before the refused op did not happen');
    assert.equal(h.value('taken'), 'y');
  });

  it('lets later ops see earlier ones (read your own writes inside a transaction)', () => {
    const h = new Harness();
    const r = h.one(txn([put('a', 'new'), { kind: 'get', key: 'a', withValue: true }, range({ prefix: 'a' })]));
    const got = r.results[1]!;
    assert.ok(got.kind === 'get' && got.kv !== null);
    assert.equal(new TextDecoder().decode(got.kv.value), 'new');
    const ranged = r.results[2]!;
    assert.ok(ranged.kind === 'range');
    assert.deepEqual(ranged.kvs.map((kv) => kv.key), ['a']);
  });

  it('applies structured ops: list append, map store and delete, integer add', () => {
    const h = new Harness();
    h.one(txn([{ kind: 'listAppend', key: 'l', items: [text('a')] }]));
    h.one(txn([{ kind: 'listAppend', key: 'l', items: [text('b'), text('c')] }]));
    assert.deepEqual(decodeList(h.sm.get('l', true)!.value!, 'l').map((b) => Buffer.from(b).toString()), ['a', 'b', 'c']);

    h.one(txn([{ kind: 'mapStore', key: 'm', entries: [{ field: 'z', value: text('1') }, { field: 'a', value: text('2') }] }]));
    h.one(txn([{ kind: 'mapDelete', key: 'm', fields: ['z', 'missing'] }, { kind: 'mapStore', key: 'm', entries: [{ field: 'b', value: text('3') }] }]));
    assert.deepEqual(decodeMap(h.sm.get('m', true)!.value!, 'm').map((e) => e.field), ['a', 'b']);

    assert.deepEqual(h.one(txn([{ kind: 'add', key: 'n', delta: 5n }])).results, [{ kind: 'number', value: 5n }]);
    assert.deepEqual(h.one(txn([{ kind: 'add', key: 'n', delta: -7n }])).results, [{ kind: 'number', value: -2n }]);
    assert.equal(h.value('n'), '-2');
  });

  it('fails a structured op on a value of the wrong shape, or one that overflows, changing nothing', () => {
    const h = new Harness();
    h.one(txn([put('s', 'not a number')]));
    const r = h.one(txn([put('other', '1'), { kind: 'add', key: 's', delta: 1n }]));
    assert.equal(r.failure?.code, 'INVALID_ARGUMENT');
    assert.match(r.failure.message, /not an integer/);
    assert.equal(h.sm.get('other', false), null);
    h.one(txn([{ kind: 'put', key: 'max', value: { kind: 'inline', bytes: encodeInteger(2n ** 63n - 1n) } }]));
    assert.match(h.one(txn([{ kind: 'add', key: 'max', delta: 1n }])).failure?.message ?? '', /overflows/);
    assert.match(h.one(txn([{ kind: 'listAppend', key: 's', items: [] }])).failure?.message ?? '', /not a list/);
  });

  it('refuses structured ops on blobs it does not hold, and over-limit inline values', () => {
    const h = new Harness(new StateMachine({ ...STATE_MACHINE_DEFAULTS, valueInlineBytesMax: 8 }));
    const big = new Uint8Array(100);
    h.one(txn([{ kind: 'put', key: 'b', value: { kind: 'blob', hash: hashOf(big), size: 100 } }]));
    assert.match(h.one(txn([{ kind: 'add', key: 'b', delta: 1n }])).failure?.message ?? '', /100-byte blob/);
    assert.match(h.one(txn([put('x', '123456789')])).failure?.message ?? '', /exceeds 8: upload it as a blob/);
    assert.match(h.one(txn([{ kind: 'listAppend', key: 'l', items: [new Uint8Array(20)] }])).failure?.message ?? '', /over the 8-byte limit/);
  });

  it('refuses malformed keys as a failed transaction, not a crash', () => {
    const h = new Harness();
    assert.match(h.one(txn([put('', 'v')])).failure?.message ?? '', /key is empty/);
    assert.match(h.one(txn([put('k'.repeat(2000), 'v')])).failure?.message ?? '', /2000 bytes .* over the limit of 1024/);
    assert.match(h.one(txn([put('\ud800', 'v')])).failure?.message ?? '', /lone surrogate/);
  });
});

describe('state machine: ranges', () => {
  const h = new Harness();
  for (const k of ['a', 'ab', 'abc', 'b', 'ba', 'c', '\uffff', '\u{10000}']) h.one(txn([put(k, k)]));

  it('scans a prefix, an interval and everything, in UTF-8 byte order', () => {
    assert.deepEqual(h.sm.range({ start: '', end: '', prefix: 'a', limit: 0, withValues: false }).kvs.map((kv) => kv.key), ['a', 'ab', 'abc']);
    assert.deepEqual(h.sm.range({ start: 'ab', end: 'ba', prefix: '', limit: 0, withValues: false }).kvs.map((kv) => kv.key), ['ab', 'abc', 'b']);
    const all = h.sm.range({ start: '', end: '', prefix: '', limit: 0, withValues: false }).kvs.map((kv) => kv.key);
    assert.deepEqual(all.slice(-2), ['\uffff', '\u{10000}'], 'U+10000 sorts after U+FFFF as in UTF-8');
  });

  it('stops at the limit and says there is more', () => {
    const r = h.sm.range({ start: '', end: '', prefix: '', limit: 3, withValues: true });
    assert.equal(r.kvs.length, 3);
    assert.equal(r.more, true);
    assert.equal(new TextDecoder().decode(r.kvs[0]!.value), 'a');
    assert.equal(h.sm.range({ start: '', end: '', prefix: 'ab', limit: 2, withValues: false }).more, false);
  });

  it('merges a transaction\'s own writes into its ranges', () => {
    const r = h.one(txn([del('ab'), put('aa', '1'), put('az', '2'), range({ prefix: 'a' })]));
    const result = r.results[3]!;
    assert.ok(result.kind === 'range');
    assert.deepEqual(result.kvs.map((kv) => kv.key), ['a', 'aa', 'abc', 'az']);
  });
});

describe('state machine: change events and history', () => {
  it('records each writing revision\'s events, final state per key', () => {
    const h = new Harness();
    h.one(txn([put('a', '1'), put('b', '1')]));
    h.one(txn([del('a'), put('b', '2')]));
    h.one(txn([put('tmp', '1'), del('tmp')]));
    const changes = h.sm.changesSince(1, 10)!;
    assert.deepEqual(changes.map((c) => c.revision), [1, 2, 3]);
    assert.deepEqual(changes[0]!.events.map((e) => e.type === 'put' && e.kv.key), ['a', 'b']);
    assert.deepEqual(changes[1]!.events.map((e) => [e.type, e.type === 'put' ? e.kv.key : e.key]), [['delete', 'a'], ['put', 'b']]);
    assert.deepEqual(changes[2]!.events, [], 'a key created and deleted in one transaction is no change');
    assert.deepEqual(h.sm.changesSince(4, 10), []);
  });

  it('answers compacted (null) for a revision older than it keeps', () => {
    const h = new Harness(new StateMachine({ ...STATE_MACHINE_DEFAULTS, historyRevisionsMax: 2 }));
    for (let i = 0; i < 5; i++) h.one(txn([put('k', String(i))]));
    assert.equal(h.sm.oldestRevision, 4);
    assert.equal(h.sm.changesSince(3, 10), null);
    assert.deepEqual(h.sm.changesSince(4, 10)!.map((c) => c.revision), [4, 5]);
  });
});

describe('state machine: exactly-once retries', () => {
  it('returns the first result to a retry and does not run it again', () => {
    const h = new Harness();
    const id = { clientId: 'c1', requestId: 1, firstIncomplete: 0 };
    const first = h.one(txn([{ kind: 'add', key: 'n', delta: 1n }], [], [], id));
    const retry = h.one(txn([{ kind: 'add', key: 'n', delta: 1n }], [], [], id));
    assert.equal(first.duplicate, false);
    assert.equal(retry.duplicate, true);
    assert.deepEqual(retry.results, first.results);
    assert.equal(retry.revision, first.revision);
    assert.equal(h.value('n'), '1');
  });

  it('keeps write results but not read results for duplicates', () => {
    const h = new Harness();
    const id = { clientId: 'c1', requestId: 1, firstIncomplete: 0 };
    h.one(txn([put('a', '1'), { kind: 'get', key: 'a', withValue: true }], [], [], id));
    const retry = h.one(txn([], [], [], id));
    assert.equal(retry.results[0]!.kind, 'written');
    assert.deepEqual(retry.results[1], { kind: 'notRetained' });
  });

  it('refuses a retry older than the results it keeps instead of running it twice', () => {
    const h = new Harness(new StateMachine({ ...STATE_MACHINE_DEFAULTS, sessionResultsPerClientMax: 2 }));
    for (let i = 1; i <= 3; i++) h.one(txn([put(`k${i}`, 'v')], [], [], { clientId: 'c', requestId: i, firstIncomplete: 0 }));
    const r = h.one(txn([put('k1', 'again')], [], [], { clientId: 'c', requestId: 1, firstIncomplete: 0 }));
    assert.equal(r.failure?.code, 'INVALID_ARGUMENT');
    assert.match(r.failure.message, /older than the 2 results kept/);
    assert.equal(h.value('k1'), 'v');
  });

  it('forgets results the client says it has (firstIncomplete), and refuses their retries', () => {
    const h = new Harness();
    h.one(txn([], [], [], { clientId: 'c', requestId: 1, firstIncomplete: 1 }));
    h.one(txn([put('a', '1')], [], [], { clientId: 'c', requestId: 2, firstIncomplete: 2 }));
    h.one(txn([put('b', '1')], [], [], { clientId: 'c', requestId: 3, firstIncomplete: 3 }));
    assert.equal(h.sm.sessions.lookup({ clientId: 'c', requestId: 2, firstIncomplete: 0 }).kind, 'tooOld', 'answered below 3: forgotten');
    assert.equal(h.sm.sessions.lookup({ clientId: 'c', requestId: 3, firstIncomplete: 0 }).kind, 'duplicate');
    const retry = h.one(txn([put('a', 'twice')], [], [], { clientId: 'c', requestId: 2, firstIncomplete: 2 }));
    assert.equal(retry.failure?.code, 'INVALID_ARGUMENT');
    assert.equal(h.value('a'), '1', 'never run twice');
  });

  it('forgets the least recently active client first', () => {
    const h = new Harness(new StateMachine({ ...STATE_MACHINE_DEFAULTS, sessionClientsMax: 2 }));
    h.one(txn([put('a', '1')], [], [], { clientId: 'old', requestId: 1, firstIncomplete: 0 }));
    h.one(txn([put('b', '1')], [], [], { clientId: 'mid', requestId: 1, firstIncomplete: 0 }));
    h.one(txn([put('c', '1')], [], [], { clientId: 'new', requestId: 1, firstIncomplete: 0 }));
    assert.equal(h.sm.sessions.size, 2);
    assert.equal(h.sm.sessions.lookup({ clientId: 'old', requestId: 1, firstIncomplete: 0 }).kind, 'new');
    assert.equal(h.sm.sessions.lookup({ clientId: 'mid', requestId: 1, firstIncomplete: 0 }).kind, 'duplicate');
  });

  it('answers a retry from a forgotten session with SESSION_EXPIRED, never a second run, the same on every replica', () => {
    const config = { ...STATE_MACHINE_DEFAULTS, sessionClientsMax: 2 };
    const add = (requestId: number, firstIncomplete: number): Command => txn([{ kind: 'add', key: 'n', delta: 1n }], [], [], { clientId: 'c', requestId, firstIncomplete });
    const replicas = [new Harness(new StateMachine(config)), new Harness(new StateMachine(config))];
    const all = (command: Command): TxnResult[] => replicas.map((h) => h.one(command));
    all(txn([], [], [], { clientId: 'c', requestId: 1, firstIncomplete: 1 })); // opens the session
    all(add(2, 2)); // runs; its answer is lost, the client will retry it
    all(add(3, 2)); // sent while 2 was outstanding; runs too
    all(txn([put('x', '1')], [], [], { clientId: 'other-1', requestId: 1, firstIncomplete: 1 }));
    all(txn([put('y', '1')], [], [], { clientId: 'other-2', requestId: 1, firstIncomplete: 1 }));
    const counter = (h: Harness): bigint => decodeInteger(h.sm.get('n', true)!.value!, 'n');
    assert.equal(counter(replicas[0]!), 2n);

    for (const retry of [add(2, 2), add(2, 2), add(3, 2)]) {
      for (const r of all(retry)) {
        assert.equal(r.failure?.code, 'SESSION_EXPIRED', 'a retry from a forgotten session is refused');
        assert.match(r.failure.message, /session expired.*did not run now/);
      }
    }
    // Halfway, one replica restarts from a snapshot: the expiry travels with it.
    replicas[1] = new Harness(decodeSnapshot(encodeSnapshot(replicas[1]!.sm), config));
    assert.equal(all(add(4, 2))[0]!.failure?.code, 'SESSION_EXPIRED', 'sent before the answer to 2 (firstIncomplete 2 <= 2)');
    const fresh = all(add(5, 5));
    assert.ok(fresh.every((r) => r.failure === null), 'a write sent after the refusals runs');
    assert.deepEqual(replicas.map(counter), [3n, 3n], 'every write ran once: 2, 3 before the eviction and 5 after');
    assert.equal(stateChecksum(replicas[0]!.sm), stateChecksum(replicas[1].sm));
  });

  it('a write retried after its session was forgotten among 4,096 others is refused, never run twice, whatever its request id', () => {
    const h = new Harness(); // the default: 4,096 clients keep their sessions
    const open = (clientId: string): Command => txn([], [], [], { clientId, requestId: 1, firstIncomplete: 1 });
    const add = (requestId: number): Command => txn([{ kind: 'add', key: 'n', delta: 1n }], [], [], { clientId: 'c', requestId, firstIncomplete: requestId });
    assert.equal(h.one(open('c')).failure, null, 'the empty write at request 1 opens the session');
    assert.equal(h.one(add(2)).failure, null);
    // A client that numbers its first real write 1 (or one whose session cannot be told from a new client's).
    assert.equal(h.one(txn([{ kind: 'add', key: 'm', delta: 1n }], [], [], { clientId: 'd', requestId: 1, firstIncomplete: 1 })).failure?.code, 'SESSION_EXPIRED', 'a real write needs an open session');
    for (let i = 0; i < 4097; i++) h.one(open(`other-${i}`));
    assert.equal(h.sm.sessions.lookup({ clientId: 'c', requestId: 2, firstIncomplete: 2 }).kind, 'expired', 'c was forgotten');
    const retried = h.one(add(2));
    assert.equal(retried.failure?.code, 'SESSION_EXPIRED');
    const retriedOpen = h.one(open('c'));
    assert.notEqual(retriedOpen.failure, null, 'the open, retried after the refusal: refused too (answered before it)');
    // The write-id-1 case: a write numbered 1 retried after its session was forgotten.
    const e = (delta: bigint): Command => txn([{ kind: 'add', key: 'e', delta }], [], [], { clientId: 'e', requestId: 1, firstIncomplete: 1 });
    h.one(open('e-other'));
    assert.equal(h.one(e(1n)).failure?.code, 'SESSION_EXPIRED', 'never opened: refused, did not run');
    assert.equal(h.sm.get('n', true) === null ? 0n : decodeInteger(h.sm.get('n', true)!.value!, 'n'), 1n, 'write 2 ran once');
    assert.equal(h.sm.get('m', false), null, 'the unopened write 1 never ran');
    assert.equal(h.sm.get('e', false), null);
  });
});

describe('state machine: values, snapshots and checksums', () => {
  it('shares one value between keys and releases it with the last binding', () => {
    const h = new Harness();
    const hash = hashOf(text('same'));
    h.one(txn([put('a', 'same'), put('b', 'same')]));
    assert.ok(h.sm.isReferenced(hash));
    h.one(txn([del('a')]));
    assert.ok(h.sm.isReferenced(hash));
    h.one(txn([put('b', 'other')]));
    assert.equal(h.sm.isReferenced(hash), false);
  });

  function busyHarness(): Harness {
    const h = new Harness();
    h.one(txn([put('a', '1'), { kind: 'listAppend', key: 'l', items: [text('x')] }], [], [], { clientId: 'c', requestId: 1, firstIncomplete: 0 }));
    h.one(txn([{ kind: 'put', key: 'blob', value: { kind: 'blob', hash: hashOf(new Uint8Array(9000)), size: 9000 } }]));
    h.one(txn([del('a'), { kind: 'add', key: 'n', delta: -3n }], [], [], { clientId: 'c', requestId: 2, firstIncomplete: 0 }));
    h.one(txn([setOp('b', '2'), del('zz')], [], [], { clientId: 'd', requestId: 1, firstIncomplete: 0 }));
    h.run();
    return h;
  }

  it('restores a snapshot to an equal state: same checksum, same answers, same future', () => {
    const original = busyHarness();
    const restored = new Harness(decodeSnapshot(encodeSnapshot(original.sm)));
    assert.equal(stateChecksum(restored.sm), stateChecksum(original.sm));
    assert.equal(restored.sm.revision, original.sm.revision);
    assert.equal(restored.sm.appliedInstance, original.sm.appliedInstance);
    const plain = (kv: KeyValue | null) => kv && { ...kv, value: kv.value && Buffer.from(kv.value) };
    assert.deepEqual(plain(restored.sm.get('n', true)), plain(original.sm.get('n', true)));
    assert.deepEqual(plain(restored.sm.get('blob', true)), plain(original.sm.get('blob', true)));
    const retry = txn([], [], [], { clientId: 'c', requestId: 2, firstIncomplete: 0 });
    assert.deepEqual(restored.one(retry), original.one(retry), 'exactly-once results survive the snapshot');
    const next = txn([put('after', 'x'), { kind: 'listAppend', key: 'l', items: [text('y')] }]);
    assert.deepEqual(restored.one(next), original.one(next));
    assert.equal(stateChecksum(restored.sm), stateChecksum(original.sm));
    assert.equal(restored.sm.oldestRevision, 5, 'history restarts after the snapshot');
  });

  it('has a checksum that differs when the state differs', () => {
    const a = busyHarness();
    const b = busyHarness();
    assert.equal(stateChecksum(a.sm), stateChecksum(b.sm));
    b.one(txn([put('a', 'diverge')]));
    a.one(txn([put('a', 'other')]));
    assert.notEqual(stateChecksum(a.sm), stateChecksum(b.sm));
  });

  it('refuses snapshot bytes that do not decode', () => {
    assert.throws(() => decodeSnapshot(Uint8Array.from([0xff, 0xff, 0xff])), /state snapshot does not decode/);
    assert.throws(() => decodeSnapshot(new Uint8Array(0)), /format 0 is not supported/);
  });
});
