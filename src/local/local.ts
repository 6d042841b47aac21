// The Local: a per-node cache in front of Global (docs/local.md), as a library that
// worker code links in-process (`Local.open`) and that `LocalServer` serves to the other
// processes of the node.
//
// Reads: a cached binding whose value is cached is served from memory while the lease holds
// (`getCached` is the synchronous hot path); otherwise one fill per key goes to Global
// (single-flight), and its result is placed only if no newer change to the key was applied
// meanwhile. Blobs are cached by hash, verified (by the Global client) before they are cached,
// and served whatever the lease says.
// Writes go to Global; their result is applied to this cache at once (read-your-writes), and
// return the revision, which another Local's `get(key, {minRevision})` can wait for.
//
// Errors: every method rejects only with DstoreError subclasses (src/protocol/errors.ts), as
// GlobalClient does; UnavailableError says Global cannot be reached and what to check.
// Arguments are only read; byte arrays passed in must not change afterwards (they may be
// cached as they are). Returned byte arrays are the cache's own: callers must not modify them.

import { systemClock, systemRandom, type Clock, type Random, type Timer } from '../protocol/backoff.ts';
import { checkInteger } from '../protocol/config-check.ts';
import { ClosedError, CorruptError, InvalidArgumentError } from '../protocol/errors.ts';
import { hashOf, parseHash, type Hash } from '../protocol/hash.ts';
import { validateKey } from '../protocol/keys.ts';
import { LocalCache, noBindings, type CacheStats, type EntryTable, type Fill } from './cache/cache.ts';
import type {
  DeleteResult,
  GetResult,
  KeyBinding,
  NodeLocalTerms,
  Op,
  PutBlobResult,
  RangeResult,
  RangeSpec,
  ServerLimits,
  SubscribeMessage,
  Txn,
  TxnResult,
  ValueInput,
} from './client/client-types.ts';
import { GlobalClient, type GlobalClientConfig, type PutBlobStreamOptions, type RangeOptions, type WriteOptions } from './client/client.ts';
import { Freshness, type CoherenceMode } from './cache/freshness.ts';
import { InvalidationStream, type InvalidationSink } from './cache/invalidation-stream.ts';
import { StrictHold, type StrictHoldStatus } from './cache/strict-hold.ts';
import { acquireTimeWord } from './cache/lease-clock.ts';
import type { StreamStatus } from './cache/invalidation-state.ts';
import { guardListener, type WatchEvent, type WatchOptions } from './watch-listener.ts';
import { controlled, type CallControl } from './call-control.ts';
import { watchEvents, type WatchEventsOptions } from './watch-events.ts';
import { jsonOf, jsonValue, textOf, toValueInput, type ValueLike } from './value-text.ts';

export type { WatchEvent, WatchOptions } from './watch-listener.ts';
export type { CallControl } from './call-control.ts';
export type { WatchEventsOptions } from './watch-events.ts';
export type { ValueLike } from './value-text.ts';

export interface LocalConfig {
  /** Global replicas, "host:port"; at least one. */
  readonly global: readonly string[];
  /** Byte budget of the cache (values, bindings and bookkeeping). Default 256 MiB. */
  readonly cacheBytesMax?: number;
  /** Values whose entry would be charged more than this are not cached. Default cacheBytesMax. */
  readonly cacheEntryBytesMax?: number;
  /**
   * The staleness bound of 'bounded' keys: a cached read reflects every write acknowledged
   * more than this before it began (docs/coherence.md). Default 1000.
   */
  readonly leaseMs?: number;
  /** How bindings of keys no `coherenceByPrefix` entry covers are served. Default 'bounded'. */
  readonly coherence?: CoherenceMode;
  /**
   * Modes for key prefixes (the longest matching prefix wins), e.g. {'config/': 'eventual',
   * 'orders/': 'strict'}. 'strict' needs every Global replica started with holderLeaseMs.
   */
  readonly coherenceByPrefix?: Readonly<Record<string, CoherenceMode>>;
  /** How often the lease is re-proved with a probe to Global. Default leaseMs / 4. */
  readonly probeIntervalMs?: number;
  /** How long get(key, {minRevision}) waits for the stream to reach the revision. Default 10000. */
  readonly minRevisionWaitMs?: number;
  /** Cache only keys with this prefix (the subscription's filter). Default '' (every key). */
  readonly prefix?: string;
  /** Passed to the Global client (limits, deadlines, backoff). */
  readonly client?: Omit<GlobalClientConfig, 'addresses' | 'clock' | 'random'>;
  /**
   * The Global client to use instead of one built from `global` and `client` (tests hold its
   * answers; an embedder may share one). The Local closes it on close.
   */
  readonly globalClient?: GlobalClient;
  /** Time for the lease and the stream's backoff (tests pass a fake). */
  readonly clock?: Clock;
  readonly random?: Random;
  /** A bug in the Local (an assertion failed on the stream). Default: rethrown asynchronously. */
  readonly onFatal?: (err: unknown) => void;
  /**
   * Keys of 'strict' prefixes are never cached here: every read of one goes to `global`, which
   * is a node's Local serving them under its own hold (an attached worker: attach.ts). No hold
   * is registered. Default false.
   */
  readonly strictByUpstream?: boolean;
}

/** What a Local hands on after its cache applied it: a stream message, or a jump (below). */
export type AppliedChange =
  | { readonly kind: 'message'; readonly message: SubscribeMessage }
  /**
   * The applied revision moved without the events in between (the start, after Status; a
   * compaction): `revision` is the new applied revision (null: not known yet).
   */
  | { readonly kind: 'jump'; readonly revision: number | null };

