// Suite `transport`: what one 64-byte operation costs over gRPC on loopback, sent (a) as one
// unary call per operation with 256 calls in flight and (b) batched, 64 operations per frame,
// on one long-lived bidirectional stream. Batching is why hot paths are fast; this
// suite keeps that claim measured. Server and client are separate processes
// (bench/transport/server.ts, client.ts, started by pair.ts) so neither steals the other's
// event loop; this process only passes commands and reads the processes' scheduler counters.
//
// Unary and stream runs alternate, so each ratio compares two runs that saw the same load.
// Besides throughput it reports CPU per operation (both processes together), which moves far
// less than throughput when other work shares the 2 cores, and the share of time each
// process's event loop waited for a CPU, which says how much other work there was.
import { loadavg } from 'node:os';
import { type MetricRuns, RUNS_MIN, repeat, report } from '../harness.ts';
import type { EchoConfig } from '../transport/echo.ts';
import { type Measured, startEchoPair } from '../transport/pair.ts';

const RUNS = RUNS_MIN + 2;
const RUN_SECONDS = 2;
const PAYLOAD_BYTES = 64;
const UNARY_CALLS_IN_FLIGHT = 256;
const OPS_PER_FRAME = 64;
// Past 4-8 frames in flight throughput stays flat and only the frame round trip grows
// (bench/transport/sweep.ts); 8 keeps both processes busy even when scheduling is uneven.
const FRAMES_IN_FLIGHT_MAX = 8;
// grpc-js and proto-loader defaults. Turning channelz or retries off, a 4 MiB flow control
// window and a 32 MiB semi-space changed nothing measurable; the server leaves
// grpc.max_concurrent_streams unset (unlimited), so all 256 unary calls are in flight at once.
const ECHO_CONFIG: EchoConfig = { codec: 'proto-loader', nodeArgs: [], serverOptions: {}, clientOptions: {} };
// The issue allows 2 minutes; stop before that so a hung child fails the suite instead.
const SUITE_SECONDS_MAX = 110;

setTimeout(() => {
  console.error(`transport: suite exceeded ${SUITE_SECONDS_MAX} s; stopping`);
  process.exit(1);
}, SUITE_SECONDS_MAX * 1000).unref();

const pair = await startEchoPair(ECHO_CONFIG);
const unary: Measured[] = [];
const batched: Measured[] = [];
try {
  await repeat(RUNS, async (run) => {
    const u = await pair.measure({ kind: 'unary', callsInFlight: UNARY_CALLS_IN_FLIGHT, payloadBytes: PAYLOAD_BYTES, runSeconds: RUN_SECONDS });
    const s = await pair.measure({
      kind: 'stream',
      framesInFlightMax: FRAMES_IN_FLIGHT_MAX,
      opsPerFrame: OPS_PER_FRAME,
      payloadBytes: PAYLOAD_BYTES,
      runSeconds: RUN_SECONDS,
    });
    // Run -1 is the warm-up (JIT, connection setup) and is not counted.
    if (run >= 0) {
      unary.push(u);
      batched.push(s);
    }
    return s.opsPerS;
  });
} finally {
  await pair.stop();
}

const of = (runs: Measured[], field: keyof Measured): number[] => runs.map((r) => r[field]);
const cpuUsPerOp = (runs: Measured[]): number[] => runs.map((r) => (1e6 * (r.serverCpuCores + r.clientCpuCores)) / r.opsPerS);
const metrics: Record<string, MetricRuns> = {
  unary_ops_per_s: { runs: of(unary, 'opsPerS'), unit: 'ops/s' },
  stream_batched_ops_per_s: { runs: of(batched, 'opsPerS'), unit: 'ops/s', target: { atLeast: 300_000 } },
  stream_to_unary_ratio: { runs: batched.map((s, i) => s.opsPerS / unary[i]!.opsPerS), unit: 'x', target: { atLeast: 10 } },
  unary_p50_ms: { runs: of(unary, 'latencyP50Ms'), unit: 'ms' },
  unary_p99_ms: { runs: of(unary, 'latencyP99Ms'), unit: 'ms' },
  stream_frame_rtt_p50_ms: { runs: of(batched, 'latencyP50Ms'), unit: 'ms' },
  stream_frame_rtt_p99_ms: { runs: of(batched, 'latencyP99Ms'), unit: 'ms' },
  unary_cpu_us_per_op: { runs: cpuUsPerOp(unary), unit: 'us' },
  stream_cpu_us_per_op: { runs: cpuUsPerOp(batched), unit: 'us' },
  stream_server_cpu_cores: { runs: of(batched, 'serverCpuCores'), unit: 'cores' },
  stream_client_cpu_cores: { runs: of(batched, 'clientCpuCores'), unit: 'cores' },
  stream_server_run_queue_wait_fraction: { runs: of(batched, 'serverRunQueueWaitFraction'), unit: 'share' },
  stream_client_run_queue_wait_fraction: { runs: of(batched, 'clientRunQueueWaitFraction'), unit: 'share' },
};
report('transport', metrics, {
  runs: RUNS,
  runSeconds: RUN_SECONDS,
  payloadBytes: PAYLOAD_BYTES,
  unaryCallsInFlight: UNARY_CALLS_IN_FLIGHT,
  opsPerFrame: OPS_PER_FRAME,
  framesInFlightMax: FRAMES_IN_FLIGHT_MAX,
  codec: ECHO_CONFIG.codec,
  loadAverage1mAtEnd: Number(loadavg()[0]?.toFixed(2)),
});
