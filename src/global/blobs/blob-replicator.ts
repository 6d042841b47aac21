// Blobs between replicas (docs/architecture.md, "Large blobs"; issue 5 item 6): blobs travel
// outside the log, on their own calls (Replica.StoreBlob, Replica.FetchBlob) on channels of
// their own, so bulk bytes never delay consensus traffic on the Exchange streams.
//
// - `ensureDurable(hash)`: the blob is held here (fetched from a peer first if need be) and
//   pushed with StoreBlob to every peer at once; it resolves as soon as a majority (this
//   replica included) holds it. Peers that already hold it answer at once. The leader calls
//   it before it proposes a transaction that references the blob; PutBlob calls it before
//   it answers. Hashes known durable are cached for a while (bounded, see `durableTtlMs`).
// - `fetch(hash)`: FetchBlob from the peers (the leader first), verified against the hash
//   as the bytes stream into the blob store. Single-flight per hash.
// - Background repair: after each applied instance, a referenced blob this replica lacks is
//   queued and fetched (bounded concurrency, retried with backoff while still referenced);
//   a periodic sweep over the state machine's references catches what the applied stream
//   cannot show (a state restored from a snapshot, a copy dropped as corrupt).
// - GC: every `gcIntervalMs`, `BlobStore.collectGarbage` with "referenced by the state
//   machine, or pinned". A pin protects a blob for the store's grace period after a replica
//   vouched for it (answered StoreBlob or PutBlob "existed" without re-putting it, which would
//   not restart the store's own grace period), so a transaction proposed on that word finds
//   it on apply.
//
// Peer calls carry the cluster id in metadata; a replica refuses blob calls from another
// cluster. Nothing a peer sends can crash a replica: every handler answers with a status.

import { CLUSTER_ID_METADATA, CLUSTER_MISMATCH } from '../peers/peer-transport.ts';
import * as grpc from '@grpc/grpc-js';
import { Backoff, type Clock, type Random, type Timer } from '../../protocol/backoff.ts';
import { checkInteger } from '../../protocol/config-check.ts';
import { drained } from '../../protocol/drained.ts';
import { StreamCaps } from '../../protocol/stream-caps.ts';
import { ClosedError, CorruptError, DstoreError, InvalidArgumentError, NotFoundError, TooLargeError, UnavailableError } from '../../protocol/errors.ts';
import { fromGrpcError, toGrpcStatus, type GrpcErrorLike } from '../../protocol/grpc-status.ts';
import { hashFromBytes, hashToBytes, type Hash } from '../../protocol/hash.ts';
import type { BlobChunk, BlobChunk__Output } from '../../protocol/generated/dstore/v1/BlobChunk.ts';
import type { FetchBlobRequest__Output } from '../../protocol/generated/dstore/v1/FetchBlobRequest.ts';
import type { PutBlobRequest, PutBlobRequest__Output } from '../../protocol/generated/dstore/v1/PutBlobRequest.ts';
import type { PutBlobResponse, PutBlobResponse__Output } from '../../protocol/generated/dstore/v1/PutBlobResponse.ts';
import type { ReplicaClient, ReplicaHandlers } from '../../protocol/generated/dstore/v1/Replica.ts';
import { dstoreProto } from '../../protocol/proto.ts';
import { PEER_CHANNEL_OPTIONS } from '../peers/peer-transport.ts';
import type { StateMachine } from '../state/state-machine.ts';
import type { Command, InvalidCommand } from '../state/types.ts';
import type { BlobStore, PutResult } from '../storage/blob-store.ts';
import { StorageFatalError } from '../storage/errors.ts';
import type { GcReport } from '../storage/gc.ts';

/** The protocol's largest blob chunk (common.proto BlobChunk). */
export const BLOB_CHUNK_BYTES_MAX = 1024 * 1024;
export { CLUSTER_ID_METADATA };

export interface BlobReplicatorConfig {
  /** Period of garbage collection (and of the repair sweep that follows it). */
  readonly gcIntervalMs: number;
  /** Deadline of one StoreBlob or FetchBlob call, from start to end of the transfer. */
  readonly transferTimeoutMs: number;
  /** Bytes per chunk sent to peers, at most 1 MiB. */
  readonly chunkBytes: number;
  /** Background fetches of missing blobs running at once. */
  readonly fetchConcurrencyMax: number;
  /** Missing blobs queued for background fetch at most; more are left to the next sweep. */
  readonly fetchQueueMax: number;
  readonly fetchBackoffInitialMs: number;
  readonly fetchBackoffMaxMs: number;
  /** Hashes remembered as durable on a majority at most (oldest forgotten first). */
  readonly durableCacheMax: number;
  /** Pinned hashes at most (oldest unpinned first). */
  readonly pinsMax: number;
  /** Keys the repair sweep looks at per turn of the event loop. */
  readonly sweepSliceKeys: number;
  /**
   * Client transfers (PutBlob, GetBlob) served at once, in all and per connection; more are
   * refused RESOURCE_EXHAUSTED. Peers' transfers have a pool of their own, so clients can
   * never take the slots replication needs.
   */
  readonly clientTransfersMax: number;
  readonly clientTransfersPerConnectionMax: number;
  /** Peer transfers (StoreBlob, FetchBlob) served at once; more are refused UNAVAILABLE. */
  readonly peerTransfersMax: number;
  /** An upload (PutBlob, StoreBlob) that sends no message for this long is cancelled and its slot freed. */
  readonly uploadIdleMs: number;
}

