// Converts between the client's domain types (client-types.ts) and the generated wire types.
// Pure functions, no I/O.
//
// Contract for decoders: they validate what the server sent. A response of the wrong shape
// (a missing header, a hash that is not 32 bytes, a oneof that does not answer the request)
// throws InternalError whose message starts with "malformed": the caller closes the stream it
// came on. An inline value that does not hash to its binding's hash throws CorruptError: the
// caller fails that one request and never returns the bytes.

import { assertNever } from '../../protocol/assert.ts';
import { CorruptError, InternalError } from '../../protocol/errors.ts';
import { hashFromBytes, hashOf, hashToBytes, HASH_BYTES, type Hash } from '../../protocol/hash.ts';
import type { Compare as WireCompare } from '../../protocol/generated/dstore/v1/Compare.ts';
import type { DeleteResponse__Output } from '../../protocol/generated/dstore/v1/DeleteResponse.ts';
import type { Event__Output } from '../../protocol/generated/dstore/v1/Event.ts';
import type { GetResponse__Output } from '../../protocol/generated/dstore/v1/GetResponse.ts';
import type { KeyValue__Output } from '../../protocol/generated/dstore/v1/KeyValue.ts';
import type { RangeRequest as WireRangeRequest } from '../../protocol/generated/dstore/v1/RangeRequest.ts';
import type { RangeResponse__Output } from '../../protocol/generated/dstore/v1/RangeResponse.ts';
import type { ResponseHeader__Output } from '../../protocol/generated/dstore/v1/ResponseHeader.ts';
import type { SetResponse__Output } from '../../protocol/generated/dstore/v1/SetResponse.ts';
import type { StatusResponse__Output } from '../../protocol/generated/dstore/v1/StatusResponse.ts';
import type { SubscribeResponse__Output } from '../../protocol/generated/dstore/v1/SubscribeResponse.ts';
import type { TxnOp as WireTxnOp } from '../../protocol/generated/dstore/v1/TxnOp.ts';
import type { TxnOpResult__Output } from '../../protocol/generated/dstore/v1/TxnOpResult.ts';
import type { TxnResponse__Output } from '../../protocol/generated/dstore/v1/TxnResponse.ts';
import type { ValueSource as WireValueSource } from '../../protocol/generated/dstore/v1/ValueSource.ts';
import type {
  ChangeEvent,
  Compare,
  DeleteResult,
  GetResult,
  Header,
  KeyBinding,
  KeyValue,
  Op,
  OpResult,
  RangeResult,
  RangeSpec,
  ReadConsistency,
  ServerStatus,
  SetResult,
  SubscribeMessage,
  TxnResult,
  ValueInput,
} from './client-types.ts';

function malformed(what: string): InternalError {
  return new InternalError(`malformed response from Global: ${what}`);
}

// ---- requests ----------------------------------------------------------------------

export function wireConsistency(consistency: ReadConsistency): 'READ_CONSISTENCY_LINEARIZABLE' | 'READ_CONSISTENCY_SERIALIZABLE' {
  return consistency === 'linearizable' ? 'READ_CONSISTENCY_LINEARIZABLE' : 'READ_CONSISTENCY_SERIALIZABLE';
}

/** The wire form of a value; `inline` decides whether bytes travel in the request. */
export function wireValueSource(value: ValueInput, blobHashOf: (bytes: Uint8Array) => Hash | undefined): WireValueSource {
  if (value instanceof Uint8Array) {
    const uploaded = blobHashOf(value);
    return uploaded === undefined ? { inline: value } : { blobHash: hashToBytes(uploaded) };
  }
  return { blobHash: hashToBytes(value.blobHash) };
}

export function wireRange(range: RangeSpec, consistency: ReadConsistency, minRevision: number): WireRangeRequest {
  return {
    start: range.start ?? '',
    end: range.end ?? '',
    prefix: range.prefix ?? '',
    limit: range.limit ?? 0,
    consistency: wireConsistency(consistency),
    minRevision,
    withValues: range.withValues ?? false,
  };
}

const OPERATORS = {
  equal: 'OPERATOR_EQUAL',
  notEqual: 'OPERATOR_NOT_EQUAL',
  less: 'OPERATOR_LESS',
  greater: 'OPERATOR_GREATER',
} as const;

