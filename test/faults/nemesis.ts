// The nemesis: one fault at a time, drawn from a seeded PRNG, on the replica processes.
// Each round waits a quiet while, injects one fault, holds it, heals it (continues paused
// replicas, restarts killed ones on their data), and waits until a majority names a leader
// again. The seed fixes the schedule (which fault, which replicas among leader and
// followers, how long); the processes' timing does not repeat exactly, so a replayed seed
// runs the same faults, not the same history.
import { setTimeout as delay } from 'node:timers/promises';
import { SplitMix32 } from '../../src/consensus/random.ts';
import type { FaultCluster, Replica } from './cluster.ts';

export const FAULT_KINDS = [
  'kill', 'kill-leader', 'kill-majority', 'pause', 'pause-leader', 'pause-majority',
  // Network faults (link-proxy.ts): the leader cut from its peers both ways (clients still
  // reach it); the leader's messages to one follower lost (the other way works); one replica
  // that reaches only one peer; every link of one replica slowed; the clients cut from the
  // leader.
  'isolate-leader', 'one-way', 'partial', 'slow', 'clients-cut-leader',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** One fault as it happened, on the run's clock: from injection until healed with a leader. */
export interface FaultWindow {
  readonly kind: FaultKind;
  /**
   * `kind` for the availability report, naming for a fault on one random replica (kill, pause,
   * slow) whether it hit the leader: `kill (leader)` or `kill (follower)`, whose goals differ.
   */
  readonly label: string;
  readonly startMs: number;
  readonly healedMs: number;
}

/** Faults on one random replica, which may or may not be the leader. */
const ONE_RANDOM_REPLICA: readonly FaultKind[] = ['kill', 'pause', 'slow'];

/** Time between faults, and how long a fault is held: drawn uniformly in [min, max). */
export interface NemesisTiming {
  readonly quietMs: readonly [number, number];
  readonly holdMs: readonly [number, number];
  /** After healing, how long to wait for a leader before giving up (the run then fails). */
  readonly recoverMs: number;
}

export const NEMESIS_TIMING: NemesisTiming = { quietMs: [300, 1500], holdMs: [200, 2500], recoverMs: 30_000 };

export class Nemesis {
  readonly faults: Record<FaultKind, number> = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  readonly signals = { sigkill: 0, sigstop: 0, sigcont: 0, restart: 0, 'links-cut': 0, 'links-slowed': 0 };
  readonly windows: FaultWindow[] = [];
  private readonly random: SplitMix32;

  /** `kinds`: the faults drawn from (default all); the same seed with other kinds is another schedule. */
  constructor(
    private readonly cluster: FaultCluster,
    seed: number,
    private readonly log: (line: string) => void,
    private readonly now: () => number,
    private readonly timing: NemesisTiming = NEMESIS_TIMING,
    private readonly kinds: readonly FaultKind[] = FAULT_KINDS,
  ) {
    if (kinds.length === 0) throw new Error('the nemesis needs at least one fault kind');
    this.random = new SplitMix32(seed);
  }

  /** Injects faults until `untilMs` (on `now`'s clock), then leaves the cluster healed with a leader. */
  async run(untilMs: number): Promise<void> {
    while (this.now() + this.timing.quietMs[0] < untilMs) {
      await delay(this.draw(this.timing.quietMs));
      if (this.now() >= untilMs) break;
      const kind = this.kinds[this.random.nextInt(this.kinds.length)]!;
      const holdMs = this.draw(this.timing.holdMs);
      const { targets, leader } = await this.targets(kind);
      const label = ONE_RANDOM_REPLICA.includes(kind) ? `${kind} (${targets[0] === leader ? 'leader' : 'follower'})` : kind;
      this.faults[kind]++;
      this.log(`${(this.now() / 1000).toFixed(1)}s ${label} ${targets.map((r) => `r${r.id}`).join(',')} for ${holdMs} ms`);
      const startMs = this.now();
      await this.inject(kind, targets);
      await delay(holdMs);
      await this.heal();
      this.windows.push({ kind, label, startMs, healedMs: this.now() });
    }
  }

  /** Heals every link, continues every paused replica, restarts every killed one, and waits for a leader. */
  async heal(): Promise<void> {
    for (const link of this.cluster.links) link.heal();
    for (const r of this.cluster.replicas) {
      if (r.state === 'paused') {
        this.cluster.resume(r);
        this.signals.sigcont++;
      }
    }
    await Promise.all(this.cluster.replicas.filter((r) => r.state === 'down').map(async (r) => {
      await this.cluster.restart(r);
      this.signals.restart++;
    }));
    if (!(await this.cluster.awaitLeader(this.timing.recoverMs))) {
      throw new Error(`no leader within ${this.timing.recoverMs} ms after healing every replica`);
    }
  }

  private draw([min, max]: readonly [number, number]): number {
    return min + this.random.nextInt(max - min);
  }

  /**
   * The replicas a fault hits: the leader (or any replica when none is known), a random one, or
   * a majority with the leader; and the leader as known before the fault (null: none).
   */
  private async targets(kind: FaultKind): Promise<{ targets: Replica[]; leader: Replica | null }> {
    const all = this.cluster.replicas;
    // Drawn before asking who leads, so the schedule does not depend on the answer.
    const shuffled = [...all];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = this.random.nextInt(i + 1);
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    const leader = await this.cluster.leader();
    return { targets: this.pick(kind, shuffled, leader ?? shuffled[0]!), leader };
  }

  private pick(kind: FaultKind, shuffled: readonly Replica[], leader: Replica): Replica[] {
    if (ONE_RANDOM_REPLICA.includes(kind)) return [shuffled[0]!];
    if (kind === 'kill-leader' || kind === 'pause-leader' || kind === 'isolate-leader' || kind === 'clients-cut-leader') return [leader];
    // [replica, the one peer it still reaches] / [leader, the follower it cannot reach]
    if (kind === 'partial') return [shuffled[0]!, shuffled[1]!];
    if (kind === 'one-way') return [leader, shuffled.find((r) => r !== leader)!];
    const majority = Math.floor(shuffled.length / 2) + 1;
    return [leader, ...shuffled.filter((r) => r !== leader)].slice(0, majority);
  }

  private async inject(kind: FaultKind, targets: readonly Replica[]): Promise<void> {
    const all = this.cluster.replicas;
    const cut = (from: Replica, to: Replica): void => {
      this.cluster.peerLink(from.id, to.id).cut();
      this.signals['links-cut']++;
    };
    const cutBoth = (a: Replica, b: Replica): void => {
      cut(a, b);
      cut(b, a);
    };
    if (kind === 'isolate-leader') {
      const [leader] = targets;
      for (const r of all) if (r !== leader) cutBoth(leader!, r);
    } else if (kind === 'one-way') {
      cut(targets[0]!, targets[1]!);
    } else if (kind === 'partial') {
      const [r, reached] = targets;
      for (const other of all) if (other !== r && other !== reached) cutBoth(r!, other);
    } else if (kind === 'slow') {
      const [r] = targets;
      const delayMs = this.draw([50, 300]);
      for (const other of all) {
        if (other === r) continue;
        this.cluster.peerLink(r!.id, other.id).slow(delayMs);
        this.cluster.peerLink(other.id, r!.id).slow(delayMs);
        this.signals['links-slowed'] += 2;
      }
      this.cluster.clientLink(r!.id).slow(delayMs);
    } else if (kind === 'clients-cut-leader') {
      this.cluster.clientLink(targets[0]!.id).cut();
      this.signals['links-cut']++;
    } else if (kind.startsWith('kill')) {
      this.signals.sigkill += targets.length;
      await Promise.all(targets.map((r) => this.cluster.kill(r)));
    } else {
      this.signals.sigstop += targets.length;
      for (const r of targets) this.cluster.pause(r);
    }
  }
}
