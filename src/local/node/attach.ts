// A worker attached to its node's Local (local-server.ts): the same API as an in-process
// Local (DstoreApi), over one Session stream to the Local's address, so many short-lived
// worker processes share the node's one cache. The worker itself keeps only a small cache of
// blobs (immutable, so always safe to keep; bounded by blobCacheBytesMax, and blobs above
// blobCacheEntryBytesMax are never kept here: large ones live once, in the node's Local).
//
// Errors: as GlobalClient (DstoreError subclasses only). Returned byte arrays may be shared
// with the worker's blob cache: do not modify them.

import { LRUCache } from 'lru-cache';
import { systemClock, systemRandom } from '../../protocol/backoff.ts';
import { checkInteger } from '../../protocol/config-check.ts';
import type { Hash } from '../../protocol/hash.ts';
import type { DeleteResult, PutBlobResult, RangeResult, RangeSpec, Txn, TxnResult } from '../client/client-types.ts';
import { GlobalClient, type GlobalClientConfig } from '../client/client.ts';
import { Freshness } from '../cache/freshness.ts';
import { InvalidationStream } from '../cache/invalidation-stream.ts';
import { InternalError, InvalidArgumentError } from '../../protocol/errors.ts';
import { validateKey } from '../../protocol/keys.ts';
import { controlled } from '../call-control.ts';
import { LEASE_MS_MIN, pickControl, withDeadline, type DstoreApi, type LocalGetOptions, type LocalRead, type LocalValue, type LocalWriteOptions, type ReplaceOptions, type ReplaceResult, type WatchEvent, type WriteResult } from '../local.ts';
import { jsonOf, jsonValue, textOf, toValueInput, type ValueLike } from '../value-text.ts';
import { eventRevision, watchEvents, type WatchEventsOptions } from '../watch-events.ts';
import { guardListener, type WatchOptions } from '../watch-listener.ts';

export const DEFAULT_LOCAL_ADDRESS = '127.0.0.1:50052';

export interface AttachConfig {
  /** Byte budget of the worker's own blob cache. Default 8 MiB. */
  readonly blobCacheBytesMax?: number;
  /** Blobs larger than this are never cached in the worker. Default 1 MiB. */
  readonly blobCacheEntryBytesMax?: number;
  readonly client?: Omit<GlobalClientConfig, 'addresses'>;
}

/**
 * The worker's side of `Local.stats()`: the fields named as there mean the same, and those
 * only the node's Local knows (its hits and misses, cache bytes, lease, stream) are null here:
 * ask the node (its REPL's STATS) for them.
 */
export interface AttachedStats {
  /** Known only to the node's Local: null. */
  readonly hits: null;
  readonly misses: null;
  readonly leaseValid: null;
  /** The highest revision any answer to this worker reflected (0 before the first). */
  readonly revision: number;
  /** Reads sent to the node's Local (get, read, getMany: one per key). */
  readonly gets: number;
  readonly blobHits: number;
  readonly blobMisses: number;
  /** Blobs and bytes held in this worker's own cache. */
  readonly blobs: number;
  readonly blobBytes: number;
}

/**
 * Attaches to the Local at `address` with one call; checks that it answers (UnavailableError
 * naming the address otherwise, after the client's retries).
 */
export async function attach(address: string = DEFAULT_LOCAL_ADDRESS, config: AttachConfig = {}): Promise<AttachedLocal> {
  const attached = new AttachedLocal(address, config);
  try {
    await attached.client.status();
  } catch (err) {
    await attached.close();
    throw err;
  }
  return attached;
}

export class AttachedLocal implements DstoreApi {
  readonly client: GlobalClient;
  private readonly blobs: LRUCache<Hash, Uint8Array>;
  private readonly watchers = new Set<InvalidationStream>();
  private getCount = 0;
  private latestSeen = 0;
  /** Newest revision of a change any watch of this worker handed over (reads wait for it). */
  private watchedRevision = 0;
  private blobHitCount = 0;
  private blobMissCount = 0;