export const BLOB_REPLICATOR_DEFAULTS: BlobReplicatorConfig = Object.freeze({
  gcIntervalMs: 60_000,
  transferTimeoutMs: 300_000,
  chunkBytes: BLOB_CHUNK_BYTES_MAX,
  fetchConcurrencyMax: 4,
  fetchQueueMax: 100_000,
  fetchBackoffInitialMs: 100,
  fetchBackoffMaxMs: 10_000,
  durableCacheMax: 100_000,
  pinsMax: 1_000_000,
  sweepSliceKeys: 10_000,
  clientTransfersMax: 256,
  clientTransfersPerConnectionMax: 16,
  peerTransfersMax: 256,
  uploadIdleMs: 30_000,
});

/** Merges `partial` over the defaults and checks every field; InvalidArgumentError names the first bad one. */
export function validateBlobReplicatorConfig(partial: Partial<BlobReplicatorConfig> = {}): BlobReplicatorConfig {
  const c = { ...BLOB_REPLICATOR_DEFAULTS, ...partial };
  const day = 86_400_000;
  checkInteger('BlobReplicatorConfig.gcIntervalMs', c.gcIntervalMs, 1, day);
  checkInteger('BlobReplicatorConfig.transferTimeoutMs', c.transferTimeoutMs, 1, day);
  checkInteger('BlobReplicatorConfig.chunkBytes', c.chunkBytes, 1, BLOB_CHUNK_BYTES_MAX);
  checkInteger('BlobReplicatorConfig.fetchConcurrencyMax', c.fetchConcurrencyMax, 1, 1024);
  checkInteger('BlobReplicatorConfig.fetchQueueMax', c.fetchQueueMax, 1, 100_000_000);
  checkInteger('BlobReplicatorConfig.fetchBackoffInitialMs', c.fetchBackoffInitialMs, 1, 600_000);
  checkInteger('BlobReplicatorConfig.fetchBackoffMaxMs', c.fetchBackoffMaxMs, 1, 600_000);
  if (c.fetchBackoffMaxMs < c.fetchBackoffInitialMs) {
    throw new InvalidArgumentError(`BlobReplicatorConfig.fetchBackoffMaxMs (${c.fetchBackoffMaxMs}) must be >= fetchBackoffInitialMs (${c.fetchBackoffInitialMs})`);
  }
  checkInteger('BlobReplicatorConfig.durableCacheMax', c.durableCacheMax, 0, 100_000_000);
  checkInteger('BlobReplicatorConfig.pinsMax', c.pinsMax, 1, 100_000_000);
  checkInteger('BlobReplicatorConfig.sweepSliceKeys', c.sweepSliceKeys, 1, 10_000_000);
  checkInteger('BlobReplicatorConfig.clientTransfersMax', c.clientTransfersMax, 1, 1_000_000);
  checkInteger('BlobReplicatorConfig.clientTransfersPerConnectionMax', c.clientTransfersPerConnectionMax, 1, 1_000_000);
  checkInteger('BlobReplicatorConfig.peerTransfersMax', c.peerTransfersMax, 1, 1_000_000);
  checkInteger('BlobReplicatorConfig.uploadIdleMs', c.uploadIdleMs, 1, day);
  return c;
}

/** What the replicator needs to know about references (the state machine, read at call time). */
export interface BlobReferences {
  /** True while some key is bound to the blob. */
  isReferenced(hash: Hash): boolean;
  /**
   * Hashes of blob-store values bound by keys > `afterKey` ('' = from the start), looking at
   * `keysMax` keys at most; `lastKey` is null when the scan reached the end.
   */
  blobHashesAfter(afterKey: string | null, keysMax: number): { hashes: Hash[]; lastKey: string | null };
}

/**
 * BlobReferences over the state machine `current()` returns (it is replaced when a snapshot
 * is installed). Reads the key space directly, as snapshot.ts does.
 */
export function stateMachineReferences(current: () => StateMachine): BlobReferences {
  return {
    isReferenced: (hash) => current().isReferenced(hash),
    blobHashesAfter(afterKey, keysMax) {
      const keyspace = current().keyspace;
      const hashes: Hash[] = [];
      let seen = 0;
      // '\0' appended: the smallest key above afterKey, so a resumed scan never repeats it.
      for (const kv of keyspace.scan(afterKey === null ? '' : `${afterKey}\u0000`, '')) {
        if (keyspace.value(kv.hash)?.bytes === null) hashes.push(kv.hash);
        if (++seen >= keysMax) return { hashes, lastKey: kv.key };
      }
      return { hashes, lastKey: null };
    },
  };
}

