// Suite `global`: a 3-replica Global (separate processes, fsync on, loopback) driven through
// the Global client from this process, as issue 5 specifies.
//   put_per_s_c256               overwriting puts of 256-byte values over 100,000 keys, 256 in flight
//   get_linearizable_per_s_c256  linearizable gets of those keys, 256 in flight
//   put_p50_ms_c1                put latency with one in flight
//   txn_batched_per_s            compare + put of 16-byte values from 4,096 concurrent callers
//   cpu_us_per_put_c256          CPU (user + system, from /proc) of the replicas and this process
//                                over the put_per_s_c256 window, per committed put
//   client_cpu_us_per_put_c256   the part of that spent in this process (the client)
// With `--vs etcd` (issue 17), a 3-member etcd on loopback (the `etcd` binary, Debian package
// etcd-server) runs next to it, driven by the same closed loop through the etcd3 client, each
// figure measured for both back to back (order alternating per run, so drift hits both alike):
//   etcd_<figure>                the same figure for etcd (txn: compare mod revision + put)
//   <figure>_vs_etcd             ours over etcd's, the median of the per-run pair ratios
// And what a follower's forwarding costs (issue 14), with one generated unary client (as a
// client in another language would call) sending alternately to the leader and to a follower:
//   put_p50_ms_c1_unary_leader   unary Txn put sent to the leader, one in flight
//   put_p50_ms_c1_via_follower   the same sent to a follower, which forwards it to the leader
//   forward_overhead_ms          median of the paired differences: each put via the follower
//                                minus the put to the leader just before it (robust to the
//                                disk's jitter, which dominates a put's latency)
//   get_p50_ms_c1_unary_leader   linearizable unary Get sent to the leader
//   get_p50_ms_c1_via_follower   the same through a follower
//   get_forward_overhead_ms      as forward_overhead_ms, for the gets
import * as grpc from '@grpc/grpc-js';
import { parseArgs } from 'node:util';
import { GlobalClient } from '../../src/local/client/client.ts';
import type { GlobalClient as WireClient } from '../../src/protocol/generated/dstore/v1/Global.ts';
import { dstoreProto } from '../../src/protocol/proto.ts';
import { RUNS_MIN, nowNs, percentile, report, secondsSince, type MetricRuns } from '../harness.ts';
import { startCluster } from '../global/cluster.ts';
import { cpuWindow } from '../cpu.ts';
import { etcdVersion, startEtcdCluster, type EtcdCluster } from '../etcd/cluster.ts';
import { etcdOps, type EtcdOps } from '../etcd/client.ts';
import { REPLICA_NODE_FLAGS } from '../../src/global/replica/replica-node-flags.ts';

const KEYS = 100_000;
const VALUE_BYTES = 256;
const RUN_SECONDS = 3;

const key = (i: number): string => `bench/${i.toString().padStart(6, '0')}`;
const value = new Uint8Array(VALUE_BYTES).fill(7);
const small = new Uint8Array(16).fill(3);