  constructor(readonly address: string, config: AttachConfig = {}) {
    const bytesMax = config.blobCacheBytesMax ?? 8 * 1024 * 1024;
    const entryMax = config.blobCacheEntryBytesMax ?? 1024 * 1024;
    checkInteger('blobCacheBytesMax', bytesMax, 1, 2 ** 48);
    checkInteger('blobCacheEntryBytesMax', entryMax, 1, bytesMax);
    this.blobs = new LRUCache<Hash, Uint8Array>({ maxSize: bytesMax, maxEntrySize: entryMax, sizeCalculation: (b) => Math.max(1, b.byteLength) });
    this.client = new GlobalClient({ ...config.client, addresses: [address] });
  }

  async get(key: string, options: LocalGetOptions = {}): Promise<LocalValue | null> {
    return (await this.read(key, options)).found;
  }

  /** As `get`, and also says at which revision a missing key was missing. */
  async read(key: string, options: LocalGetOptions = {}): Promise<LocalRead> {
    validateKey(key);
    return controlled(`get ${JSON.stringify(key)}`, options, false, async (deadlineMs) =>
      options.consistency === 'linearizable' ? (await this.readGlobal([key], deadlineMs))[0]! : this.readNow(key, options, deadlineMs),
    );
  }

  /**
   * Reads of many keys, in the order of `keys`: sent together (one Session frame as far as
   * the frame allows), each served by the node's Local (its cache, else a fill).
   */
  async getMany(keys: readonly string[], options: LocalGetOptions = {}): Promise<LocalRead[]> {
    for (const key of keys) validateKey(key);
    if (keys.length === 0) return [];
    return controlled(`getMany of ${keys.length} keys`, options, false, (deadlineMs) =>
      options.consistency === 'linearizable' ? this.readGlobal(keys, deadlineMs) : Promise.all(keys.map((key) => this.readNow(key, options, deadlineMs))),
    );
  }

  /**
   * Linearizable reads through the node: the node server serves every Session get from its
   * cache, but forwards a transaction to Global, where its gets run linearizably at one
   * revision (at the cost of a transaction: one consensus round). The node's cache is not
   * refreshed by it; its stream brings the same changes.
   */
  private async readGlobal(keys: readonly string[], deadlineMs: number | undefined): Promise<LocalRead[]> {
    this.getCount += keys.length;
    const result = await this.client.txn({ success: keys.map((key) => ({ kind: 'get' as const, key, withValue: true })) }, deadlineMs === undefined ? {} : { deadlineMs });
    this.noteRevision(result.revision);
    return Promise.all(keys.map(async (key, i): Promise<LocalRead> => {
      const op = result.results[i];
      if (op?.kind !== 'get') throw new InternalError(`the node's Local answered the read of ${JSON.stringify(key)} with a ${op?.kind ?? 'missing'} result`);
      if (op.kv === null) return { found: null, revision: result.revision, source: 'global' };
      const { value: inline, ...binding } = op.kv;
      const value = inline ?? (await this.getBlob(op.kv.hash));
      return { found: { kv: binding, value, source: 'global', revision: result.revision }, revision: result.revision, source: 'global' };
    }));
  }

  private async readNow(key: string, options: LocalGetOptions, deadlineMs: number | undefined): Promise<LocalRead> {
    if (options.consistency !== undefined && options.consistency !== 'cached') {
      throw new InvalidArgumentError(`consistency must be 'cached' or 'linearizable', got ${JSON.stringify(options.consistency)}`);
    }
    this.getCount++;
    // Never older than a change a watch of this worker already handed over: the node's cache
    // may lag the watch stream it forwards (docs/coherence.md, clause "watch then read").
    const minRevision = Math.max(options.minRevision ?? 0, this.watchedRevision);
    const result = await this.client.get(key, {
      withValue: true,
      ...(minRevision === 0 ? {} : { minRevision }),
      ...(deadlineMs === undefined ? {} : { deadlineMs }),
    });
    this.noteRevision(result.revision);
    const kv = result.kv;
    if (kv === null) return { found: null, revision: result.revision, source: 'local' };
    const { value: inline, ...binding } = kv;
    const value = inline ?? (await this.getBlob(kv.hash));
    return { found: { kv: binding, value, source: 'local', revision: result.revision }, revision: result.revision, source: 'local' };
  }