export interface BlobReplicatorOptions {
  readonly selfId: number;
  /** Every member, this one included: id -> "host:port". */
  readonly members: ReadonlyMap<number, string>;
  readonly clusterId: string;
  readonly credentials: grpc.ChannelCredentials;
  readonly blobs: BlobStore;
  readonly references: BlobReferences;
  /** The replica believed to lead (0 when unknown); fetches ask it first. */
  readonly leaderId: () => number;
  /** Largest blob accepted from a peer (the server's limits.blob_bytes_max). */
  readonly blobBytesMax: number;
  /** How long a pin protects a blob: the blob store's grace period. */
  readonly pinMs: number;
  readonly clock: Clock;
  readonly random: Random;
  readonly config?: Partial<BlobReplicatorConfig>;
  /** A failed fsync in the blob store (StorageFatalError): stop the process. */
  readonly onFatal: (err: unknown) => void;
  /** Background failures worth a line in the log (a GC that failed); default console.error. */
  readonly log?: (line: string) => void;
}

/** One missing blob waiting for its background fetch. */
interface FetchTask {
  readonly backoff: Backoff;
  timer: Timer | null;
}

export class BlobReplicator {
  readonly config: BlobReplicatorConfig;
  private readonly peers = new Map<number, ReplicaClient>();
  private readonly majority: number;
  /** Invariant: insertion order is expiry order (every pin lasts pinMs). */
  private readonly pins = new Map<Hash, number>();
  /** Hash -> {size, atMs}; insertion order is age order. */
  private readonly durable = new Map<Hash, { size: number; atMs: number }>();
  private readonly ensuring = new Map<Hash, Promise<number>>();
  private readonly fetching = new Map<Hash, Promise<void>>();
  /** Uploads (PutBlob, StoreBlob) in progress by announced hash; a background fetch waits for them. */
  private readonly receiving = new Map<Hash, Promise<unknown>>();
  /** Background fetches: queued or waiting for a retry (`ready` holds those due now). */
  private readonly tasks = new Map<Hash, FetchTask>();
  private ready: Hash[] = [];
  private fetchesRunning = 0;
  private readonly clientTransfers: StreamCaps;
  private peerTransfersIn = 0;
  /** Calls in flight, cancelled on close. */
  private readonly calls = new Set<{ cancel(): void }>();
  private gcTimer: Timer | null = null;
  private gcRunning: Promise<void> | null = null;
  private sweepTimer: Timer | null = null;
  private closed = false;
  private readonly log: (line: string) => void;
  /** Counters for tests and status. */
  readonly stats = { fetched: 0, fetchFailures: 0, fetchQueueDropped: 0, pushed: 0, gcRuns: 0, blobsCollected: 0 };

  /** Throws InvalidArgumentError for a bad config or member list. */
  constructor(private readonly options: BlobReplicatorOptions) {
    this.config = validateBlobReplicatorConfig(options.config);
    checkInteger('pinMs', options.pinMs, 0);
    checkInteger('blobBytesMax', options.blobBytesMax, 0);
    if (!options.members.has(options.selfId)) throw new InvalidArgumentError(`replica ${options.selfId} is not among the members ${[...options.members.keys()].join(', ')}`);
    this.majority = Math.floor(options.members.size / 2) + 1;
    this.clientTransfers = new StreamCaps('blob transfers (PutBlob, GetBlob)', `replica ${options.selfId}`, {
      totalMax: this.config.clientTransfersMax,
      totalName: 'clientTransfersMax',
      perConnectionMax: this.config.clientTransfersPerConnectionMax,
      perConnectionName: 'clientTransfersPerConnectionMax',
    });
    const Replica = dstoreProto().dstore.v1.Replica;
    for (const [id, address] of options.members) {
      // A connection of its own per peer (a local subchannel pool: grpc-js would otherwise
      // share the Exchange stream's), so bulk bytes never queue ahead of consensus messages.
      if (id !== options.selfId) this.peers.set(id, new Replica(address, options.credentials, { ...PEER_CHANNEL_OPTIONS, 'grpc.use_local_subchannel_pool': 1 }));
    }
    this.log = options.log ?? ((line) => console.error(`dstore replica ${options.selfId}: ${line}`));
  }

  /** Starts periodic GC and runs a first repair sweep. */
  start(): void {
    this.scheduleGc();
    this.sweep();
  }

  /** Stops timers, cancels transfers in flight, closes peer channels. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.gcTimer?.cancel();
    this.sweepTimer?.cancel();
    for (const task of this.tasks.values()) task.timer?.cancel();
    this.tasks.clear();
    this.ready = [];
    for (const call of this.calls) call.cancel();
    this.calls.clear();
    for (const client of this.peers.values()) client.close();
  }

  // ---- pins and the durable cache --------------------------------------------------------

  /** Protects `hash` from GC here for `pinMs` (see the file comment). */
  pin(hash: Hash): void {
    this.pins.delete(hash);
    this.pins.set(hash, this.options.clock.nowMs() + this.options.pinMs);
    if (this.pins.size > this.config.pinsMax) this.pins.delete(this.pins.keys().next().value!);
  }

  private isPinned(hash: Hash): boolean {
    const until = this.pins.get(hash);
    return until !== undefined && until > this.options.clock.nowMs();
  }

  private prunePins(): void {
    const now = this.options.clock.nowMs();
    for (const [hash, until] of this.pins) {
      if (until > now) break;
      this.pins.delete(hash);
    }
  }

