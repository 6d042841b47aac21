// Echo client process for the `transport` bench suite. Usage: client.ts <port> <EchoConfig JSON>.
// Reads one command per line on stdin (commands.ts), runs it against the echo server on
// 127.0.0.1:<port> over one channel, and answers with one RunResult JSON line on stdout.
// Exits when stdin closes; exits non-zero on any failed call or wrong echo.
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { AssertionError, assert } from '../../src/protocol/assert.ts';
import { percentile } from '../harness.ts';
import { type RunResult, type StreamCommand, type UnaryCommand, parseCommand } from './commands.ts';
import { type Frame, type Op, loadEcho, parseEchoConfig } from './echo.ts';

const port = Number(process.argv[2]);
assert(Number.isInteger(port) && port > 0 && port < 65536, `client.ts: port must be 1..65535, got ${process.argv[2]}`);

const config = parseEchoConfig(process.argv[3]);
const echo = loadEcho(config.codec);
const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), config.clientOptions);

// Ids are unique for the life of the process, so an echo from an earlier run cannot pass for
// one of this run's.
let idNext = 1;

// Runs once per echoed op: the messages are built only on failure, so a passing check
// allocates nothing (a template literal passed to assert would be built every time).
function checkOp(op: Op, idExpected: number, payloadBytes: number): void {
  if (op.id !== idExpected) throw new AssertionError(`echo carries op id ${op.id}, expected ${idExpected}`);
  if (op.payload.byteLength !== payloadBytes) {
    throw new AssertionError(`echo of op ${op.id} has ${op.payload.byteLength} payload bytes, expected ${payloadBytes}`);
  }
}

function runUnary(command: UnaryCommand): Promise<RunResult> {
  const payload = Buffer.alloc(command.payloadBytes, 0xab);
  const latenciesMs: number[] = [];
  const deadlineMs = performance.now() + command.runSeconds * 1000;
  let callsInFlight = 0;
  return new Promise((resolve, reject) => {
    const issue = (): void => {
      const id = idNext++;
      const sentMs = performance.now();
      callsInFlight++;
      client.makeUnaryRequest(echo.unary.path, echo.unary.requestSerialize, echo.unary.responseDeserialize, { id, payload }, (error, reply) => {
        callsInFlight--;
        if (error !== null || reply === undefined) {
          reject(error ?? new Error('unary call ended without a reply'));
          return;
        }
        checkOp(reply, id, command.payloadBytes);
        const nowMs = performance.now();
        // Calls answered after the deadline are drained, not counted.
        if (nowMs <= deadlineMs) {
          latenciesMs.push(nowMs - sentMs);
          issue();
        } else if (callsInFlight === 0) {
          resolve({
            opsPerS: latenciesMs.length / command.runSeconds,
            latencyP50Ms: percentile(latenciesMs, 50),
            latencyP99Ms: percentile(latenciesMs, 99),
          });
        }
      });
    };
    for (let i = 0; i < command.callsInFlight; i++) issue();
  });
}

// The one long-lived stream, opened on first use and kept across runs as a real client would.
let stream: grpc.ClientDuplexStream<Frame, Frame> | undefined;
let onFrame: (frame: Frame) => void = () => {
  throw new Error('echo frame arrived while no run was waiting for one');
};

function openStream(): grpc.ClientDuplexStream<Frame, Frame> {
  const opened = client.makeBidiStreamRequest(echo.stream.path, echo.stream.requestSerialize, echo.stream.responseDeserialize);
  opened.on('data', (frame: Frame) => onFrame(frame));
  opened.on('error', (error: Error) => {
    console.error(`transport client: stream failed: ${error.message}`);
    process.exit(1);
  });
  return opened;
}

function runStream(command: StreamCommand): Promise<RunResult> {
  stream ??= openStream();
  const open = stream;
  const payload = Buffer.alloc(command.payloadBytes, 0xab);
  const latenciesMs: number[] = [];
  // Frames in flight, oldest first: the stream keeps order, so echoes arrive in this order.
  const sentMsRing = new Float64Array(command.framesInFlightMax);
  const idFirstRing = new Float64Array(command.framesInFlightMax);
  let ringHead = 0;
  let framesInFlight = 0;
  let opsEchoed = 0;
  const deadlineMs = performance.now() + command.runSeconds * 1000;

  const send = (): void => {
    const ops: Op[] = new Array<Op>(command.opsPerFrame);
    const idFirst = idNext;
    for (let i = 0; i < command.opsPerFrame; i++) ops[i] = { id: idNext++, payload };
    const slot = (ringHead + framesInFlight) % command.framesInFlightMax;
    sentMsRing[slot] = performance.now();
    idFirstRing[slot] = idFirst;
    framesInFlight++;
    // The window bounds what can queue, so write's backpressure signal is not needed here.
    open.write({ ops });
  };

  return new Promise((resolve) => {
    onFrame = (frame: Frame): void => {
      assert(framesInFlight > 0, 'echo frame arrived with no frame in flight');
      if (frame.ops.length !== command.opsPerFrame) throw new AssertionError(`echo frame has ${frame.ops.length} ops, expected ${command.opsPerFrame}`);
      const idFirst = idFirstRing[ringHead]!;
      for (let i = 0; i < frame.ops.length; i++) checkOp(frame.ops[i]!, idFirst + i, command.payloadBytes);
      const nowMs = performance.now();
      const sentMs = sentMsRing[ringHead]!;
      ringHead = (ringHead + 1) % command.framesInFlightMax;
      framesInFlight--;
      if (nowMs <= deadlineMs) {
        latenciesMs.push(nowMs - sentMs);
        opsEchoed += frame.ops.length;
        send();
      } else if (framesInFlight === 0) {
        resolve({
          opsPerS: opsEchoed / command.runSeconds,
          latencyP50Ms: percentile(latenciesMs, 50),
          latencyP99Ms: percentile(latenciesMs, 99),
        });
      }
    };
    for (let i = 0; i < command.framesInFlightMax; i++) send();
  });
}

async function main(): Promise<void> {
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    const command = parseCommand(line);
    const result = command.kind === 'unary' ? await runUnary(command) : await runStream(command);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  }
  stream?.end();
  client.close();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`transport client: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
