// The whole-system simulation (system/run.ts) in npm test: a few seeds of 3 and 5 real
// replicas (driver, batcher, state machine with client sessions, storage engine over the fault
// file system, snapshot transfer) under crashes, pauses, partitions, lossy links, disk faults
// and clock drift, with the client history checked for linearizability, lost acknowledged
// writes and writes applied twice. Also: one seed replays exactly (same trace twice), a
// replica that sends its votes before they are durable is caught, and so is a replica restarted
// on an older copy of its data directory when nobody tells it so; silent disk faults (bit
// flips, lost and misdirected writes) are detected and recovered from.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runSystemSeed, type SystemSimResult } from './system/run.ts';

const SEEDS = [1, 2, 3];

function report(r: SystemSimResult): string {
  return `seed ${r.seed}: ${r.violation}\n${r.trace.slice(-60).join('\n')}\nreplay: npm run sim -- --system --seeds 1 --from ${r.seed} --replicas ${r.replicas} --trace`;
}

async function runSeeds(replicas: number): Promise<void> {
  const failures: string[] = [];
  let acked = 0;
  let forwarded = 0;
  for (const seed of SEEDS) {
    const r = await runSystemSeed({ seed, replicas, faultMs: 6_000 });
    acked += r.stats['writesAcked'] ?? 0;
    forwarded += r.stats['forwarded'] ?? 0;
    if (r.violation !== null) failures.push(report(r));
  }
  assert.deepEqual(failures, []);
  // The runs did real work: the checks had acknowledged writes to look at.
  assert.ok(acked > SEEDS.length * 10, `only ${acked} writes acknowledged over ${SEEDS.length} seeds`);
  // Followers forwarded requests to the leader (clients send to any replica).
  assert.ok(forwarded > SEEDS.length * 10, `only ${forwarded} requests forwarded over ${SEEDS.length} seeds`);
}

describe('whole-system simulation', () => {
  it(`finds no violation on seeds ${SEEDS.join(', ')} with 3 replicas`, () => runSeeds(3));
  it(`finds no violation on seeds ${SEEDS.join(', ')} with 5 replicas`, () => runSeeds(5));

  it('catches a replica that votes before its vote is durable (persist-then-vote broken)', async () => {
    // The driver's order made wrong from outside: persist resolves at once, the write lands later.
    // Seeds are rare that catch it (3 of 300 since decision records wait for the next record);
    // 10 does, as one replica holding one state at an instance before a restart and another after.
    const r = await runSystemSeed({ seed: 10, replicas: 3, rollbacks: false, sabotage: 'vote-before-persist' });
    assert.match(r.violation ?? 'none', /^agreement: /);
  });

  it('catches a replica restarted on an older copy of its data directory when no peer says so, and not with the check', async () => {
    // Seed 166 restores a replica's disk to an older copy and crashes the leader that saw the
    // votes it forgot; with every stamp check answered "current" the two others break agreement.
    const blind = await runSystemSeed({ seed: 166, replicas: 3, rollbacks: true, sabotage: 'rollback-unchecked' });
    assert.match(blind.violation ?? 'none', /^agreement: /);
    const checked = await runSystemSeed({ seed: 166, replicas: 3, rollbacks: true });
    assert.equal(checked.violation, null);
    assert.ok((checked.stats['rollbacksDetected'] ?? 0) > 0, 'the rollback was detected');
  });

  it('detects the silent disk faults it injects and recovers from them (seed 5, 3 replicas)', async () => {
    const r = await runSystemSeed({ seed: 5, replicas: 3 });
    assert.equal(r.violation, null, r.violation === null ? '' : report(r));
    const landed = ['bitFlips', 'lostWrites', 'lostPages', 'misdirectedOffset', 'misdirectedFile'].reduce((sum, k) => sum + (r.stats[k] ?? 0), 0);
    assert.ok(landed >= 3, `only ${landed} silent faults landed`);
    assert.ok((r.stats['corruptRepairs'] ?? 0) >= 1, 'no damaged state was found and moved aside on a start');
  });

  it('replays a seed exactly: the same trace twice', async () => {
    const first = await runSystemSeed({ seed: 7, replicas: 3, faultMs: 4_000, traceEvents: Number.POSITIVE_INFINITY });
    const second = await runSystemSeed({ seed: 7, replicas: 3, faultMs: 4_000, traceEvents: Number.POSITIVE_INFINITY });
    assert.ok(first.trace.length > 50, `a trace of ${first.trace.length} lines is too short to compare`);
    assert.deepEqual(second.trace, first.trace);
    assert.deepEqual(second.stats, first.stats);
  });
});
