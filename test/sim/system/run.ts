// One seed of the whole-system simulation: boots a cluster of real replicas (cluster.ts) on
// one scheduler, runs clients (clients.ts) while a nemesis injects faults, then heals
// everything and checks what clients saw:
// - agreement: replicas that applied through the same instance hold the same state (checked
//   after every step, by state checksum);
// - the client history is linearizable, no acknowledged write is lost, and no write (retries
//   included) applied twice: the fault suite's checker (test/faults/checker.ts, clauses a and
//   e) over every operation, plus a final linearizable read of every key after healing;
// - liveness after healing: every replica comes back and catches up, every key is readable;
// - no replica fails an assertion or a storage step it should survive.
// The same seed replays the same run: every choice comes from the seed, and the scheduler
// orders every step.

import { SplitMix32 } from '../../../src/consensus/index.ts';
import { check, formatViolation } from '../../faults/checker.ts';
import { PARTITION_KINDS, type LinkFaults } from '../network.ts';
import { History, KEYS, SimClient } from './clients.ts';
import type { FaultFileSystem } from '../../../src/global/storage/fault-fs.ts';
import { SimCluster, type CrashKind, type Sabotage, type SimReplica } from './cluster.ts';
import { Scheduler } from './scheduler.ts';
import { startSilentFaults } from './silent-faults.ts';

export interface SystemSimOptions {
  readonly seed: number;
  readonly replicas: number;
  /** Virtual ms of faults before healing. */
  readonly faultMs?: number;
  /** Trace lines kept (the last ones); Infinity keeps all. */
  readonly traceEvents?: number;
  /** Silent disk faults (silent-faults.ts): 'all' (default), 'no-consensus' (no lost or
   *  misdirected writes to the consensus log and mark), or 'off' (the default with `sabotage`). */
  readonly silentFaults?: 'all' | 'no-consensus' | 'off';
  /** Rolled-back data directories on or off; by default on in 30 % of the seeds (and always under 'rollback-unchecked'). */
  readonly rollbacks?: boolean;
  /** A deliberate bug (cluster.ts), with crashes always on: for showing that the checks catch it. */
  readonly sabotage?: Sabotage;
}

export interface SystemSimResult {
  readonly seed: number;
  readonly replicas: number;
  readonly violation: string | null;
  readonly trace: readonly string[];
  readonly stats: Record<string, number>;
}

const CALM: LinkFaults = { dropPermille: 0, duplicatePermille: 0, delayMin: 1, delayMax: 8, longDelayPermille: 0, longDelayMax: 0 };
const LOSSY: LinkFaults = { dropPermille: 60, duplicatePermille: 30, delayMin: 1, delayMax: 30, longDelayPermille: 20, longDelayMax: 1_500 };
/** How long after healing the cluster has to converge and answer every final read. */
const HEAL_MS_MAX = 60_000;
/** The drift bound the replicas are configured with (their default). */
const DRIFT_BOUND_PERCENT = 10;

