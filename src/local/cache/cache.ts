// The Local's cache (docs/local.md): one table with a byte budget (clock-table.ts) over two
// kinds of entry, and the bookkeeping that keeps key bindings coherent with Global.
//
// - Key bindings, by key: the table entry's value is the bound value's bytes, so a hit is one
//   table lookup. The binding itself {hash, modRevision, ...} is the entry's tag (blob
//   entries are tagged null), so it comes and goes with the entry.
// - Blobs, by hash: immutable bytes, never invalidated (a hash names one value forever), only
//   evicted. A blob that a cached binding refers to lives in (and is charged to) that
//   binding's entry; otherwise it has an entry of its own. Dropping a binding (a newer
//   change) keeps its bytes as a blob entry: only eviction removes a blob.
// Whoever puts bytes here has verified them against their hash. Bytes that are a small view
// of a larger buffer are copied first (`unpinned`), so an entry never holds more than twice
// what it is charged.
//
// Fills (a miss being fetched from Global) are tracked here too, so an invalidation that
// arrives while a fill is in flight wins over it: `Fill.invalidatedRevision` records the
// newest change to its key applied meanwhile, and `placeFill` refuses a binding older than it.
//
// Pure: no I/O, no timers, no clock. The Local (local.ts) drives it.

import { assert } from '../../protocol/assert.ts';
import { checkInteger } from '../../protocol/config-check.ts';
import type { Hash } from '../../protocol/hash.ts';
import type { KeyBinding } from '../client/client-types.ts';
import { ClockTable } from './clock-table.ts';

// Invariant: blob entries live under BLOB_KEY_PREFIX + hash and bindings under their key.
// The prefix is a lone surrogate, which validateKey refuses in every key, so the two
// namespaces cannot collide and the hot path looks a binding up by the caller's own string.
const BLOB_KEY_PREFIX = '\ud800';
/**
 * Bytes charged per entry beyond its value's length and twice its key's: the map slots, the
 * binding object with its hash string, the value's array objects and the table's slot.
 * Measured by scripts/measure-entry-overhead.ts (100k bindings, --expose-gc): 419-475 bytes
 * for values of 4 B-1 KiB and keys of 8-64 characters; charged with a margin.
 */
export const ENTRY_OVERHEAD_BYTES = 512;

/** A fetch of one missing key in flight. */
export interface Fill {
  /** The bindings epoch when the fill started; a compaction in between voids the fill. */
  readonly epoch: number;
  /**
   * Highest revision of a change to this key applied while the fill was in flight (0: none;
   * Infinity: voided by a strict hold's invalidation, never placed).
   */
  invalidatedRevision: number;
}

export interface CacheStats {
  readonly bytes: number;
  readonly entries: number;
  /** Distinct values cached (blob entries and values of bindings). */
  readonly blobs: number;
  readonly bindings: number;
  readonly evictions: number;
}

/** What applyChange did to a held binding. */
export type ChangeOutcome = 'none' | 'dropped' | 'updated' | 'older';


/** The cache's table: entries tagged with their key binding, or null for a blob entry. */
export type EntryTable = ClockTable<KeyBinding | null>;

/** A table that finds nothing (a closed Local's). */
export function noBindings(): EntryTable {
  return new ClockTable<KeyBinding | null>(0, 0, () => {});
}

export interface CacheConfig {
  /** Byte budget of everything cached (values, bindings, overhead). */
  readonly cacheBytesMax: number;
  /** A value whose entry would be charged more than this is not cached. Default cacheBytesMax. */
  readonly entryBytesMax?: number;
}

/**
 * `bytes`, or a copy of them when they are a small view of a larger ArrayBuffer (a value
 * decoded from a received frame, a pooled Buffer): cached as they are, they would pin the
 * whole buffer behind them (a 4-byte value held a 492 KB frame) while charged for 4 bytes.
 * Copied when the buffer is at least twice the value, so what is held is at most twice what
 * is charged, and a value that owns its buffer is never copied.
 */
