// A worker attached to its node's Local (local-server.ts): the same API as an in-process
// Local (DstoreApi), and underneath literally a Local whose "Global" is the node's address
// (docs/local.md, "Attached workers"). It keeps bindings of its own and serves cached reads
// without leaving the process; its stream is the node's feed (node-feed.ts: what the node
// applied, never ahead of it) and its lease probes are answered with the node's own proofs, so
// the coherence contract holds for it unchanged (docs/coherence.md). Misses and writes go
// through the node's Local (one cache per node behind the workers' small ones).
//
// It follows the node's terms (Status: leaseMs, modes by prefix, prefix). Keys of 'strict'
// prefixes are never cached here: a worker holds no hold at Global's leader, so they are read
// from the node, which serves them under its own.
//
// Errors: as GlobalClient (DstoreError subclasses only). Returned byte arrays may be the
// worker cache's own: do not modify them.

import { checkInteger } from '../../protocol/config-check.ts';
import type { Hash } from '../../protocol/hash.ts';
import type { DeleteResult, PutBlobResult, RangeResult, RangeSpec, Txn, TxnResult } from '../client/client-types.ts';
import { GlobalClient, type GlobalClientConfig } from '../client/client.ts';
import type { CoherenceMode } from '../cache/freshness.ts';
import { InternalError } from '../../protocol/errors.ts';
import { validateKey } from '../../protocol/keys.ts';
import { controlled } from '../call-control.ts';
import { Local, type DstoreApi, type LocalGetOptions, type LocalRead, type LocalStats, type LocalValue, type LocalWriteOptions, type ReplaceOptions, type ReplaceResult, type WatchEvent, type WriteResult } from '../local.ts';
import { jsonOf, textOf, type ValueLike } from '../value-text.ts';
import type { WatchEventsOptions } from '../watch-events.ts';
import type { WatchOptions } from '../watch-listener.ts';

export const DEFAULT_LOCAL_ADDRESS = '127.0.0.1:50052';

export interface AttachConfig {
  /** Byte budget of the worker's own cache (bindings, values, blobs). Default 16 MiB. */
  readonly cacheBytesMax?: number;
  /** Values larger than this are never cached in the worker (they live once, in the node's Local). Default 1 MiB. */
  readonly cacheEntryBytesMax?: number;
  readonly client?: Omit<GlobalClientConfig, 'addresses'>;
}

/**
 * Attaches to the node's Local at `address`: asks its Status (UnavailableError naming the
 * address when it does not answer, after the client's retries) for the terms to follow, and
 * starts the worker's own bindings. `ready()` says when they may be served.
 */
export async function attach(address: string = DEFAULT_LOCAL_ADDRESS, config: AttachConfig = {}): Promise<AttachedLocal> {
  const cacheBytesMax = config.cacheBytesMax ?? 16 * 1024 * 1024;
  const cacheEntryBytesMax = config.cacheEntryBytesMax ?? 1024 * 1024;
  checkInteger('cacheBytesMax', cacheBytesMax, 4096, 2 ** 48);
  checkInteger('cacheEntryBytesMax', cacheEntryBytesMax, 1, cacheBytesMax);
  const client = new GlobalClient({ ...config.client, addresses: [address] });
  let local: Local;
  try {
    const terms = (await client.status()).nodeLocal;
    local = Local.open({
      global: [address],
      globalClient: client,
      cacheBytesMax,
      cacheEntryBytesMax,
      strictByUpstream: true,
      // A server that sends no terms is a Global replica: the worker is then a linked Local of its own.
      ...(terms === null ? {} : { leaseMs: terms.leaseMs, coherence: terms.coherence as CoherenceMode, coherenceByPrefix: terms.coherenceByPrefix as Record<string, CoherenceMode>, prefix: terms.prefix }),
    });
  } catch (err) {
    await client.close();
    throw err;
  }
  return new AttachedLocal(address, local);
}

export class AttachedLocal implements DstoreApi {
  readonly client: GlobalClient;

  constructor(
    readonly address: string,
    /** The worker's own Local, whose "Global" is the node's Local. */
    readonly local: Local,
  ) {
    this.client = local.client;
  }

  get(key: string, options: LocalGetOptions = {}): Promise<LocalValue | null> {
    if (options.consistency === 'linearizable') return this.read(key, options).then((r) => r.found);
    return this.local.get(key, options);
  }

  /** As `get`, and also says at which revision a missing key was missing. */
  read(key: string, options: LocalGetOptions = {}): Promise<LocalRead> {
    if (options.consistency !== 'linearizable') return this.local.read(key, options);
    validateKey(key);
    return controlled(`get ${JSON.stringify(key)}`, options, false, async (deadlineMs) => (await this.readGlobal([key], deadlineMs))[0]!);
  }

