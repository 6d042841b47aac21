// Moving a state-machine snapshot from one replica to another (docs/consensus.md: a replica
// that lags past the truncation point catches up by snapshot).
//
// Server side, `serveSnapshot` (Replica.FetchSnapshot): streams the newest snapshot in the
// snapshot store's chunks. The first chunk carries through_instance, size and hash; every
// chunk carries its offset. The store re-hashes as it reads and fails the stream instead of
// sending the last chunk when the file does not match its header, so a damaged snapshot never
// arrives whole.
//
// Client side, `SnapshotFetcher`: the node's SnapshotNeededHandler. When consensus reports
// that a peer truncated the instances this replica lacks, it fetches a snapshot through at
// least that point, from the named peer first and then from the others in turn, one fetch at
// a time, retrying with backoff until one is installed or the replica has caught up some
// other way. Each fetch goes into the snapshot store through `beginInstall(meta)` -> `write`
// -> `finish`, which refuses anything but exactly the announced bytes with the announced
// hash (verified end to end, from the sender's snapshot header to our fsynced file); only
// then is it handed to `install` (ReplicaNode.installSnapshot). A fetch reaches the peer through
// a `SnapshotSource`: FetchSnapshot over gRPC in production (`grpcSnapshotSource`), the
// simulated network in the whole-system simulation (test/sim/system).

import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../protocol/log.ts';
import { Backoff, checkBackoffConfig, type BackoffConfig, type Clock, type Random, type Timer } from '../../protocol/backoff.ts';
import { checkInteger } from '../../protocol/config-check.ts';
import { ClosedError, CorruptError, InvalidArgumentError } from '../../protocol/errors.ts';
import { toGrpcStatus } from '../../protocol/grpc-status.ts';
import { hashFromBytes, hashToBytes } from '../../protocol/hash.ts';
import type { FetchSnapshotRequest__Output } from '../../protocol/generated/dstore/v1/FetchSnapshotRequest.ts';
import type { ReplicaClient } from '../../protocol/generated/dstore/v1/Replica.ts';
import type { SnapshotChunk, SnapshotChunk__Output } from '../../protocol/generated/dstore/v1/SnapshotChunk.ts';
import { dstoreProto } from '../../protocol/proto.ts';
import { CLUSTER_ID_METADATA, CLUSTER_MISMATCH, PEER_CHANNEL_OPTIONS } from './peer-transport.ts';
import type { SnapshotMeta, SnapshotStore, SnapshotWriter } from '../storage/snapshot-store.ts';
import { drained } from '../../protocol/drained.ts';

// ---- server ---------------------------------------------------------------------------

type SnapshotCall = grpc.ServerWritableStream<FetchSnapshotRequest__Output, SnapshotChunk>;

/**
 * Serves one FetchSnapshot call from `snapshots` (its newest snapshot). Refuses with
 * FAILED_PRECONDITION when there is none through at least `min_through_instance`, and ends
 * the call with the mapped status of any read error (DATA_LOSS for a damaged file). Stops
 * reading when the caller cancels. Never throws.
 */
export function serveSnapshot(snapshots: SnapshotStore, call: SnapshotCall, clusterId: string): void {
  const caller = call.metadata.get(CLUSTER_ID_METADATA)[0];
  if (caller !== clusterId) {
    const s = toGrpcStatus(new InvalidArgumentError(`snapshot request: ${CLUSTER_MISMATCH}`));
    call.emit('error', { code: s.code, details: s.details, metadata: s.metadata });
    return;
  }
  streamSnapshot(snapshots, call).catch((err: unknown) => {
    if (call.cancelled) return;
    const s = toGrpcStatus(err);
    call.emit('error', { code: s.code, details: s.details, metadata: s.metadata });
  });
}

async function streamSnapshot(snapshots: SnapshotStore, call: SnapshotCall): Promise<void> {
  const min = call.request.minThroughInstance;
  const latest = snapshots.latest();
  if (latest === undefined || latest.throughInstance < min) {
    const have = latest === undefined ? 'none' : `the newest is through ${latest.throughInstance}`;
    call.emit('error', { code: grpc.status.FAILED_PRECONDITION, details: `no snapshot through instance ${min} or later here (${have}): ask another replica`, metadata: new grpc.Metadata() });
    return;
  }
  for await (const message of snapshotChunks(snapshots, latest)) {
    if (call.cancelled) return; // leaving the loop closes the file
    if (!call.write(message)) await drained(call);
  }
  call.end();
}

/**
 * The chunks of the snapshot `latest` as FetchSnapshot sends them: the first carries
 * through_instance, size and hash (an empty payload still gets one), every chunk its offset.
 * Fails (instead of yielding the last chunk) when the file does not match its header.
 */
