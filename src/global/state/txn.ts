// Executes one mini-transaction against the key space without touching it: writes go to
// an overlay that later ops of the same transaction read through, and that the state
// machine commits as a whole or drops (KEY_OCCUPIED, INVALID_ARGUMENT), so a transaction
// is all or nothing. Deterministic: same key space and transaction, same outcome.

import { assertNever } from '../../protocol/assert.ts';
import { DstoreError } from '../../protocol/errors.ts';
import { hashOf, type Hash } from '../../protocol/hash.ts';
import { compareKeys, validateKey } from '../../protocol/keys.ts';
import {
  decodeInteger,
  decodeList,
  decodeMap,
  encodeInteger,
  encodeList,
  encodeMap,
  INTEGER_MAX,
  INTEGER_MIN,
  STRUCTURED_ENTRIES_MAX,
} from '../../protocol/structured-values.ts';
import { inRange, rangeBounds, type Keyspace } from './keyspace.ts';
import type { Binding, ChangeEvent, Compare, KeyBinding, KeyValue, Op, OpResult, RangeSpec, TxnFailure, ValueRef } from './types.ts';

export interface TxnLimits {
  /** Values up to this size are held by the state machine and may be returned inline. */
  readonly valueInlineBytesMax: number;
  /** Keys one range returns at most, and all ranges of one transaction together. */
  readonly rangeKeysMax: number;
}

/**
 * Key and value bytes (estimated: KV_OVERHEAD_BYTES per key besides its key and value) that
 * the ranges of one transaction (or one Range) return at most; beyond it they are cut short
 * with `more`, after at least one key. Keeps a response far below the clients' receive
 * limit (64 MiB), and with the shared rangeKeysMax bounds what a transaction's reads cost.
 */
export const READ_BYTES_MAX = 16 * 1024 * 1024;
/** What one key-value costs in a response besides its key and value bytes (an estimate). */
export const KV_OVERHEAD_BYTES = 96;

/** Aborts the transaction; caught by the state machine, never escapes it. */
export class TxnAbort extends Error {
  constructor(readonly failure: TxnFailure) {
    super(failure.message);
  }
}

function invalid(message: string): TxnAbort {
  return new TxnAbort({ code: 'INVALID_ARGUMENT', message });
}

interface PendingValue {
  readonly size: number;
  readonly bytes: Uint8Array | null;
}

/** A pending write: the key's binding after this transaction, or null when deleted. */
export interface PendingWrite {
  readonly binding: Binding | null;
  readonly bytes: Uint8Array | null;
}

export class TxnExecution {
  /** Pending writes by key, in the order keys were first written. */
  readonly writes = new Map<string, PendingWrite>();
  private readonly newValues = new Map<Hash, PendingValue>();
  /**
   * What the ranges may still return: they share one budget, so a transaction's reads cost at
   * most rangeKeysMax keys and READ_BYTES_MAX bytes whatever its number of range ops. Cutting
   * short (rather than failing) keeps apply deterministic and never throwing: a range's
   * result never changes what a transaction writes.
   */
  private readKeysLeft: number;
  private readBytesLeft = READ_BYTES_MAX;

  /** `revision`: the revision this transaction commits at if it writes. */
  constructor(
    private readonly keyspace: Keyspace,
    private readonly limits: TxnLimits,
    readonly revision: number,
  ) {
    this.readKeysLeft = limits.rangeKeysMax;
  }

  get wrote(): boolean {
    return this.writes.size > 0;
  }

  private current(key: string): Binding | undefined {
    const pending = this.writes.get(key);
    if (pending !== undefined) return pending.binding ?? undefined;
    return this.keyspace.get(key);
  }

  private bytesOf(hash: Hash): Uint8Array | null {
    return this.newValues.get(hash)?.bytes ?? this.keyspace.value(hash)?.bytes ?? null;
  }

  private checkKey(key: string): void {
    try {
      validateKey(key);
    } catch (err) {
      if (err instanceof DstoreError) throw invalid(err.message);
      throw err;
    }
  }