/** Keeps `inFlight` operations going for RUN_SECONDS; returns completed ops per second. */
async function closedLoop(inFlight: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let done = 0;
  let next = 0;
  const start = nowNs();
  const deadline = Date.now() + RUN_SECONDS * 1000;
  const worker = async (): Promise<void> => {
    while (Date.now() < deadline) {
      await op(next++);
      done++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return done / secondsSince(start);
}

/** One unary call of a generated client; rejects on any error. */
function unary<Res>(client: WireClient, method: 'Txn' | 'Get' | 'Status', request: object): Promise<Res> {
  return new Promise((resolve, reject) => {
    (client[method] as unknown as (r: object, o: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Res) => void) => void).call(client, request, { deadline: Date.now() + 10_000 }, (err, res) => (err === null ? resolve(res!) : reject(new Error(`${method}: ${err.details}`))));
  });
}

/**
 * Puts and linearizable gets sent to the leader and to a follower, alternately, for two
 * seconds: p50 latencies (ms) of each, and the median of the paired differences.
 */
async function forwardingRun(toLeader: WireClient, toFollower: WireClient, rand: () => number): Promise<{ putLeader: number; putFollower: number; putOverhead: number; getLeader: number; getFollower: number; getOverhead: number }> {
  const samples = { putLeader: [] as number[], putFollower: [] as number[], getLeader: [] as number[], getFollower: [] as number[] };
  const timed = async (into: number[], call: () => Promise<unknown>): Promise<void> => {
    const t = nowNs();
    await call();
    into.push(secondsSince(t) * 1000);
  };
  const put = (): object => ({ success: [{ put: { key: key(rand()), value: { inline: value } } }] });
  const end = Date.now() + 2000;
  while (Date.now() < end) {
    await timed(samples.putLeader, () => unary(toLeader, 'Txn', put()));
    await timed(samples.putFollower, () => unary(toFollower, 'Txn', put()));
    await timed(samples.getLeader, () => unary(toLeader, 'Get', { key: key(rand()) }));
    await timed(samples.getFollower, () => unary(toFollower, 'Get', { key: key(rand()) }));
  }
  const pairedMedian = (via: number[], direct: number[]): number => percentile(via.map((v, i) => v - direct[i]!), 50);
  return {
    putLeader: percentile(samples.putLeader, 50),
    putFollower: percentile(samples.putFollower, 50),
    putOverhead: pairedMedian(samples.putFollower, samples.putLeader),
    getLeader: percentile(samples.getLeader, 50),
    getFollower: percentile(samples.getFollower, 50),
    getOverhead: pairedMedian(samples.getFollower, samples.getLeader),
  };
}

/** closedLoop, and the CPU time (µs) per completed op of `servers` and this process together, and of this process alone. */
async function closedLoopCpu(inFlight: number, servers: readonly number[], op: (i: number) => Promise<unknown>): Promise<{ perS: number; cpuUsPerOp: number; clientCpuUsPerOp: number }> {
  let completed = 0;
  const serversCpuSeconds = cpuWindow(servers);
  const clientCpuSeconds = cpuWindow([process.pid]);
  const perS = await closedLoop(inFlight, async (i) => {
    await op(i);
    completed++;
  });
  const client = clientCpuSeconds();
  return { perS, cpuUsPerOp: ((serversCpuSeconds() + client) * 1e6) / completed, clientCpuUsPerOp: (client * 1e6) / completed };
}

/** p50 latency (ms) of `op` with one in flight for one second. */
async function p50MsC1(op: () => Promise<unknown>): Promise<number> {
  const latencies: number[] = [];
  const end = Date.now() + 1000;
  while (Date.now() < end) {
    const t = nowNs();
    await op();
    latencies.push(secondsSince(t) * 1000);
  }
  return percentile(latencies, 50);
}

/** Runs `ours` and `theirs` (when there is one) back to back, ours first on even runs. */
async function pair<T>(run: number, ours: () => Promise<T>, theirs: (() => Promise<T>) | null): Promise<[T, T | null]> {
  if (theirs === null) return [await ours(), null];
  if (run % 2 === 0) {
    const a = await ours();
    return [a, await theirs()];
  }
  const b = await theirs();
  return [await ours(), b];
}

const { values: flags } = parseArgs({ options: { vs: { type: 'string' } } });
if (flags.vs !== undefined && flags.vs !== 'etcd') throw new Error(`bench global: --vs ${flags.vs} is not known; the only comparison is --vs etcd`);
const etcdVersionLine = flags.vs === 'etcd' ? etcdVersion() : null;
if (flags.vs === 'etcd' && etcdVersionLine === null) console.log('etcd not installed (apt-get install etcd-server): etcd figures skipped');
const withEtcd = etcdVersionLine !== null;
const watchdogS = withEtcd ? 400 : 140;

const cluster = await startCluster(3);
const client = new GlobalClient({ addresses: cluster.addresses, inFlightMax: 8192, queuedRequestsMax: 100_000, frameRequestsMax: 1024, deadlineMs: 30_000 });
/** Generated clients opened below, closed at the end. */
const wires: WireClient[] = [];
let etcd: EtcdCluster | null = null;
let etcdClient: EtcdOps | null = null;
const watchdog = setTimeout(() => {
  console.error(`global bench: over ${watchdogS} s, giving up`);
  void Promise.all([cluster.stop(), etcd?.stop()]).finally(() => process.exit(1));
}, watchdogS * 1000);
try {
  // Load 100,000 keys in large concurrent waves.
  const loadStart = nowNs();
  for (let base = 0; base < KEYS; base += 8192) {
    await Promise.all(Array.from({ length: Math.min(8192, KEYS - base) }, (_, j) => client.txn({ success: [{ kind: 'put', key: key(base + j), value }] })));
  }
  const loadPerS = KEYS / secondsSince(loadStart);
  const rand = (): number => Math.floor(Math.random() * KEYS);
  let etcdLoadPerS = 0;
  if (withEtcd) {
    etcd = await startEtcdCluster(3);
    // Straight to the leader: etcd's best case (a follower would forward to it).
    etcdClient = etcdOps(await etcd.leaderEndpoint());
    const etcdLoadStart = nowNs();
    // Narrower waves than ours: etcd answers "too many requests" once its applied index lags
    // the committed one by 5,000 entries.
    for (let base = 0; base < KEYS; base += 1024) {
      await Promise.all(Array.from({ length: Math.min(1024, KEYS - base) }, (_, j) => etcdClient!.put(key(base + j), value)));
    }
    etcdLoadPerS = KEYS / secondsSince(etcdLoadStart);
  }

  const puts: number[] = [];
  const gets: number[] = [];
  const putP50: number[] = [];
  const txns: number[] = [];
  const Wire = dstoreProto().dstore.v1.Global;
  const probe = new Wire(cluster.addresses[0]!, grpc.credentials.createInsecure());
  const leaderAddress = (await unary<{ leaderAddress: string }>(probe, 'Status', {})).leaderAddress;
  probe.close();
  const followerAddress = cluster.addresses.find((a) => a !== leaderAddress)!;
  const toLeader = new Wire(leaderAddress, grpc.credentials.createInsecure());
  const toFollower = new Wire(followerAddress, grpc.credentials.createInsecure());
  wires.push(toLeader, toFollower);
  await forwardingRun(toLeader, toFollower, rand); // warm-up: channels, JIT
  const forwarding: Awaited<ReturnType<typeof forwardingRun>>[] = [];
  const cpuPerPut: number[] = [];
  const clientCpuPerPut: number[] = [];
  const theirs = { puts: [] as number[], gets: [] as number[], putP50: [] as number[], txns: [] as number[], cpuPerPut: [] as number[], clientCpuPerPut: [] as number[] };
  const ratios = { puts: [] as number[], gets: [] as number[], putP50: [] as number[], txns: [] as number[], cpuPerPut: [] as number[] };
  const etcdOrNull = <T>(fn: (e: EtcdOps, pids: readonly number[]) => Promise<T>): (() => Promise<T>) | null => (etcdClient === null ? null : () => fn(etcdClient!, etcd!.pids));
  for (let run = 0; run < RUNS_MIN; run++) {
    forwarding.push(await forwardingRun(toLeader, toFollower, rand));
    const [put, etcdPut] = await pair(
      run,
      () => closedLoopCpu(256, cluster.pids, () => client.txn({ success: [{ kind: 'put', key: key(rand()), value }] })),
      etcdOrNull((e, pids) => closedLoopCpu(256, pids, () => e.put(key(rand()), value))),
    );
    puts.push(put.perS);
    cpuPerPut.push(put.cpuUsPerOp);
    clientCpuPerPut.push(put.clientCpuUsPerOp);
    const [get, etcdGet] = await pair(run, () => closedLoop(256, () => client.get(key(rand()))), etcdOrNull((e) => closedLoop(256, () => e.get(key(rand())))));
    gets.push(get);
    const [p50, etcdP50] = await pair(run, () => p50MsC1(() => client.txn({ success: [{ kind: 'put', key: key(rand()), value }] })), etcdOrNull((e) => p50MsC1(() => e.put(key(rand()), value))));
    putP50.push(p50);
    const [txn, etcdTxn] = await pair(
      run,
      () => closedLoop(4096, (i) => {
        const k = `txn/${i % 4096}`;
        return client.txn({ compares: [{ key: k, target: 'modRevision', operator: 'less', number: Number.MAX_SAFE_INTEGER }], success: [{ kind: 'put', key: k, value: small }] });
      }),
      etcdOrNull((e) => closedLoop(4096, (i) => e.txn(`txn/${i % 4096}`, Number.MAX_SAFE_INTEGER, small))),
    );
    txns.push(txn);
    if (etcdPut !== null && etcdGet !== null && etcdP50 !== null && etcdTxn !== null) {
      const add = (name: keyof typeof ratios, ours: number, them: number): void => { theirs[name].push(them); ratios[name].push(ours / them); };
      add('puts', put.perS, etcdPut.perS);
      add('cpuPerPut', put.cpuUsPerOp, etcdPut.cpuUsPerOp);
      theirs.clientCpuPerPut.push(etcdPut.clientCpuUsPerOp);
      add('gets', get, etcdGet);
      add('putP50', p50, etcdP50);
      add('txns', txn, etcdTxn);
    }
  }
  const etcdMetrics: Record<string, MetricRuns> = !withEtcd ? {} : {
    etcd_put_per_s_c256: { runs: theirs.puts, unit: 'puts/s' },
    etcd_get_linearizable_per_s_c256: { runs: theirs.gets, unit: 'gets/s' },
    etcd_put_p50_ms_c1: { runs: theirs.putP50, unit: 'ms' },
    etcd_txn_batched_per_s: { runs: theirs.txns, unit: 'txns/s' },
    etcd_cpu_us_per_put_c256: { runs: theirs.cpuPerPut, unit: 'us/put' },
    etcd_client_cpu_us_per_put_c256: { runs: theirs.clientCpuPerPut, unit: 'us/put' },
    put_per_s_c256_vs_etcd: { runs: ratios.puts, unit: 'x', target: { atLeast: 4 } },
    get_linearizable_per_s_c256_vs_etcd: { runs: ratios.gets, unit: 'x', target: { atLeast: 10 } },
    put_p50_ms_c1_vs_etcd: { runs: ratios.putP50, unit: 'x', target: { atMost: 0.7 } },
    txn_batched_per_s_vs_etcd: { runs: ratios.txns, unit: 'x' },
    cpu_us_per_put_c256_vs_etcd: { runs: ratios.cpuPerPut, unit: 'x' },
  };
  report(
    'global',
    {
      put_per_s_c256: { runs: puts, unit: 'puts/s', target: { atLeast: 20_000 } },
      get_linearizable_per_s_c256: { runs: gets, unit: 'gets/s', target: { atLeast: 20_000 } },
      put_p50_ms_c1: { runs: putP50, unit: 'ms', target: { atMost: 1.0 } },
      txn_batched_per_s: { runs: txns, unit: 'txns/s', target: { atLeast: 100_000 } },
      put_p50_ms_c1_unary_leader: { runs: forwarding.map((f) => f.putLeader), unit: 'ms' },
      put_p50_ms_c1_via_follower: { runs: forwarding.map((f) => f.putFollower), unit: 'ms' },
      forward_overhead_ms: { runs: forwarding.map((f) => f.putOverhead), unit: 'ms' },
      get_p50_ms_c1_unary_leader: { runs: forwarding.map((f) => f.getLeader), unit: 'ms' },
      get_p50_ms_c1_via_follower: { runs: forwarding.map((f) => f.getFollower), unit: 'ms' },
      get_forward_overhead_ms: { runs: forwarding.map((f) => f.getOverhead), unit: 'ms' },
      cpu_us_per_put_c256: { runs: cpuPerPut, unit: 'us/put', target: { atMost: 30 } },
      client_cpu_us_per_put_c256: { runs: clientCpuPerPut, unit: 'us/put' },
      ...etcdMetrics,
    },
    { replicas: 3, processes: 'one per replica + this client', replicaNodeFlags: REPLICA_NODE_FLAGS.join(' '), fsync: 'on', keys: KEYS, valueBytes: VALUE_BYTES, runSeconds: RUN_SECONDS, loadPutsPerS: Math.round(loadPerS),
      etcd: flags.vs !== 'etcd' ? undefined : !withEtcd ? 'not installed' : { version: etcdVersionLine, members: 3, memberFlags: etcd?.flags.join(' '), client: 'etcd3 1.1.2 raw KV calls to the leader, one channel', loadPutsPerS: Math.round(etcdLoadPerS) } },
  );
} finally {
  clearTimeout(watchdog);
  for (const wire of wires) wire.close();
  await client.close();
  etcdClient?.close();
  await Promise.all([cluster.stop(), etcd?.stop()]);
}