export const LOCAL_DEFAULTS = {
  cacheBytesMax: 256 * 1024 * 1024,
  leaseMs: 1000,
  minRevisionWaitMs: 10_000,
} as const;

/** Progress notices arrive at least every 100 ms (global.proto); a shorter lease would flap. */
export const LEASE_MS_MIN = 200;
/** Probes more often than this would only load the leader. */
export const PROBE_INTERVAL_MS_MIN = 20;

/** Where a read was served from. */
/** 'local': served by the node's Local a worker is attached to (from its cache or from Global). */
export type ReadSource = 'cache' | 'global' | 'local';

export interface LocalValue {
  readonly kv: KeyBinding;
  /** The value; the cache's own bytes: do not modify. */
  readonly value: Uint8Array;
  readonly source: ReadSource;
  /**
   * The revision the read reflects: the state of every key as of this revision is what a
   * read at that revision returns for `kv.key` (a cache hit: the revision this Local had
   * applied; a read from Global: the revision Global answered at). Never below the
   * `minRevision` asked for.
   */
  readonly revision: number;
}

/** A read's answer, found or not: `get` without the null. */
export interface LocalRead {
  /** The binding and its value, or null when the key is not bound at `revision`. */
  readonly found: LocalValue | null;
  /** As LocalValue.revision. */
  readonly revision: number;
  readonly source: ReadSource;
}

/**
 * 'cached' (default): served from the cache while the lease (or the key's mode) allows, else
 * read from Global. 'linearizable': always read from Global, linearizably, even when cached;
 * the answer refreshes the cache under the fill rules (never older than what is held).
 */
export type LocalReadConsistency = 'cached' | 'linearizable';

export interface LocalGetOptions extends CallControl {
  /** Wait until this Local has applied at least this revision (a write's revision). */
  readonly minRevision?: number;
  readonly consistency?: LocalReadConsistency;
}

/** Options of the Local API's writes: a deadline and a signal (call-control.ts). */
export interface LocalWriteOptions extends CallControl, WriteOptions {}

export interface WriteResult {
  /** The revision the write committed at. */
  readonly revision: number;
  readonly kv: KeyBinding;
}

export interface ReplaceOptions extends LocalWriteOptions {
  /** Replace only if the key's modRevision is this (0: only if absent). Default: the current one. */
  readonly ifModRevision?: number;
}

export interface ReplaceResult {
  readonly replaced: boolean;
  readonly revision: number;
  /** The new binding when replaced. */
  readonly kv: KeyBinding | null;
}


export interface LocalStats {
  readonly hits: number;
  readonly misses: number;
  /** Bytes charged to the cache's budget. */
  readonly bytes: number;
  readonly cacheBytesMax: number;
  readonly entries: number;
  readonly blobs: number;
  readonly bindings: number;
  readonly evictions: number;
  /** Cached bindings dropped or replaced by a change that arrived on the stream (others' writes). */
  readonly invalidations: number;
  /** The last revision applied from the invalidation stream (0 before the first). */
  readonly revision: number;
  /** Highest revision seen in any answer from Global minus `revision`: how far the stream trails. */
  readonly lagRevisions: number;
  readonly leaseValid: boolean;
  /** How long the lease still runs (0 when it does not hold). */
  readonly leaseLeftMs: number;
  readonly leaseMs: number;
  /** The mode of keys no prefix entry covers, and the modes by prefix (docs/coherence.md). */
  readonly coherence: CoherenceMode;
  readonly coherenceByPrefix: Readonly<Record<string, CoherenceMode>>;
  readonly stream: StreamStatus;
  readonly resubscribes: number;
  readonly compactions: number;
  /** Streams dropped because their replica stayed behind what Global had committed. */
  readonly lagDrops: number;
  /** The strict hold with Global's leader (strict-hold.ts); null when no prefix is 'strict'. */
  readonly strictHold: StrictHoldStatus | null;
}

/** The API a worker uses, whether it links a Local (`Local`) or attaches to one (`AttachedLocal`). */
export interface DstoreApi {
  get(key: string, options?: LocalGetOptions): Promise<LocalValue | null>;
  read(key: string, options?: LocalGetOptions): Promise<LocalRead>;
  getMany(keys: readonly string[], options?: LocalGetOptions): Promise<LocalRead[]>;
  getText(key: string, options?: LocalGetOptions): Promise<string | null>;
  getJson<T = unknown>(key: string, options?: LocalGetOptions): Promise<T | null>;
  getCached(key: string): Uint8Array | undefined;
  ready(timeoutMs?: number): Promise<boolean>;
  set(key: string, value: ValueLike, options?: LocalWriteOptions): Promise<WriteResult>;
  put(key: string, value: ValueLike, options?: LocalWriteOptions): Promise<WriteResult>;
  putJson(key: string, value: unknown, options?: LocalWriteOptions): Promise<WriteResult>;
  del(key: string, options?: LocalWriteOptions): Promise<DeleteResult>;
  replace(key: string, value: ValueLike, options?: ReplaceOptions): Promise<ReplaceResult>;
  txn(txn: Txn, options?: LocalWriteOptions): Promise<TxnResult>;
  range(spec: RangeSpec): Promise<RangeResult>;
  putBlob(bytes: Uint8Array): Promise<PutBlobResult>;
  getBlob(hash: Hash): Promise<Uint8Array>;
  getBlobStream(hash: Hash): AsyncGenerator<Uint8Array, void, undefined>;
  watch(prefix: string, listener: (event: WatchEvent) => void, options?: WatchOptions): () => void;
  watchEvents(prefix: string, options?: WatchEventsOptions): AsyncGenerator<WatchEvent, void, undefined>;
  close(): Promise<void>;
}

