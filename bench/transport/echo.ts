// The Echo service of bench/transport/echo.proto, loaded with @grpc/proto-loader, shared by
// the bench server and client processes so both sides encode and decode the same way.
//
// protobufjs is imported directly only for the `protobufjs` codec, which sweep.ts offers to
// measure what skipping proto-loader's object conversion would save; it is the copy
// proto-loader itself depends on (not yet declared in package.json).
import { fileURLToPath } from 'node:url';
import type { ChannelOptions, MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { assert } from '../../src/protocol/assert.ts';

/** One operation as the application sees it after decoding. */
export interface Op {
  id: number;
  payload: Buffer;
}

/** One stream message: a batch of operations. */
export interface Frame {
  ops: Op[];
}

/**
 * How messages become bytes; both are full protobuf encode and decode of every field.
 * - `proto-loader`: the serializers proto-loader generates: `fromObject` copies the message
 *   before `encode`, and `toObject` copies it again after `decode`.
 * - `protobufjs`: the same protobufjs types, `encode` and `decode` without the two copies.
 */
export type Codec = 'proto-loader' | 'protobufjs';

/** What both processes are started with (one JSON argument). */
export interface EchoConfig {
  codec: Codec;
  /** Node flags for both processes (the processes read only the rest). */
  nodeArgs: string[];
  serverOptions: ChannelOptions;
  clientOptions: ChannelOptions;
}

export function parseEchoConfig(json: string | undefined): EchoConfig {
  assert(json !== undefined, 'echo config argument missing');
  const config = JSON.parse(json) as EchoConfig;
  assert(config.codec === 'proto-loader' || config.codec === 'protobufjs', `unknown codec ${String(config.codec)}`);
  assert(typeof config.serverOptions === 'object' && typeof config.clientOptions === 'object', 'echo config lacks channel options');
  return config;
}

export interface EchoService {
  /** For `grpc.Server.addService`. */
  definition: ServiceDefinition;
  unary: MethodDefinition<Op, Op>;
  stream: MethodDefinition<Frame, Frame>;
}

const PROTO_FILE = fileURLToPath(new URL('./echo.proto', import.meta.url));
const SERVICE_NAME = 'dstore.bench.Echo';

/**
 * Loads echo.proto. `longs: Number` turns uint64 ids into numbers (ids stay below 2^53 in
 * a bench run); `defaults: false` keeps decode from filling absent fields it does not need.
 * Throws if the proto file is missing or does not define the service.
 */
export function loadEcho(codec: Codec): EchoService {
  const packageDefinition = loadSync(PROTO_FILE, { longs: Number, defaults: false, keepCase: true });
  const definition = packageDefinition[SERVICE_NAME];
  assert(definition !== undefined && 'Unary' in definition, `${PROTO_FILE} defines no service ${SERVICE_NAME}`);
  const service = definition as ServiceDefinition;
  let unary = service['Unary'] as MethodDefinition<Op, Op> | undefined;
  let stream = service['Stream'] as MethodDefinition<Frame, Frame> | undefined;
  assert(unary !== undefined && stream !== undefined, `${SERVICE_NAME} lacks Unary or Stream`);
  if (codec === 'protobufjs') {
    // Without long.js protobufjs decodes uint64 as a number, not a Long object per field.
    // This is process-wide, which is fine in a bench process that uses only this codec.
    protobuf.util.Long = undefined as unknown as protobuf.Constructor<protobuf.Long>;
    protobuf.configure();
    const root = protobuf.loadSync(PROTO_FILE);
    const opType = root.lookupType('dstore.bench.Op');
    const frameType = root.lookupType('dstore.bench.Frame');
    // In Node protobufjs writes into a Buffer already; wrap only if that ever changes.
    const encoder = <T extends object>(type: protobuf.Type) => (message: T): Buffer => {
      const bytes = type.encode(message).finish();
      return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    };
    const decoder = <T>(type: protobuf.Type) => (bytes: Buffer): T => type.decode(bytes) as unknown as T;
    unary = { ...unary, requestSerialize: encoder<Op>(opType), responseSerialize: encoder<Op>(opType), requestDeserialize: decoder<Op>(opType), responseDeserialize: decoder<Op>(opType) };
    stream = { ...stream, requestSerialize: encoder<Frame>(frameType), responseSerialize: encoder<Frame>(frameType), requestDeserialize: decoder<Frame>(frameType), responseDeserialize: decoder<Frame>(frameType) };
  }
  return { definition: { Unary: unary, Stream: stream }, unary, stream };
}