export async function* snapshotChunks(snapshots: SnapshotStore, latest: SnapshotMeta): AsyncGenerator<SnapshotChunk> {
  const first = { throughInstance: latest.throughInstance, size: latest.payloadBytes, hash: hashToBytes(latest.payloadHash) };
  let sent = 0;
  for await (const chunk of snapshots.read(latest.throughInstance)) {
    yield sent === 0 ? { ...first, offset: chunk.offset, data: chunk.bytes } : { offset: chunk.offset, data: chunk.bytes };
    sent++;
  }
  if (sent === 0) yield { ...first, offset: 0, data: Buffer.alloc(0) };
}

// ---- client ---------------------------------------------------------------------------

export interface SnapshotFetcherConfig {
  readonly backoff: BackoffConfig;
  /** A fetch that receives no chunk for this long is cancelled and retried. */
  readonly idleTimeoutMs: number;
}

export const SNAPSHOT_FETCHER_DEFAULTS: SnapshotFetcherConfig = Object.freeze({
  backoff: { backoffInitialMs: 100, backoffMaxMs: 5_000 },
  idleTimeoutMs: 30_000,
});

/** One fetch of a peer's snapshot: its chunks in order, as FetchSnapshot streams them. */
export interface SnapshotStream extends AsyncIterable<SnapshotChunk__Output> {
  /** Ends the fetch early (idle timeout, close): the iteration then fails. Idempotent. */
  cancel(): void;
  /** Releases what the fetch held (the channel); called once the fetch is over. */
  close(): void;
}

/** Where the fetcher gets snapshots: over gRPC in production (`grpcSnapshotSource`), a simulated network in the whole-system simulation. */
export interface SnapshotSource {
  fetch(peerId: number, minThroughInstance: number): SnapshotStream;
}

/** FetchSnapshot calls to the peers at `peers` (replica id -> "host:port"), one channel per fetch. */
export function grpcSnapshotSource(peers: ReadonlyMap<number, string>, clusterId: string, credentials: grpc.ChannelCredentials): SnapshotSource {
  return {
    fetch(peerId, minThroughInstance) {
      const address = peers.get(peerId);
      if (address === undefined) throw new InvalidArgumentError(`replica ${peerId} is not a peer`);
      const client: ReplicaClient = new (dstoreProto().dstore.v1.Replica)(address, credentials, PEER_CHANNEL_OPTIONS);
      const metadata = new grpc.Metadata();
      metadata.set(CLUSTER_ID_METADATA, clusterId);
      const call = client.FetchSnapshot({ minThroughInstance }, metadata);
      return {
        [Symbol.asyncIterator]: () => (call as AsyncIterable<SnapshotChunk__Output>)[Symbol.asyncIterator](),
        cancel: () => call.cancel(),
        close: () => client.close(),
      };
    },
  };
}

export interface SnapshotFetcherOptions {
  /** Every other member: replica id -> "host:port". */
  readonly peers: ReadonlyMap<number, string>;
  /** How a fetch reaches a peer. */
  readonly source: SnapshotSource;
  readonly clock: Clock;
  readonly random: Random;
  /** Where a fetched snapshot is installed (and verified) before `install` sees it. */
  readonly snapshots: SnapshotStore;
  /** Installs the verified, durable snapshot (ReplicaNode.installSnapshot). */
  readonly install: (throughInstance: number, payload: Uint8Array) => Promise<void>;
  /** The instance this replica has applied through: a request already met is dropped. */
  readonly appliedInstance: () => number;
  /** One event per fetch outcome, for the operator (snapshot.fetch_failed, snapshot.installed). */
  readonly log: Logger;
  readonly config?: Partial<SnapshotFetcherConfig>;
}

interface Wanted {
  readonly fromReplicaId: number;
  readonly throughInstanceMin: number;
}

export class SnapshotFetcher {
  private readonly config: SnapshotFetcherConfig;
  private readonly backoff: Backoff;
  private readonly peerIds: number[];
  // Invariant: at most one fetch runs (`running` is its loop); `wanted` is the newest need.
  private wanted: Wanted | null = null;
  private running: Promise<void> | null = null;
  private attempt = 0;
  private closed = false;
  private call: SnapshotStream | null = null;
  private retry: { timer: Timer; wake: () => void } | null = null;

  /** Throws InvalidArgumentError for a bad config. */
  constructor(private readonly options: SnapshotFetcherOptions) {
    this.config = { ...SNAPSHOT_FETCHER_DEFAULTS, ...options.config };
    checkBackoffConfig(this.config.backoff);
    checkInteger('idleTimeoutMs', this.config.idleTimeoutMs, 1);
    this.backoff = new Backoff(this.config.backoff, options.random);
    this.peerIds = [...options.peers.keys()].sort((a, b) => a - b);
  }

