// The core simulator with rolled-back storage (`rollbacks`: a replica restarted on an older copy
// of its storage, taken while it ran): on a seed where that breaks agreement when no replica is
// ever told it was rolled back (the 'rollback-unchecked' sabotage blinds the vote-stamp check),
// the check finds the rollback and the seed passes; and a few seeds of three and five replicas
// with rollbacks pass (three replicas have a window the check cannot close, docs/consensus.md
// "A data directory rolled back"; these seeds do not fall in it).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runSeed } from './simulator.ts';

describe('simulator with rollbacks', () => {
  it('seed 97 (3 replicas) breaks agreement with the check blinded, and passes with it', () => {
    const blind = runSeed({ seed: 97, replicas: 3, rollbacks: true, sabotage: 'rollback-unchecked' });
    assert.match(blind.violation ?? 'none', /^agreement: /);
    const checked = runSeed({ seed: 97, replicas: 3, rollbacks: true });
    assert.equal(checked.violation, null, checked.trace.slice(-40).join('\n'));
    assert.ok((checked.stats['rollbacksDetected'] ?? 0) > 0, 'the rollback was detected');
  });

  it('finds no violation on seeds 1..30 of five replicas with rollbacks', () => {
    let rollbacks = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const r = runSeed({ seed, replicas: 5, rollbacks: true });
      assert.equal(r.violation, null, `seed ${seed}: ${r.violation}\nreplay: npm run sim -- --rollbacks --seeds 1 --from ${seed} --replicas 5 --trace`);
      rollbacks += r.stats['rollbacks'] ?? 0;
    }
    assert.ok(rollbacks > 5, `only ${rollbacks} rollbacks over 30 seeds`);
  });
});
