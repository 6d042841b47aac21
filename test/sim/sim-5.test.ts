// The same proof as sim-3.test.ts for five replicas (two may fail at once).
import { describe, it } from 'node:test';
import { runSeeds, SEEDS_COUNT, SEEDS_FIRST } from './seeds.ts';

describe('simulator, 5 replicas', () => {
  it(`finds no violation on seeds ${SEEDS_FIRST}..${SEEDS_FIRST + SEEDS_COUNT - 1}`, () => runSeeds(5));
});