  async getText(key: string, options: LocalGetOptions = {}): Promise<string | null> {
    const found = await this.get(key, options);
    return found === null ? null : textOf(key, found.value);
  }

  async getJson<T = unknown>(key: string, options: LocalGetOptions = {}): Promise<T | null> {
    const found = await this.get(key, options);
    return found === null ? null : jsonOf<T>(key, found.value);
  }

  /**
   * Always undefined: the worker holds no bindings (only immutable blobs), and whether the
   * node's binding may be served is known only to the node's Local. Use `get`.
   */
  getCached(_key: string): Uint8Array | undefined {
    return undefined;
  }

  /** Put-if-absent (KeyOccupiedError when bound), exactly once. */
  async set(key: string, value: ValueLike, options: LocalWriteOptions = {}): Promise<WriteResult> {
    const input = toValueInput(value);
    return controlled(`set ${JSON.stringify(key)}`, options, true, async (deadlineMs) => {
      const r = await this.client.set(key, input, withDeadline(options, deadlineMs));
      this.noteRevision(r.revision);
      return { revision: r.revision, kv: r.kv };
    });
  }

  /** Binds `key` whether or not it is bound (an overwrite), exactly once. */
  async put(key: string, value: ValueLike, options: LocalWriteOptions = {}): Promise<WriteResult> {
    validateKey(key);
    const result = await this.txn({ success: [{ kind: 'put', key, value: toValueInput(value) }] }, options);
    const written = result.results[0];
    if (written?.kind !== 'written') throw new InvalidArgumentError(`the put of ${JSON.stringify(key)} was answered without its binding (result ${written?.kind ?? 'missing'})`);
    return { revision: result.revision, kv: written.kv };
  }

  async putJson(key: string, value: unknown, options: LocalWriteOptions = {}): Promise<WriteResult> {
    return this.put(key, jsonValue(key, value), options);
  }

  async del(key: string, options: LocalWriteOptions = {}): Promise<DeleteResult> {
    return controlled(`del ${JSON.stringify(key)}`, options, true, async (deadlineMs) => {
      const r = await this.client.delete(key, withDeadline(options, deadlineMs));
      this.noteRevision(r.revision);
      return r;
    });
  }

  async replace(key: string, value: ValueLike, options: ReplaceOptions = {}): Promise<ReplaceResult> {
    const { ifModRevision, ...control } = options;
    const expected = ifModRevision ?? (await this.read(key, pickControl(control))).found?.kv.modRevision ?? 0;
    const result = await this.txn({
      compares: [{ key, target: 'modRevision', operator: 'equal', number: expected }],
      success: [{ kind: 'put', key, value: toValueInput(value) }],
    }, control);
    const written = result.succeeded ? result.results[0] : undefined;
    return { replaced: result.succeeded, revision: result.revision, kv: written?.kind === 'written' ? written.kv : null };
  }

  async txn(txn: Txn, options: LocalWriteOptions = {}): Promise<TxnResult> {
    return controlled('txn', options, true, async (deadlineMs) => {
      const r = await this.client.txn(txn, withDeadline(options, deadlineMs));
      this.noteRevision(r.revision);
      return r;
    });
  }

  range(spec: RangeSpec): Promise<RangeResult> {
    return this.client.range(spec);
  }

  async putBlob(bytes: Uint8Array): Promise<PutBlobResult> {
    const result = await this.client.putBlob(bytes);
    this.blobs.set(result.hash, bytes);
    return result;
  }

  async getBlob(hash: Hash): Promise<Uint8Array> {
    const cached = this.blobs.get(hash);
    if (cached !== undefined) {
      this.blobHitCount++;
      return cached;
    }
    this.blobMissCount++;
    const bytes = await this.client.getBlob(hash);
    this.blobs.set(hash, bytes);
    return bytes;
  }

  getBlobStream(hash: Hash): AsyncGenerator<Uint8Array, void, undefined> {
    return this.client.getBlobStream(hash);
  }

