// CPU time of whole processes from /proc/<pid>/stat (utime + stime, every thread), for figures
// like "CPU microseconds per put across the replicas and the client". Linux only.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Clock ticks per second, the unit of utime and stime (usually 100). */
const ticksPerS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());

/** CPU seconds (user + system) that process `pid` has used so far. */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`/proc/${pid}/stat: cannot read utime/stime from ${JSON.stringify(stat.slice(0, 200))}`);
  return (utime + stime) / ticksPerS;
}

/** Starts counting the CPU of `pids`; the returned function gives CPU seconds used since. */
export function cpuWindow(pids: readonly number[]): () => number {
  const total = (): number => pids.reduce((sum, pid) => sum + cpuSecondsOf(pid), 0);
  const start = total();
  return () => total() - start;
}