export async function runSystemSeed(options: SystemSimOptions): Promise<SystemSimResult> {
  const { seed, replicas } = options;
  const faultMs = options.faultMs ?? 10_000;
  const keep = options.traceEvents ?? 300;
  const random = new SplitMix32(seed * 7919 + replicas);
  const sched = new Scheduler();
  const trace: string[] = [];
  let violation: string | null = null;
  const line = (text: string): void => {
    trace.push(`${sched.nowMs.toFixed(1).padStart(8)} ${text}`);
    if (trace.length > keep * 2) trace.splice(0, trace.length - keep);
  };
  const fail = (message: string): void => {
    if (violation !== null) return;
    violation = message;
    sched.stopped = message;
    line(`VIOLATION ${message}`);
  };

  // The seed's fault profile: which families of faults it injects.
  const chance = (percent: number): boolean => random.nextInt(100) < percent;
  const profile = {
    partitions: chance(60),
    lossy: chance(50),
    crashes: chance(60) || options.sabotage !== undefined,
    pauses: chance(50),
    diskFaults: chance(30),
    slowFsync: chance(30) || options.sabotage !== undefined,
    snapshotFaults: chance(40),
    clockBeyondBound: chance(10),
  };
  line(`seed ${seed}, ${replicas} replicas, faults: ${Object.entries(profile).filter(([, on]) => on).map(([k]) => k).join(' ') || 'none'}`);
  const clockRate = (): number => (profile.clockBeyondBound ? 0.6 + random.nextInt(900) / 1000 : 1 + random.nextInt(DRIFT_BOUND_PERCENT * 9) / 1000);

  // Rolled-back data directories (below) are drawn first: a seed that has them runs its replicas
  // with the start check that waits for every member, the setting without a window for a copy
  // whose forgotten votes only a member that is down had seen (docs/consensus.md).
  const rollbackRandom = new SplitMix32(seed * 7_919 + replicas * 31 + 1);
  const rollbacks = options.rollbacks ?? (options.sabotage === 'rollback-unchecked' || rollbackRandom.nextInt(100) < 30);
  const cluster = new SimCluster(sched, random, {
    replicas,
    seed,
    node: { snapshotEveryInstances: 3 + random.nextInt(30), readWaitMsMax: 2_000, consensus: { startCheckEveryMember: rollbacks } },
    clockRate,
    trace: line,
    violation: fail,
    // A sabotaged run gets a slow disk, so the window the bug opens is wide enough to hit.
    ...(options.sabotage === undefined ? {} : { sabotage: options.sabotage, diskLatencyMs: 200 }),
  });
  if (profile.snapshotFaults) Object.assign(cluster.faults, { snapshotFailPermille: 150, snapshotStallPermille: 100 });
  cluster.network.faults = profile.lossy ? LOSSY : CALM;
  sched.onStep = () => {
    cluster.noticeCrashedDisks();
    cluster.checkAgreement();
  };
  for (const r of cluster.replicas.values()) cluster.boot(r);

  const history = new History();
  let clientsStop = false;
  const clients = Array.from({ length: replicas === 3 ? 3 : 4 }, (_, i) => new SimClient(`c${i + 1}`, 100 + i, sched, cluster, random, history, line, () => !profile.clockBeyondBound));
  for (const c of clients) void c.run(() => clientsStop || violation !== null);

  // The nemesis: a fault every 200..1500 ms until faultMs; each undoes itself after a while.
  const pick = (): SimReplica => cluster.get(1 + random.nextInt(replicas));
  const nemesis = (): void => {
    if (sched.nowMs >= faultMs) return;
    const r = pick();
    switch (random.nextInt(8)) {
      case 0:
        if (profile.partitions) {
          line(`network: ${cluster.network.partition(PARTITION_KINDS[random.nextInt(PARTITION_KINDS.length)]!, random)}`);
          sched.at(300 + random.nextInt(3_000), null, () => {
            cluster.network.heal();
            line('network: healed');
          });
        }
        break;
      case 1:
        if (profile.crashes && r.up) {
          const kinds: CrashKind[] = ['process', 'lose-unsynced', 'torn'];
          cluster.crash(r, kinds[random.nextInt(kinds.length)]!);
          sched.at(50 + random.nextInt(3_000), null, () => cluster.boot(r));
        }
        break;
      case 2:
        if (profile.pauses && r.up) {
          cluster.pause(r);
          sched.at(100 + random.nextInt(4_000), null, () => cluster.resume(r));
        }
        break;
      case 3:
        if (profile.diskFaults && r.up) {
          const ops = ['write', 'datasync', 'rename', 'syncDir'] as const;
          cluster.injectDiskFault(r, { op: ops[random.nextInt(ops.length)]!, code: random.nextInt(2) === 0 ? 'EIO' : 'ENOSPC' });
        }
        break;
      case 4:
        if (profile.slowFsync && r.up) {
          r.slowFsyncMs = 100 + random.nextInt(400);
          line(`r${r.id}: slow fsync (${r.slowFsyncMs} ms)`);
          sched.at(500 + random.nextInt(2_000), null, () => { r.slowFsyncMs = 0; });
        }
        break;
      case 5:
        if (profile.clockBeyondBound && r.up) cluster.jumpClock(r, 100 + random.nextInt(3_000));
        break;
      case 6:
        if (profile.lossy) {
          cluster.network.faults = cluster.network.faults === LOSSY ? CALM : LOSSY;
          line(`network: links ${cluster.network.faults === LOSSY ? 'lossy' : 'calm'}`);
        }
        break;
      case 7:
        // A power loss in the middle of one of the next disk operations (a WAL append, a
        // snapshot write or install, a compaction, whatever runs then).
        if (profile.crashes && r.up && !r.disk.isCrashed) {
          r.disk.armCrash(random.nextInt(40), random.nextInt(2) === 0 ? 'torn' : 'lose-unsynced');
          line(`r${r.id}: crash armed on a coming disk operation`);
        }
        break;
    }
    sched.at(200 + random.nextInt(1_300), null, nemesis);
  };
  sched.at(200, null, nemesis);
  // A sabotaged run keeps the schedule it was calibrated on (silent faults came later).
  const silentFaults = options.silentFaults ?? (options.sabotage === undefined ? 'all' : 'off');
  const badDisks = silentFaults === 'off' ? [] : startSilentFaults(sched, cluster, line, { seed, replicas, faultMs, consensus: silentFaults !== 'no-consensus' });

  // Rolled-back data directories, from a stream of their own so a seed's other faults stay as
  // they were: a crash-consistent copy of a running replica's disk now and then, restored at a
  // later crash of that replica. At most f replicas are rolled back and not yet voting again
  // (a majority that forgot is data no protocol can bring back). A replica whose damaged state
  // was moved aside forgets too, so when the seed has silent disk faults, only those replicas'
  // disks are rolled back: at most f bad disks in all.
  if (rollbacks) {
    line('faults: rollbacks');
    const copies = new Map<number, { disk: FaultFileSystem; atMs: number }>();
    const amnesiac = new Set<number>();
    const voting = (r: SimReplica): boolean => {
      const status = r.node?.status();
      return status !== undefined && status.recovery === null && status.startCheck === null;
    };
    const rollbackNemesis = (): void => {
      if (sched.nowMs >= faultMs) return;
      for (const id of amnesiac) if (voting(cluster.get(id))) amnesiac.delete(id);
      const r = badDisks.length > 0 ? badDisks[rollbackRandom.nextInt(badDisks.length)]! : cluster.get(1 + rollbackRandom.nextInt(replicas));
      const copy = copies.get(r.id);
      if (rollbackRandom.nextInt(2) === 0) {
        if (r.up && !r.disk.isCrashed) copies.set(r.id, { disk: r.disk.durableCopy(), atMs: sched.nowMs });
      } else if (copy !== undefined && !amnesiac.has(r.id) && amnesiac.size < (replicas - 1) / 2) {
        copies.delete(r.id);
        amnesiac.add(r.id);
        cluster.restoreDisk(r, copy.disk, copy.atMs);
        const bootAfterMs = 50 + rollbackRandom.nextInt(3_000);
        sched.at(bootAfterMs, null, () => cluster.boot(r));
        // Half the time the leader, which saw the votes the copy forgot, goes down once the
        // restored replica has checked its stamp (a crash before it answers opens the window
        // the check cannot close with three replicas: docs/consensus.md).
        const leader = [...cluster.replicas.values()].find((l) => l !== r && l.node?.isLeader() === true);
        if (leader !== undefined && rollbackRandom.nextInt(2) === 0) {
          sched.at(bootAfterMs + 500 + rollbackRandom.nextInt(1_000), null, () => {
            const status = r.node?.status();
            if (status === undefined || status.startCheck !== null) return;
            cluster.crash(leader, 'process');
            sched.at(50 + rollbackRandom.nextInt(3_000), null, () => cluster.boot(leader));
          });
        }
      }
      sched.at(300 + rollbackRandom.nextInt(1_700), null, rollbackNemesis);
    };
    sched.at(300, null, rollbackNemesis);
  }

  try {
    await sched.run(faultMs);
    // Heal: every replica up and running, the network whole and calm, no more injected faults.
    line('heal');
    cluster.network.heal();
    cluster.network.faults = CALM;
    Object.assign(cluster.faults, { snapshotFailPermille: 0, snapshotStallPermille: 0 });
    for (const r of cluster.replicas.values()) {
      r.slowFsyncMs = 0;
      if (r.up) cluster.resume(r);
      else cluster.boot(r);
    }
    const healedAtMs = sched.nowMs;
    sched.at(2_000, null, () => { clientsStop = true; });
    await sched.run(healedAtMs + HEAL_MS_MAX, () => clientsStop && clients.every((c) => !c.busy));
    if (violation === null && clients.some((c) => c.busy)) fail(`liveness: clients still busy ${HEAL_MS_MAX} ms after healing`);

    // No acknowledged write lost: a linearizable read of every key, after everything else.
    const reader = new SimClient('final', 99, sched, cluster, random, history, line, () => true);
    let finalReads = 0;
    for (const key of KEYS) {
      if (violation !== null) break;
      let settled = false;
      void reader.read(key, 'linearizable', HEAL_MS_MAX).then((answer) => {
        settled = true;
        if (answer !== null) finalReads++;
      });
      await sched.run(sched.nowMs + HEAL_MS_MAX + 5_000, () => settled);
    }
    if (violation === null && finalReads !== KEYS.length) fail(`liveness: only ${finalReads} of ${KEYS.length} final reads answered after healing`);

    // Every replica catches up to the same applied instance (agreement checks the states).
    const caughtUp = (): boolean => {
      const applied = [...cluster.replicas.values()].map((r) => r.node?.stateMachine.appliedInstance ?? -1);
      return applied.every((a) => a >= 0 && a === applied[0]) && [...cluster.replicas.values()].some((r) => r.node?.isLeader() === true);
    };
    await sched.run(sched.nowMs + HEAL_MS_MAX, caughtUp);
    if (violation === null && !caughtUp()) {
      fail(`liveness: replicas did not converge after healing (applied: ${[...cluster.replicas.values()].map((r) => `r${r.id}=${r.node?.stateMachine.appliedInstance ?? 'down'}`).join(' ')})`);
    }
    cluster.checkAgreement();

    if (violation === null) {
      const found = check(history.ops, { leaseMs: 0, slackMs: 0, unknownWriteExplainsFailedSets: true });
      if (found.length > 0) fail(`history: ${found.slice(0, 3).map(formatViolation).join('\n')}`);
    }
  } catch (err) {
    fail(`simulation error: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  }

  const ops = history.ops;
  const stats: Record<string, number> = {
    steps: sched.steps,
    virtualMs: Math.round(sched.nowMs),
    writesAcked: ops.filter((o) => o.kind !== 'read' && o.outcome === 'ok').length,
    writesUnknown: ops.filter((o) => o.kind !== 'read' && o.outcome === 'unknown').length,
    reads: ops.filter((o) => o.kind === 'read').length,
    ...cluster.stats,
  };
  return { seed, replicas, violation, trace: trace.slice(-keep), stats };
}