export function wireCompare(c: Compare): WireCompare {
  const operator = OPERATORS[c.operator];
  switch (c.target) {
    case 'exists':
      return { key: c.key, target: 'TARGET_EXISTS', operator, exists: c.exists };
    case 'hash':
      return { key: c.key, target: 'TARGET_HASH', operator, hash: c.hash === null ? Buffer.alloc(0) : hashToBytes(c.hash) };
    case 'version':
      return { key: c.key, target: 'TARGET_VERSION', operator, number: c.number };
    case 'modRevision':
      return { key: c.key, target: 'TARGET_MOD_REVISION', operator, number: c.number };
    default:
      return assertNever(c, 'compare target');
  }
}

export function wireOp(op: Op, blobHashOf: (bytes: Uint8Array) => Hash | undefined): WireTxnOp {
  switch (op.kind) {
    case 'get':
      return { get: { key: op.key, withValue: op.withValue ?? false } };
    case 'put':
      return { put: { key: op.key, value: wireValueSource(op.value, blobHashOf) } };
    case 'putIfAbsent':
      return { putIfAbsent: { key: op.key, value: wireValueSource(op.value, blobHashOf) } };
    case 'delete':
      return { delete: { key: op.key } };
    case 'range':
      // Inside a transaction the range is read at the transaction's revision.
      return { range: { range: wireRange(op.range, 'linearizable', 0) } };
    case 'listAppend':
      return { listAppend: { key: op.key, items: [...op.items] } };
    case 'mapStore':
      return { mapStore: { key: op.key, entries: op.entries.map((e) => ({ field: e.field, value: e.value })) } };
    case 'mapDelete':
      return { mapDelete: { key: op.key, fields: [...op.fields] } };
    case 'add':
      // Decimal text: protobufjs parses it into a 64-bit integer exactly (a number would not).
      return { add: { key: op.key, delta: op.delta.toString() } };
    default:
      return assertNever(op, 'txn op');
  }
}

// ---- responses ---------------------------------------------------------------------

export function decodeHash(bytes: Buffer, what: string): Hash {
  if (bytes.byteLength !== HASH_BYTES) throw malformed(`${what}: hash of ${bytes.byteLength} bytes, expected ${HASH_BYTES}`);
  return hashFromBytes(bytes);
}

function decodeHeader(header: ResponseHeader__Output | null, what: string): Header {
  if (header === null) throw malformed(`${what}: no response header`);
  return { revision: header.revision, replicaId: header.replicaId };
}

export function decodeBinding(kv: KeyValue__Output | null, what: string): KeyBinding {
  if (kv === null) throw malformed(`${what}: binding missing`);
  return {
    key: kv.key,
    // The error text naming the key is built only for a bad hash: this runs for every binding.
    hash: kv.hash.byteLength === HASH_BYTES ? hashFromBytes(kv.hash) : decodeHash(kv.hash, `${what} (key ${JSON.stringify(kv.key)})`),
    size: kv.size,
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
    version: kv.version,
  };
}

/** Verifies an inline value against its binding's hash: bytes that do not match are never returned. */
export function decodeKeyValue(kv: KeyValue__Output | null, what: string): KeyValue {
  const binding = decodeBinding(kv, what);
  if (kv === null || !kv.valueInline) return { ...binding, value: null };
  if (kv.value.byteLength !== binding.size) {
    throw new CorruptError(`${what}: value of key ${JSON.stringify(binding.key)} is ${kv.value.byteLength} bytes, binding says ${binding.size}`);
  }
  const actual = hashOf(kv.value);
  if (actual !== binding.hash) {
    throw new CorruptError(`${what}: value of key ${JSON.stringify(binding.key)} hashes to ${actual}, binding says ${binding.hash}`);
  }
  return { ...binding, value: kv.value };
}

function decodeFoundKv(found: boolean, kv: KeyValue__Output | null, what: string): KeyValue | null {
  return found ? decodeKeyValue(kv, what) : null;
}

export function decodeGet(resp: GetResponse__Output, what: string): GetResult {
  return { ...decodeHeader(resp.header, what), kv: decodeFoundKv(resp.found, resp.kv, what) };
}

export function decodeSet(resp: SetResponse__Output, what: string): SetResult {
  return { ...decodeHeader(resp.header, what), kv: decodeBinding(resp.kv, what) };
}

function decodeDeleteBody(resp: DeleteResponse__Output, what: string): Omit<DeleteResult, keyof Header> {
  return { deleted: resp.deleted, prev: resp.deleted ? decodeBinding(resp.prevKv, what) : null };
}

export function decodeDelete(resp: DeleteResponse__Output, what: string): DeleteResult {
  return { ...decodeHeader(resp.header, what), ...decodeDeleteBody(resp, what) };
}

function decodeRangeBody(resp: RangeResponse__Output, what: string): Omit<RangeResult, keyof Header> {
  return { kvs: resp.kvs.map((kv) => decodeKeyValue(kv, what)), more: resp.more };
}