export function unpinned(bytes: Uint8Array): Uint8Array {
  return bytes.byteLength * 2 <= bytes.buffer.byteLength ? new Uint8Array(bytes) : bytes;
}

function isBlobKey(entryKey: string): boolean {
  return entryKey.charCodeAt(0) === 0xd800;
}

/**
 * `key` as V8's internalized (canonical) copy. Why: a hit is a Map lookup, and V8 compares two
 * internalized strings by pointer but any other pair character by character. Callers' keys
 * are often internalized (string literals, property names), while a binding's key was decoded
 * from a protobuf message (a fresh copy): storing that copy made every such hit compare the
 * characters, 22% fewer hits/s on a 9-character key (lru-cache alone, same key both ways).
 * Property names are always internalized, which is how this gets the copy; a key that looks
 * like an array index is not a property name and comes back equal but not internalized
 * (correct, only not faster). Allocates: for placing bindings, not for the hot path.
 */
function internalized(key: string): string {
  return Object.keys({ [key]: 0 })[0] ?? key;
}

/** What an entry is charged: its value, twice its key's length for a binding, and ENTRY_OVERHEAD_BYTES. */
function chargeOf(entryKey: string, bytes: Uint8Array): number {
  return ENTRY_OVERHEAD_BYTES + bytes.byteLength + (isBlobKey(entryKey) ? 0 : 2 * entryKey.length);
}

export class LocalCache {
  // Invariant: an entry is tagged with its binding, or null for a blob entry; `keysByHash`
  // indexes the bound keys by the hash they are bound to.
  private readonly entries: EntryTable;
  // The usual case, one key bound to a hash, is held as the key itself: a Set per entry
  // cost about 160 bytes (scripts/measure-entry-overhead.ts).
  private readonly keysByHash = new Map<Hash, string | Set<string>>();
  /** Fills in flight per key (usually one; a read at a minRevision may run beside another). */
  private readonly fills = new Map<string, Set<Fill>>();
  private epochCounter = 0;
  private blobEntries = 0;
  private evictionCount = 0;

  /** Throws InvalidArgumentError when cacheBytesMax is not an integer in 4096..2^48. */
  constructor(config: CacheConfig) {
    checkInteger('cacheBytesMax', config.cacheBytesMax, 4096, 2 ** 48);
    this.entries = new ClockTable<KeyBinding | null>(config.cacheBytesMax, config.entryBytesMax ?? config.cacheBytesMax, (entryKey, kv) => {
      this.evictionCount++;
      if (kv === null) this.blobEntries--;
      else this.unindex(entryKey, kv);
    });
  }

  /** Bumps on every dropAllBindings; fills started before are void. */
  get epoch(): number {
    return this.epochCounter;
  }

  // ---- the hot path ------------------------------------------------------------------

  /**
   * The lookup table of bindings for the hot path: `get(key)` is the value of a held binding
   * or undefined (one Map lookup, nothing else). Also finds no blob entries: no valid key can
   * name one.
   */
  get table(): EntryTable {
    return this.entries;
  }

  /**
   * The cached value of `key`, or undefined: exactly one table lookup, no allocation. Does not
   * validate `key` (an invalid key is simply not found; blob entries cannot be named by a key).
   */
  value(key: string): Uint8Array | undefined {
    return this.entries.get(key);
  }

  /** The binding held for `key` and its value, without touching recency. */
  peekBinding(key: string): { kv: KeyBinding; value: Uint8Array } | null {
    const kv = this.binding(key);
    const value = this.entries.peek(key);
    return kv === undefined || value === undefined ? null : { kv, value };
  }

  // ---- blobs ---------------------------------------------------------------------------

  /** The cached bytes of blob `hash` (refreshing its recency), or undefined. */
  blob(hash: Hash): Uint8Array | undefined {
    const own = this.entries.get(BLOB_KEY_PREFIX + hash);
    if (own !== undefined) return own;
    const key = this.keyBoundTo(hash);
    return key === undefined ? undefined : this.entries.get(key);
  }