  /**
   * A cached "durable on a majority" is trusted for half the pin period: the peers that
   * vouched for the blob keep it at least that long even if nothing references it.
   */
  private cachedDurable(hash: Hash): number | undefined {
    const entry = this.durable.get(hash);
    if (entry === undefined) return undefined;
    if (this.options.clock.nowMs() - entry.atMs >= this.options.pinMs / 2 || !this.options.blobs.has(hash)) {
      this.durable.delete(hash);
      return undefined;
    }
    return entry.size;
  }

  private rememberDurable(hash: Hash, size: number): void {
    if (this.config.durableCacheMax === 0) return;
    this.durable.delete(hash);
    this.durable.set(hash, { size, atMs: this.options.clock.nowMs() });
    if (this.durable.size > this.config.durableCacheMax) this.durable.delete(this.durable.keys().next().value!);
  }

  // ---- majority durability -------------------------------------------------------------

  /**
   * Resolves with the blob's size once it is held here and on a majority of replicas, this
   * one included (fetching it here first when a peer has it). Pins it here. Throws
   * NotFoundError when a majority of replicas lack it (so it was never durable: upload it),
   * UnavailableError (retryable) when no majority could be reached (also once closed).
   */
  ensureDurable(hash: Hash): Promise<number> {
    if (this.closed) return Promise.reject(shuttingDown());
    const cached = this.cachedDurable(hash);
    if (cached !== undefined) {
      this.pin(hash);
      return Promise.resolve(cached);
    }
    let running = this.ensuring.get(hash);
    if (running === undefined) {
      running = this.ensureDurableOnce(hash).finally(() => this.ensuring.delete(hash));
      this.ensuring.set(hash, running);
    }
    return running;
  }

  private async ensureDurableOnce(hash: Hash): Promise<number> {
    if (!this.options.blobs.has(hash)) await this.fetch(hash);
    this.pin(hash);
    const size = this.options.blobs.sizeBytes(hash);
    if (size === undefined) throw new UnavailableError(`blob ${hash} vanished from replica ${this.options.selfId} while being replicated: retry`);
    await this.replicate(hash, size);
    this.rememberDurable(hash, size);
    return size;
  }

  /**
   * Pushes the blob to every peer at once; resolves when majority - 1 of them hold it. The
   * other pushes carry on in the background (so every replica usually has it before the
   * transaction that references it is applied).
   */
  private replicate(hash: Hash, size: number): Promise<void> {
    const needed = this.majority - 1;
    if (needed <= 0) return Promise.resolve();
    const peerIds = [...this.peers.keys()];
    return new Promise<void>((resolve, reject) => {
      let acks = 0;
      const failures: string[] = [];
      for (const peerId of peerIds) {
        this.storeOn(peerId, hash, size).then(
          () => {
            this.stats.pushed++;
            if (++acks === needed) resolve();
          },
          (err: unknown) => {
            failures.push(`replica ${peerId}: ${describe(err)}`);
            if (peerIds.length - failures.length === needed - 1) {
              reject(new UnavailableError(`blob ${hash} could not be made durable on a majority (${this.majority} of ${this.options.members.size} replicas): ${failures.join('; ')}: retry when more replicas are up`));
            }
          },
        );
      }
    });
  }

  /** One StoreBlob call: header with size and hash, then the local copy in chunks (backpressure respected). */
  private async storeOn(peerId: number, hash: Hash, size: number): Promise<void> {
    const client = this.peers.get(peerId)!;
    let answered = false;
    let call: grpc.ClientWritableStream<PutBlobRequest> | undefined;
    const response = new Promise<PutBlobResponse__Output>((resolve, reject) => {
      call = client.StoreBlob(this.peerMetadata(), { deadline: Date.now() + this.config.transferTimeoutMs }, (err, value) => {
        answered = true;
        if (err !== null) reject(fromGrpcError(err));
        else if (value === undefined) reject(new UnavailableError('StoreBlob ended without an answer'));
        else resolve(value);
      });
    });
    response.catch(() => undefined); // observed below; an early failure must not be "unhandled"
    const stream = call!;
    const tracked = { cancel: () => stream.cancel() };
    this.calls.add(tracked);
    try {
      stream.write({ header: { size, hash: hashToBytes(hash) } });
      let offset = 0;
      for await (const piece of this.options.blobs.read(hash, this.config.chunkBytes)) {
        if (answered || this.closed) break;
        const flowing = stream.write({ chunk: { offset, data: piece } });
        offset += piece.byteLength;
        if (!flowing) await Promise.race([drained(stream), response.then(() => undefined, () => undefined)]);
      }
      stream.end();
      const value = await response;
      if (value.size !== size || !value.hash.equals(hashToBytes(hash))) {
        throw new CorruptError(`replica ${peerId} stored ${value.size} bytes hashing to ${value.hash.toString('hex')}, expected ${size} bytes of ${hash}`);
      }
    } catch (err) {
      stream.cancel();
      this.noteLocalFailure(hash, err);
      throw err;
    } finally {
      this.calls.delete(tracked);
    }
  }

  // ---- fetching from peers ---------------------------------------------------------------