  /**
   * Consensus needs a snapshot through at least `throughInstanceMin`, which `fromReplicaId`
   * holds. Starts fetching unless a fetch runs already (that one then aims at least this
   * high). Never throws; failures are retried.
   */
  request(fromReplicaId: number, throughInstanceMin: number): void {
    if (this.closed || !this.options.peers.has(fromReplicaId)) return;
    const current = this.wanted;
    if (current === null || throughInstanceMin >= current.throughInstanceMin) this.wanted = { fromReplicaId, throughInstanceMin };
    this.running ??= this.run().finally(() => {
      this.running = null;
    });
  }

  /** True while a fetch is wanted or running (status, tests). */
  get busy(): boolean {
    return this.running !== null;
  }

  /** Stops fetching: cancels the call in flight, removes its partial file. Resolves when done. */
  close(): Promise<void> {
    this.closed = true;
    this.call?.cancel();
    if (this.retry !== null) {
      this.retry.timer.cancel();
      this.retry.wake();
    }
    return this.running ?? Promise.resolve();
  }

  private async run(): Promise<void> {
    for (;;) {
      const wanted = this.wanted;
      if (this.closed || wanted === null) return;
      if (this.options.appliedInstance() >= wanted.throughInstanceMin) {
        this.wanted = null;
        return;
      }
      const peerId = this.peerFor(wanted);
      try {
        const through = await this.fetchOnce(peerId, wanted.throughInstanceMin);
        this.backoff.reset();
        this.attempt = 0;
        if (this.wanted !== null && this.wanted.throughInstanceMin <= through) this.wanted = null;
      } catch (err) {
        if (this.closed) return;
        this.attempt++;
        const delayMs = this.backoff.nextDelayMs();
        this.options.log.warn('snapshot.fetch_failed', { peer: peerId, error: err instanceof Error ? err.message : String(err), retryInMs: delayMs });
        await this.sleep(delayMs);
      }
    }
  }

  /** The named peer first, then every peer in turn. */
  private peerFor(wanted: Wanted): number {
    if (this.attempt === 0) return wanted.fromReplicaId;
    return this.peerIds[this.attempt % this.peerIds.length] ?? wanted.fromReplicaId;
  }

  private sleep(delayMs: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        this.retry = null;
        resolve();
      };
      this.retry = { timer: this.options.clock.setTimer(wake, delayMs, false), wake };
    });
  }

  /** Fetches, verifies and installs one snapshot; resolves with its through instance. */
  private async fetchOnce(peerId: number, throughInstanceMin: number): Promise<number> {
    if (!this.options.peers.has(peerId)) throw new InvalidArgumentError(`replica ${peerId} is not a peer`);
    const call = this.options.source.fetch(peerId, throughInstanceMin);
    let received: { through: number; payload: Buffer };
    try {
      received = await this.receive(call, throughInstanceMin);
    } finally {
      call.close();
    }
    if (this.closed) throw new ClosedError('snapshot fetcher closed');
    await this.options.install(received.through, received.payload);
    this.options.log.info('snapshot.installed', { throughInstance: received.through, bytes: received.payload.byteLength, peer: peerId });
    return received.through;
  }

  /** Streams the peer's snapshot into the store; resolves once it is durable and verified. */
  private async receive(call: SnapshotStream, throughInstanceMin: number): Promise<{ through: number; payload: Buffer }> {
    this.call = call;
    let idle = this.options.clock.setTimer(() => call.cancel(), this.config.idleTimeoutMs, false);
    let writer: SnapshotWriter | null = null;
    let through = 0;
    const pieces: Buffer[] = [];
    try {
      for await (const chunk of call) {
        idle.cancel();
        idle = this.options.clock.setTimer(() => call.cancel(), this.config.idleTimeoutMs, false);
        if (writer === null) {
          if (chunk.throughInstance < throughInstanceMin) {
            throw new CorruptError(`peer sent a snapshot through ${chunk.throughInstance}, below the ${throughInstanceMin} asked for`);
          }
          through = chunk.throughInstance;
          writer = await this.options.snapshots.beginInstall({ throughInstance: through, payloadBytes: chunk.size, payloadHash: hashFromBytes(chunk.hash), metadata: new Uint8Array(0) });
        }
        await writer.write({ offset: chunk.offset, bytes: chunk.data });
        pieces.push(chunk.data);
      }
      if (writer === null) throw new CorruptError('peer ended the snapshot stream before its first chunk');
      const done = writer;
      writer = null;
      await done.finish(); // size and hash checked here, before the snapshot becomes visible
      return { through, payload: Buffer.concat(pieces) };
    } finally {
      idle.cancel();
      this.call = null;
      call.cancel();
      await writer?.abort();
    }
  }
}