/** The Global client's options of a call: the write id (node server) and the deadline. */
export function withDeadline(options: LocalWriteOptions, deadlineMs: number | undefined): WriteOptions {
  return { ...(options.writeId === undefined ? {} : { writeId: options.writeId }), ...(deadlineMs === undefined ? {} : { deadlineMs }) };
}

/** The deadline and signal of a call, for the calls it makes. */
export function pickControl(options: CallControl): CallControl {
  return { ...(options.deadlineMs === undefined ? {} : { deadlineMs: options.deadlineMs }), ...(options.signal === undefined ? {} : { signal: options.signal }) };
}

interface Waiter {
  readonly revision: number;
  readonly resolve: () => void;
}

/** A fill of one key in flight, shared by the callers that may join it. */
interface PendingFill {
  readonly fill: Fill;
  readonly promise: Promise<LocalRead>;
}

export function resolveLocalConfig(config: LocalConfig): Required<Pick<LocalConfig, 'cacheBytesMax' | 'leaseMs' | 'minRevisionWaitMs' | 'prefix' | 'probeIntervalMs'>> {
  const leaseMs = config.leaseMs ?? LOCAL_DEFAULTS.leaseMs;
  const resolved = {
    cacheBytesMax: config.cacheBytesMax ?? LOCAL_DEFAULTS.cacheBytesMax,
    leaseMs,
    minRevisionWaitMs: config.minRevisionWaitMs ?? LOCAL_DEFAULTS.minRevisionWaitMs,
    prefix: config.prefix ?? '',
    probeIntervalMs: config.probeIntervalMs ?? Math.max(PROBE_INTERVAL_MS_MIN, Math.floor(leaseMs / 4)),
  };
  checkInteger('cacheBytesMax', resolved.cacheBytesMax, 4096, 2 ** 48);
  checkInteger('leaseMs', resolved.leaseMs, LEASE_MS_MIN, 3_600_000);
  checkInteger('probeIntervalMs', resolved.probeIntervalMs, PROBE_INTERVAL_MS_MIN, Math.floor(resolved.leaseMs / 2));
  checkInteger('minRevisionWaitMs', resolved.minRevisionWaitMs, 0, 3_600_000);
  if (resolved.prefix !== '') validateKey(resolved.prefix, 'prefix');
  return resolved;
}

export class Local implements DstoreApi {
  readonly client: GlobalClient;
  readonly cacheBytesMax: number;
  private readonly cache: LocalCache;
  private readonly stream: InvalidationStream;
  private readonly clock: Clock;
  private readonly prefix: string;
  private readonly minRevisionWaitMs: number;
  private readonly fills = new Map<string, PendingFill>();
  private readonly blobFills = new Map<Hash, Promise<Uint8Array>>();
  private readonly watchers = new Set<{ readonly prefix: string; readonly listener: (event: WatchEvent) => void }>();
  private waiters: Waiter[] = [];
  private readonly leaseListeners = new Set<(valid: boolean) => void>();
  private readonly appliedListeners = new Set<(change: AppliedChange) => void>();
  private readonly strictByUpstream: boolean;
  private readonly waitTimers = new Set<Timer>();
  private readonly freshness: Freshness;
  /** The hot path's clock: one word of memory holding the time (lease-clock.ts). */
  private readonly timeWord: Float64Array;
  private readonly releaseTimeWord: () => void;
  /** When the lease ends, on the time word's scale (freshness.ts decides; this is its copy). */
  private leaseUntilMs = -Infinity;
  /** Whether some keys are served without the lease ('eventual'). */
  private readonly anyEventual: boolean;
  /** The hold that lets strict keys be served (null when no prefix is 'strict'). */
  private readonly strictHold: StrictHold | null;
  /** The cache's binding table while open, an empty one (same class: one shape at the hit) once closed. */
  private hot: EntryTable;
  private applied: number | null = null;
  private latestSeen = 0;
  private hitCount = 0;
  private missCount = 0;
  private invalidationCount = 0;
  private closedFlag = false;

  /** Validates the config (InvalidArgumentError naming the field) and starts following Global. */
  static open(config: LocalConfig): Local {
    return new Local(config);
  }

  private constructor(config: LocalConfig) {
    const resolved = resolveLocalConfig(config);
    this.cacheBytesMax = resolved.cacheBytesMax;
    this.prefix = resolved.prefix;
    this.minRevisionWaitMs = resolved.minRevisionWaitMs;
    this.clock = config.clock ?? systemClock;
    const random = config.random ?? systemRandom;
    this.freshness = new Freshness(resolved.leaseMs, config.coherence ?? 'bounded', config.coherenceByPrefix ?? {});
    this.anyEventual = this.freshness.hasEventual;
    this.strictByUpstream = config.strictByUpstream ?? false;
    const strictPrefixes = this.strictByUpstream ? [] : this.freshness.strictPrefixes;
    this.client = config.globalClient ?? new GlobalClient({ ...config.client, addresses: config.global });
    this.cache = new LocalCache({ cacheBytesMax: resolved.cacheBytesMax, ...(config.cacheEntryBytesMax === undefined ? {} : { entryBytesMax: config.cacheEntryBytesMax }) });
    this.hot = this.cache.table;
    if (this.clock.timeWord !== undefined) {
      this.timeWord = this.clock.timeWord;
      this.releaseTimeWord = () => {};
    } else {
      const held = acquireTimeWord();
      this.timeWord = held.word;
      this.releaseTimeWord = () => held.release();
    }
    const onFatal = config.onFatal ?? ((err: unknown) => setImmediate(() => { throw err; }));
    const word = this.timeWord;
    this.stream = new InvalidationStream(
      this.client,
      this.sink(),
      this.freshness,
      { prefix: resolved.prefix, statusDeadlineMs: this.client.config.deadlineMs, probeIntervalMs: resolved.probeIntervalMs, backoffInitialMs: this.client.config.backoffInitialMs, backoffMaxMs: this.client.config.backoffMaxMs },
      this.clock,
      () => word[0]!,
      random,
      onFatal,
    );
    this.strictHold = strictPrefixes.length === 0 ? null : new StrictHold(
      this.client,
      {
        forget: (keys) => {
          for (const key of keys) this.cache.forget(key);
        },
        forgetStrict: () => this.cache.forgetWhere((key) => this.freshness.modeOf(key) === 'strict'),
        appliedRevision: () => this.applied,
      },
      this.freshness,
      { prefixes: strictPrefixes, backoffInitialMs: this.client.config.backoffInitialMs, backoffMaxMs: this.client.config.backoffMaxMs },
      this.clock,
      () => word[0]!,
      random,
    );
    this.stream.start();
    this.strictHold?.start();
  }