  /**
   * Fetches the blob from a peer (the leader first, then the others), verified against its
   * hash as it streams into the blob store. Single-flight per hash. Resolves at once when it
   * is already held. Throws NotFoundError when a majority of replicas (this one included)
   * lack it; CorruptError (DATA_LOSS) when a majority lack a good copy and at least one of
   * them had one that failed its hash (the blob existed: "not found, upload it" would be
   * false); UnavailableError when the peers that might have it could not be asked (a corrupt
   * copy from one peer is discarded and the next asked), and once closed.
   */
  fetch(hash: Hash): Promise<void> {
    if (this.closed) return Promise.reject(shuttingDown());
    if (this.options.blobs.has(hash)) return Promise.resolve();
    let running = this.fetching.get(hash);
    if (running === undefined) {
      running = this.fetchOnce(hash).finally(() => this.fetching.delete(hash));
      this.fetching.set(hash, running);
    }
    return running;
  }

  private async fetchOnce(hash: Hash): Promise<void> {
    const receiving = this.receiving.get(hash);
    if (receiving !== undefined) await receiving.catch(() => undefined);
    if (this.options.blobs.has(hash)) return;
    const leaderId = this.options.leaderId();
    const order = [...this.peers.keys()].sort((a, b) => (a === leaderId ? -1 : b === leaderId ? 1 : a - b));
    let lacking = 1; // this replica
    /** Replicas whose copy failed its hash (this one, peers that answered DATA_LOSS). */
    const damaged: string[] = [];
    const here = this.options.blobs.damage(hash);
    if (here !== undefined) damaged.push(`replica ${this.options.selfId} (here): ${here}`);
    const failures: string[] = [];
    for (const peerId of order) {
      if (this.closed) throw shuttingDown();
      try {
        await this.fetchFrom(peerId, hash);
        this.stats.fetched++;
        return;
      } catch (err) {
        if (err instanceof NotFoundError) lacking++;
        // Its copy failed its hash (now or earlier), or the bytes it sent did.
        else if (err instanceof CorruptError) damaged.push(`replica ${peerId}: ${err.message}`);
        else failures.push(`replica ${peerId}: ${describe(err)}`);
        if (err instanceof StorageFatalError) throw err;
      }
    }
    this.stats.fetchFailures++;
    // Durable means held by a majority, and any majority meets every other: when a majority
    // lacks a good copy, no replica can repair it. It existed if any replica held it damaged.
    const peersDamaged = damaged.length - (here === undefined ? 0 : 1);
    if (damaged.length > 0 && lacking + peersDamaged >= this.majority) {
      throw new CorruptError(`blob ${hash} has no good copy on a majority of the replicas: ${damaged.join('; ')}${failures.length === 0 ? '' : `; ${failures.join('; ')}`}. Keys bound to it cannot be read; if you still have its bytes, upload them again with PutBlob, which repairs every replica`);
    }
    if (lacking >= this.majority) throw new NotFoundError(`blob ${hash} is on none of the replicas asked (${lacking} of ${this.options.members.size} lack it): upload it with PutBlob`);
    throw new UnavailableError(`blob ${hash} could not be fetched from a peer: ${failures.join('; ')}: retry`);
  }

  /** One FetchBlob call streamed into the blob store with the expected hash. */
  private async fetchFrom(peerId: number, hash: Hash): Promise<PutResult> {
    const call = this.peers.get(peerId)!.FetchBlob({ hash: hashToBytes(hash) }, this.peerMetadata(), { deadline: Date.now() + this.config.transferTimeoutMs });
    this.calls.add(call);
    try {
      return await this.options.blobs.putStream(fetchedChunks(call, hash, peerId), hash);
    } finally {
      this.calls.delete(call);
      call.cancel();
    }
  }

  // ---- receiving (StoreBlob here, PutBlob in blob-service.ts) ------------------------------

  /**
   * Stores an upload's chunks (after its header) in the blob store, hashing as they arrive;
   * with `header.hash`, bytes that hash otherwise are refused (CorruptError) and nothing is
   * kept. Pins the result. Throws InvalidArgumentError (framing), TooLargeError, CorruptError,
   * DiskFullError, StorageFatalError.
   */
  async receive(header: UploadHeader, rest: AsyncIterator<PutBlobRequest__Output>): Promise<PutResult> {
    const work = this.options.blobs.putStream(uploadChunks(rest, header), header.hash ?? undefined);
    if (header.hash !== null && !this.receiving.has(header.hash)) {
      const hash = header.hash;
      this.receiving.set(hash, work);
      void work.finally(() => {
        if (this.receiving.get(hash) === work) this.receiving.delete(hash);
      }).catch(() => undefined);
    }
    try {
      const result = await work;
      this.pin(result.hash);
      return result;
    } catch (err) {
      if (err instanceof StorageFatalError) this.options.onFatal(err);
      throw err;
    }
  }

  /**
   * Runs one client transfer (PutBlob, GetBlob) from `connection` (call.getPeer()) within
   * the client pool: ResourceExhaustedError when the connection's share or the pool is full,
   * UnavailableError once closed. Peers' transfers never wait for this pool.
   */
  async serveClientTransfer<T>(connection: string, run: () => Promise<T>): Promise<T> {
    if (this.closed) throw shuttingDown();
    const release = this.clientTransfers.admit(connection);
    try {
      return await run();
    } finally {
      release();
    }
  }