  compare(c: Compare): boolean {
    this.checkKey(c.key);
    const b = this.current(c.key);
    switch (c.target) {
      case 'exists': {
        const same = (b !== undefined) === c.exists;
        return c.operator === 'equal' ? same : !same;
      }
      case 'hash': {
        const same = (b?.hash ?? null) === c.hash;
        return c.operator === 'equal' ? same : !same;
      }
      case 'version':
      case 'modRevision': {
        const actual = b === undefined ? 0 : c.target === 'version' ? b.version : b.modRevision;
        const operator = c.operator;
        switch (operator) {
          case 'equal': return actual === c.number;
          case 'notEqual': return actual !== c.number;
          case 'less': return actual < c.number;
          case 'greater': return actual > c.number;
          default: return assertNever(operator, 'compare operator');
        }
      }
      default:
        return assertNever(c, 'compare');
    }
  }

  execute(op: Op): OpResult {
    switch (op.kind) {
      case 'get': {
        this.checkKey(op.key);
        const b = this.current(op.key);
        return { kind: 'get', kv: b === undefined ? null : this.keyValue(op.key, b, op.withValue) };
      }
      case 'range':
        return this.range(op.range);
      case 'put':
        return { kind: 'written', kv: this.write(op.key, this.resolve(op.value)) };
      case 'putIfAbsent':
        this.checkKey(op.key);
        if (this.current(op.key) !== undefined) {
          throw new TxnAbort({ code: 'KEY_OCCUPIED', message: `key ${JSON.stringify(op.key)} is occupied: SET binds only new keys; DEL it first or use a transaction` });
        }
        return { kind: 'written', kv: this.write(op.key, this.resolve(op.value)) };
      case 'delete': {
        this.checkKey(op.key);
        const b = this.current(op.key);
        if (b === undefined) return { kind: 'delete', prev: null };
        this.writes.set(op.key, { binding: null, bytes: null });
        return { kind: 'delete', prev: { key: op.key, ...b } };
      }
      case 'listAppend': {
        const items = this.structured(op.key, 'list', (bytes, what) => decodeList(bytes, what), []);
        this.checkEntries(op.key, 'items', items.length + op.items.length);
        return { kind: 'written', kv: this.write(op.key, this.derived(op.key, encodeList([...items, ...op.items]))) };
      }
      case 'mapStore': {
        const entries = this.structured(op.key, 'map', (bytes, what) => decodeMap(bytes, what), []);
        this.checkEntries(op.key, 'fields', new Set([...entries, ...op.entries].map((e) => e.field)).size);
        return { kind: 'written', kv: this.write(op.key, this.derived(op.key, encodeMap([...entries, ...op.entries]))) };
      }
      case 'mapDelete': {
        const entries = this.structured(op.key, 'map', (bytes, what) => decodeMap(bytes, what), []);
        const removed = new Set(op.fields);
        return { kind: 'written', kv: this.write(op.key, this.derived(op.key, encodeMap(entries.filter((e) => !removed.has(e.field))))) };
      }
      case 'add': {
        const before = this.structured(op.key, 'integer', (bytes, what) => decodeInteger(bytes, what), 0n);
        const after = before + op.delta;
        if (after < INTEGER_MIN || after > INTEGER_MAX) {
          throw invalid(`add ${op.delta} to ${JSON.stringify(op.key)} (${before}) overflows signed 64-bit`);
        }
        this.write(op.key, this.derived(op.key, encodeInteger(after)));
        return { kind: 'number', value: after };
      }
      default:
        return assertNever(op, 'txn op');
    }
  }

  /** Change events for subscribers: each key's final state, in first-written order. */
  events(): ChangeEvent[] {
    const events: ChangeEvent[] = [];
    for (const [key, w] of this.writes) {
      if (w.binding !== null) events.push({ type: 'put', kv: { key, ...w.binding } });
      else if (this.keyspace.get(key) !== undefined) events.push({ type: 'delete', key, revision: this.revision });
    }
    return events;
  }

  private keyValue(key: string, b: Binding, withValue: boolean): KeyValue {
    return { key, ...b, value: withValue ? this.bytesOf(b.hash) : null };
  }

  /** A value ref as {hash, size, bytes held here or null}. */
  private resolve(ref: ValueRef): { hash: Hash; size: number; bytes: Uint8Array | null } {
    switch (ref.kind) {
      case 'inline':
        if (ref.bytes.byteLength > this.limits.valueInlineBytesMax) {
          throw invalid(`inline value of ${ref.bytes.byteLength} bytes exceeds ${this.limits.valueInlineBytesMax}: upload it as a blob`);
        }
        return { hash: hashOf(ref.bytes), size: ref.bytes.byteLength, bytes: ref.bytes };
      case 'blob':
        return { hash: ref.hash, size: ref.size, bytes: null };
      default:
        return assertNever(ref, 'value ref');
    }
  }

