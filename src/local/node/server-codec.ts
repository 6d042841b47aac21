// The Local server's side of the wire (local-server.ts): requests arriving in the dstore.v1
// Global service's shape -> the client's domain types, and domain results -> responses.
// The mirror image of client-codec.ts. Pure functions, no I/O.
//
// Decoders validate what a worker sent and throw InvalidArgumentError naming the field;
// encoders cannot fail.

import { keyValueToWire } from '../../protocol/key-value-wire.ts';
import { assertNever } from '../../protocol/assert.ts';
import { InvalidArgumentError } from '../../protocol/errors.ts';
import { hashFromBytes, HASH_BYTES, type Hash } from '../../protocol/hash.ts';
import type { Compare__Output } from '../../protocol/generated/dstore/v1/Compare.ts';
import type { Event } from '../../protocol/generated/dstore/v1/Event.ts';
import type { KeyValue as WireKeyValue } from '../../protocol/generated/dstore/v1/KeyValue.ts';
import type { RangeRequest__Output } from '../../protocol/generated/dstore/v1/RangeRequest.ts';
import type { RangeResponse } from '../../protocol/generated/dstore/v1/RangeResponse.ts';
import type { StatusResponse } from '../../protocol/generated/dstore/v1/StatusResponse.ts';
import type { SubscribeResponse } from '../../protocol/generated/dstore/v1/SubscribeResponse.ts';
import type { TxnOp__Output } from '../../protocol/generated/dstore/v1/TxnOp.ts';
import type { TxnOpResult } from '../../protocol/generated/dstore/v1/TxnOpResult.ts';
import type { TxnRequest__Output } from '../../protocol/generated/dstore/v1/TxnRequest.ts';
import type { ValueSource__Output } from '../../protocol/generated/dstore/v1/ValueSource.ts';
import type { WriteId__Output } from '../../protocol/generated/dstore/v1/WriteId.ts';
import type {
  ChangeEvent,
  Compare,
  DeleteResult,
  Header,
  KeyBinding,
  NodeLocalTerms,
  Op,
  OpResult,
  RangeResult,
  RangeSpec,
  ServerLimits,
  SubscribeMessage,
  Txn,
  ValueInput,
} from '../client/client-types.ts';

// ---- requests -----------------------------------------------------------------------

export function hashArg(bytes: Buffer, what: string): Hash {
  if (bytes.byteLength !== HASH_BYTES) throw new InvalidArgumentError(`${what}: a hash is ${HASH_BYTES} bytes, got ${bytes.byteLength}`);
  return hashFromBytes(bytes);
}

export function valueArg(source: ValueSource__Output | null, what: string): ValueInput {
  if (source?.source === 'inline') return source.inline ?? Buffer.alloc(0);
  if (source?.source === 'blobHash') return { blobHash: hashArg(source.blobHash ?? Buffer.alloc(0), what) };
  throw new InvalidArgumentError(`${what}: a value is needed (inline bytes or a blob_hash)`);
}

/** The identity of a worker's write, for answering its retries with the first result. */
export function writeIdText(writeId: WriteId__Output | null): string | null {
  return writeId === null || writeId.clientId === '' ? null : `${writeId.clientId}/${writeId.requestId}`;
}

export function rangeArg(range: RangeRequest__Output): RangeSpec {
  return {
    ...(range.prefix !== '' ? { prefix: range.prefix } : { start: range.start, end: range.end }),
    ...(range.limit > 0 ? { limit: range.limit } : {}),
    withValues: range.withValues,
  };
}

const OPERATOR_OF = {
  OPERATOR_EQUAL: 'equal',
  OPERATOR_NOT_EQUAL: 'notEqual',
  OPERATOR_LESS: 'less',
  OPERATOR_GREATER: 'greater',
} as const;

function compareArg(c: Compare__Output): Compare {
  const operator = OPERATOR_OF[c.operator];
  switch (c.target) {
    case 'TARGET_EXISTS':
    case 'TARGET_HASH':
      if (operator !== 'equal' && operator !== 'notEqual') throw new InvalidArgumentError(`compare of ${JSON.stringify(c.key)}: ${c.target} allows EQUAL and NOT_EQUAL only`);
      return c.target === 'TARGET_EXISTS'
        ? { key: c.key, target: 'exists', operator, exists: c.exists }
        : { key: c.key, target: 'hash', operator, hash: c.hash.byteLength === 0 ? null : hashArg(c.hash, 'compare hash') };
    case 'TARGET_VERSION':
      return { key: c.key, target: 'version', operator, number: c.number };
    case 'TARGET_MOD_REVISION':
      return { key: c.key, target: 'modRevision', operator, number: c.number };
    default:
      return assertNever(c.target, 'compare target');
  }
}