  /** Runs one peer transfer (StoreBlob, FetchBlob) within `peerTransfersMax` (UnavailableError beyond it, or once closed). */
  private async servePeerTransfer<T>(run: () => Promise<T>): Promise<T> {
    if (this.closed) throw shuttingDown();
    if (this.peerTransfersIn >= this.config.peerTransfersMax) {
      throw new UnavailableError(`replica ${this.options.selfId} is serving ${this.peerTransfersIn} peer blob transfers, its limit (peerTransfersMax): retry shortly`);
    }
    this.peerTransfersIn++;
    try {
      return await run();
    } finally {
      this.peerTransfersIn--;
    }
  }

  /** Client transfers open now (tests, status). */
  get clientTransfersOpen(): number {
    return this.clientTransfers.open;
  }

  /**
   * The messages of an upload `call`, cancelling it (UnavailableError naming uploadIdleMs)
   * when none arrives for uploadIdleMs: a stalled uploader frees its slot.
   */
  uploadMessages(call: grpc.ServerReadableStream<PutBlobRequest__Output, PutBlobResponse>, what: string): AsyncIterator<PutBlobRequest__Output> {
    return idleLimited(call[Symbol.asyncIterator]() as AsyncIterator<PutBlobRequest__Output>, this.config.uploadIdleMs, this.options.clock, what);
  }

  /** Replica.StoreBlob, wired into the server by global-server.ts. */
  readonly handleStoreBlob: ReplicaHandlers['StoreBlob'] = (call, callback) => {
    this.servePeerTransfer(() => this.storeBlob(call)).then(
      (response) => callback(null, response),
      (err: unknown) => callback(toGrpcStatus(err)),
    );
  };

  /** Replica.FetchBlob, wired into the server by global-server.ts. */
  readonly handleFetchBlob: ReplicaHandlers['FetchBlob'] = (call) => {
    this.servePeerTransfer(() => this.fetchBlob(call)).catch((err: unknown) => {
      if (!call.cancelled) call.emit('error', toGrpcStatus(err));
    });
  };

  private checkCluster(metadata: grpc.Metadata): void {
    const clusterId = metadata.get(CLUSTER_ID_METADATA)[0];
    if (clusterId !== this.options.clusterId) {
      throw new InvalidArgumentError(`blob call: ${CLUSTER_MISMATCH}`);
    }
  }

  private async storeBlob(call: grpc.ServerReadableStream<PutBlobRequest__Output, PutBlobResponse>): Promise<PutBlobResponse> {
    this.checkCluster(call.metadata);
    const messages = this.uploadMessages(call, 'StoreBlob');
    const header = await readUploadHeader(messages, this.options.blobBytesMax);
    if (header.hash === null) throw new InvalidArgumentError('StoreBlob: the header must carry the blob hash');
    const held = this.options.blobs.sizeBytes(header.hash);
    if (held !== undefined) {
      // Answer before reading the chunks; the pin keeps our word that we hold it.
      checkHeldSize(header, held);
      this.pin(header.hash);
      return { hash: hashToBytes(header.hash), size: held, existed: true };
    }
    const result = await this.receive(header, messages);
    return { hash: hashToBytes(result.hash), size: result.sizeBytes, existed: false };
  }

  private async fetchBlob(call: grpc.ServerWritableStream<FetchBlobRequest__Output, BlobChunk>): Promise<void> {
    this.checkCluster(call.metadata);
    const hash = hashFromBytes(call.request.hash);
    if (!this.options.blobs.has(hash)) {
      const damage = this.options.blobs.damage(hash);
      if (damage !== undefined) throw new CorruptError(`replica ${this.options.selfId}'s copy of blob ${hash} failed its hash check (${damage}); it fetches a good copy from its peers`);
      throw new NotFoundError(`replica ${this.options.selfId} does not hold blob ${hash}`);
    }
    let offset = 0;
    try {
      for await (const piece of this.options.blobs.read(hash, this.config.chunkBytes)) {
        if (call.cancelled || this.closed) return;
        const flowing = call.write({ offset, data: piece });
        offset += piece.byteLength;
        if (!flowing) await drained(call);
      }
    } catch (err) {
      this.noteLocalFailure(hash, err);
      throw err;
    }
    call.end();
  }

  /** A local copy that failed its hash was quarantined by the store: fetch it again if it is still needed. */
  noteLocalFailure(hash: Hash, err: unknown): void {
    if (err instanceof StorageFatalError) this.options.onFatal(err);
    if (err instanceof CorruptError) {
      this.log(`blob ${hash}: ${this.options.blobs.damage(hash) ?? err.message}; fetching a good copy from a peer`);
      this.durable.delete(hash);
      this.enqueueFetch(hash);
    }
  }

  // ---- background fetch of missing referenced blobs --------------------------------------