  /** Reads of many keys, in the order of `keys`: hits from the worker's cache, the misses sent together to the node. */
  getMany(keys: readonly string[], options: LocalGetOptions = {}): Promise<LocalRead[]> {
    if (options.consistency !== 'linearizable') return this.local.getMany(keys, options);
    for (const key of keys) validateKey(key);
    if (keys.length === 0) return Promise.resolve([]);
    return controlled(`getMany of ${keys.length} keys`, options, false, (deadlineMs) => this.readGlobal(keys, deadlineMs));
  }

  /**
   * Linearizable reads through the node: the node serves every Session get from its cache,
   * but forwards a transaction to Global, where its gets run linearizably at one revision (at
   * the cost of a transaction: one consensus round). Neither cache is refreshed by it; their
   * streams bring the same changes.
   */
  private async readGlobal(keys: readonly string[], deadlineMs: number | undefined): Promise<LocalRead[]> {
    const result = await this.client.txn({ success: keys.map((key) => ({ kind: 'get' as const, key, withValue: true })) }, deadlineMs === undefined ? {} : { deadlineMs });
    return Promise.all(keys.map(async (key, i): Promise<LocalRead> => {
      const op = result.results[i];
      if (op?.kind !== 'get') throw new InternalError(`the node's Local answered the read of ${JSON.stringify(key)} with a ${op?.kind ?? 'missing'} result`);
      if (op.kv === null) return { found: null, revision: result.revision, source: 'global' };
      const { value: inline, ...binding } = op.kv;
      const value = inline ?? (await this.local.getBlob(op.kv.hash));
      return { found: { kv: binding, value, source: 'global', revision: result.revision }, revision: result.revision, source: 'global' };
    }));
  }

  async getText(key: string, options: LocalGetOptions = {}): Promise<string | null> {
    const found = await this.get(key, options);
    return found === null ? null : textOf(key, found.value);
  }

  async getJson<T = unknown>(key: string, options: LocalGetOptions = {}): Promise<T | null> {
    const found = await this.get(key, options);
    return found === null ? null : jsonOf<T>(key, found.value);
  }

  /** The hot path, as a linked Local's: the worker's own binding while its lease holds, else undefined. */
  getCached(key: string): Uint8Array | undefined {
    return this.local.getCached(key);
  }

  set(key: string, value: ValueLike, options: LocalWriteOptions = {}): Promise<WriteResult> {
    return this.local.set(key, value, options);
  }

  put(key: string, value: ValueLike, options: LocalWriteOptions = {}): Promise<WriteResult> {
    return this.local.put(key, value, options);
  }

  putJson(key: string, value: unknown, options: LocalWriteOptions = {}): Promise<WriteResult> {
    return this.local.putJson(key, value, options);
  }

  del(key: string, options: LocalWriteOptions = {}): Promise<DeleteResult> {
    return this.local.del(key, options);
  }

  replace(key: string, value: ValueLike, options: ReplaceOptions = {}): Promise<ReplaceResult> {
    return this.local.replace(key, value, options);
  }

  txn(txn: Txn, options: LocalWriteOptions = {}): Promise<TxnResult> {
    return this.local.txn(txn, options);
  }

  range(spec: RangeSpec): Promise<RangeResult> {
    return this.local.range(spec);
  }

  putBlob(bytes: Uint8Array): Promise<PutBlobResult> {
    return this.local.putBlob(bytes);
  }

  getBlob(hash: Hash): Promise<Uint8Array> {
    return this.local.getBlob(hash);
  }

  getBlobStream(hash: Hash): AsyncGenerator<Uint8Array, void, undefined> {
    return this.local.getBlobStream(hash);
  }

  /** Changes under `prefix`, called after the worker's own cache applied each (as linked). */
  watch(prefix: string, listener: (event: WatchEvent) => void, options: WatchOptions = {}): () => void {
    return this.local.watch(prefix, listener, options);
  }

  /** `watch` as an async iterable; older revisions come from the node (its feed, else Global's history through it). */
  watchEvents(prefix: string, options: WatchEventsOptions = {}): AsyncGenerator<WatchEvent, void, undefined> {
    return this.local.watchEvents(prefix, options);
  }

  /** Resolves true once the worker holds its lease (its bindings may be served), false after `timeoutMs`. */
  ready(timeoutMs?: number): Promise<boolean> {
    return this.local.ready(timeoutMs);
  }

  /** The worker's own cache, stream and lease, in the linked Local's shape. */
  stats(): LocalStats {
    return this.local.stats();
  }

  close(): Promise<void> {
    return this.local.close();
  }
}
