// Snapshot and restore of the state machine, and its checksum.
//
// The encoding (snapshot.proto) is deterministic, so the checksum is simply the BLAKE3
// hash of the snapshot bytes: two replicas at the same applied instance have the same
// checksum exactly when their states are equal. Change history is not part of the state:
// a restored replica's history starts at the snapshot's revision.

import protobuf from 'protobufjs';
import { fileURLToPath } from 'node:url';
import { assert, assertNever } from '../../protocol/assert.ts';
import { CorruptError } from '../../protocol/errors.ts';
import { hashFromBytes, hashOf, hashToBytes, type Hash } from '../../protocol/hash.ts';
import type { ClientSession } from './sessions.ts';
import { StateMachine, type StateMachineConfig, STATE_MACHINE_DEFAULTS } from './state-machine.ts';
import type { KeyBinding, OpResult, TxnFailure, TxnResult } from './types.ts';

const FORMAT_VERSION = 1;
const root = protobuf.loadSync(fileURLToPath(new URL('./snapshot.proto', import.meta.url)));
const StateSnapshot = root.lookupType('dstore.internal.StateSnapshot');

// Decoded shapes (protobufjs with longs as numbers; see toObject options below).
interface KeyBindingMsg { key: string; hash: Uint8Array; size: number; createRevision: number; modRevision: number; version: number }
interface StoredOpResultMsg { written?: KeyBindingMsg; deleted?: KeyBindingMsg; deleteMissed?: boolean; number?: string; notRetained?: boolean }
interface StoredResultMsg { requestId: number; revision: number; succeeded: boolean; failureCode: string; failureMessage: string; opResults: StoredOpResultMsg[] }
interface SnapshotMsg {
  formatVersion: number;
  appliedInstance: number;
  revision: number;
  values: { hash: Uint8Array; size: number; held: boolean; bytes: Uint8Array }[];
  keys: KeyBindingMsg[];
  sessions: { clientId: string; forgottenThrough: number; expiredThrough: number; results: StoredResultMsg[] }[];
}

function bindingMsg(kb: KeyBinding): KeyBindingMsg {
  return { key: kb.key, hash: hashToBytes(kb.hash), size: kb.size, createRevision: kb.createRevision, modRevision: kb.modRevision, version: kb.version };
}

function opResultMsg(r: OpResult): StoredOpResultMsg {
  switch (r.kind) {
    case 'written': return { written: bindingMsg(r.kv) };
    case 'delete': return r.prev === null ? { deleteMissed: true } : { deleted: bindingMsg(r.prev) };
    case 'number': return { number: r.value.toString() };
    case 'get':
    case 'range':
    case 'notRetained':
      return { notRetained: true };
    default: return assertNever(r, 'op result');
  }
}

function resultMsg(requestId: number, r: TxnResult): StoredResultMsg {
  return {
    requestId,
    revision: r.revision,
    succeeded: r.succeeded,
    failureCode: r.failure?.code ?? '',
    failureMessage: r.failure?.message ?? '',
    opResults: r.results.map(opResultMsg),
  };
}

/** Encodes the whole state. The caller owns the returned bytes. */
export function encodeSnapshot(sm: StateMachine): Uint8Array {
  const msg: SnapshotMsg = {
    formatVersion: FORMAT_VERSION,
    appliedInstance: sm.appliedInstance,
    revision: sm.revision,
    values: sm.keyspace.sortedValues().map(([hash, v]) => ({ hash: hashToBytes(hash), size: v.size, held: v.bytes !== null, bytes: v.bytes ?? new Uint8Array(0) })),
    keys: [...sm.keyspace.entries()].map(([key, b]) => bindingMsg({ key, ...b })),
    sessions: [...sm.sessions.entries()].map(([clientId, s]) => ({
      clientId,
      forgottenThrough: s.forgottenThrough,
      expiredThrough: s.expiredThrough,
      results: [...s.results.entries()].map(([requestId, r]) => resultMsg(requestId, r)),
    })),
  };
  return StateSnapshot.encode(StateSnapshot.fromObject(msg)).finish();
}

/** The state's checksum: equal on two replicas at one instance iff their states are equal. */
export function stateChecksum(sm: StateMachine): Hash {
  return hashOf(encodeSnapshot(sm));
}

function bindingOf(m: KeyBindingMsg): KeyBinding {
  return { key: m.key, hash: hashFromBytes(m.hash), size: m.size, createRevision: m.createRevision, modRevision: m.modRevision, version: m.version };
}

/**
 * Builds a state machine from snapshot bytes. Throws CorruptError when the bytes do not
 * decode or violate the format (the caller verified their hash, so this means a bug or an
 * incompatible version, never data to load anyway).
 */
export function decodeSnapshot(bytes: Uint8Array, config: StateMachineConfig = STATE_MACHINE_DEFAULTS): StateMachine {
  let msg: SnapshotMsg;
  try {
    msg = StateSnapshot.toObject(StateSnapshot.decode(bytes), { longs: Number, defaults: true, arrays: true }) as SnapshotMsg;
  } catch (err) {
    throw new CorruptError(`state snapshot does not decode: ${(err as Error).message}`);
  }
  if (msg.formatVersion !== FORMAT_VERSION) {
    throw new CorruptError(`state snapshot format ${msg.formatVersion} is not supported (this build reads ${FORMAT_VERSION})`);
  }
  const sm = new StateMachine(config);
  const sizes = new Map<Hash, number>();
  for (const v of msg.values) {
    const hash = hashFromBytes(v.hash);
    sizes.set(hash, v.size);
    sm.keyspace.restoreValue(hash, v.size, v.held ? Uint8Array.from(v.bytes) : null);
  }
  for (const k of msg.keys) {
    const hash = hashFromBytes(k.hash);
    if (sizes.get(hash) !== k.size) throw new CorruptError(`state snapshot binds ${JSON.stringify(k.key)} to value ${hash} it does not hold with size ${k.size}`);
    const { key, ...binding } = bindingOf(k);
    sm.keyspace.restoreBinding(key, binding);
  }
  sm.sessions.restore(msg.sessions.map((s): [string, ClientSession] => [s.clientId, {
    forgottenThrough: s.forgottenThrough,
    expiredThrough: s.expiredThrough,
    results: new Map(s.results.map((r) => [r.requestId, resultOf(r)])),
  }]));
  sm.restoreCounters(msg.appliedInstance, msg.revision);
  return sm;
}

function resultOf(r: StoredResultMsg): TxnResult {
  const results = r.opResults.map((o): OpResult => {
    if (o.written) return { kind: 'written', kv: bindingOf(o.written) };
    if (o.deleted) return { kind: 'delete', prev: bindingOf(o.deleted) };
    if (o.deleteMissed) return { kind: 'delete', prev: null };
    if (o.number !== undefined && o.number !== '') return { kind: 'number', value: BigInt(o.number) };
    assert(o.notRetained === true, 'stored op result has one kind');
    return { kind: 'notRetained' };
  });
  const failure = r.failureCode === '' ? null : { code: r.failureCode as TxnFailure['code'], message: r.failureMessage };
  return { revision: r.revision, succeeded: r.succeeded, results, failure, duplicate: true };
}
