// The silent-disk-fault nemesis of the whole-system simulation: bit flips at rest, lost writes
// (whole, or one page) and misdirected writes (a page away, or into another file), the faults
// only a checksum catches (fault-fs.ts). It runs beside the main nemesis (run.ts) on a PRNG of
// its own, so the main nemesis's choices for a seed stay what they were.
//
// Which replicas: at most f of them per seed (f = (replicas - 1) / 2), the usual bound on
// faulty disks; a replica that stopped on corruption is wiped by the "operator" (cluster.ts)
// and recovers from its peers, which needs a majority with intact state.
//
// A lost or misdirected write shows only once the page cache is gone, so each is followed by a
// power loss of that machine; a bit flip is followed, half the time, by a process restart, so
// that the start-up checks read it (a running replica meets it when it reads the file).
//
// `consensus: false` leaves the consensus state (consensus/ and consensus.mark) out of the
// lost and misdirected writes: a lost fsynced consensus record is a rolled-back promise or
// accept, the class the consensus core's rollback detection covers.

import { SplitMix32 } from '../../../src/consensus/index.ts';
import type { SimCluster, SimReplica } from './cluster.ts';
import type { Scheduler } from './scheduler.ts';

export interface SilentFaultOptions {
  readonly seed: number;
  readonly replicas: number;
  readonly faultMs: number;
  /** Whether lost and misdirected writes may hit the consensus log and its mark. */
  readonly consensus: boolean;
}

/** Where lost and misdirected writes are aimed: one area of the data directory, or anywhere. */
const WRITE_AREAS = ['/data/consensus/', '/data/consensus.mark', '/data/snapshots/', '/data/blobs/', '/data/'] as const;

/** Starts the silent faults of this seed, if it has any; returns the replicas whose disks take them. */
export function startSilentFaults(sched: Scheduler, cluster: SimCluster, line: (text: string) => void, options: SilentFaultOptions): readonly SimReplica[] {
  const random = new SplitMix32(options.seed * 104_729 + options.replicas);
  if (random.nextInt(100) >= 40) return [];
  const ids = [...cluster.replicas.keys()];
  const faulty: SimReplica[] = [];
  const f = Math.floor((options.replicas - 1) / 2);
  while (faulty.length < f) {
    const r = cluster.get(ids.splice(random.nextInt(ids.length), 1)[0]!);
    faulty.push(r);
  }
  line(`silent disk faults on ${faulty.map((r) => `r${r.id}`).join(' ')}${options.consensus ? '' : ' (consensus state spared lost and misdirected writes)'}`);
  const areas = WRITE_AREAS.filter((a) => options.consensus || !a.startsWith('/data/consensus'));

  const inject = (): void => {
    if (sched.nowMs >= options.faultMs) return;
    const r = faulty[random.nextInt(faulty.length)]!;
    if (r.up && !r.disk.isCrashed) {
      const kind = random.nextInt(5);
      if (kind === 0) {
        const flipped = r.disk.flipRandomBit('/data/');
        if (flipped !== undefined && random.nextInt(2) === 0) {
          sched.at(random.nextInt(1_000), null, () => {
            if (r.up) cluster.crash(r, 'process');
            sched.at(50 + random.nextInt(500), null, () => cluster.boot(r));
          });
        }
      } else {
        const pathIncludes = areas[random.nextInt(areas.length)]!;
        if (kind === 1) r.disk.armLostWrite({ pathIncludes });
        else if (kind === 2) r.disk.armLostWrite({ pathIncludes, page: true });
        else r.disk.armMisdirectedWrite({ pathIncludes, target: kind === 3 ? 'offset' : 'file' });
        line(`r${r.id}: armed a ${['', 'lost write', 'lost page', 'misdirected write (offset)', 'misdirected write (file)'][kind]} on ${pathIncludes}`);
        sched.at(100 + random.nextInt(2_000), null, () => {
          if (!r.up || r.disk.isCrashed) return;
          cluster.crash(r, 'lose-unsynced');
          sched.at(50 + random.nextInt(1_000), null, () => cluster.boot(r));
        });
      }
    }
    sched.at(300 + random.nextInt(1_500), null, inject);
  };
  for (const r of faulty) cluster.watchSilentFaults(r);
  sched.at(300, null, inject);
  return faulty;
}
