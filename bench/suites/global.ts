// Suite `global`: a 3-replica Global (separate processes, fsync on, loopback) driven through
// the Global client from this process, as issue 5 specifies.
//   put_per_s_c256               overwriting puts of 256-byte values over 100,000 keys, 256 in flight
//   get_linearizable_per_s_c256  linearizable gets of those keys, 256 in flight
//   put_p50_ms_c1                put latency with one in flight
//   txn_batched_per_s            compare + put of 16-byte values from 4,096 concurrent callers
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
import { GlobalClient } from '../../src/local/client.ts';
import type { GlobalClient as WireClient } from '../../src/protocol/generated/dstore/v1/Global.ts';
import { dstoreProto } from '../../src/protocol/proto.ts';
import { RUNS_MIN, nowNs, percentile, report, secondsSince } from '../harness.ts';
import { startCluster } from '../global/cluster.ts';
import { REPLICA_NODE_FLAGS } from '../../src/global/replica-node-flags.ts';

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

const cluster = await startCluster(3);
const client = new GlobalClient({ addresses: cluster.addresses, inFlightMax: 8192, queuedRequestsMax: 100_000, frameRequestsMax: 1024, deadlineMs: 30_000 });
/** Generated clients opened below, closed at the end. */
const wires: WireClient[] = [];
const watchdog = setTimeout(() => {
  console.error('global bench: over 140 s, giving up');
  void cluster.stop().finally(() => process.exit(1));
}, 140_000);
try {
  // Load 100,000 keys in large concurrent waves.
  const loadStart = nowNs();
  for (let base = 0; base < KEYS; base += 8192) {
    await Promise.all(Array.from({ length: Math.min(8192, KEYS - base) }, (_, j) => client.txn({ success: [{ kind: 'put', key: key(base + j), value }] })));
  }
  const loadPerS = KEYS / secondsSince(loadStart);
  const rand = (): number => Math.floor(Math.random() * KEYS);

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
  for (let run = 0; run < RUNS_MIN; run++) {
    forwarding.push(await forwardingRun(toLeader, toFollower, rand));
    puts.push(await closedLoop(256, () => client.txn({ success: [{ kind: 'put', key: key(rand()), value }] })));
    gets.push(await closedLoop(256, () => client.get(key(rand()))));
    const latencies: number[] = [];
    const end = Date.now() + 1000;
    while (Date.now() < end) {
      const t = nowNs();
      await client.txn({ success: [{ kind: 'put', key: key(rand()), value }] });
      latencies.push(secondsSince(t) * 1000);
    }
    putP50.push(percentile(latencies, 50));
    txns.push(await closedLoop(4096, (i) => {
      const k = `txn/${i % 4096}`;
      return client.txn({ compares: [{ key: k, target: 'modRevision', operator: 'less', number: Number.MAX_SAFE_INTEGER }], success: [{ kind: 'put', key: k, value: small }] });
    }));
  }
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
    },
    { replicas: 3, processes: 'one per replica + this client', replicaNodeFlags: REPLICA_NODE_FLAGS.join(' '), fsync: 'on', keys: KEYS, valueBytes: VALUE_BYTES, runSeconds: RUN_SECONDS, loadPutsPerS: Math.round(loadPerS) },
  );
} finally {
  clearTimeout(watchdog);
  for (const wire of wires) wire.close();
  await client.close();
  await cluster.stop();
}
