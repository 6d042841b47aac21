// How a replica refused a request, read off the wire: the gRPC status, its details and the
// dstore-error metadata. Raw calls send bytes as they are (identity serializers), for tests of
// what the server does with messages a well-behaved client never sends.
import * as grpc from '@grpc/grpc-js';

export interface Outcome {
  readonly code: grpc.status;
  readonly details: string;
  readonly dstoreError: string | undefined;
}

export function outcomeOf(err: grpc.ServiceError): Outcome {
  const e = err.metadata?.get('dstore-error')[0];
  return { code: err.code, details: err.details, dstoreError: typeof e === 'string' ? e : undefined };
}

const identity = (b: Buffer): Buffer => b;
const DEADLINE_MS = 10_000;

/** Sends `bytes` as one message of a unary method; resolves with the refusal (rejects if it was accepted). */
export function rawUnary(raw: grpc.Client, path: string, bytes: Uint8Array): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    raw.makeUnaryRequest(path, identity, identity, Buffer.from(bytes), { deadline: Date.now() + DEADLINE_MS }, (err, res) => {
      if (err === null) reject(new Error(`${path} accepted the bytes: ${res?.toString('hex') ?? ''}`));
      else resolve(outcomeOf(err));
    });
  });
}

/** Opens a raw Session, writes `messages` as they are, and resolves with how it ended. */
export function rawSession(raw: grpc.Client, messages: readonly Uint8Array[]): Promise<Outcome> {
  return new Promise((resolve) => {
    const call = raw.makeBidiStreamRequest('/dstore.v1.Global/Session', identity, identity, new grpc.Metadata(), { deadline: Date.now() + DEADLINE_MS });
    call.on('data', () => undefined);
    call.on('error', (err: grpc.ServiceError) => resolve(outcomeOf(err)));
    call.on('status', (s: grpc.StatusObject) => {
      if (s.code === grpc.status.OK) resolve({ code: s.code, details: s.details, dstoreError: undefined });
    });
    for (const m of messages) call.write(Buffer.from(m));
  });
}