  // ---- reads ---------------------------------------------------------------------------

  /**
   * The hot path: the cached value of `key` when this Local may serve it now (a binding and
   * its value are cached and the lease holds), else undefined (then call `get`). Synchronous,
   * allocation-free; counts a hit, never a miss. Does not validate the key.
   */
  getCached(key: string): Uint8Array | undefined {
    const value = this.hot.get(key);
    // The lease, checked now (one load of the time word), not only when a timer last ran. The
    // common case stays this small so that V8 inlines all of it into the caller's loop (the
    // rest of the rule is a second method).
    if (value !== undefined && this.strictHold === null && this.timeWord[0]! < this.leaseUntilMs) {
      this.hitCount++;
      return value;
    }
    return value === undefined ? undefined : this.getCachedByRule(key, value);
  }

  /** getCached when the lease ran out or some prefixes are strict: the whole rule (freshness.ts). */
  private getCachedByRule(key: string, value: Uint8Array): Uint8Array | undefined {
    const nowMs = this.timeWord[0]!;
    if (nowMs >= this.leaseUntilMs) {
      if (!(this.anyEventual && this.freshness.modeOf(key) === 'eventual')) return undefined;
    } else if (this.strictHold !== null && nowMs >= this.freshness.strictHoldUntilMs && this.freshness.modeOf(key) === 'strict') {
      return undefined; // a strict key needs the hold as well
    }
    this.hitCount++;
    return value;
  }

  /** Whether a held binding of `key` may be served now (freshness.ts). */
  private mayServe(key: string): boolean {
    return this.freshness.mayServe(key, this.timeWord[0]!);
  }

  /** Whether the lease holds now. */
  private get leaseValid(): boolean {
    return this.timeWord[0]! < this.leaseUntilMs;
  }

  /**
   * Reads `key`: from the cache when it may serve it, else from Global (one request per key
   * in flight, shared by concurrent callers), caching the result. null when the key is not
   * bound. With `minRevision`, first waits until this Local applied that revision (or holds
   * the key at that revision or later); if the stream cannot get there within
   * minRevisionWaitMs, reads Global at that revision instead.
   */
  async get(key: string, options: LocalGetOptions = {}): Promise<LocalValue | null> {
    return (await this.read(key, options)).found;
  }

  /** `get`'s value as UTF-8 text (InvalidArgumentError naming the key when it is not). */
  async getText(key: string, options: LocalGetOptions = {}): Promise<string | null> {
    const found = await this.get(key, options);
    return found === null ? null : textOf(key, found.value);
  }

  /** `get`'s value parsed as JSON (InvalidArgumentError naming the key when it is not). */
  async getJson<T = unknown>(key: string, options: LocalGetOptions = {}): Promise<T | null> {
    const found = await this.get(key, options);
    return found === null ? null : jsonOf<T>(key, found.value);
  }

  /**
   * Reads of many keys, answered in the order of `keys`: each from the cache where it may be
   * served, the rest from Global at once (their requests leave together, in one Session
   * frame as far as the frame allows), each placed like a fill. Each answer says its revision.
   */
  async getMany(keys: readonly string[], options: LocalGetOptions = {}): Promise<LocalRead[]> {
    for (const key of keys) validateKey(key);
    return controlled(`getMany of ${keys.length} keys`, options, false, () => Promise.all(keys.map((key) => this.readNow(key, options))));
  }

  /** As `get`, and also says at which revision a missing key was missing. */
  async read(key: string, options: LocalGetOptions = {}): Promise<LocalRead> {
    validateKey(key);
    return controlled(`get ${JSON.stringify(key)}`, options, false, () => this.readNow(key, options));
  }

