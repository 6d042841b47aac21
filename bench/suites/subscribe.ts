// Suite `subscribe`: how fast key changes reach subscribers (Global.Subscribe, the Local's
// invalidation stream). Three replica processes (examples/global.ts, fsync on) on loopback;
// this process writes through one Global client and holds SUBSCRIBERS subscriptions, each on
// its own client (its own connection, as separate Locals would be), spread round-robin over
// the replicas so followers serve as many as the leader.
//
// - subscribe_event_p50_ms / _p99_ms: one put at a time; from the put being issued until
//   each subscriber holds its event (every subscriber's latency counts). Split into
//   subscribers on the leader and on followers, which learn a decision one message later.
//   subscribe_put_ack_p50_ms is the writer's own acknowledgement in the same loop, for scale.
// - subscribe_events_per_s: a burst of puts with many in flight; events delivered to all
//   subscribers together per second, from the first put until every subscriber has all.
// - subscribe_catchup_events_per_s: after the burst, SUBSCRIBERS new subscriptions read the
//   burst's revisions from history: the server's push rate without the write path.
import { freePort } from '../global/cluster.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GlobalClient, type Subscription } from '../../src/local/client/client.ts';
import { type MetricRuns, RUNS_MIN, percentile, repeat, report } from '../harness.ts';

const SUBSCRIBERS = 8;
const PACED_PUTS = 300;
const BURST_PUTS = 10_000;
const VALUE = new Uint8Array(16);
const SUITE_SECONDS_MAX = 170;

setTimeout(() => {
  console.error(`subscribe: suite exceeded ${SUITE_SECONDS_MAX} s; stopping`);
  for (const child of children) child.kill('SIGKILL');
  process.exit(1);
}, SUITE_SECONDS_MAX * 1000).unref();

const children: ChildProcess[] = [];

/** Starts the replicas; resolves once each says it listens. */
async function startCluster(dataDir: string): Promise<string[]> {
  const addresses = await Promise.all([1, 2, 3].map(async () => `127.0.0.1:${await freePort()}`));
  const peers = addresses.map((a, i) => `${i + 1}=${a}`).join(',');
  const script = fileURLToPath(new URL('../../examples/global.ts', import.meta.url));
  await Promise.all(addresses.map((_, i) => new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, '--id', String(i + 1), '--peers', peers, '--data', join(dataDir, `r${i + 1}`)], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    child.once('exit', (code) => reject(new Error(`replica ${i + 1} exited with ${code}`)));
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('listening on')) resolve();
    });
  })));
  return addresses;
}

/** Per subscriber: when each key's event arrived (performance.now), and how many events so far. */
interface Watcher {
  readonly sub: Subscription;
  readonly arrivals: Map<string, number>;
  count: number;
  onEvent: (() => void) | null;
}

function watch(sub: Subscription): Watcher {
  const w: Watcher = { sub, arrivals: new Map(), count: 0, onEvent: null };
  void (async () => {
    try {
      for await (const m of sub) {
        if (m.kind !== 'events') continue;
        const now = performance.now();
        for (const e of m.events) w.arrivals.set(e.type === 'put' ? e.kv.key : e.key, now);
        w.count += m.events.length;
        w.onEvent?.();
      }
    } catch (err) {
      console.error(`subscribe: subscription on ${sub.address} failed: ${String(err)}`);
    }
  })();
  return w;
}

/** Resolves once every watcher has seen at least `count` events. */
function allReached(watchers: readonly Watcher[], count: number): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (watchers.every((w) => w.count >= count)) {
        for (const w of watchers) w.onEvent = null;
        resolve();
      }
    };
    for (const w of watchers) w.onEvent = check;
    check();
  });
}

