// Suite `global`: a 3-replica Global (separate processes, fsync on, loopback) driven through
// the Global client from this process, as issue 5 specifies.
//   put_per_s_c256               overwriting puts of 256-byte values over 100,000 keys, 256 in flight
//   get_linearizable_per_s_c256  linearizable gets of those keys, 256 in flight
//   put_p50_ms_c1                put latency with one in flight
//   txn_batched_per_s            compare + put of 16-byte values from 4,096 concurrent callers
import { GlobalClient } from '../../src/local/client.ts';
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

const cluster = await startCluster(3);
const client = new GlobalClient({ addresses: cluster.addresses, inFlightMax: 8192, queuedRequestsMax: 100_000, frameRequestsMax: 1024, deadlineMs: 30_000 });
const watchdog = setTimeout(() => {
  console.error('global bench: over 110 s, giving up');
  void cluster.stop().finally(() => process.exit(1));
}, 110_000);
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
  for (let run = 0; run < RUNS_MIN; run++) {
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
    },
    { replicas: 3, processes: 'one per replica + this client', replicaNodeFlags: REPLICA_NODE_FLAGS.join(' '), fsync: 'on', keys: KEYS, valueBytes: VALUE_BYTES, runSeconds: RUN_SECONDS, loadPutsPerS: Math.round(loadPerS) },
  );
} finally {
  clearTimeout(watchdog);
  await client.close();
  await cluster.stop();
}