  private async readNow(key: string, options: LocalGetOptions): Promise<LocalRead> {
    this.checkOpen();
    const minRevision = options.minRevision ?? 0;
    checkInteger('minRevision', minRevision, 0);
    if (options.consistency === 'linearizable') {
      // Global, linearizably: neither the cache nor a fill that began before this call will do.
      this.missCount++;
      return this.startFill(key, minRevision);
    }
    if (options.consistency !== undefined && options.consistency !== 'cached') {
      throw new InvalidArgumentError(`consistency must be 'cached' or 'linearizable', got ${JSON.stringify(options.consistency)}`);
    }
    let globalMinRevision = 0;
    if (minRevision > 0 && !this.heldAtLeast(key, minRevision)) {
      const reached = await this.waitForRevision(minRevision, this.minRevisionWaitMs);
      if (!reached) globalMinRevision = minRevision;
    }
    if (globalMinRevision === 0 && this.mayServe(key) && this.cache.value(key) !== undefined) {
      const held = this.cache.peekBinding(key)!;
      this.hitCount++;
      const revision = Math.max(this.applied ?? 0, held.kv.modRevision);
      return { found: { kv: held.kv, value: held.value, source: 'cache', revision }, revision, source: 'cache' };
    }
    this.missCount++;
    // A fill already in flight is shared only while no change to the key was applied since it
    // started (a later caller must not read older than what this Local applied or wrote), and
    // only if its answer is at least as new as this caller asked.
    const pending = this.fills.get(key);
    if (pending !== undefined && pending.fill.invalidatedRevision === 0 && this.mayJoin(key)) {
      const shared = await pending.promise;
      if (shared.revision >= minRevision) return shared;
    }
    return this.startFill(key, Math.max(globalMinRevision, minRevision));
  }

  /**
   * A strict key's read may join a fill begun before it only while the hold is live: then any
   * write acknowledged since the fill began was invalidated here, which voided the fill.
   * Without the hold, writes go ahead without this Local and the fill may predate one.
   */
  private mayJoin(key: string): boolean {
    return this.strictHold === null || this.timeWord[0]! < this.freshness.strictHoldUntilMs || this.freshness.modeOf(key) !== 'strict';
  }

  private startFill(key: string, minRevision: number): Promise<LocalRead> {
    const fill = this.cache.beginFill(key);
    const entry: PendingFill = {
      fill,
      promise: this.fill(key, fill, minRevision).finally(() => {
        this.cache.endFill(key, fill);
        if (this.fills.get(key) === entry) this.fills.delete(key);
      }),
    };
    this.fills.set(key, entry);
    return entry.promise;
  }

  private heldAtLeast(key: string, revision: number): boolean {
    const held = this.cache.peekBinding(key);
    return held !== null && held.kv.modRevision >= revision;
  }

  private async fill(key: string, fill: Fill, minRevision: number): Promise<LocalRead> {
    const synced = this.applied !== null;
    const result = await this.client.get(key, minRevision > 0 ? { minRevision } : {});
    this.noteRevision(result.revision);
    const kv = result.kv;
    if (kv === null) {
      // Global says the key is unbound at this revision: a held binding older than that goes,
      // so a later cached read cannot return what this read already saw replaced (monotonic reads).
      this.cache.applyChange(key, result.revision, null);
      return { found: null, revision: result.revision, source: 'global' };
    }
    const value = kv.value ?? (await this.getBlob(kv.hash));
    const { value: _inline, ...binding } = kv;
    const cached = this.cache.putBlob(kv.hash, value) ?? value;
    if (synced && this.inPrefix(key) && this.mayCache(key)) this.cache.placeFill(fill, binding, cached);
    return { found: { kv: binding, value, source: 'global', revision: result.revision }, revision: result.revision, source: 'global' };
  }

