// Proves that the consensus core keeps every safety property the simulator checks (agreement,
// decided values never change, identical decided prefixes, decisions reported to clients
// surviving a minority crash, linearizable reads, no overlapping leases) and recovers liveness
// after the faults stop, for three replicas on a fixed list of seeds. The faults include wipes
// (a replica restarted on empty storage), and every seed bootstraps its cluster from empty
// storage, so the recovering mode is exercised too. A failure prints the seed,
// the violation and the replay command.
import { describe, it } from 'node:test';
import { runSeeds, SEEDS_COUNT, SEEDS_FIRST } from './seeds.ts';

describe('simulator, 3 replicas', () => {
  it(`finds no violation on seeds ${SEEDS_FIRST}..${SEEDS_FIRST + SEEDS_COUNT - 1}`, () => runSeeds(3));
});
