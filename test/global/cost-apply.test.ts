// Proves that applying a log entry costs a bounded amount and can never throw for what the
// entry holds (issue 11, item 2): the ranges of a transaction in the log share one budget of
// keys, so 1,023 ranges over many keys cannot exhaust memory at apply or at replay; count
// limits are admission checks only, so an entry over today's limits (written when they were
// looser) still decodes and applies the same way; a structured value cannot grow past
// STRUCTURED_ENTRIES_MAX, which fails the transaction deterministically.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeCommand, encodeCommand, TXN_OPS_MAX } from '../../src/global/replica/codec.ts';
import { StateMachine, STATE_MACHINE_DEFAULTS } from '../../src/global/state/state-machine.ts';
import type { Command, Op } from '../../src/global/state/types.ts';
import { STRUCTURED_ENTRIES_MAX } from '../../src/protocol/structured-values.ts';

const RANGE_KEYS_MAX = 500;
const inline = (s: string): { kind: 'inline'; bytes: Uint8Array } => ({ kind: 'inline', bytes: Buffer.from(s) });
const command = (...success: Op[]): Command => ({ writeId: null, txn: { compares: [], success, failure: [] } });

function loaded(keys: number): StateMachine {
  const sm = new StateMachine({ ...STATE_MACHINE_DEFAULTS, rangeKeysMax: RANGE_KEYS_MAX });
  const puts: Op[] = Array.from({ length: keys }, (_, i) => ({ kind: 'put', key: `k/${String(i).padStart(5, '0')}`, value: inline('v') }));
  sm.applyInstance(1, [command(...puts)]);
  return sm;
}

describe('apply cost', () => {
  it('1,023 range ops over 4,000 keys in a writing transaction return rangeKeysMax keys in all at apply', () => {
    const sm = loaded(4000);
    const ranges: Op[] = Array.from({ length: 1023 }, () => ({ kind: 'range', range: { start: '', end: '', prefix: 'k/', limit: 0, withValues: true } }));
    const [r] = sm.applyInstance(2, [command(...ranges, { kind: 'put', key: 'w', value: inline('x') })]);
    assert.equal(r?.failure, null);
    const kvs = r.results.reduce((n, x) => n + (x.kind === 'range' ? x.kvs.length : 0), 0);
    assert.equal(kvs, RANGE_KEYS_MAX, 'the ranges share one budget (was 1,023 x 500)');
    assert.ok(r.results.slice(0, 1023).every((x) => x.kind === 'range' && x.more));
    assert.equal(sm.revision, 2, 'the write committed');
  });

  it('an entry over today\'s count limits still decodes and applies (limits are checked before proposal, not at apply)', () => {
    const gets = Array.from({ length: TXN_OPS_MAX + 10 }, () => ({ get: { key: 'a' } }));
    const bytes = encodeCommand(null, { compares: [], success: [...gets, { put: { key: 'a', value: { inline: Buffer.from('1') } } }], failure: [] });
    const decoded = decodeCommand(bytes);
    assert.equal(decoded.txn.success.length, TXN_OPS_MAX + 11);
    const sm = new StateMachine();
    const [r] = sm.applyInstance(1, [decoded]);
    assert.equal(r?.failure, null);
    assert.equal(sm.revision, 1);
  });

  it(`a list or map that would hold more than STRUCTURED_ENTRIES_MAX (${STRUCTURED_ENTRIES_MAX}) entries fails the transaction, the same way every time`, () => {
    const items = Array.from({ length: STRUCTURED_ENTRIES_MAX }, () => Buffer.from('i'));
    for (let run = 0; run < 2; run++) {
      const sm = new StateMachine();
      const [full, over] = [sm.applyInstance(1, [command({ kind: 'listAppend', key: 'l', items })]), sm.applyInstance(2, [command({ kind: 'listAppend', key: 'l', items: [Buffer.from('j')] })])];
      assert.equal(full[0]?.failure, null);
      assert.equal(over[0]?.failure?.code, 'INVALID_ARGUMENT');
      assert.match(over[0]?.failure?.message ?? '', /would hold 4097 items, over the limit of 4096 \(STRUCTURED_ENTRIES_MAX\)/);
      const entries = Array.from({ length: STRUCTURED_ENTRIES_MAX + 1 }, (_, i) => ({ field: `f${i}`, value: Buffer.from('v') }));
      const [m] = sm.applyInstance(3, [command({ kind: 'mapStore', key: 'm', entries })]);
      assert.match(m?.failure?.message ?? '', /would hold 4097 fields/);
      assert.equal(sm.revision, 1, 'only the first list append committed');
    }
  });

  it('a read-only transaction is served from the state machine without changing it', () => {
    const sm = loaded(10);
    const before = sm.appliedInstance;
    const r = sm.readTxn({ compares: [{ key: 'k/00000', target: 'exists', operator: 'equal', exists: true }], success: [{ kind: 'get', key: 'k/00001', withValue: true }], failure: [] });
    assert.equal(r.succeeded, true);
    assert.equal(r.results[0]?.kind === 'get' ? Buffer.from(r.results[0].kv!.value!).toString() : '', 'v');
    assert.equal(sm.appliedInstance, before);
    assert.throws(() => sm.readTxn(command({ kind: 'delete', key: 'k/00001' }).txn), /must go through the log/);
  });
});
