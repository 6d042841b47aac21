// Benchmark harness shared by every suite in bench/suites.
//
// A suite measures each metric in at least three runs and calls `report`, which prints a
// table a person can read and, as the last line, one JSON object with the medians:
//   {"suite": "<name>", "metrics": {"<metric>": <median>, ...}, "setup": {...}}
// Metric names are an interface that scripts depend on: never rename one silently.

import os from 'node:os';

export const RUNS_MIN = 3;

export interface MetricRuns {
  /** One measurement per run. */
  runs: number[];
  /** What the number counts, for the table: "ops/s", "MB/s", "ms". */
  unit: string;
  /** The figure an issue asks for, shown next to the median. */
  target?: { atLeast?: number; atMost?: number };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The p-th percentile (0..100) by nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error('percentile of no values');
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** Runs `fn` `runs` times (after one untimed warm-up when `warmup`) and collects its results. */
export async function repeat(runs: number, fn: (run: number) => Promise<number> | number, warmup = true): Promise<number[]> {
  if (warmup) await fn(-1);
  const results: number[] = [];
  for (let run = 0; run < runs; run++) results.push(await fn(run));
  return results;
}

/** Nanosecond wall clock for measuring; benches may use clocks, the consensus core may not. */
export function nowNs(): bigint {
  return process.hrtime.bigint();
}

export function secondsSince(startNs: bigint): number {
  return Number(process.hrtime.bigint() - startNs) / 1e9;
}

function formatNumber(value: number): string {
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(3);
}

function targetText(metric: MetricRuns, value: number): string {
  const t = metric.target;
  if (t === undefined) return '';
  const parts: string[] = [];
  let ok = true;
  if (t.atLeast !== undefined) { parts.push(`>= ${formatNumber(t.atLeast)}`); ok &&= value >= t.atLeast; }
  if (t.atMost !== undefined) { parts.push(`<= ${formatNumber(t.atMost)}`); ok &&= value <= t.atMost; }
  return `${parts.join(' and ')} ${ok ? 'ok' : 'MISSED'}`;
}

export function machineSetup(): Record<string, string | number> {
  return {
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memGiB: Math.round(os.totalmem() / 2 ** 30),
  };
}

/** Prints the table, then the JSON line (always last). */
export function report(suite: string, metrics: Record<string, MetricRuns>, setup: Record<string, unknown>): void {
  const rows = Object.entries(metrics).map(([name, m]) => {
    if (m.runs.length < RUNS_MIN) throw new Error(`${suite}.${name}: ${m.runs.length} runs, need at least ${RUNS_MIN}`);
    const med = median(m.runs);
    return [name, formatNumber(med), m.unit, m.runs.map(formatNumber).join(' / '), targetText(m, med)];
  });
  const header = ['metric', 'median', 'unit', 'runs', 'target'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  console.log(`\n== ${suite} ==`);
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of rows) console.log(line(row));
  const medians = Object.fromEntries(Object.entries(metrics).map(([name, m]) => [name, Number(median(m.runs).toPrecision(6))]));
  console.log(JSON.stringify({ suite, metrics: medians, setup: { ...machineSetup(), ...setup } }));
}
