// One fault run (docs/faults.md): replica processes, two Locals linked in this process, a
// Local node server process with a worker attached from this process, writers and readers
// on every path while the nemesis kills, pauses and restarts replicas; then every fault is
// healed, the clients stop, Global is read once more per key, and the history is checked.
import { check, type Violation } from './checker.ts';
import { FaultCluster } from './cluster.ts';
import type { Op } from './history.ts';
import { FAULT_KINDS, Nemesis, type FaultKind, type FaultWindow } from './nemesis.ts';
import { availability } from './availability.ts';
import { attachedApi, globalApi, KEYS, linkedApi, Recorder, Workload } from './workload.ts';
import { attach, type AttachedLocal } from '../../src/local/node/attach.ts';
import { GlobalClient } from '../../src/local/client/client.ts';
import { Local } from '../../src/local/local.ts';

/** The allowance on top of leaseMs for a cached read (covers the lag of the Local's clock word). */
export const SLACK_MS = 50;

export interface FaultRunOptions {
  readonly timeS: number;
  readonly seed: number;
  readonly replicas: number;
  readonly leaseMs: number;
  /** Each client call's deadline (an operation past it is recorded with an unknown outcome). */
  readonly deadlineMs?: number;
  /** Pause of each reader between reads. */
  readonly readPauseMs?: number;
  /** The fault kinds the nemesis draws from (default: all). */
  readonly kinds?: readonly FaultKind[];
  /** Progress lines (faults as they are injected). */
  readonly log?: (line: string) => void;
}

export interface FaultRunResult {
  readonly options: FaultRunOptions;
  readonly history: readonly Op[];
  readonly faults: Readonly<Record<FaultKind, number>>;
  readonly signals: Readonly<Record<string, number>>;
  readonly windows: readonly FaultWindow[];
  readonly violations: readonly Violation[];
}

export async function runFaults(options: FaultRunOptions): Promise<FaultRunResult> {
  const log = options.log ?? (() => {});
  const deadlineMs = options.deadlineMs ?? 2000;
  const clientConfig = { deadlineMs, connectTimeoutMs: 500, backoffMaxMs: 200 };
  const cluster = new FaultCluster();
  const closers: (() => Promise<void>)[] = [];
  try {
    await cluster.start(options.replicas);
    if (!(await cluster.awaitLeader(30_000))) throw new Error('the replicas elected no leader within 30 s');
    const nodeAddress = await cluster.startNodeServer(options.leaseMs, deadlineMs);
    const global = new GlobalClient({ ...clientConfig, addresses: cluster.addresses });
    closers.push(() => global.close());
    const locals: Local[] = [];
    for (let i = 0; i < 2; i++) {
      const local = Local.open({ global: cluster.addresses, leaseMs: options.leaseMs, client: clientConfig });
      closers.push(() => local.close());
      locals.push(local);
    }
    for (const local of locals) if (!(await local.ready(30_000))) throw new Error('a linked Local got no lease within 30 s');
    // The worker outwaits its node's deadline, so that it retries a write the node gave up on.
    const worker: AttachedLocal = await attach(nodeAddress, { client: { ...clientConfig, deadlineMs: 3 * deadlineMs } });
    closers.push(() => worker.close());

    const recorder = new Recorder();
    const workload = new Workload(recorder, options.seed, options.readPauseMs ?? 2);
    const g = globalApi(global);
    workload.writer('G-writer', g);
    workload.reader('G-reader', g);
    for (const [i, local] of locals.entries()) {
      const api = linkedApi(`L${i + 1}`, local);
      workload.writer(`L${i + 1}-writer`, api);
      workload.reader(`L${i + 1}-reader-0`, api);
      workload.reader(`L${i + 1}-reader-1`, api);
    }
    const attached = attachedApi('N1', worker);
    workload.writer('N1-writer', attached);
    workload.reader('N1-reader', attached);

    const nemesis = new Nemesis(cluster, options.seed, log, () => recorder.now(), undefined, options.kinds);
    try {
      await nemesis.run(options.timeS * 1000);
    } finally {
      await nemesis.heal();
      await workload.stop();
    }
    for (const key of KEYS) await recorder.read('final', g, key);
    const history = recorder.ops;
    return { options, history, faults: nemesis.faults, signals: nemesis.signals, windows: nemesis.windows, violations: check(history, { leaseMs: options.leaseMs, slackMs: SLACK_MS }) };
  } finally {
    for (const close of closers.reverse()) await close().catch(() => {});
    await cluster.stopAll();
  }
}

/** Operations by kind and outcome, e.g. "read-cache" or "put" -> {ok, fail, unknown}. */
export function operationCounts(history: readonly Op[]): Map<string, { ok: number; fail: number; unknown: number }> {
  const counts = new Map<string, { ok: number; fail: number; unknown: number }>();
  for (const op of history) {
    const kind = op.kind !== 'read' ? op.kind : op.local === null ? 'read-global' : op.outcome === 'ok' ? `read-local-${op.source}` : 'read-local';
    const c = counts.get(kind) ?? { ok: 0, fail: 0, unknown: 0 };
    c[op.outcome]++;
    counts.set(kind, c);
  }
  return counts;
}

/** Report labels in FAULT_KINDS order ('kill (leader)' sorts as 'kill'). */
function byKindOrder(a: string, b: string): number {
  const rank = (label: string): number => FAULT_KINDS.indexOf(label.split(' ')[0] as FaultKind);
  return rank(a) - rank(b) || a.localeCompare(b);
}

/** The summary a run ends with; its last line names the seed, the totals and the violations. */
export function summary(result: FaultRunResult): string[] {
  const { options, history, faults, signals, windows, violations } = result;
  const gaps = availability(history, windows);
  const ops = [...operationCounts(history)].sort(([a], [b]) => a.localeCompare(b));
  const byClause = new Map<string, number>();
  for (const v of violations) byClause.set(v.clause, (byClause.get(v.clause) ?? 0) + 1);
  const faultCount = FAULT_KINDS.reduce((n, k) => n + faults[k], 0);
  return [
    `operations: ${history.length} (${ops.map(([k, c]) => `${k} ${c.ok}${c.fail > 0 ? `/fail ${c.fail}` : ''}${c.unknown > 0 ? `/unknown ${c.unknown}` : ''}`).join(', ')})`,
    `faults: ${faultCount} (${FAULT_KINDS.map((k) => `${k} ${faults[k]}`).join(', ')}; signals: ${Object.entries(signals).map(([k, n]) => `${k} ${n}`).join(', ')})`,
    `availability (longest time no operation needing Global completed, worst window per kind): ${[...gaps.keys()].sort(byKindOrder).map((k) => `${k} ${(gaps.get(k)!.worstMs / 1000).toFixed(1)} s`).join(', ') || 'no faults'}`,
    `violations: ${violations.length}${violations.length === 0 ? '' : ` (${[...byClause].sort().map(([c, n]) => `(${c}) ${n}`).join(', ')})`}`,
    `faults: seed=${options.seed} time=${options.timeS}s replicas=${options.replicas} leaseMs=${options.leaseMs} slackMs=${SLACK_MS} operations=${history.length} faults=${faultCount} violations=${violations.length}`,
  ];
}
