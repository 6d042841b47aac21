// Converts between the wire (dstore.v1 messages as grpc-js/protobufjs decode them) and the
// state machine's own types, and encodes log commands. Every client request passes through
// `txnOf`, which is where malformed requests are refused with a precise
// InvalidArgumentError before anything is proposed.

import { keyValueToWire } from '../../protocol/key-value-wire.ts';
import { assertNever } from '../../protocol/assert.ts';
import { InvalidArgumentError, TooLargeError } from '../../protocol/errors.ts';
import { validateKey } from '../../protocol/keys.ts';
import { HASH_BYTES, hashFromBytes, type Hash } from '../../protocol/hash.ts';
import { dstoreRoot, TO_OBJECT_OPTIONS } from '../../protocol/proto.ts';
import { STRUCTURED_ENTRIES_MAX } from '../../protocol/structured-values.ts';
import type { Command__Output } from '../../protocol/generated/dstore/v1/Command.ts';
import type { Compare__Output } from '../../protocol/generated/dstore/v1/Compare.ts';
import type { KeyValue } from '../../protocol/generated/dstore/v1/KeyValue.ts';
import type { RangeRequest__Output } from '../../protocol/generated/dstore/v1/RangeRequest.ts';
import type { TxnOp__Output } from '../../protocol/generated/dstore/v1/TxnOp.ts';
import type { TxnOpResult } from '../../protocol/generated/dstore/v1/TxnOpResult.ts';
import type { TxnRequest, TxnRequest__Output } from '../../protocol/generated/dstore/v1/TxnRequest.ts';
import type { ValueSource__Output } from '../../protocol/generated/dstore/v1/ValueSource.ts';
import type { WriteId__Output } from '../../protocol/generated/dstore/v1/WriteId.ts';
import type * as state from '../state/types.ts';

const CommandType = dstoreRoot().lookupType('dstore.v1.Command');

const REPLACEMENT_CHARACTER = '\uFFFD';

/** Most compares plus ops in one transaction. */
export const TXN_OPS_MAX = 1024;
/** Most list_append, map_store and map_delete ops in one transaction (each may decode and encode a whole value at apply). */
export const TXN_STRUCTURED_OPS_MAX = 16;
/** Elements per request message (src/protocol/frame-budget.ts, where clients read it too). */
export { REQUEST_ELEMENTS_MAX } from '../../protocol/frame-budget.ts';
/** Longest client id accepted in a WriteId, in UTF-8 bytes (global.proto: at most 64 bytes). */
export const CLIENT_ID_BYTES_MAX = 64;

/** A hash from the wire; throws InvalidArgumentError naming `where` unless it is 32 bytes. */
export function hashField(bytes: Uint8Array, where: string): Hash {
  if (bytes.byteLength !== HASH_BYTES) throw new InvalidArgumentError(`${where} must be a ${HASH_BYTES}-byte BLAKE3 hash, got ${bytes.byteLength} bytes`);
  return hashFromBytes(bytes);
}

function valueRef(source: ValueSource__Output | null, where: string): state.ValueRef {
  if (source === null) throw new InvalidArgumentError(`${where}: value is missing: give inline bytes or a blob_hash`);
  if (source.inline !== undefined) return { kind: 'inline', bytes: source.inline };
  if (source.blobHash !== undefined) {
    return { kind: 'blob', hash: hashField(source.blobHash, `${where}: blob_hash`), size: source.blobSize };
  }
  throw new InvalidArgumentError(`${where}: value is missing: give inline bytes or a blob_hash`);
}

/**
 * Checks a key from a client: 1..KEY_BYTES_MAX bytes of UTF-8 (TooLargeError above), and no
 * U+FFFD. The decoder turns bytes that are not UTF-8 into U+FFFD, so refusing it is how a key
 * sent as invalid UTF-8 is refused rather than silently renamed. `what` names the key.
 */
export function checkKey(key: string, what: string): void {
  validateKey(key, what);
  if (key.includes(REPLACEMENT_CHARACTER)) {
    throw new InvalidArgumentError(`${what} contains U+FFFD, which stands for bytes that are not UTF-8: keys must be valid UTF-8 and may not contain U+FFFD`);
  }
}

export function rangeSpecOf(r: RangeRequest__Output, where = 'range'): state.RangeSpec {
  if (r.prefix !== '') checkKey(r.prefix, `${where} prefix`);
  if (r.start !== '') checkKey(r.start, `${where} start`);
  if (r.end !== '') checkKey(r.end, `${where} end`);
  return { start: r.start, end: r.end, prefix: r.prefix, limit: r.limit, withValues: r.withValues };
}