  /**
   * Changes under `prefix` from now on, through the Local (which forwards Global's stream).
   * A listener that throws is removed and its error reported (watch-listener.ts).
   */
  watch(prefix: string, listener: (event: WatchEvent) => void, options: WatchOptions = {}): () => void {
    return this.watchFrom(prefix, listener, options, 0);
  }

  /**
   * `watch` as an async iterable (watch-events.ts), from `fromRevision` when given (the node's
   * Local forwards the Subscribe to Global, whose history serves older revisions).
   */
  watchEvents(prefix: string, options: WatchEventsOptions = {}): AsyncGenerator<WatchEvent, void, undefined> {
    const fromRevision = options.fromRevision ?? 0;
    return this.noted(watchEvents(prefix, options, (listener, fail) => ({ liveFrom: fromRevision, stop: this.watchFrom(prefix, listener, { onError: fail }, fromRevision) }), (from) => this.client.subscribe({ fromRevision: from, prefix })));
  }

  /** `events`, noting each one's revision before it is handed over (see readNow). */
  private async *noted(events: AsyncGenerator<WatchEvent, void, undefined>): AsyncGenerator<WatchEvent, void, undefined> {
    for await (const event of events) {
      this.noteWatched(eventRevision(event));
      yield event;
    }
  }

  private noteWatched(revision: number): void {
    if (revision > this.watchedRevision) this.watchedRevision = revision;
  }

  private watchFrom(prefix: string, listener: (event: WatchEvent) => void, options: WatchOptions, fromRevision: number): () => void {
    checkInteger('fromRevision', fromRevision, 0);
    let applied: number | null = fromRevision > 0 ? fromRevision - 1 : null;
    const stop = (): void => {
      this.watchers.delete(stream);
      void stream.close();
    };
    const guarded = guardListener(prefix, listener, options, stop);
    const stream = new InvalidationStream(
      this.client,
      {
        appliedRevision: () => applied,
        startAt: (revision) => {
          applied ??= revision;
        },
        apply: (message) => {
          if (message.kind === 'events') {
            this.noteWatched(message.revision);
            for (const event of message.events) guarded(event);
          }
          applied = Math.max(applied ?? 0, message.revision);
        },
        compacted: (oldestRevision) => {
          applied = oldestRevision > 0 ? oldestRevision - 1 : null;
          guarded({ type: 'reset', revision: oldestRevision });
        },
        leaseChanged: () => {},
      },
      // A watch serves no reads: it needs no lease, so it sends no probes.
      new Freshness(LEASE_MS_MIN),
      { prefix, statusDeadlineMs: this.client.config.deadlineMs, probeIntervalMs: null, backoffInitialMs: this.client.config.backoffInitialMs, backoffMaxMs: this.client.config.backoffMaxMs },
      systemClock,
      () => systemClock.nowMs(),
      systemRandom,
      (err) => setImmediate(() => {
        throw err;
      }),
    );
    this.watchers.add(stream);
    stream.start();
    return stop;
  }

  /**
   * Resolves true once the node's Local answers (its Status), false after `timeoutMs`. Whether
   * that Local holds its lease is its own business: it serves from Global until it does.
   */
  async ready(timeoutMs = this.client.config.deadlineMs): Promise<boolean> {
    checkInteger('timeoutMs', timeoutMs, 1, 3_600_000);
    try {
      await this.client.status({ deadlineMs: timeoutMs });
      return true;
    } catch {
      return false;
    }
  }

  private noteRevision(revision: number): void {
    if (revision > this.latestSeen) this.latestSeen = revision;
  }

  stats(): AttachedStats {
    return { hits: null, misses: null, leaseValid: null, revision: this.latestSeen, gets: this.getCount, blobHits: this.blobHitCount, blobMisses: this.blobMissCount, blobs: this.blobs.size, blobBytes: this.blobs.calculatedSize };
  }

  async close(): Promise<void> {
    await Promise.all([...this.watchers].map((w) => w.close()));
    this.watchers.clear();
    await this.client.close();
    this.blobs.clear();
  }
}