  private peekBlob(hash: Hash): Uint8Array | undefined {
    const own = this.entries.peek(BLOB_KEY_PREFIX + hash);
    if (own !== undefined) return own;
    const key = this.keyBoundTo(hash);
    return key === undefined ? undefined : this.entries.peek(key);
  }

  /** One key bound to `hash`, if any. */
  private keyBoundTo(hash: Hash): string | undefined {
    const keys = this.keysByHash.get(hash);
    if (typeof keys === 'string' || keys === undefined) return keys;
    for (const key of keys) return key;
    return undefined;
  }

  /**
   * Caches `bytes` as blob `hash` unless cached already. The caller must have verified that
   * they hash to `hash`. Returns the cached bytes (the earlier copy when there was one), or
   * undefined when the blob is larger than the whole budget.
   */
  putBlob(hash: Hash, bytes: Uint8Array): Uint8Array | undefined {
    const existing = this.peekBlob(hash);
    if (existing !== undefined) return existing;
    const entryKey = BLOB_KEY_PREFIX + hash;
    const held = unpinned(bytes);
    if (!this.entries.set(entryKey, held, chargeOf(entryKey, held), null)) return undefined;
    this.blobEntries++;
    return held;
  }

  // ---- bindings --------------------------------------------------------------------------

  /** Starts tracking a fill of `key`; the caller must call endFill in every outcome. */
  beginFill(key: string): Fill {
    const fill: Fill = { epoch: this.epochCounter, invalidatedRevision: 0 };
    let set = this.fills.get(key);
    if (set === undefined) {
      set = new Set();
      this.fills.set(key, set);
    }
    set.add(fill);
    return fill;
  }

  endFill(key: string, fill: Fill): void {
    const set = this.fills.get(key);
    assert(set !== undefined && set.has(fill), `endFill of ${JSON.stringify(key)}: no such fill in flight`);
    set.delete(fill);
    if (set.size === 0) this.fills.delete(key);
  }

  /**
   * Places the binding a fill read, with its verified value, unless a change newer than it
   * was applied meanwhile, a compaction voided the fill, or a binding at least as new is held.
   * Returns whether the binding is now held.
   */
  placeFill(fill: Fill, kv: KeyBinding, value: Uint8Array): boolean {
    if (fill.epoch !== this.epochCounter) return false;
    if (fill.invalidatedRevision > kv.modRevision) return false;
    return this.placeBinding(kv, value);
  }

  private placeBinding(kv: KeyBinding, value: Uint8Array): boolean {
    const held = this.binding(kv.key);
    if (held !== undefined && held.modRevision >= kv.modRevision) return held.modRevision === kv.modRevision;
    const bytes = this.peekBlob(kv.hash) ?? unpinned(value);
    if (this.entries.delete(BLOB_KEY_PREFIX + kv.hash)) this.blobEntries--; // now charged to the binding
    if (held !== undefined) this.unindex(kv.key, held); // its entry is replaced (or removed) by the set below
    const key = internalized(kv.key);
    if (!this.entries.set(key, bytes, chargeOf(key, bytes), kv)) return false; // larger than the whole budget
    const keys = this.keysByHash.get(kv.hash);
    if (keys === undefined || keys === kv.key) this.keysByHash.set(kv.hash, kv.key);
    else if (typeof keys === 'string') this.keysByHash.set(kv.hash, new Set([keys, kv.key]));
    else keys.add(kv.key);
    return true;
  }

  /** The binding held for `key`, if any. */
  private binding(key: string): KeyBinding | undefined {
    return this.entries.tagOf(key) ?? undefined;
  }

  /** Takes `key`, bound to `kv`, out of `keysByHash` (its entry is removed or evicted by the caller). */
  private unindex(key: string, kv: KeyBinding): void {
    const keys = this.keysByHash.get(kv.hash);
    if (keys === key) {
      this.keysByHash.delete(kv.hash);
    } else if (typeof keys === 'object') {
      keys.delete(key);
      if (keys.size === 1) this.keysByHash.set(kv.hash, keys.values().next().value as string);
    }
  }