  /** AppliedListener: queues blobs that applied puts reference and this replica lacks. */
  readonly onApplied = (_revision: number, commands: readonly (Command | InvalidCommand)[]): void => {
    for (const command of commands) {
      if ('invalid' in command) continue;
      for (const op of [...command.txn.success, ...command.txn.failure]) {
        if ((op.kind === 'put' || op.kind === 'putIfAbsent') && op.value.kind === 'blob') this.enqueueFetch(op.value.hash);
      }
    }
  };

  /** Queues a background fetch of `hash` if it is referenced, missing here and not queued yet. */
  enqueueFetch(hash: Hash): void {
    if (this.closed || this.tasks.has(hash) || this.options.blobs.has(hash)) return;
    if (!this.options.references.isReferenced(hash)) return;
    if (this.tasks.size >= this.config.fetchQueueMax) {
      this.stats.fetchQueueDropped++;
      return;
    }
    const backoff = new Backoff({ backoffInitialMs: this.config.fetchBackoffInitialMs, backoffMaxMs: this.config.fetchBackoffMaxMs }, this.options.random);
    this.tasks.set(hash, { backoff, timer: null });
    this.ready.push(hash);
    this.pump();
  }

  /** Number of blobs queued or waiting to be fetched again (tests, status). */
  get fetchesPending(): number {
    return this.tasks.size;
  }

  private pump(): void {
    while (!this.closed && this.fetchesRunning < this.config.fetchConcurrencyMax && this.ready.length > 0) {
      const hash = this.ready.shift()!;
      const task = this.tasks.get(hash);
      if (task === undefined) continue;
      this.fetchesRunning++;
      this.runTask(hash, task).finally(() => {
        this.fetchesRunning--;
        this.pump();
      }).catch(() => undefined);
    }
  }

  private async runTask(hash: Hash, task: FetchTask): Promise<void> {
    if (this.options.blobs.has(hash) || !this.options.references.isReferenced(hash)) {
      this.tasks.delete(hash);
      return;
    }
    try {
      await this.fetch(hash);
      this.tasks.delete(hash);
    } catch (err) {
      if (this.closed) return;
      if (err instanceof StorageFatalError) {
        this.options.onFatal(err);
        return;
      }
      // Retried while referenced: a peer may come back, or finish receiving it.
      task.timer = this.options.clock.setTimer(() => {
        task.timer = null;
        this.ready.push(hash);
        this.pump();
      }, task.backoff.nextDelayMs(), false);
    }
  }

  // ---- the repair sweep ------------------------------------------------------------------

  /**
   * Walks every key (a slice per turn) and queues referenced blobs this replica lacks. Runs
   * on start and after every GC pass; call it after replacing the state (a snapshot install).
   * A sweep in progress is not restarted.
   */
  sweep(): void {
    if (this.closed || this.sweepTimer !== null) return;
    let after: string | null = null;
    const slice = (): void => {
      this.sweepTimer = null;
      if (this.closed) return;
      const { hashes, lastKey } = this.options.references.blobHashesAfter(after, this.config.sweepSliceKeys);
      for (const hash of hashes) this.enqueueFetch(hash);
      if (lastKey === null) return;
      after = lastKey;
      this.sweepTimer = this.options.clock.setTimer(slice, 0, false);
    };
    this.sweepTimer = this.options.clock.setTimer(slice, 0, false);
  }

  // ---- garbage collection ----------------------------------------------------------------

  private scheduleGc(): void {
    if (this.closed) return;
    this.gcTimer = this.options.clock.setTimer(() => {
      this.gcTimer = null;
      this.collectGarbage()
        .catch((err: unknown) => {
          if (err instanceof StorageFatalError) this.options.onFatal(err);
          else if (!this.closed && !(err instanceof ClosedError)) this.log(`blob GC failed: ${describe(err)}`);
        })
        .finally(() => {
          this.scheduleGc();
          this.sweep();
        });
    }, this.config.gcIntervalMs, false);
  }

  /**
   * One collection now: deletes blobs no key references, not pinned, and past the store's
   * grace period. Runs are never concurrent (a second caller waits for the running one and
   * gets an empty report). Throws as BlobStore.collectGarbage.
   */
  async collectGarbage(): Promise<GcReport> {
    if (this.gcRunning !== null) {
      await this.gcRunning;
      return { blobsRemoved: 0, bytesRemoved: 0, inlineBlobsMoved: 0, packSegmentsRemoved: 0 };
    }
    let done = (): void => {};
    this.gcRunning = new Promise<void>((resolve) => {
      done = resolve;
    });
    try {
      this.prunePins();
      const references = this.options.references;
      const report = await this.options.blobs.collectGarbage((hash) => references.isReferenced(hash) || this.isPinned(hash));
      this.stats.gcRuns++;
      this.stats.blobsCollected += report.blobsRemoved;
      return report;
    } finally {
      this.gcRunning = null;
      done();
    }
  }

  private peerMetadata(): grpc.Metadata {
    const metadata = new grpc.Metadata();
    metadata.set(CLUSTER_ID_METADATA, this.options.clusterId);
    return metadata;
  }
}

// ---- upload framing, shared with blob-service.ts (Global.PutBlob) ---------------------------

export interface UploadHeader {
  readonly size: number;
  /** The expected hash, when the uploader gave one. */
  readonly hash: Hash | null;
}