  private derived(key: string, bytes: Uint8Array): { hash: Hash; size: number; bytes: Uint8Array } {
    if (bytes.byteLength > this.limits.valueInlineBytesMax) {
      throw invalid(`the new value of ${JSON.stringify(key)} would be ${bytes.byteLength} bytes, over the ${this.limits.valueInlineBytesMax}-byte limit for structured values`);
    }
    return { hash: hashOf(bytes), size: bytes.byteLength, bytes };
  }

  /**
   * Aborts (a deterministic failure, never an exception) when a structured value would hold
   * more than STRUCTURED_ENTRIES_MAX entries. Checked before encoding, so the work stays bounded.
   */
  private checkEntries(key: string, what: string, count: number): void {
    if (count > STRUCTURED_ENTRIES_MAX) {
      throw invalid(`the new value of ${JSON.stringify(key)} would hold ${count} ${what}, over the limit of ${STRUCTURED_ENTRIES_MAX} (STRUCTURED_ENTRIES_MAX): remove some first`);
    }
  }

  /** Decodes the structured value at key, or returns `empty` when the key is unbound. */
  private structured<T>(key: string, shape: string, decode: (bytes: Uint8Array, what: string) => T, empty: T): T {
    this.checkKey(key);
    const b = this.current(key);
    if (b === undefined) return empty;
    const bytes = this.bytesOf(b.hash);
    const what = `the value of ${JSON.stringify(key)}`;
    if (bytes === null) throw invalid(`${what} is a ${b.size}-byte blob; ${shape} operations work on values held inline (<= ${this.limits.valueInlineBytesMax} bytes)`);
    try {
      return decode(bytes, what);
    } catch (err) {
      if (err instanceof DstoreError) throw invalid(err.message);
      throw err;
    }
  }

  private write(key: string, value: { hash: Hash; size: number; bytes: Uint8Array | null }): KeyBinding {
    this.checkKey(key);
    const pending = this.writes.get(key);
    // Version and createRevision count transactions, not ops: a second write of the same
    // key in one transaction keeps what the first one set.
    const base = pending !== undefined && pending.binding !== null ? pending.binding : pending === undefined ? this.keyspace.get(key) : undefined;
    const rewrite = pending !== undefined && pending.binding !== null;
    const binding: Binding = {
      hash: value.hash,
      size: value.size,
      createRevision: base === undefined ? this.revision : base.createRevision,
      modRevision: this.revision,
      version: base === undefined ? 1 : rewrite ? base.version : base.version + 1,
    };
    this.writes.set(key, { binding, bytes: value.bytes });
    if (value.bytes !== null) this.newValues.set(value.hash, { size: value.size, bytes: value.bytes });
    return { key, ...binding };
  }

  private range(spec: RangeSpec): OpResult {
    const { low, high } = rangeBounds(spec);
    const limit = spec.limit === 0 ? this.limits.rangeKeysMax : Math.min(spec.limit, this.limits.rangeKeysMax);
    const overlay = [...this.writes.keys()].filter((k) => inRange(k, low, high)).sort(compareKeys);
    const kvs: KeyValue[] = [];
    let more = false;
    const emit = (key: string, b: Binding | undefined): boolean => {
      if (b === undefined) return true;
      const kv = this.keyValue(key, b, spec.withValues);
      const bytes = Buffer.byteLength(key) + (kv.value?.byteLength ?? 0) + KV_OVERHEAD_BYTES;
      const first = this.readBytesLeft === READ_BYTES_MAX;
      if (kvs.length === limit || this.readKeysLeft === 0 || (bytes > this.readBytesLeft && !first)) {
        more = true;
        return false;
      }
      this.readKeysLeft--;
      this.readBytesLeft -= bytes;
      kvs.push(kv);
      return true;
    };
    let i = 0;
    for (const kb of this.keyspace.scan(low, high)) {
      while (i < overlay.length && compareKeys(overlay[i]!, kb.key) < 0) {
        if (!emit(overlay[i]!, this.current(overlay[i]!))) return { kind: 'range', kvs, more };
        i++;
      }
      if (i < overlay.length && overlay[i] === kb.key) i++;
      if (!emit(kb.key, this.current(kb.key))) return { kind: 'range', kvs, more };
    }
    for (; i < overlay.length; i++) {
      if (!emit(overlay[i]!, this.current(overlay[i]!))) break;
    }
    return { kind: 'range', kvs, more };
  }
}