function opArg(op: TxnOp__Output, what: string): Op {
  switch (op.op) {
    case 'get':
      return { kind: 'get', key: op.get!.key, withValue: op.get!.withValue };
    case 'put':
      return { kind: 'put', key: op.put!.key, value: valueArg(op.put!.value, what) };
    case 'putIfAbsent':
      return { kind: 'putIfAbsent', key: op.putIfAbsent!.key, value: valueArg(op.putIfAbsent!.value, what) };
    case 'delete':
      return { kind: 'delete', key: op.delete!.key };
    case 'range':
      if (op.range!.range === null) throw new InvalidArgumentError(`${what}: range op without a range`);
      return { kind: 'range', range: rangeArg(op.range!.range) };
    case 'listAppend':
      return { kind: 'listAppend', key: op.listAppend!.key, items: op.listAppend!.items };
    case 'mapStore':
      return { kind: 'mapStore', key: op.mapStore!.key, entries: op.mapStore!.entries.map((e) => ({ field: e.field, value: e.value })) };
    case 'mapDelete':
      return { kind: 'mapDelete', key: op.mapDelete!.key, fields: op.mapDelete!.fields };
    case 'add':
      return { kind: 'add', key: op.add!.key, delta: BigInt(op.add!.delta) };
    case undefined:
      throw new InvalidArgumentError(`${what}: an op with none of get, put, put_if_absent, delete, range, list_append, map_store, map_delete, add`);
    default:
      return assertNever(op.op, 'txn op');
  }
}

export function txnArg(txn: TxnRequest__Output): Txn {
  return {
    compares: txn.compares.map(compareArg),
    success: txn.success.map((op, i) => opArg(op, `success op ${i}`)),
    failure: txn.failure.map((op, i) => opArg(op, `failure op ${i}`)),
  };
}

// ---- responses ----------------------------------------------------------------------

export function headerMsg(header: Header): { revision: number; replicaId: number } {
  return { revision: header.revision, replicaId: header.replicaId };
}

/** A binding on the wire; `value` inline when given. */
export function keyValueMsg(kv: KeyBinding, value: Uint8Array | null): WireKeyValue {
  return keyValueToWire(kv, value);
}

export function deleteMsg(result: Omit<DeleteResult, keyof Header>, header: Header): { header: ReturnType<typeof headerMsg>; deleted: boolean; prevKv: WireKeyValue | null } {
  return { header: headerMsg(header), deleted: result.deleted, prevKv: result.prev === null ? null : keyValueMsg(result.prev, null) };
}

export function rangeMsg(result: Omit<RangeResult, keyof Header>, header: Header): RangeResponse {
  return { header: headerMsg(header), kvs: result.kvs.map((kv) => keyValueMsg(kv, kv.value)), more: result.more };
}

export function opResultMsg(result: OpResult, header: Header): TxnOpResult {
  switch (result.kind) {
    case 'get':
      return { get: { header: headerMsg(header), found: result.kv !== null, kv: result.kv === null ? null : keyValueMsg(result.kv, result.kv.value) } };
    case 'written':
      return { written: keyValueMsg(result.kv, null) };
    case 'delete':
      return { delete: deleteMsg(result, header) };
    case 'range':
      return { range: rangeMsg(result, header) };
    case 'number':
      return { number: result.value.toString() };
    case 'notRetained':
      return { notRetained: true };
    default:
      return assertNever(result, 'op result');
  }
}

function eventMsg(event: ChangeEvent): Event {
  return event.type === 'put'
    ? { type: 'TYPE_PUT', kv: keyValueMsg(event.kv, null) }
    : { type: 'TYPE_DELETE', kv: { key: event.key, modRevision: event.revision } };
}

export function subscribeMsg(message: SubscribeMessage): SubscribeResponse {
  return message.kind === 'events'
    ? { revision: message.revision, events: { events: message.events.map(eventMsg) } }
    : { revision: message.revision, progress: { revision: message.revision } };
}

export interface LocalStatusFields {
  readonly version: string;
  /** The Local's own address: it leads itself, so a client attached to it stays. */
  readonly address: string;
  readonly appliedRevision: number;
  readonly keyCount: number;
  readonly limits: ServerLimits | null;
  /** How the Local serves its cache, for workers that keep bindings of their own. */
  readonly terms: NodeLocalTerms;
}

export function statusMsg(s: LocalStatusFields): StatusResponse {
  return {
    replicaId: 0,
    version: s.version,
    leaderId: 0,
    leaderAddress: s.address,
    isLeader: true,
    appliedRevision: s.appliedRevision,
    keyCount: s.keyCount,
    members: [{ id: 0, address: s.address, connected: true }],
    ...(s.limits === null ? {} : { limits: { ...s.limits } }),
    nodeLocal: {
      leaseMs: s.terms.leaseMs,
      coherence: s.terms.coherence,
      coherenceByPrefix: Object.entries(s.terms.coherenceByPrefix).map(([prefix, mode]) => ({ prefix, mode })),
      prefix: s.terms.prefix,
    },
  };
}