function opOf(op: TxnOp__Output, where: string): state.Op {
  const key = opKey(op);
  if (key !== null) checkKey(key, `${where} key`);
  if (op.get) return { kind: 'get', key: op.get.key, withValue: op.get.withValue };
  if (op.put) return { kind: 'put', key: op.put.key, value: valueRef(op.put.value, where) };
  if (op.putIfAbsent) return { kind: 'putIfAbsent', key: op.putIfAbsent.key, value: valueRef(op.putIfAbsent.value, where) };
  if (op.delete) return { kind: 'delete', key: op.delete.key };
  if (op.range) {
    if (op.range.range === null) throw new InvalidArgumentError(`${where}: range op without a range`);
    return { kind: 'range', range: rangeSpecOf(op.range.range, `${where} range`) };
  }
  if (op.listAppend) return { kind: 'listAppend', key: op.listAppend.key, items: op.listAppend.items };
  if (op.mapStore) return { kind: 'mapStore', key: op.mapStore.key, entries: op.mapStore.entries };
  if (op.mapDelete) return { kind: 'mapDelete', key: op.mapDelete.key, fields: op.mapDelete.fields };
  if (op.add) {
    if (!Number.isSafeInteger(op.add.delta)) throw new InvalidArgumentError(`${where}: add delta ${op.add.delta} is not a safe integer`);
    return { kind: 'add', key: op.add.key, delta: BigInt(op.add.delta) };
  }
  throw new InvalidArgumentError(`${where}: op has no kind set: set one of get, put, put_if_absent, delete, range, list_append, map_store, map_delete, add`);
}

/** Which op kind is set, or null for none. */
function opKind(op: TxnOp__Output): keyof TxnOp__Output | null {
  for (const kind of ['get', 'put', 'putIfAbsent', 'delete', 'range', 'listAppend', 'mapStore', 'mapDelete', 'add'] as const) {
    if (op[kind]) return kind;
  }
  return null;
}

/** The key an op names, or null for a range. */
function opKey(op: TxnOp__Output): string | null {
  return (op.get ?? op.put ?? op.putIfAbsent ?? op.delete ?? op.listAppend ?? op.mapStore ?? op.mapDelete ?? op.add)?.key ?? null;
}

function compareOf(c: Compare__Output, where: string): state.Compare {
  checkKey(c.key, `${where} key`);
  const operator = ({ OPERATOR_EQUAL: 'equal', OPERATOR_NOT_EQUAL: 'notEqual', OPERATOR_LESS: 'less', OPERATOR_GREATER: 'greater' } as const)[c.operator];
  if (operator === undefined) throw new InvalidArgumentError(`${where}: unknown operator ${String(c.operator)}`);
  switch (c.target) {
    case 'TARGET_EXISTS':
    case 'TARGET_HASH': {
      if (operator !== 'equal' && operator !== 'notEqual') {
        throw new InvalidArgumentError(`${where}: ${c.target} compares only with OPERATOR_EQUAL or OPERATOR_NOT_EQUAL`);
      }
      if (c.target === 'TARGET_EXISTS') return { key: c.key, target: 'exists', operator, exists: c.exists };
      return { key: c.key, target: 'hash', operator, hash: c.hash.byteLength === 0 ? null : hashField(c.hash, `${where}: hash`) };
    }
    case 'TARGET_VERSION':
      return { key: c.key, target: 'version', operator, number: c.number };
    case 'TARGET_MOD_REVISION':
      return { key: c.key, target: 'modRevision', operator, number: c.number };
    default:
      throw new InvalidArgumentError(`${where}: unknown compare target ${String(c.target)}`);
  }
}

/** Entries an op carries: list items, map entries or fields to delete; 0 for other ops. */
function structuredEntries(op: TxnOp__Output): number | null {
  if (op.listAppend) return op.listAppend.items.length;
  if (op.mapStore) return op.mapStore.entries.length;
  if (op.mapDelete) return op.mapDelete.fields.length;
  return null;
}

/**
 * Throws TooLargeError when a transaction breaks a count limit (TXN_OPS_MAX,
 * TXN_STRUCTURED_OPS_MAX, STRUCTURED_ENTRIES_MAX per op). These are admission limits: checked
 * before proposal, never at apply, so changing them cannot change what an entry already in
 * the log does. request-prescan.ts checks the same limits on the wire, before decoding.
 */