  /** Resolves true once this Local applied `revision`, false after `waitMs` (or on close). */
  waitForRevision(revision: number, waitMs: number = this.minRevisionWaitMs): Promise<boolean> {
    if (this.applied !== null && this.applied >= revision) return Promise.resolve(true);
    if (this.closedFlag || waitMs === 0) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      let timer: Timer | null = null;
      const waiter: Waiter = {
        revision,
        resolve: () => {
          if (timer !== null) {
            timer.cancel();
            this.waitTimers.delete(timer);
          }
          resolve(true);
        },
      };
      this.waiters.push(waiter);
      timer = this.clock.setTimer(() => {
        if (timer !== null) this.waitTimers.delete(timer);
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(false);
      }, waitMs, false);
      this.waitTimers.add(timer);
    });
  }

  /** Keys in a range, read from Global (ranges are not cached). */
  async range(spec: RangeSpec, options: RangeOptions = {}): Promise<RangeResult> {
    this.checkOpen();
    const result = await this.client.range(spec, options);
    this.noteRevision(result.revision);
    return result;
  }

  // ---- writes --------------------------------------------------------------------------

  /** Put-if-absent: KeyOccupiedError when `key` is bound. Applied here at once. */
  async set(key: string, value: ValueLike, options: LocalWriteOptions = {}): Promise<WriteResult> {
    validateKey(key);
    const input = toValueInput(value);
    return controlled(`set ${JSON.stringify(key)}`, options, true, (deadlineMs) => this.setNow(key, input, withDeadline(options, deadlineMs)));
  }

  /**
   * Binds `key` to `value` whether or not it is bound (an overwrite: etcd put, Redis SET),
   * exactly once (one WriteId, as `set`). Applied here at once.
   */
  async put(key: string, value: ValueLike, options: LocalWriteOptions = {}): Promise<WriteResult> {
    validateKey(key);
    const result = await this.txn({ success: [{ kind: 'put', key, value: toValueInput(value) }] }, options);
    const written = result.results[0];
    if (written?.kind !== 'written') throw new CorruptError(`Global answered the put of ${JSON.stringify(key)} without its binding (result ${written?.kind ?? 'missing'})`);
    return { revision: result.revision, kv: written.kv };
  }

  /** `put` of `JSON.stringify(value)` as UTF-8. */
  async putJson(key: string, value: unknown, options: LocalWriteOptions = {}): Promise<WriteResult> {
    return this.put(key, jsonValue(key, value), options);
  }

  private async setNow(key: string, value: ValueInput, options: WriteOptions): Promise<WriteResult> {
    this.checkOpen();
    const tracked = this.trackOwnWrites([key]);
    try {
      const result = await this.client.set(key, value, options);
      this.noteRevision(result.revision);
      this.applyOwnWrite(result.kv, value, tracked.get(key));
      return { revision: result.revision, kv: result.kv };
    } finally {
      this.endOwnWrites(tracked);
    }
  }

  /** Removes `key`'s binding on Global; this Local drops it at once, the others on their streams. */
  async del(key: string, options: LocalWriteOptions = {}): Promise<DeleteResult> {
    validateKey(key);
    return controlled(`del ${JSON.stringify(key)}`, options, true, (deadlineMs) => this.delNow(key, withDeadline(options, deadlineMs)));
  }

  private async delNow(key: string, options: WriteOptions): Promise<DeleteResult> {
    this.checkOpen();
    const result = await this.client.delete(key, options);
    this.noteRevision(result.revision);
    // Deleted or not, the key is unbound at result.revision: a binding held from before goes.
    this.cache.applyChange(key, result.revision, null);
    return result;
  }

  /**
   * Rebinds `key` to `value` in a transaction that first compares the key's modRevision with
   * `ifModRevision` (default: the binding this Local reads now; 0 = only if absent).
   * `replaced` is false when the key changed in between.
   */
  async replace(key: string, value: ValueLike, options: ReplaceOptions = {}): Promise<ReplaceResult> {
    validateKey(key);
    const { ifModRevision, ...control } = options;
    const expected = ifModRevision ?? (await this.get(key, pickControl(control)))?.kv.modRevision ?? 0;
    checkInteger('ifModRevision', expected, 0);
    const result = await this.txn({
      compares: [{ key, target: 'modRevision', operator: 'equal', number: expected }],
      success: [{ kind: 'put', key, value: toValueInput(value) }],
    }, control);
    const written = result.succeeded ? result.results[0] : undefined;
    return { replaced: result.succeeded, revision: result.revision, kv: written?.kind === 'written' ? written.kv : null };
  }

  /** A mini-transaction on Global; the keys it wrote are updated or dropped here at once. */
  async txn(txn: Txn, options: LocalWriteOptions = {}): Promise<TxnResult> {
    return controlled('txn', options, true, (deadlineMs) => this.txnNow(txn, withDeadline(options, deadlineMs)));
  }

  private async txnNow(txn: Txn, options: WriteOptions): Promise<TxnResult> {
    this.checkOpen();
    const puts = [...(txn.success ?? []), ...(txn.failure ?? [])].filter((op) => op.kind === 'put' || op.kind === 'putIfAbsent');
    const tracked = this.trackOwnWrites(puts.map((op) => op.key));
    try {
      const result = await this.client.txn(txn, options);
      this.noteRevision(result.revision);
      const ops = (result.succeeded ? txn.success : txn.failure) ?? [];
      ops.forEach((op, i) => this.applyOwnOp(op, result.results[i], result.revision, tracked));
      return result;
    } finally {
      this.endOwnWrites(tracked);
    }
  }

  private applyOwnOp(op: Op, result: TxnResult['results'][number] | undefined, revision: number, tracked: ReadonlyMap<string, Fill>): void {
    if (op.kind === 'get' || op.kind === 'range') return;
    if (result?.kind === 'written' && (op.kind === 'put' || op.kind === 'putIfAbsent')) {
      this.applyOwnWrite(result.kv, op.value, tracked.get(op.key));
      return;
    }
    this.cache.applyChange(op.key, revision, null);
  }

  /**
   * Read-your-writes needs to know, when a write's answer arrives, whether the stream has
   * meanwhile applied a later change to the key (another Local's put, a delete): placing the
   * write then would bring back an overwritten binding. A write therefore tracks its keys like
   * a fill does while it is out (cache.ts `Fill`), and is placed only if no newer change came.
   * Untracked (never placed): keys outside `prefix`, which the stream does not follow, and
   * writes sent before the Local knew its revision (changes before the stream's start would
   * be missed).
   */
  private trackOwnWrites(keys: readonly string[]): Map<string, Fill> {
    const tracked = new Map<string, Fill>();
    if (this.applied === null) return tracked;
    for (const key of keys) if (this.inPrefix(key) && !tracked.has(key)) tracked.set(key, this.cache.beginFill(key));
    return tracked;
  }

  private endOwnWrites(tracked: ReadonlyMap<string, Fill>): void {
    for (const [key, fill] of tracked) this.cache.endFill(key, fill);
  }

  private applyOwnWrite(kv: KeyBinding, value: ValueInput, tracked: Fill | undefined): void {
    if (value instanceof Uint8Array) {
      const actual = hashOf(value);
      if (actual !== kv.hash) throw new CorruptError(`Global bound ${JSON.stringify(kv.key)} to ${kv.hash}, but the value written hashes to ${actual}`);
    }
    this.cache.applyOwnWrite(kv, value instanceof Uint8Array ? value : null, this.mayCache(kv.key) ? (tracked ?? null) : null);
  }

  /** Whether a binding of `key` may be placed: no strict invalidation of it waits for its write. */
  private mayCache(key: string): boolean {
    if (this.strictByUpstream) return this.freshness.modeOf(key) !== 'strict';
    return this.strictHold === null || this.strictHold.mayCache(key);
  }

  // ---- blobs ---------------------------------------------------------------------------

  /** Stores a blob on Global and caches it. */
  async putBlob(bytes: Uint8Array): Promise<PutBlobResult> {
    this.checkOpen();
    const result = await this.client.putBlob(bytes);
    this.cache.putBlob(result.hash, bytes);
    return result;
  }

  /** Stores a blob read from `source` (not cached: it is never whole in memory here). */
  putBlobStream(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, options: PutBlobStreamOptions): Promise<PutBlobResult> {
    this.checkOpen();
    return this.client.putBlobStream(source, options);
  }

  /** A blob by hash: from the cache, else fetched once (concurrent callers share it), verified, cached. */
  getBlob(hash: Hash): Promise<Uint8Array> {
    parseHash(hash);
    this.checkOpen();
    const cached = this.cache.blob(hash);
    if (cached !== undefined) return Promise.resolve(cached);
    let pending = this.blobFills.get(hash);
    if (pending === undefined) {
      pending = this.client.getBlob(hash).then((bytes) => {
        this.cache.putBlob(hash, bytes);
        return bytes;
      }).finally(() => this.blobFills.delete(hash));
      this.blobFills.set(hash, pending);
    }
    return pending;
  }

  /**
   * A blob as chunks of at most `chunkBytes`: from the cache when there, else streamed from
   * Global (verified: the iteration throws CorruptError instead of ending if the bytes do not
   * hash to `hash`) and cached once complete if it fits the budget.
   */
  async *getBlobStream(hash: Hash, chunkBytes = 1024 * 1024): AsyncGenerator<Uint8Array, void, undefined> {
    parseHash(hash);
    this.checkOpen();
    const cached = this.cache.blob(hash) ?? (await this.blobFills.get(hash));
    if (cached !== undefined) {
      for (let at = 0; at < cached.byteLength; at += chunkBytes) yield cached.subarray(at, at + chunkBytes);
      return;
    }
    const parts: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of this.client.getBlobStream(hash)) {
      size += chunk.byteLength;
      if (size <= this.cacheBytesMax) parts.push(chunk);
      yield chunk;
    }
    if (size <= this.cacheBytesMax) this.cache.putBlob(hash, parts.length === 1 ? parts[0]! : Buffer.concat(parts));
  }

  /** Whether blob `hash` is cached here (for tests and stats). */
  hasBlob(hash: Hash): boolean {
    return this.cache.blob(hash) !== undefined;
  }

  /** The binding this Local holds for `key` and its value, ignoring the lease. */
  held(key: string): { kv: KeyBinding; value: Uint8Array } | null {
    return this.cache.peekBinding(key);
  }

  /** Whether the Local may serve `key` from its cache now (held, value cached, lease valid). */
  holds(key: string): boolean {
    return this.mayServe(key) && this.cache.peekBinding(key) !== null;
  }

  // ---- watch, status, lifecycle --------------------------------------------------------

  /**
   * Calls `listener` with every change under `prefix` this Local applies from its stream, in
   * revision order, and `{type: 'reset'}` when history was compacted (changes were missed).
   * A listener that throws is removed and its error reported (watch-listener.ts); the
   * stream and the other watchers go on. Returns the function that stops it.
   */
  watch(prefix: string, listener: (event: WatchEvent) => void, options: WatchOptions = {}): () => void {
    this.checkOpen();
    const remove = (): boolean => this.watchers.delete(watcher);
    const watcher = { prefix, listener: guardListener(prefix, listener, options, remove) };
    this.watchers.add(watcher);
    return remove;
  }

  /**
   * `watch` as an async iterable: `for await (const event of local.watchEvents(prefix, {
   * fromRevision, signal }))`. Live events come as this Local applies them (after its cache
   * changed, as `watch`); with `fromRevision` below what it has applied, the older events are
   * read from Global's history first (CompactedError if that history is gone). watch-events.ts.
   */
  async *watchEvents(prefix: string, options: WatchEventsOptions = {}): AsyncGenerator<WatchEvent, void, undefined> {
    this.checkOpen();
    // Until the Local knows its revision, "older than live" has no boundary: wait for it.
    if (this.applied === null && (options.fromRevision ?? 0) > 0) await this.waitForRevision(1);
    yield* watchEvents(prefix, options, (listener, fail) => {
      const liveFrom = (this.applied ?? 0) + 1;
      return { liveFrom, stop: this.watch(prefix, listener, { onError: fail }) };
    }, (fromRevision) => this.client.subscribe({ fromRevision, prefix }));
  }

  /**
   * Resolves once the Local can serve from its cache (it holds the lease) -> true, or once
   * its stream failed for the first time or `timeoutMs` passed -> false. For start-up: a
   * REPL or worker that waits here gets cache hits from its first command. With strict
   * prefixes, also waits for the strict hold, and rejects with Global's refusal when it
   * refuses holds (InvalidArgumentError: replicas started without holderLeaseMs).
   */
  async ready(timeoutMs: number = this.client.config.deadlineMs): Promise<boolean> {
    const startMs = this.clock.nowMs();
    const leased = await this.leaseReady(timeoutMs);
    if (!leased || this.strictHold === null) return leased;
    return this.strictHold.whenHolding(Math.max(0, timeoutMs - (this.clock.nowMs() - startMs)));
  }

  private leaseReady(timeoutMs: number): Promise<boolean> {
    if (this.leaseValid) return Promise.resolve(true);
    if (this.closedFlag || this.stream.status.state === 'backoff') return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const finish = (ok: boolean): void => {
        timer.cancel();
        unsubscribe();
        this.leaseListeners.delete(onLease);
        resolve(ok);
      };
      const timer = this.clock.setTimer(() => finish(this.leaseValid), timeoutMs, false);
      const unsubscribe = this.stream.onStatus((status) => {
        if (status.state === 'backoff' || status.state === 'closed') finish(false);
      });
      const onLease = (valid: boolean): void => {
        if (valid) finish(true);
      };
      this.leaseListeners.add(onLease);
    });
  }

  get revision(): number {
    return this.applied ?? 0;
  }

  /** Whether the Local knows where Global is (its applied revision; before, `revision` is 0). */
  get synced(): boolean {
    return this.applied !== null;
  }

  get streamStatus(): StreamStatus {
    return this.stream.status;
  }

  get leaseHeld(): boolean {
    return this.leaseValid;
  }

  onStreamStatus(listener: (status: StreamStatus) => void): () => void {
    return this.stream.onStatus(listener);
  }

  /** What an attached worker must follow to serve this Local's keys itself (attach.ts). */
  get terms(): NodeLocalTerms {
    return { leaseMs: this.freshness.leaseMs, coherence: this.freshness.defaultMode, coherenceByPrefix: this.freshness.modesByPrefix, prefix: this.prefix };
  }

  /**
   * Calls `listener` with every stream message after the cache applied it, and with every
   * jump of the applied revision (AppliedChange), in order. A node's Local feeds its workers
   * with it (node-feed.ts). Returns the function that stops it. The listener must not throw.
   */
  onApplied(listener: (change: AppliedChange) => void): () => void {
    this.appliedListeners.add(listener);
    return () => this.appliedListeners.delete(listener);
  }

  /** A lease probe's answer begun after this call (InvalidationStream.nextProof). */
  nextProof(waitMs: number): Promise<GetResult> {
    return this.stream.nextProof(waitMs);
  }

  /** The server limits Global reported (asks once). */
  async limits(): Promise<ServerLimits | null> {
    return this.client.serverLimits ?? (await this.client.status()).limits;
  }

  stats(): LocalStats {
    const c: CacheStats = this.cache.stats();
    return {
      hits: this.hitCount,
      misses: this.missCount,
      bytes: c.bytes,
      cacheBytesMax: this.cacheBytesMax,
      entries: c.entries,
      blobs: c.blobs,
      bindings: c.bindings,
      evictions: c.evictions,
      invalidations: this.invalidationCount,
      revision: this.applied ?? 0,
      lagRevisions: Math.max(0, this.latestSeen - (this.applied ?? 0)),
      leaseValid: this.leaseValid,
      leaseLeftMs: Math.max(0, this.leaseUntilMs - this.timeWord[0]!),
      leaseMs: this.freshness.leaseMs,
      coherence: this.freshness.defaultMode,
      coherenceByPrefix: this.freshness.modesByPrefix,
      stream: this.stream.status,
      resubscribes: this.stream.resubscribes,
      compactions: this.stream.compactions,
      lagDrops: this.stream.lagDrops,
      strictHold: this.strictHold?.status ?? null,
    };
  }

  /** Stops the stream, every timer and the Global client; pending calls reject with ClosedError. */
  async close(): Promise<void> {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.leaseUntilMs = -Infinity;
    this.hot = noBindings();
    for (const timer of this.waitTimers) timer.cancel();
    this.waitTimers.clear();
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.resolve();
    this.strictHold?.close();
    await this.stream.close();
    await this.client.close();
    this.cache.clear();
    this.releaseTimeWord();
  }

  private checkOpen(): void {
    if (this.closedFlag) throw new ClosedError('the Local is closed');
  }

  private inPrefix(key: string): boolean {
    return this.prefix === '' || key.startsWith(this.prefix);
  }

  private noteRevision(revision: number): void {
    if (revision > this.latestSeen) this.latestSeen = revision;
  }

  // ---- the invalidation stream's sink ---------------------------------------------------

  private sink(): InvalidationSink {
    return {
      appliedRevision: () => this.applied,
      startAt: (revision) => {
        if (this.applied !== null) return;
        this.advance(revision);
        this.tellApplied({ kind: 'jump', revision });
      },
      apply: (message) => this.applyMessage(message),
      compacted: (oldestRevision) => {
        this.cache.dropAllBindings();
        this.applied = oldestRevision > 0 ? oldestRevision - 1 : null;
        for (const w of this.watchers) w.listener({ type: 'reset', revision: oldestRevision });
        this.tellApplied({ kind: 'jump', revision: this.applied });
      },
      leaseChanged: (untilMs) => {
        if (this.closedFlag) return;
        this.leaseUntilMs = untilMs;
        const valid = this.leaseValid;
        for (const listener of [...this.leaseListeners]) listener(valid);
      },
    };
  }

  private applyMessage(message: SubscribeMessage): void {
    const applied = this.applied ?? 0;
    if (message.kind === 'events') {
      for (const event of message.events) {
        const revision = event.type === 'put' ? event.kv.modRevision : event.revision;
        if (revision <= applied) continue; // already applied (a resumed stream may repeat)
        const key = event.type === 'put' ? event.kv.key : event.key;
        const outcome = this.cache.applyChange(key, revision, event.type === 'put' ? event.kv : null);
        if (outcome === 'dropped' || outcome === 'updated') this.invalidationCount++;
        for (const w of this.watchers) if (key.startsWith(w.prefix)) w.listener(event);
      }
    }
    this.noteRevision(message.revision);
    this.advance(message.revision);
    if (this.appliedListeners.size > 0) this.tellApplied({ kind: 'message', message });
  }

  private tellApplied(change: AppliedChange): void {
    for (const listener of this.appliedListeners) listener(change);
  }

  private advance(revision: number): void {
    if (this.applied !== null && revision <= this.applied) return;
    this.applied = revision;
    this.strictHold?.applied(revision);
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((w) => w.revision <= revision);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => w.revision > revision);
    for (const w of ready) w.resolve();
  }
}
