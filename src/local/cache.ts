// The Local's cache (DESIGN.md section 6): one lru-cache with a byte budget over two kinds of
// entry, and the bookkeeping that keeps key bindings coherent with Global.
//
// - Blobs, by hash: immutable bytes, never invalidated (a hash names one value forever), only
//   evicted. Whoever puts bytes here has verified them against the hash.
// - Key bindings, by key: {key -> hash, modRevision, ...} plus a link to the blob entry of the
//   value. A binding changes only through `applyChange` (an event of the invalidation stream,
//   or this Local's own write) with a revision, and is dropped when that revision is newer.
//
// Fills (a miss being fetched from Global) are tracked here too, so an invalidation that
// arrives while a fill is in flight wins over it: `Fill.invalidatedRevision` records the
// newest change to its key applied meanwhile, and `placeFill` refuses a binding older than it.
//
// Pure: no I/O, no timers, no clock. The Local (local.ts) drives it.

import { LRUCache } from 'lru-cache';
import { assert } from '../protocol/assert.ts';
import { checkInteger } from '../protocol/config-check.ts';
import type { Hash } from '../protocol/hash.ts';
import type { KeyBinding } from './client-types.ts';

// Invariant: blob entries live under BLOB_KEY_PREFIX + hash and bindings under their key.
// The prefix is a lone surrogate, which validateKey refuses in every key, so the two
// namespaces cannot collide and the hot path looks a binding up by the caller's own string.
const BLOB_KEY_PREFIX = '\ud800';
/** Bytes charged per entry for the entry objects, the map slot and the lru bookkeeping. */
export const ENTRY_OVERHEAD_BYTES = 160;
/** A hot binding refreshes its blob's recency every this many hits (a power of two). */
const BLOB_TOUCH_EVERY_HITS = 16;

export class BlobEntry {
  readonly kind = 'blob' as const;
  constructor(
    readonly hash: Hash,
    /** The lru key, kept so the hot path does not concatenate. */
    readonly lruKey: string,
    /** The verified bytes; null once the entry left the cache (links to it are then dead). */
    public bytes: Uint8Array | null,
  ) {}
}

export class BindingEntry {
  readonly kind = 'binding' as const;
  hits = 0;
  constructor(
    readonly kv: KeyBinding,
    /** The value's blob entry when cached at the time of linking; may have died since. */
    public blob: BlobEntry | null,
  ) {}
}

type Entry = BlobEntry | BindingEntry;

/** A fetch of one missing key in flight. */
export interface Fill {
  /** The bindings epoch when the fill started; a compaction in between voids the fill. */
  readonly epoch: number;
  /** Highest revision of a change to this key applied while the fill was in flight (0: none). */
  invalidatedRevision: number;
}

export interface CacheStats {
  readonly bytes: number;
  readonly entries: number;
  readonly blobs: number;
  readonly bindings: number;
  readonly evictions: number;
}

/** What applyChange did to a held binding. */
export type ChangeOutcome = 'none' | 'dropped' | 'updated' | 'older';

export interface CacheConfig {
  /** Byte budget of everything cached (values, bindings, overhead). */
  readonly cacheBytesMax: number;
}

export class LocalCache {
  private readonly lru: LRUCache<string, Entry>;
  /** Fills in flight per key (usually one; a read at a minRevision may run beside another). */
  private readonly fills = new Map<string, Set<Fill>>();
  private epochCounter = 0;
  private blobCount = 0;
  private evictionCount = 0;

  /** Throws InvalidArgumentError when cacheBytesMax is not an integer in 4096..2^48. */
  constructor(config: CacheConfig) {
    checkInteger('cacheBytesMax', config.cacheBytesMax, 4096, 2 ** 48);
    this.lru = new LRUCache<string, Entry>({
      maxSize: config.cacheBytesMax,
      sizeCalculation: entrySize,
      dispose: (entry, _key, reason) => {
        if (entry.kind === 'blob') {
          entry.bytes = null;
          this.blobCount--;
        }
        if (reason === 'evict') this.evictionCount++;
      },
    });
  }

  /** Bumps on every dropAllBindings; fills started before are void. */
  get epoch(): number {
    return this.epochCounter;
  }

  // ---- the hot path ------------------------------------------------------------------

  /**
   * The cached value of `key`, or undefined. Synchronous and allocation-free: one lru lookup
   * and a few field reads. Does not validate `key` (an invalid key is simply not found).
   */
  value(key: string): Uint8Array | undefined {
    const entry = this.lru.get(key);
    if (entry === undefined || entry.kind !== 'binding') return undefined;
    const blob = entry.blob;
    const bytes = blob === null ? null : blob.bytes;
    if (bytes === null) return this.relink(entry);
    // Keep a hot binding's blob from drifting to the cold end (one extra lookup per 16 hits).
    if ((++entry.hits & (BLOB_TOUCH_EVERY_HITS - 1)) === 0) this.lru.get(blob!.lruKey);
    return bytes;
  }

  /** The binding held for `key` (with its value when cached), without touching recency. */
  peekBinding(key: string): { kv: KeyBinding; value: Uint8Array | null } | null {
    const entry = this.lru.peek(key);
    if (entry === undefined || entry.kind !== 'binding') return null;
    const bytes = entry.blob?.bytes ?? this.peekBlob(entry.kv.hash);
    return { kv: entry.kv, value: bytes };
  }