/**
 * Reads the first message of an upload, which must be a header within the store's limits.
 * Throws InvalidArgumentError, TooLargeError, UnavailableError (the stream broke).
 */
export async function readUploadHeader(messages: AsyncIterator<PutBlobRequest__Output>, blobBytesMax: number): Promise<UploadHeader> {
  const first = await nextMessage(messages);
  if (first === null) throw new InvalidArgumentError('blob upload ended before its header: send a header first');
  if (first.header === null || first.header === undefined) throw new InvalidArgumentError('the first message of a blob upload must be its header (size, optional hash)');
  const size = first.header.size;
  if (!Number.isSafeInteger(size) || size < 0) throw new InvalidArgumentError(`blob upload header: size ${size} is not a non-negative integer below 2^53`);
  if (size > blobBytesMax) throw new TooLargeError(`blob of ${size} bytes is over the limit of ${blobBytesMax} bytes (limits.blob_bytes_max)`);
  const hash = first.header.hash.byteLength === 0 ? null : hashFromBytes(first.header.hash);
  return { size, hash };
}

/** The data of an upload's chunk messages, checked: in order, no gaps, at most 1 MiB each, exactly `header.size` in all. */
async function* uploadChunks(messages: AsyncIterator<PutBlobRequest__Output>, header: UploadHeader): AsyncGenerator<Uint8Array> {
  let received = 0;
  for (let m = await nextMessage(messages); m !== null; m = await nextMessage(messages)) {
    const chunk = m.chunk;
    if (chunk === null || chunk === undefined) throw new InvalidArgumentError('blob upload: only the first message may be a header; the rest must be chunks');
    if (chunk.offset !== received) throw new InvalidArgumentError(`blob upload: chunk at offset ${chunk.offset}, expected ${received} (chunks must be in order, without gaps)`);
    if (chunk.data.byteLength > BLOB_CHUNK_BYTES_MAX) throw new TooLargeError(`blob upload: chunk of ${chunk.data.byteLength} bytes is over the ${BLOB_CHUNK_BYTES_MAX}-byte chunk limit`);
    if (received + chunk.data.byteLength > header.size) throw new InvalidArgumentError(`blob upload: more bytes than the ${header.size} announced in the header`);
    received += chunk.data.byteLength;
    yield chunk.data;
  }
  if (received !== header.size) throw new InvalidArgumentError(`blob upload ended after ${received} of the ${header.size} bytes announced`);
}

/** A held blob whose size differs from an upload header's is the uploader's mistake. */
export function checkHeldSize(header: UploadHeader, heldBytes: number): void {
  if (header.size !== heldBytes) {
    throw new InvalidArgumentError(`blob upload header says ${header.size} bytes, but blob ${header.hash} is ${heldBytes} bytes: the size or the hash is wrong`);
  }
}

/**
 * `messages`, failing a wait for the next one that lasts over `idleMs` with UnavailableError.
 * The wait left behind is abandoned; the caller ends the call, which settles it.
 */
function idleLimited<T>(messages: AsyncIterator<T>, idleMs: number, clock: Clock, what: string): AsyncIterator<T> {
  return {
    next: () => new Promise<IteratorResult<T>>((resolve, reject) => {
      const timer = clock.setTimer(() => {
        reject(new UnavailableError(`${what} sent nothing for ${idleMs} ms (uploadIdleMs): the upload is cancelled; send the chunks without pausing and retry`));
      }, idleMs, false);
      messages.next().then(
        (r) => {
          timer.cancel();
          resolve(r);
        },
        (err: unknown) => {
          timer.cancel();
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    }),
  };
}

/** The next message of a call, null at its end; a broken call becomes a dstore error. */
async function nextMessage<T>(messages: AsyncIterator<T>): Promise<T | null> {
  try {
    const r = await messages.next();
    return r.done === true ? null : r.value;
  } catch (err) {
    throw asDstoreError(err, 'the stream broke');
  }
}

/** FetchBlob messages as bytes, checked to be in order; errors become dstore errors. */
async function* fetchedChunks(call: AsyncIterable<BlobChunk__Output>, hash: Hash, peerId: number): AsyncGenerator<Uint8Array> {
  let received = 0;
  const messages = call[Symbol.asyncIterator]();
  for (let m = await nextMessage(messages); m !== null; m = await nextMessage(messages)) {
    if (m.offset !== received) throw new CorruptError(`FetchBlob ${hash} from replica ${peerId}: chunk at offset ${m.offset}, expected ${received}`);
    received += m.data.byteLength;
    yield m.data;
  }
}

function asDstoreError(err: unknown, what: string): DstoreError {
  if (err instanceof DstoreError) return err;
  if (typeof err === 'object' && err !== null && 'code' in err && typeof (err as GrpcErrorLike).code === 'number') return fromGrpcError(err as GrpcErrorLike);
  return new UnavailableError(`${what}: ${describe(err)}`, { cause: err });
}

/** What a replica that is stopping answers: retryable, another replica can serve it. */
function shuttingDown(): UnavailableError {
  return new UnavailableError('replica is shutting down: retry on another replica');
}

export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