export function decodeRange(resp: RangeResponse__Output, what: string): RangeResult {
  return { ...decodeHeader(resp.header, what), ...decodeRangeBody(resp, what) };
}

function decodeOpResult(r: TxnOpResult__Output, what: string): OpResult {
  switch (r.result) {
    case 'get':
      if (!r.get) throw malformed(`${what}: get result missing`);
      return { kind: 'get', kv: decodeFoundKv(r.get.found, r.get.kv, what) };
    case 'written':
      return { kind: 'written', kv: decodeBinding(r.written ?? null, what) };
    case 'delete':
      if (!r.delete) throw malformed(`${what}: delete result missing`);
      return { kind: 'delete', ...decodeDeleteBody(r.delete, what) };
    case 'range':
      if (!r.range) throw malformed(`${what}: range result missing`);
      return { kind: 'range', ...decodeRangeBody(r.range, what) };
    case 'number':
      if (r.number === undefined || !/^-?\d+$/.test(r.number)) throw malformed(`${what}: number result is not decimal text`);
      return { kind: 'number', value: BigInt(r.number) };
    case 'notRetained':
    case undefined:
      return { kind: 'notRetained' };
    default:
      return assertNever(r.result, 'txn op result');
  }
}

export function decodeTxn(resp: TxnResponse__Output, what: string): TxnResult {
  return {
    ...decodeHeader(resp.header, what),
    succeeded: resp.succeeded,
    results: resp.results.map((r) => decodeOpResult(r, what)),
  };
}

export function decodeMissing(missing: Buffer[], asked: readonly Hash[], what: string): Hash[] {
  const askedSet = new Set<string>(asked);
  return missing.map((bytes) => {
    const hash = decodeHash(bytes, what);
    if (!askedSet.has(hash)) throw malformed(`${what}: server named ${hash} missing, which was not asked about`);
    return hash;
  });
}

export function decodeStatus(resp: StatusResponse__Output): ServerStatus {
  const limits = resp.limits;
  return {
    replicaId: resp.replicaId,
    version: resp.version,
    leaderId: resp.leaderId,
    leaderAddress: resp.leaderAddress,
    isLeader: resp.isLeader,
    decidedInstance: resp.decidedInstance,
    appliedRevision: resp.appliedRevision,
    oldestRevision: resp.oldestRevision,
    members: resp.members.map((m) => ({ id: m.id, address: m.address, connected: m.connected, decidedInstance: m.decidedInstance })),
    keyCount: resp.keyCount,
    walBytes: resp.walBytes,
    blobBytes: resp.blobBytes,
    limits:
      limits === null
        ? null
        : {
            keyBytesMax: limits.keyBytesMax,
            valueInlineBytesMax: limits.valueInlineBytesMax,
            blobBytesMax: limits.blobBytesMax,
            requestBytesMax: limits.requestBytesMax,
            frameRequestsMax: limits.frameRequestsMax,
            rangeKeysMax: limits.rangeKeysMax,
          },
    nodeLocal:
      resp.nodeLocal === null
        ? null
        : {
            leaseMs: resp.nodeLocal.leaseMs,
            coherence: resp.nodeLocal.coherence,
            coherenceByPrefix: Object.fromEntries(resp.nodeLocal.coherenceByPrefix.map((p) => [p.prefix, p.mode])),
            prefix: resp.nodeLocal.prefix,
          },
  };
}

function decodeEvent(e: Event__Output, what: string): ChangeEvent {
  if (e.kv === null) throw malformed(`${what}: event without a key`);
  switch (e.type) {
    case 'TYPE_PUT':
      return { type: 'put', kv: decodeBinding(e.kv, what) };
    case 'TYPE_DELETE':
      return { type: 'delete', key: e.kv.key, revision: e.kv.modRevision };
    default:
      return assertNever(e.type, 'event type');
  }
}

export function decodeSubscribeMessage(msg: SubscribeResponse__Output, what: string): SubscribeMessage {
  switch (msg.kind) {
    case 'events':
      if (!msg.events) throw malformed(`${what}: events missing`);
      return { kind: 'events', revision: msg.revision, events: msg.events.events.map((e) => decodeEvent(e, what)) };
    case 'progress':
      if (!msg.progress) throw malformed(`${what}: progress missing`);
      return { kind: 'progress', revision: Math.max(msg.revision, msg.progress.revision) };
    case undefined:
      throw malformed(`${what}: subscribe message with neither events nor progress`);
    default:
      return assertNever(msg.kind, 'subscribe message kind');
  }
}
