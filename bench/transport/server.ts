// Echo server process for the `transport` bench suite. Usage: server.ts <EchoConfig JSON>.
// Binds 127.0.0.1 on a free port, prints one JSON line `{"port": <n>}` on stdout once it
// listens, and serves until its stdin closes (the suite holds the other end, so the server
// cannot outlive a suite that crashed) or it gets SIGTERM/SIGINT.
//
// Each request is decoded into objects and each reply encoded again from those objects: the
// echo pays the full protobuf cost per operation, as a real server would.
import * as grpc from '@grpc/grpc-js';
import { type Frame, type Op, loadEcho, parseEchoConfig } from './echo.ts';

const config = parseEchoConfig(process.argv[2]);
const echo = loadEcho(config.codec);
const server = new grpc.Server(config.serverOptions);

server.addService(echo.definition, {
  Unary: (call: grpc.ServerUnaryCall<Op, Op>, callback: grpc.sendUnaryData<Op>): void => {
    callback(null, call.request);
  },
  Stream: (call: grpc.ServerDuplexStream<Frame, Frame>): void => {
    // Writes are not paced by `write`'s return value: the client bounds the frames in flight,
    // which bounds what can queue here.
    call.on('data', (frame: Frame) => call.write(frame));
    call.on('end', () => call.end());
    call.on('error', () => call.end());
  },
});

function stop(): void {
  server.forceShutdown();
  process.exit(0);
}

server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error !== null) {
    console.error(`transport server: bind failed: ${error.message}`);
    process.exit(1);
  }
  process.stdout.write(`${JSON.stringify({ port })}\n`);
});

process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
