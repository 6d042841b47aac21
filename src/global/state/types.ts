// The state machine's own vocabulary: commands it applies (decoded from the log) and the
// results it returns. Plain data, independent of protobuf, so the state machine can be
// tested and simulated without the wire format; codec.ts converts at the boundary.

import type { Hash } from '../../protocol/hash.ts';

/** A key's binding to a content-addressed value. */
export interface Binding {
  readonly hash: Hash;
  readonly size: number;
  readonly createRevision: number;
  readonly modRevision: number;
  /** Changes since creation: 1 after the creating put. */
  readonly version: number;
}

export interface KeyBinding extends Binding {
  readonly key: string;
}

/** A value in a command: inline bytes (travel in the log) or a blob already stored on a majority. */
export type ValueRef =
  | { readonly kind: 'inline'; readonly bytes: Uint8Array }
  | { readonly kind: 'blob'; readonly hash: Hash; readonly size: number };

export type CompareTarget = 'exists' | 'hash' | 'version' | 'modRevision';
export type CompareOperator = 'equal' | 'notEqual' | 'less' | 'greater';

export type Compare =
  | { readonly key: string; readonly target: 'exists'; readonly operator: 'equal' | 'notEqual'; readonly exists: boolean }
  | { readonly key: string; readonly target: 'hash'; readonly operator: 'equal' | 'notEqual'; readonly hash: Hash | null }
  | { readonly key: string; readonly target: 'version' | 'modRevision'; readonly operator: CompareOperator; readonly number: number };

/** Keys in [start, end) (end '' = unbounded), or every key with `prefix` when it is set. */
export interface RangeSpec {
  readonly start: string;
  readonly end: string;
  readonly prefix: string;
  /** 0 = the configured maximum. */
  readonly limit: number;
  readonly withValues: boolean;
}

export type Op =
  | { readonly kind: 'get'; readonly key: string; readonly withValue: boolean }
  | { readonly kind: 'put'; readonly key: string; readonly value: ValueRef }
  | { readonly kind: 'putIfAbsent'; readonly key: string; readonly value: ValueRef }
  | { readonly kind: 'delete'; readonly key: string }
  | { readonly kind: 'range'; readonly range: RangeSpec }
  | { readonly kind: 'listAppend'; readonly key: string; readonly items: readonly Uint8Array[] }
  | { readonly kind: 'mapStore'; readonly key: string; readonly entries: readonly MapEntry[] }
  | { readonly kind: 'mapDelete'; readonly key: string; readonly fields: readonly string[] }
  | { readonly kind: 'add'; readonly key: string; readonly delta: bigint };

export interface MapEntry {
  readonly field: string;
  readonly value: Uint8Array;
}

export interface Txn {
  readonly compares: readonly Compare[];
  readonly success: readonly Op[];
  readonly failure: readonly Op[];
}

/** Identifies a write for exactly-once execution. */
export interface WriteId {
  readonly clientId: string;
  readonly requestId: number;
  /** Every lower request id of this client was answered: their results may be forgotten. */
  readonly firstIncomplete: number;
}

/** One entry of a log instance's command batch. */
export interface Command {
  readonly writeId: WriteId | null;
  readonly txn: Txn;
}

/** A log command that did not decode: applied as a failed transaction on every replica. */
export interface InvalidCommand {
  readonly invalid: string;
}

/** A key's binding with its value when it was asked for and is small enough to carry. */
export interface KeyValue extends KeyBinding {
  /** The value, when requested and at most the inline limit; otherwise null. */
  readonly value: Uint8Array | null;
}

export type OpResult =
  | { readonly kind: 'get'; readonly kv: KeyValue | null }
  | { readonly kind: 'written'; readonly kv: KeyBinding }
  | { readonly kind: 'delete'; readonly prev: KeyBinding | null }
  | { readonly kind: 'range'; readonly kvs: readonly KeyValue[]; readonly more: boolean }
  | { readonly kind: 'number'; readonly value: bigint }
  /** A read result not kept for a duplicate request (see sessions.ts). */
  | { readonly kind: 'notRetained' };

/** Errors that abort a transaction: deterministic, so they are results, not exceptions. */
export interface TxnFailure {
  readonly code: 'KEY_OCCUPIED' | 'INVALID_ARGUMENT' | 'SESSION_EXPIRED';
  readonly message: string;
}

export interface TxnResult {
  /** The revision after this transaction (its own when it changed keys). */
  readonly revision: number;
  readonly succeeded: boolean;
  readonly results: readonly OpResult[];
  /** Set when the transaction was aborted and changed nothing. */
  readonly failure: TxnFailure | null;
  /** True when this is the stored result of an earlier execution of the same WriteId. */
  readonly duplicate: boolean;
}

/** A change to one key, as subscribers see it. */
export type ChangeEvent =
  | { readonly type: 'put'; readonly kv: KeyBinding }
  | { readonly type: 'delete'; readonly key: string; readonly revision: number };
