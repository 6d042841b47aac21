// The test tiers, by file name: `*.process.test.ts` start Node child processes (the dstore
// command, the fault suite), `*.cluster.test.ts` run servers in this process over real sockets,
// every other `*.test.ts` is a unit test: no sockets, no processes. scripts/test-tier-guard.ts
// enforces it; `npm run test:unit|test:cluster|test:process` runs one tier, `npm test` all.
export const TIERS = ['unit', 'cluster', 'process'] as const;
export type Tier = (typeof TIERS)[number];

export function tierOf(file: string): Tier {
  if (file.endsWith('.process.test.ts')) return 'process';
  if (file.endsWith('.cluster.test.ts')) return 'cluster';
  return 'unit';
}
