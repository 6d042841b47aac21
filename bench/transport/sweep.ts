// Sweeps frame size and frames in flight on the batched stream, to choose frame sizes and
// windows for the real client and replica streams. Not a suite; run by hand:
//   npx tsx bench/transport/sweep.ts [runSeconds]
// with OPS_PER_FRAME=1,16,64 FRAMES_IN_FLIGHT=1,8 CODEC=protobufjs to narrow or vary it.
// CPU per operation (both processes) is the figure to compare across rows: throughput moves
// with whatever else the shared machine runs, CPU per operation much less.
import { median } from '../harness.ts';
import type { Codec } from './echo.ts';
import { type Measured, startEchoPair } from './pair.ts';

const PAYLOAD_BYTES = 64;
const RUNS = 3;
const runSeconds = Number(process.argv[2] ?? '1');
const opsPerFrameList = (process.env['OPS_PER_FRAME'] ?? '1,16,64,256,1024').split(',').map(Number);
const framesInFlightList = (process.env['FRAMES_IN_FLIGHT'] ?? '1,2,4,8,16,32').split(',').map(Number);
const codec = (process.env['CODEC'] ?? 'proto-loader') as Codec;

const pair = await startEchoPair({ codec, nodeArgs: [], serverOptions: {}, clientOptions: {} });
try {
  console.log(`codec ${codec}, payload ${PAYLOAD_BYTES} B, median of ${RUNS} runs of ${runSeconds} s`);
  console.log('opsPerFrame  framesInFlightMax  ops/s  frameRttP50Ms  frameRttP99Ms  cpuUsPerOp  serverCores  clientCores  serverWait  clientWait');
  for (const opsPerFrame of opsPerFrameList) {
    for (const framesInFlightMax of framesInFlightList) {
      const results: Measured[] = [];
      for (let run = 0; run < RUNS; run++) {
        results.push(await pair.measure({ kind: 'stream', framesInFlightMax, opsPerFrame, payloadBytes: PAYLOAD_BYTES, runSeconds }));
      }
      const m = (f: (r: Measured) => number): string => median(results.map(f)).toFixed(2);
      const row = [
        opsPerFrame,
        framesInFlightMax,
        Math.round(median(results.map((r) => r.opsPerS))),
        m((r) => r.latencyP50Ms),
        m((r) => r.latencyP99Ms),
        m((r) => (1e6 * (r.serverCpuCores + r.clientCpuCores)) / r.opsPerS),
        m((r) => r.serverCpuCores),
        m((r) => r.clientCpuCores),
        m((r) => r.serverRunQueueWaitFraction),
        m((r) => r.clientRunQueueWaitFraction),
      ];
      console.log(row.join('  '));
    }
  }
} finally {
  await pair.stop();
}