export function checkTxnCounts(t: TxnRequest__Output): void {
  const count = t.compares.length + t.success.length + t.failure.length;
  if (count > TXN_OPS_MAX) throw new TooLargeError(`transaction has ${count} compares and ops, over the limit of ${TXN_OPS_MAX} (TXN_OPS_MAX): split it`);
  let structured = 0;
  for (const [branch, ops] of [['success', t.success], ['failure', t.failure]] as const) {
    ops.forEach((op, i) => {
      const entries = structuredEntries(op);
      if (entries === null) return;
      structured++;
      if (entries > STRUCTURED_ENTRIES_MAX) {
        throw new TooLargeError(`${branch} op ${i} carries ${entries} list items or map entries, over the limit of ${STRUCTURED_ENTRIES_MAX} (STRUCTURED_ENTRIES_MAX): split it`);
      }
    });
  }
  if (structured > TXN_STRUCTURED_OPS_MAX) {
    throw new TooLargeError(`transaction has ${structured} list_append, map_store and map_delete ops, over the limit of ${TXN_STRUCTURED_OPS_MAX} (TXN_STRUCTURED_OPS_MAX): split it`);
  }
}

/** True when no op of either branch writes: only gets and ranges (compares read too). */
export function isReadOnly(t: TxnRequest__Output): boolean {
  const reads = (op: TxnOp__Output): boolean => opKind(op) === 'get' || opKind(op) === 'range';
  return t.success.every(reads) && t.failure.every(reads);
}

/** Checks a client's transaction against the count limits and converts it. Throws TooLargeError or InvalidArgumentError naming the bad part. */
export function txnOf(t: TxnRequest__Output): state.Txn {
  checkTxnCounts(t);
  return convertTxn(t);
}

/** Converts a wire transaction without the admission limits (log commands). Throws InvalidArgumentError naming the bad part. */
function convertTxn(t: TxnRequest__Output): state.Txn {
  return {
    compares: t.compares.map((c, i) => compareOf(c, `compare ${i}`)),
    success: t.success.map((op, i) => opOf(op, `success op ${i}`)),
    failure: t.failure.map((op, i) => opOf(op, `failure op ${i}`)),
  };
}

export function writeIdOf(w: WriteId__Output | null): state.WriteId | null {
  if (w === null || w.clientId === '') return null;
  const idBytes = Buffer.byteLength(w.clientId);
  if (idBytes > CLIENT_ID_BYTES_MAX) throw new InvalidArgumentError(`write_id.client_id is ${idBytes} bytes of UTF-8, over the limit of ${CLIENT_ID_BYTES_MAX}`);
  if (!Number.isSafeInteger(w.requestId) || w.requestId <= 0) throw new InvalidArgumentError(`write_id.request_id must be a positive integer, got ${w.requestId}`);
  if (!Number.isSafeInteger(w.firstIncomplete) || w.firstIncomplete < 0 || w.firstIncomplete > w.requestId) {
    throw new InvalidArgumentError(`write_id.first_incomplete must be in 0..request_id (${w.requestId}), got ${w.firstIncomplete}`);
  }
  return { clientId: w.clientId, requestId: w.requestId, firstIncomplete: w.firstIncomplete };
}

/** Encodes a command for the log. `txn` must already have passed `txnOf`. */
export function encodeCommand(writeId: state.WriteId | null, txn: TxnRequest): Uint8Array {
  // consistency and min_revision concern reads, which never enter the log.
  const logged = { ...txn, consistency: undefined, minRevision: undefined };
  return CommandType.encode(CommandType.fromObject({ writeId: writeId ?? undefined, txn: logged })).finish();
}

/** Decodes a log command. Throws InvalidArgumentError if it does not decode or convert. */
export function decodeCommand(bytes: Uint8Array): state.Command {
  let msg: Command__Output;
  try {
    msg = CommandType.toObject(CommandType.decode(bytes), TO_OBJECT_OPTIONS) as Command__Output;
  } catch (err) {
    throw new InvalidArgumentError(`log command does not decode: ${(err as Error).message}`);
  }
  if (msg.txn === null) throw new InvalidArgumentError('log command has no transaction');
  // No admission limits here: the leader checked them before proposing, and an entry that
  // was applied before must apply the same way whatever the limits are now.
  return { writeId: writeIdOf(msg.writeId), txn: convertTxn(msg.txn) };
}

// ---- results to the wire --------------------------------------------------------

export function keyValueMsg(kv: state.KeyBinding & { value?: Uint8Array | null }): KeyValue {
  return keyValueToWire(kv, kv.value ?? null);
}

export function opResultMsg(r: state.OpResult, header: { revision: number; replicaId: number }): TxnOpResult {
  switch (r.kind) {
    case 'get': return { get: { header, found: r.kv !== null, kv: r.kv === null ? null : keyValueMsg(r.kv) } };
    case 'written': return { written: keyValueMsg(r.kv) };
    case 'delete': return { delete: { header, deleted: r.prev !== null, prevKv: r.prev === null ? null : keyValueMsg(r.prev) } };
    case 'range': return { range: { header, kvs: r.kvs.map(keyValueMsg), more: r.more } };
    case 'number': return { number: r.value.toString() };
    case 'notRetained': return { notRetained: true };
    default: return assertNever(r, 'op result');
  }
}