  /** Drops the binding of `key`, keeping its value as a blob (blobs are never invalidated). */
  private dropBinding(key: string, kv: KeyBinding): void {
    const bytes = this.entries.peek(key);
    this.entries.delete(key);
    this.unindex(key, kv);
    if (bytes !== undefined) this.putBlob(kv.hash, bytes);
  }

  /**
   * Applies one change to `key` at `revision` (an event, or this Local's own write): a held
   * binding older than `revision` is replaced by `kv` when its value is cached, else dropped;
   * a fill in flight for the key learns the revision so its older result is not placed.
   * `kv` is the new binding, or null for a delete (or a change whose value is unknown here).
   */
  applyChange(key: string, revision: number, kv: KeyBinding | null): ChangeOutcome {
    const fills = this.fills.get(key);
    if (fills !== undefined) for (const fill of fills) if (fill.invalidatedRevision < revision) fill.invalidatedRevision = revision;
    const held = this.binding(key);
    if (held === undefined) return 'none';
    if (held.modRevision >= revision) return 'older';
    const newValue = kv === null ? undefined : this.peekBlob(kv.hash);
    this.dropBinding(key, held);
    if (kv !== null && newValue !== undefined && this.placeBinding(kv, newValue)) return 'updated';
    return 'dropped';
  }

  /**
   * This Local's own write: older bindings of the key go and fills in flight learn of it. The
   * new binding is placed (read-your-writes) through `tracked`, a fill the caller began
   * before sending the write: like a fill's result, it is refused when a newer change to the
   * key was applied while the write was out (null: never placed). `bytes` must hash to
   * kv.hash (null: unknown here; then placed only if the value is cached).
   */
  applyOwnWrite(kv: KeyBinding, bytes: Uint8Array | null, tracked: Fill | null): void {
    this.applyChange(kv.key, kv.modRevision, null);
    if (tracked === null) return;
    const value = bytes ?? this.peekBlob(kv.hash);
    if (value !== undefined) this.placeFill(tracked, kv, value);
  }

  /**
   * A strict hold's invalidation (strict-hold.ts): drops the binding of `key` (its value stays
   * as a blob) and voids every fill or own write of it in flight, whatever revision it reads.
   */
  forget(key: string): void {
    const fills = this.fills.get(key);
    if (fills !== undefined) for (const fill of fills) fill.invalidatedRevision = Infinity;
    const held = this.binding(key);
    if (held !== undefined) this.dropBinding(key, held);
  }

  /** `forget` of every key that `match` accepts, bound or being filled. Returns the bindings dropped. */
  forgetWhere(match: (key: string) => boolean): number {
    for (const [key, fills] of this.fills) if (match(key)) for (const fill of fills) fill.invalidatedRevision = Infinity;
    const held = this.heldBindings().filter(([key]) => match(key));
    for (const [key, kv] of held) this.dropBinding(key, kv);
    return held.length;
  }

  /** "History compacted": drops every key binding (their values stay as blobs) and voids fills in flight. */
  dropAllBindings(): number {
    this.epochCounter++;
    const held = this.heldBindings();
    for (const [key, kv] of held) this.dropBinding(key, kv);
    return held.length;
  }

  /** Every key binding held, with its key (a copy). */
  private heldBindings(): [string, KeyBinding][] {
    return this.entries.tags().filter((entry): entry is [string, KeyBinding] => entry[1] !== null);
  }

  stats(): CacheStats {
    return {
      bytes: this.entries.bytes,
      entries: this.entries.size,
      blobs: this.blobEntries + this.keysByHash.size,
      bindings: this.entries.size - this.blobEntries,
      evictions: this.evictionCount,
    };
  }

  clear(): void {
    this.entries.clear();
    this.keysByHash.clear();
    this.blobEntries = 0;
    this.fills.clear();
  }
}
