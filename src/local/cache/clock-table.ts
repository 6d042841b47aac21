// The Local's cache table: entries by key within a byte budget, evicted in CLOCK order
// (second chance), so that a hit is a Map lookup and a flag, not a list move.
//
// Why not lru-cache: its `get` goes through an options object, a diagnostics check, `#get`
// and a move in its recency list, and is as fast as a Map lookup only when V8 inlines all of
// that into the caller's loop; behind the Local's lease check the inlining budget ran out
// (0.62-0.73x a bare lru-cache, docs/local.md). Here a hit sets the entry's `used` bit; the
// eviction hand walks the entries oldest first, gives a used entry a second chance (clears the
// bit and moves it to the back) and evicts the first entry it finds unused. An entry is
// evicted only after a whole sweep found it unused: approximately least recently used.
//
// Pure: no I/O, no timers, no clock. The caller says what each entry is charged, and may tag
// it (LocalCache tags a key binding's entry with the binding, so it needs no second map).

/** One entry. Every slot is made by `set`, so all have one shape (V8 keeps the hit monomorphic). */
interface Slot<T> {
  readonly value: Uint8Array;
  readonly bytes: number;
  readonly tag: T;
  /** Hit since the hand last passed it. */
  used: boolean;
}

export class ClockTable<T = null> {
  // Invariant: `bytes` is the sum of the slots' charges and at most `bytesMax`. The Map's
  // order is the clock: the hand is at its front, entries placed or given a second chance go
  // to its back.
  private readonly slots = new Map<string, Slot<T>>();
  // One iterator kept across calls: a fresh one would start at the Map's first slot and step
  // over every deleted one before it (V8 leaves holes until it rehashes), each time. Made at
  // the first eviction, not before: an iterator keeps every table the Map outgrew since it last
  // moved, which for a cache that is still filling would be memory nobody is charged for.
  private hand: MapIterator<[string, Slot<T>]> | null = null;
  private bytesTotal = 0;

  /** `evicted(key, tag)` is called for each entry removed to make room (not for delete or clear). */
  constructor(
    readonly bytesMax: number,
    /** An entry charged more than this is not placed (set returns false). */
    readonly entryBytesMax: number,
    private readonly evicted: (key: string, tag: T) => void,
  ) {}

  /** The value of `key`, marking it used; undefined when absent. The hit path: keep it this small. */
  get(key: string): Uint8Array | undefined {
    const slot = this.slots.get(key);
    if (slot === undefined) return undefined;
    if (slot.used === false) slot.used = true; // a load, and a store only on the first hit per sweep
    return slot.value;
  }

  /** The value of `key` without marking it used. */
  peek(key: string): Uint8Array | undefined {
    return this.slots.get(key)?.value;
  }

  /** The tag of `key`'s entry; undefined when absent. */
  tagOf(key: string): T | undefined {
    return this.slots.get(key)?.tag;
  }

  /** Every entry's key and tag, oldest first (a copy: the caller may delete while reading). */
  tags(): [string, T][] {
    return Array.from(this.slots, ([key, slot]) => [key, slot.tag]);
  }

  /**
   * Places `value` under `key`, charged `bytes` and tagged `tag`, replacing what `key` held
   * (without calling `evicted` for it), after evicting entries until it fits. Returns false
   * (and holds nothing under `key`) when `bytes` exceeds the whole budget or `entryBytesMax`.
   */
  set(key: string, value: Uint8Array, bytes: number, tag: T): boolean {
    this.delete(key);
    if (bytes > this.bytesMax || bytes > this.entryBytesMax) return false;
    this.evictUntil(this.bytesMax - bytes);
    this.slots.set(key, { value, bytes, tag, used: false });
    this.bytesTotal += bytes;
    return true;
  }

  /** Removes `key` (without calling `evicted`). Returns whether it was held. */
  delete(key: string): boolean {
    const slot = this.slots.get(key);
    if (slot === undefined) return false;
    this.slots.delete(key);
    this.bytesTotal -= slot.bytes;
    return true;
  }

  clear(): void {
    this.slots.clear();
    this.hand = null;
    this.bytesTotal = 0;
  }

  get size(): number {
    return this.slots.size;
  }

  /** What the entries are charged in all. */
  get bytes(): number {
    return this.bytesTotal;
  }

  /** Evicts until at most `bytesLeft` are charged. Ends: a second chance clears a bit, so each entry moves back at most once. */
  private evictUntil(bytesLeft: number): void {
    while (this.bytesTotal > bytesLeft) {
      let step = this.hand?.next();
      if (step === undefined || step.done === true) {
        this.hand = this.slots.entries(); // none yet, or it ran out (the table was emptied)
        step = this.hand.next();
        if (step.done === true) return;
      }
      const [key, slot] = step.value;
      this.slots.delete(key);
      if (slot.used) {
        slot.used = false;
        this.slots.set(key, slot);
      } else {
        this.bytesTotal -= slot.bytes;
        this.evicted(key, slot.tag);
      }
    }
  }
}
