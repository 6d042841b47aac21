// A worker attached to its node's Local (local-server.ts): the same API as an in-process
// Local (DstoreApi), over one Session stream to the Local's address, so many short-lived
// worker processes share the node's one cache. The worker itself keeps only a small cache of
// blobs (immutable, so always safe to keep; bounded by blobCacheBytesMax, and blobs above
// blobCacheEntryBytesMax are never kept here: large ones live once, in the node's Local).
//
// Errors: as GlobalClient (DstoreError subclasses only). Returned byte arrays may be shared
// with the worker's blob cache: do not modify them.

import { LRUCache } from 'lru-cache';
import { systemClock, systemRandom } from '../protocol/backoff.ts';
import { checkInteger } from '../protocol/config-check.ts';
import type { Hash } from '../protocol/hash.ts';
import type { DeleteResult, PutBlobResult, RangeResult, RangeSpec, Txn, TxnResult, ValueInput } from './client-types.ts';
import { GlobalClient, type GlobalClientConfig } from './client.ts';
import { Freshness } from './freshness.ts';
import { InvalidationStream } from './invalidation-stream.ts';
import { LEASE_MS_MIN, type DstoreApi, type LocalGetOptions, type LocalValue, type ReplaceOptions, type ReplaceResult, type WatchEvent, type WriteResult } from './local.ts';
import { guardListener, type WatchOptions } from './watch-listener.ts';

export const DEFAULT_LOCAL_ADDRESS = '127.0.0.1:50052';

export interface AttachConfig {
  /** Byte budget of the worker's own blob cache. Default 8 MiB. */
  readonly blobCacheBytesMax?: number;
  /** Blobs larger than this are never cached in the worker. Default 1 MiB. */
  readonly blobCacheEntryBytesMax?: number;
  readonly client?: Omit<GlobalClientConfig, 'addresses'>;
}

export interface AttachedStats {
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
    this.getCount++;
    const result = await this.client.get(key, { withValue: true, ...(options.minRevision === undefined ? {} : { minRevision: options.minRevision }) });
    const kv = result.kv;
    if (kv === null) return null;
    const { value: inline, ...binding } = kv;
    return { kv: binding, value: inline ?? (await this.getBlob(kv.hash)), source: 'local', revision: result.revision };
  }

  async set(key: string, value: ValueInput): Promise<WriteResult> {
    const r = await this.client.set(key, value);
    return { revision: r.revision, kv: r.kv };
  }

  del(key: string): Promise<DeleteResult> {
    return this.client.delete(key);
  }

  async replace(key: string, value: Uint8Array, options: ReplaceOptions = {}): Promise<ReplaceResult> {
    const expected = options.ifModRevision ?? (await this.client.get(key, { withValue: false })).kv?.modRevision ?? 0;
    const result = await this.client.txn({
      compares: [{ key, target: 'modRevision', operator: 'equal', number: expected }],
      success: [{ kind: 'put', key, value }],
    });
    const written = result.succeeded ? result.results[0] : undefined;
    return { replaced: result.succeeded, revision: result.revision, kv: written?.kind === 'written' ? written.kv : null };
  }

  txn(txn: Txn): Promise<TxnResult> {
    return this.client.txn(txn);
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
    let applied: number | null = null;
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
          if (message.kind === 'events') for (const event of message.events) guarded(event);
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

  stats(): AttachedStats {
    return { gets: this.getCount, blobHits: this.blobHitCount, blobMisses: this.blobMissCount, blobs: this.blobs.size, blobBytes: this.blobs.calculatedSize };
  }

  async close(): Promise<void> {
    await Promise.all([...this.watchers].map((w) => w.close()));
    this.watchers.clear();
    await this.client.close();
    this.blobs.clear();
  }
}
