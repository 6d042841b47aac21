// The fault suite's short run inside `npm test` (docs/faults.md): real replica processes, two
// linked Locals and a worker attached to a Local node server process, writers and cached
// readers, 8 seconds of nemesis from a fixed seed whose faults are a partition that cuts the
// leader off from its peers, then a kill and restart of the new leader, so that the run stays
// short; pauses, majorities and the other network faults are left to `npm run faults`. The
// history must satisfy every clause of the checker.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatViolation } from './checker.ts';
import { runFaults, summary } from './run.ts';

const SEED = 74;
const TIME_S = 8;

describe('fault suite (short run)', () => {
  it(`keeps the contract on real processes under ${TIME_S} s of faults (seed ${SEED})`, async (t) => {
    const result = await runFaults({ timeS: TIME_S, seed: SEED, replicas: 3, leaseMs: 500, log: (line) => t.diagnostic(line) });
    for (const line of summary(result)) t.diagnostic(line);
    const faults = Object.values(result.faults).reduce((n, k) => n + k, 0);
    assert.ok(faults >= 1, 'the nemesis injected at least one fault');
    const ok = (kind: string): number => result.history.filter((op) => (kind === 'read' ? op.kind === 'read' && op.local !== null : op.kind === kind) && op.outcome === 'ok').length;
    for (const kind of ['put', 'set', 'cas', 'delete', 'read']) assert.ok(ok(kind) > 0, `some ${kind} operations were answered`);
    assert.ok(result.history.some((op) => op.kind === 'read' && op.source === 'cache'), 'some reads were served from a linked Local cache');
    assert.deepEqual(result.violations.map(formatViolation), [], `violations (replay: npm run faults -- --time ${TIME_S} --seed ${SEED})`);
  });
});
