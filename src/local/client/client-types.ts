// The Global client's vocabulary: plain, readonly domain types, independent of the generated
// protobuf types (client-codec.ts converts at the boundary). Hashes are `Hash` (hex), sizes
// and revisions are numbers (below 2^53 by the protocol's contract), integers of structured
// values are bigint.

import type { Hash } from '../../protocol/hash.ts';

/** How a read is served: linearizable (default) or serializable (any replica, may lag). */
export type ReadConsistency = 'linearizable' | 'serializable';

/** A key's binding, without its value. */
export interface KeyBinding {
  readonly key: string;
  readonly hash: Hash;
  readonly size: number;
  readonly createRevision: number;
  readonly modRevision: number;
  /** Changes since creation: 1 after the creating put. */
  readonly version: number;
}

/** A binding and, when it was asked for and is at most the server's inline limit, its value. */
export interface KeyValue extends KeyBinding {
  /** The value (verified against `hash`), or null: not asked for, or too large to inline (use getBlob). */
  readonly value: Uint8Array | null;
}

/** A value given to a write: the bytes, or a blob already on Global by its hash. */
export type ValueInput = Uint8Array | { readonly blobHash: Hash };

export type Compare =
  | { readonly key: string; readonly target: 'exists'; readonly operator: 'equal' | 'notEqual'; readonly exists: boolean }
  | { readonly key: string; readonly target: 'hash'; readonly operator: 'equal' | 'notEqual'; readonly hash: Hash | null }
  | {
      readonly key: string;
      readonly target: 'version' | 'modRevision';
      readonly operator: 'equal' | 'notEqual' | 'less' | 'greater';
      readonly number: number;
    };

/** Keys in [start, end) (end '' = unbounded), or every key beginning with `prefix` when set. */
export interface RangeSpec {
  readonly start?: string;
  readonly end?: string;
  readonly prefix?: string;
  /** Most keys to return; 0 or absent = the server's maximum. */
  readonly limit?: number;
  readonly withValues?: boolean;
}

export interface MapEntry {
  readonly field: string;
  readonly value: Uint8Array;
}

export type Op =
  | { readonly kind: 'get'; readonly key: string; readonly withValue?: boolean }
  | { readonly kind: 'put'; readonly key: string; readonly value: ValueInput }
  | { readonly kind: 'putIfAbsent'; readonly key: string; readonly value: ValueInput }
  | { readonly kind: 'delete'; readonly key: string }
  | { readonly kind: 'range'; readonly range: RangeSpec }
  | { readonly kind: 'listAppend'; readonly key: string; readonly items: readonly Uint8Array[] }
  | { readonly kind: 'mapStore'; readonly key: string; readonly entries: readonly MapEntry[] }
  | { readonly kind: 'mapDelete'; readonly key: string; readonly fields: readonly string[] }
  | { readonly kind: 'add'; readonly key: string; readonly delta: bigint };

export interface Txn {
  readonly compares?: readonly Compare[];
  readonly success?: readonly Op[];
  readonly failure?: readonly Op[];
}

export type OpResult =
  | { readonly kind: 'get'; readonly kv: KeyValue | null }
  | { readonly kind: 'written'; readonly kv: KeyBinding }
  | { readonly kind: 'delete'; readonly deleted: boolean; readonly prev: KeyBinding | null }
  | { readonly kind: 'range'; readonly kvs: readonly KeyValue[]; readonly more: boolean }
  | { readonly kind: 'number'; readonly value: bigint }
  /**
   * A read (get, range) of a transaction that was retried after its first execution had
   * committed: the server keeps only the write results of past executions (sent as a
   * TxnOpResult with no member set). Read the keys again if they are needed.
   */
  | { readonly kind: 'notRetained' };

/** Every successful response carries the revision it reflects and the replica that served it. */
export interface Header {
  readonly revision: number;
  readonly replicaId: number;
}

export interface GetResult extends Header {
  /** null when the key is not bound. */
  readonly kv: KeyValue | null;
}

export interface SetResult extends Header {
  readonly kv: KeyBinding;
}

export interface DeleteResult extends Header {
  readonly deleted: boolean;
  readonly prev: KeyBinding | null;
}

export interface TxnResult extends Header {
  readonly succeeded: boolean;
  readonly results: readonly OpResult[];
}

export interface RangeResult extends Header {
  readonly kvs: readonly KeyValue[];
  /** More keys matched than were returned: continue from the last key + "\0". */
  readonly more: boolean;
}

export interface ServerLimits {
  readonly keyBytesMax: number;
  readonly valueInlineBytesMax: number;
  readonly blobBytesMax: number;
  readonly requestBytesMax: number;
  readonly frameRequestsMax: number;
  readonly rangeKeysMax: number;
}

export interface ServerMember {
  readonly id: number;
  readonly address: string;
  readonly connected: boolean;
  readonly decidedInstance: number;
}

/** One replica's view of the cluster (Global.Status). */
export interface ServerStatus {
  readonly replicaId: number;
  readonly version: string;
  /** 0 when no leader is known. */
  readonly leaderId: number;
  readonly leaderAddress: string;
  readonly isLeader: boolean;
  readonly decidedInstance: number;
  readonly appliedRevision: number;
  readonly oldestRevision: number;
  readonly members: readonly ServerMember[];
  readonly keyCount: number;
  readonly walBytes: number;
  readonly blobBytes: number;
  /** null when the server sent none. */
  readonly limits: ServerLimits | null;
  /** Set only by a node's Local: how it serves its cache (attach.ts follows it). */
  readonly nodeLocal: NodeLocalTerms | null;
}

/** A node's Local, as its attached workers must follow it (StatusResponse.node_local). */
export interface NodeLocalTerms {
  readonly leaseMs: number;
  /** Modes as named in docs/coherence.md ('bounded', 'eventual', 'strict'): not checked here. */
  readonly coherence: string;
  readonly coherenceByPrefix: Readonly<Record<string, string>>;
  readonly prefix: string;
}

export interface PutBlobResult {
  readonly hash: Hash;
  readonly size: number;
  /** The replica asked already held the blob (MissingBlobs, or PutBlob's `existed`, said so): none of these bytes stored it. */
  readonly existed: boolean;
  /** Bytes were sent (false when MissingBlobs said Global had it). */
  readonly uploaded: boolean;
}

/** A change to one key, as a subscriber sees it. */
export type ChangeEvent =
  | { readonly type: 'put'; readonly kv: KeyBinding }
  | { readonly type: 'delete'; readonly key: string; readonly revision: number };

/** One message of a subscription: the events of whole revisions, or a progress notice. */
export type SubscribeMessage =
  | { readonly kind: 'events'; readonly revision: number; readonly events: readonly ChangeEvent[] }
  | { readonly kind: 'progress'; readonly revision: number };