  /** A binding whose blob died: link it to a live entry of the same hash, if any. */
  private relink(entry: BindingEntry): Uint8Array | undefined {
    const live = this.lru.get(BLOB_KEY_PREFIX + entry.kv.hash);
    if (live === undefined || live.kind !== 'blob' || live.bytes === null) return undefined;
    entry.blob = live;
    return live.bytes;
  }

  // ---- blobs ---------------------------------------------------------------------------

  /** The cached bytes of blob `hash` (refreshing its recency), or undefined. */
  blob(hash: Hash): Uint8Array | undefined {
    const entry = this.lru.get(BLOB_KEY_PREFIX + hash);
    return entry?.kind === 'blob' && entry.bytes !== null ? entry.bytes : undefined;
  }

  private peekBlob(hash: Hash): Uint8Array | null {
    const entry = this.lru.peek(BLOB_KEY_PREFIX + hash);
    return entry?.kind === 'blob' ? entry.bytes : null;
  }

  /**
   * Caches `bytes` as blob `hash`. The caller must have verified that they hash to `hash`.
   * Returns the entry (null when the blob is larger than the whole budget: not cached).
   */
  putBlob(hash: Hash, bytes: Uint8Array): BlobEntry | null {
    const lruKey = BLOB_KEY_PREFIX + hash;
    const existing = this.lru.get(lruKey);
    if (existing?.kind === 'blob' && existing.bytes !== null) return existing;
    const entry = new BlobEntry(hash, lruKey, bytes);
    if (entrySize(entry) > this.lru.maxSize) return null;
    this.blobCount++;
    this.lru.set(lruKey, entry);
    return this.lru.peek(lruKey) === entry ? entry : null;
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
   * Places the binding a fill read (value already verified and cached as `blob`, or null),
   * unless a change newer than it was applied meanwhile, a compaction voided the fill, or a
   * newer binding is held already. Returns whether it was placed.
   */
  placeFill(fill: Fill, kv: KeyBinding, blob: BlobEntry | null): boolean {
    if (fill.epoch !== this.epochCounter) return false;
    if (fill.invalidatedRevision > kv.modRevision) return false;
    return this.placeBinding(kv, blob);
  }

  private placeBinding(kv: KeyBinding, blob: BlobEntry | null): boolean {
    const held = this.lru.peek(kv.key);
    if (held?.kind === 'binding' && held.kv.modRevision >= kv.modRevision) return held.kv.modRevision === kv.modRevision;
    this.lru.set(kv.key, new BindingEntry(kv, blob));
    return true;
  }

  /**
   * Applies one change to `key` at `revision` (an event, or this Local's own write): a held
   * binding older than `revision` is replaced by `kv` when its blob is cached, else dropped;
   * a fill in flight for the key learns the revision so its older result is not placed.
   * `kv` is the new binding, or null for a delete (or a change whose value is unknown here).
   */
  applyChange(key: string, revision: number, kv: KeyBinding | null): ChangeOutcome {
    const fills = this.fills.get(key);
    if (fills !== undefined) for (const fill of fills) if (fill.invalidatedRevision < revision) fill.invalidatedRevision = revision;
    const held = this.lru.peek(key);
    if (held === undefined || held.kind !== 'binding') return 'none';
    if (held.kv.modRevision >= revision) return 'older';
    if (kv !== null) {
      const blobEntry = this.lru.peek(BLOB_KEY_PREFIX + kv.hash);
      if (blobEntry?.kind === 'blob' && blobEntry.bytes !== null) {
        this.lru.set(key, new BindingEntry(kv, blobEntry));
        return 'updated';
      }
    }
    this.lru.delete(key);
    return 'dropped';
  }

  /** Places this Local's own write (read-your-writes): `bytes` must hash to kv.hash. */
  applyOwnWrite(kv: KeyBinding, bytes: Uint8Array | null): void {
    this.applyChange(kv.key, kv.modRevision, null);
    const blob = bytes === null ? null : this.putBlob(kv.hash, bytes);
    if (blob !== null || this.peekBlob(kv.hash) !== null) this.placeBinding(kv, blob);
  }

  /** "History compacted": drops every key binding (blobs stay) and voids fills in flight. */
  dropAllBindings(): number {
    this.epochCounter++;
    let dropped = 0;
    for (const [key, entry] of this.lru.entries()) {
      if (entry.kind === 'binding') {
        this.lru.delete(key);
        dropped++;
      }
    }
    return dropped;
  }

  /** Whether a fill of `key` is in flight. */
  filling(key: string): boolean {
    return this.fills.has(key);
  }

  stats(): CacheStats {
    const entries = this.lru.size;
    return {
      bytes: this.lru.calculatedSize,
      entries,
      blobs: this.blobCount,
      bindings: entries - this.blobCount,
      evictions: this.evictionCount,
    };
  }

  clear(): void {
    this.lru.clear();
    this.fills.clear();
  }
}

function entrySize(entry: Entry): number {
  if (entry.kind === 'blob') return ENTRY_OVERHEAD_BYTES + (entry.bytes?.byteLength ?? 0);
  return ENTRY_OVERHEAD_BYTES + 2 * entry.kv.key.length;
}
