// How a replica refused a request, read off the wire: the gRPC status, its details and the
// dstore-error metadata. Raw calls send bytes as they are (identity serializers), for tests of
// what the server does with messages a well-behaved client never sends; the builders at the end
// make such messages, far over a count limit, without encoding each element.
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { dstoreRoot } from '../../src/protocol/proto.ts';

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

/** Field `field` holding `inner` (length-delimited), as protobuf bytes. */
const field = (n: number, inner: Uint8Array): Buffer => Buffer.from(protobuf.Writer.create().uint32((n << 3) | 2).bytes(inner).finish());
/** `unit` `count` times over: a repeated field built without encoding each element. */
const times = (unit: Uint8Array, count: number): Buffer => Buffer.alloc(unit.byteLength * count, unit);

/** A TxnRequest of `ops` success ops, each `op`. */
export function txnBytes(op: object, ops: number): Buffer {
  const TxnOp = dstoreRoot().lookupType('dstore.v1.TxnOp');
  return times(field(2, TxnOp.encode(TxnOp.fromObject(op)).finish()), ops);
}

/** A TxnRequest of one map_store of `entries` entries. */
export function mapStoreTxn(entries: number): Buffer {
  const MapEntry = dstoreRoot().lookupType('dstore.v1.MapValue.Entry');
  const mapStore = Buffer.concat([field(1, Buffer.from('m')), times(field(2, MapEntry.encode({ field: 'f', value: Buffer.alloc(0) }).finish()), entries)]);
  return field(2, field(7, mapStore));
}

/** A ClientFrame of `count` requests (id 1), each the transaction `txn`. */
export function frameOf(txn: Uint8Array, count: number): Buffer {
  return times(field(1, Buffer.concat([Buffer.from([0x08, 0x01]), field(5, txn)])), count);
}
