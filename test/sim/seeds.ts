// The fixed seed list `npm test` runs through the simulator, shared by sim-3 and sim-5 tests.
import assert from 'node:assert/strict';
import { runSeed } from './simulator.ts';

export const SEEDS_FIRST = 1;
export const SEEDS_COUNT = 250;

/** Runs every seed; fails listing each violation with its trace tail and replay command. */
export function runSeeds(replicas: number): void {
  const failures: string[] = [];
  let decided = 0;
  for (let seed = SEEDS_FIRST; seed < SEEDS_FIRST + SEEDS_COUNT; seed++) {
    const result = runSeed({ seed, replicas });
    decided += result.stats['decided'] ?? 0;
    if (result.violation !== null) {
      failures.push(`seed ${seed}: ${result.violation}\n${result.trace.slice(-40).join('\n')}\nreplay: npm run sim -- --seeds 1 --from ${seed} --replicas ${replicas} --trace`);
    }
  }
  assert.deepEqual(failures, []);
  // The run did real work: on average dozens of decided instances per seed.
  assert.ok(decided > SEEDS_COUNT * 20, `only ${decided} instances decided over ${SEEDS_COUNT} seeds`);
}