const dataDir = mkdtempSync(join(tmpdir(), 'dstore-bench-subscribe-'));
const clients: GlobalClient[] = [];
const leaderMs: number[][] = [];
const followerMs: number[][] = [];
const allP50: number[] = [];
const allP99: number[] = [];
const ackP50: number[] = [];
const liveRates: number[] = [];
const catchupRates: number[] = [];
try {
  const addresses = await startCluster(dataDir);
  const writer = new GlobalClient({ addresses });
  clients.push(writer);
  await writer.set('bench/ready', VALUE);
  const leaderAddress = (await writer.status()).leaderAddress;
  await repeat(RUNS_MIN, async (run) => {
    const tag = `r${run + 1}`;
    const from = (await writer.set(`bench/${tag}/start`, VALUE)).revision + 1;
    const subClients = Array.from({ length: SUBSCRIBERS }, () => new GlobalClient({ addresses }));
    clients.push(...subClients);
    const watchers = subClients.map((c, i) => watch(c.subscribe({ fromRevision: from, address: addresses[i % addresses.length]! })));
    // Paced: one put at a time, each waits until every subscriber has its event.
    const onLeader: number[] = [];
    const onFollower: number[] = [];
    const acks: number[] = [];
    for (let i = 0; i < PACED_PUTS; i++) {
      const key = `bench/${tag}/paced/${i}`;
      const issuedMs = performance.now();
      await Promise.all([writer.set(key, VALUE).then(() => acks.push(performance.now() - issuedMs)), allReached(watchers, i + 1)]);
      for (const w of watchers) (w.sub.address === leaderAddress ? onLeader : onFollower).push(w.arrivals.get(key)! - issuedMs);
    }
    // Burst: many puts in flight.
    const burstStartMs = performance.now();
    await Promise.all([
      Promise.all(Array.from({ length: BURST_PUTS }, (_, i) => writer.set(`bench/${tag}/burst/${i}`, VALUE))),
      allReached(watchers, PACED_PUTS + BURST_PUTS),
    ]);
    const liveRate = (SUBSCRIBERS * BURST_PUTS) / ((performance.now() - burstStartMs) / 1000);
    // Catch-up: fresh subscriptions read the paced and burst revisions from history.
    const catchupClients = Array.from({ length: SUBSCRIBERS }, () => new GlobalClient({ addresses }));
    clients.push(...catchupClients);
    const catchupStartMs = performance.now();
    const catchups = catchupClients.map((c, i) => watch(c.subscribe({ fromRevision: from, address: addresses[i % addresses.length]! })));
    await allReached(catchups, PACED_PUTS + BURST_PUTS);
    const catchupRate = (SUBSCRIBERS * (PACED_PUTS + BURST_PUTS)) / ((performance.now() - catchupStartMs) / 1000);
    for (const w of [...watchers, ...catchups]) w.sub.close();
    await Promise.all([...subClients, ...catchupClients].map((c) => c.close()));
    if (run >= 0) {
      const all = [...onLeader, ...onFollower];
      allP50.push(percentile(all, 50));
      allP99.push(percentile(all, 99));
      ackP50.push(percentile(acks, 50));
      leaderMs.push(onLeader);
      followerMs.push(onFollower);
      liveRates.push(liveRate);
      catchupRates.push(catchupRate);
    }
    return liveRate;
  });
} finally {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(children.map((child) => new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  })));
  rmSync(dataDir, { recursive: true, force: true });
}

const metrics: Record<string, MetricRuns> = {
  subscribe_event_p50_ms: { runs: allP50, unit: 'ms' },
  subscribe_event_p99_ms: { runs: allP99, unit: 'ms' },
  subscribe_put_ack_p50_ms: { runs: ackP50, unit: 'ms' },
  subscribe_event_leader_p99_ms: { runs: leaderMs.map((r) => percentile(r, 99)), unit: 'ms' },
  subscribe_event_follower_p50_ms: { runs: followerMs.map((r) => percentile(r, 50)), unit: 'ms' },
  subscribe_event_follower_p99_ms: { runs: followerMs.map((r) => percentile(r, 99)), unit: 'ms' },
  subscribe_events_per_s: { runs: liveRates, unit: 'events/s' },
  subscribe_catchup_events_per_s: { runs: catchupRates, unit: 'events/s' },
};
report('subscribe', metrics, {
  replicas: 3,
  subscribers: SUBSCRIBERS,
  pacedPuts: PACED_PUTS,
  burstPuts: BURST_PUTS,
  valueBytes: VALUE.byteLength,
  loadAverage1mAtEnd: Number(loadavg()[0]?.toFixed(2)),
});
