// The Global client: a typed API over the Global service (global.proto) for the Local cache,
// tools and tests. See docs/client.md for the guide; connection.ts for how requests travel.
//
// - Keyed operations (get, set, delete, txn, range, missingBlobs, status) go through one
//   long-lived Session stream to the replica the client talks to, many per frame.
// - Blobs travel on their own streams (PutBlob, GetBlob), in chunks of at most 1 MiB, hashed
//   on the way: an upload whose hash disagrees, or a download that does not hash to the hash
//   asked for, fails with CorruptError; bytes that do not match are never returned.
// - subscribe() wraps one Subscribe stream; resuming is the caller's (the Local's) job.
//
// Every method rejects only with DstoreError subclasses (src/protocol/errors.ts): the server's
// own error when retrying cannot help (KeyOccupiedError, NotFoundError, InvalidArgumentError,
// TooLargeError, CorruptError, CompactedError, InternalError), UnavailableError once retries
// are used up (naming what failed and what to do), ClosedError after close(). Arguments are
// only read; byte arrays passed in must not change until the returned promise settles.

import { randomBytes } from 'node:crypto';
import { checkInteger } from '../../protocol/config-check.ts';
import { ClosedError, CorruptError, InternalError, InvalidArgumentError, UnavailableError, type DstoreError } from '../../protocol/errors.ts';
import type { GlobalClient as WireGlobalClient } from '../../protocol/generated/dstore/v1/Global.ts';
import type * as grpc from '@grpc/grpc-js';
import type { HoldRequest } from '../../protocol/generated/dstore/v1/HoldRequest.ts';
import type { HoldResponse__Output } from '../../protocol/generated/dstore/v1/HoldResponse.ts';
import type { GetBlobResponse__Output } from '../../protocol/generated/dstore/v1/GetBlobResponse.ts';
import type { PutBlobResponse__Output } from '../../protocol/generated/dstore/v1/PutBlobResponse.ts';
import type { ServerResponse__Output } from '../../protocol/generated/dstore/v1/ServerResponse.ts';
import type { SubscribeResponse__Output } from '../../protocol/generated/dstore/v1/SubscribeResponse.ts';
import { Hasher, hashOf, hashToBytes, parseHash, type Hash } from '../../protocol/hash.ts';
import { validateKey } from '../../protocol/keys.ts';
import type { ClientSecurity } from '../../protocol/tls.ts';
import { BACKOFF_DEFAULTS, checkBackoffConfig, systemClock, systemRandom, type Clock, type Random } from '../../protocol/backoff.ts';
import { CallReader } from './call-reader.ts';
import {
  decodeDelete,
  decodeGet,
  decodeHash,
  decodeMissing,
  decodeRange,
  decodeSet,
  decodeTxn,
  wireCompare,
  wireConsistency,
  wireOp,
  wireRange,
  wireValueSource,
} from './client-codec.ts';
import type {
  Compare,
  DeleteResult,
  GetResult,
  Op,
  PutBlobResult,
  RangeResult,
  RangeSpec,
  ReadConsistency,
  ServerLimits,
  ServerStatus,
  SetResult,
  Txn,
  TxnResult,
  ValueInput,
} from './client-types.ts';
import { Connection, type CallOptions, type ConnectionConfig } from './connection.ts';
import type { ConnectionStatus, StatusListener } from './connection-state.ts';
import { asDstoreError, RetryBudget } from './retry.ts';
import { Subscription } from './subscription.ts';

export type * from './client-types.ts';
export type { CallOptions } from './connection.ts';
export type { ConnectionState, ConnectionStatus, StatusListener } from './connection-state.ts';
export type { Clock, Random, Timer } from '../../protocol/backoff.ts';
export { Subscription } from './subscription.ts';

/** One Hold stream as gRPC gives it (the strict-hold driver reads and writes it). */
export type HoldCall = grpc.ClientDuplexStream<HoldRequest, HoldResponse__Output>;

/** The protocol's largest blob chunk (common.proto BlobChunk). */
export const BLOB_CHUNK_BYTES_MAX = 1024 * 1024;
/** Values up to this size go inline without asking the server its limit (every server allows it). */
export const VALUE_INLINE_ALWAYS_BYTES = 1024;
/** The server's inline limit when it reports none (global.proto default). */
export const VALUE_INLINE_BYTES_DEFAULT = 64 * 1024;
const SUBSCRIBE_BUFFERED_MAX = 64;
const GET_BLOB_BUFFERED_MAX = 8;

export interface GlobalClientConfig {
  /** Replicas, "host:port"; at least one. Leader hints may lead to others. */
  readonly addresses: readonly string[];
  /** Most requests per Session frame (lowered to the server's limit once known). Default 256. */
  readonly frameRequestsMax?: number;
  /** Most requests sent and unanswered on the Session stream. Default 4096. */
  readonly inFlightMax?: number;
  /** Most requests waiting to be sent; beyond it calls fail at once (UnavailableError). Default 100000. */
  readonly queuedRequestsMax?: number;
  /** Per-call deadline of keyed operations, from the call to its outcome. Default 10000. */
  readonly deadlineMs?: number;
  /** Deadline of a blob transfer (putBlob, getBlob), from the call to its end. Default 300000. */
  readonly blobDeadlineMs?: number;
  /**
   * Default: none; a call retries (with backoff) until its deadline, which is what rides out a
   * leader failover. When set, a call also gives up after this many resends after its first
   * attempt, counting connection failures while it waited: for callers who want to fail fast.
   */
  readonly retriesMax?: number;
  /** Retry backoff: the first delay is below this, doubling per retry. Default 25. */
  readonly backoffInitialMs?: number;
  /** Retry backoff: no delay exceeds this. Default 1000. */
  readonly backoffMaxMs?: number;
  /** One connection attempt to one replica. Default 3000. */
  readonly connectTimeoutMs?: number;
  /** Largest gRPC message sent or received. Default 64 MiB. */
  readonly messageBytesMax?: number;
  /** Chunk size of blob uploads, at most 1 MiB (the protocol's limit). Default 1 MiB. */
  readonly blobChunkBytes?: number;
  /** The WriteId client id: 16..64 bytes. Default: 32 random hex characters, new per client. */
  readonly clientId?: string;
  /** Time and timers (tests pass a fake). Default: performance.now and setTimeout. */
  readonly clock?: Clock;
  /** Backoff jitter (tests pass a seeded one). Default: Math.random. */
  readonly random?: Random;
  /** TLS material and the bearer token sent on every call. Default: plaintext, no token. */
  readonly security?: ClientSecurity;
  /**
   * Default false: a call waits for a replica until its deadline (riding out restarts). true:
   * while every known replica failed its latest connection, keyed calls fail at once with
   * UnavailableError naming each failure; the client keeps dialling in the background, and
   * calls work again as soon as a replica answers. For interactive tools.
   */
  readonly failFast?: boolean;
}

/** A write's id as sent: the same object on every retry. */
interface WriteIdFields {
  readonly clientId: string;
  readonly requestId: number;
  readonly firstIncomplete: number;
}

/**
 * A WriteId held by a caller that may send one write several times, each time as a new call
 * (the node server, for a worker's retries): every set/delete/txn given it as
 * `WriteOptions.writeId` is the same write to Global, applied at most once. Global keeps its
 * result until `releaseWriteId`.
 */
export type ReservedWriteId = WriteIdFields;

export interface WriteOptions extends CallOptions {
  /** Send the write under this reserved WriteId instead of a new one (see ReservedWriteId). */
  readonly writeId?: ReservedWriteId;
}

export interface ResolvedConfig extends ConnectionConfig {
  readonly blobDeadlineMs: number;
  readonly blobChunkBytes: number;
  readonly clientId: string;
}

export const GLOBAL_CLIENT_DEFAULTS = {
  frameRequestsMax: 256,
  inFlightMax: 4096,
  queuedRequestsMax: 100_000,
  deadlineMs: 10_000,
  blobDeadlineMs: 300_000,
  ...BACKOFF_DEFAULTS,
  connectTimeoutMs: 3000,
  messageBytesMax: 64 * 1024 * 1024,
  blobChunkBytes: BLOB_CHUNK_BYTES_MAX,
} as const;

const ADDRESS_PATTERN = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;
const HOUR_MS = 3_600_000;

function checkAddresses(addresses: readonly string[]): void {
  if (!Array.isArray(addresses) || addresses.length === 0) {
    throw new InvalidArgumentError('addresses must list at least one Global replica as "host:port"');
  }
  for (const address of addresses) {
    const match = typeof address === 'string' ? ADDRESS_PATTERN.exec(address) : null;
    const port = match === null ? NaN : Number(match[2]);
    if (!(port >= 1 && port <= 65535)) {
      throw new InvalidArgumentError(`addresses: ${JSON.stringify(address)} is not "host:port" with a port in 1..65535`);
    }
  }
}

/** Fills in defaults and validates every limit; throws InvalidArgumentError naming the field. */
export function resolveConfig(config: GlobalClientConfig): ResolvedConfig {
  checkAddresses(config.addresses);
  const d = GLOBAL_CLIENT_DEFAULTS;
  const resolved: ResolvedConfig = {
    addresses: [...new Set(config.addresses)],
    frameRequestsMax: config.frameRequestsMax ?? d.frameRequestsMax,
    inFlightMax: config.inFlightMax ?? d.inFlightMax,
    queuedRequestsMax: config.queuedRequestsMax ?? d.queuedRequestsMax,
    deadlineMs: config.deadlineMs ?? d.deadlineMs,
    blobDeadlineMs: config.blobDeadlineMs ?? d.blobDeadlineMs,
    retriesMax: config.retriesMax ?? null,
    backoffInitialMs: config.backoffInitialMs ?? d.backoffInitialMs,
    backoffMaxMs: config.backoffMaxMs ?? d.backoffMaxMs,
    connectTimeoutMs: config.connectTimeoutMs ?? d.connectTimeoutMs,
    messageBytesMax: config.messageBytesMax ?? d.messageBytesMax,
    blobChunkBytes: config.blobChunkBytes ?? d.blobChunkBytes,
    clientId: config.clientId ?? randomBytes(16).toString('hex'),
    ...(config.security === undefined ? {} : { security: config.security }),
    failFast: config.failFast === true,
  };
  checkInteger('frameRequestsMax', resolved.frameRequestsMax, 1, 65_536);
  checkInteger('inFlightMax', resolved.inFlightMax, 1, 1_000_000);
  checkInteger('queuedRequestsMax', resolved.queuedRequestsMax, 1, 10_000_000);
  checkInteger('deadlineMs', resolved.deadlineMs, 1, HOUR_MS);
  checkInteger('blobDeadlineMs', resolved.blobDeadlineMs, 1, 24 * HOUR_MS);
  if (resolved.retriesMax !== null) checkInteger('retriesMax', resolved.retriesMax, 0, 1000);
  checkBackoffConfig(resolved);
  checkInteger('connectTimeoutMs', resolved.connectTimeoutMs, 1, 10 * 60_000);
  checkInteger('blobChunkBytes', resolved.blobChunkBytes, 1, BLOB_CHUNK_BYTES_MAX);
  checkInteger('messageBytesMax', resolved.messageBytesMax, BLOB_CHUNK_BYTES_MAX + 64 * 1024, 2 ** 31 - 1);
  const idBytes = Buffer.byteLength(resolved.clientId, 'utf8');
  if (idBytes < 16 || idBytes > 64) throw new InvalidArgumentError(`clientId must be 16..64 bytes of UTF-8, got ${idBytes}`);
  return resolved;
}

export interface GetOptions extends CallOptions {
  /** Default 'linearizable'. */
  readonly consistency?: ReadConsistency;
  /** Serve only once the replica has applied this revision (waits up to the deadline). Default 0. */
  readonly minRevision?: number;
  /** Include the value when it is at most the server's inline limit. Default true. */
  readonly withValue?: boolean;
}

export interface RangeOptions extends CallOptions {
  readonly consistency?: ReadConsistency;
  readonly minRevision?: number;
}

export interface BlobOptions {
  /** Overrides blobDeadlineMs for this transfer. */
  readonly deadlineMs?: number;
}

export interface PutBlobStreamOptions extends BlobOptions {
  /** Total bytes the source will produce (the protocol announces it first). */
  readonly size: number;
  /** The expected hash, when known: skips the upload if Global has it, and is checked. */
  readonly hash?: Hash;
}

export interface SubscribeOptions {
  /** First revision wanted; 0 = from now on. */
  readonly fromRevision: number;
  /** Only keys beginning with this; '' = every key. */
  readonly prefix?: string;
  /** The replica to subscribe at; default the one the client talks to. */
  readonly address?: string;
  /** Messages read ahead of the caller before the stream is paused (1..64). Default 64. */
  readonly readAheadMax?: number;
}

function need<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined) throw new InternalError(`malformed response from Global: ${what} missing`);
  return value;
}

type BytesSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

export class GlobalClient {
  readonly config: ResolvedConfig;
  private readonly connection: Connection;
  private readonly clock: Clock;
  private readonly random: Random;
  /** Request id 1 is the empty write that opens this client's session (`openSession`). */
  private nextRequestId = 2;
  /** The session-opening write, once sent; undefined again after it failed. */
  private sessionOpen: Promise<void> | undefined;
  /** Request ids of writes whose callers still wait; the lowest is WriteId.firstIncomplete. */
  private readonly writesOutstanding = new Set<number>();
  private lowestOutstanding = 1;
  /** Channels for blob transfers and subscriptions, one per replica, made on first use. */
  private readonly channels = new Map<string, WireGlobalClient>();
  /** Cancels every blob transfer, subscription and sleep in progress (for close()). */
  private readonly active = new Set<() => void>();
  private closedFlag = false;

  /** Validates `config` (throws InvalidArgumentError naming the bad field). Connects lazily, on the first call. */
  constructor(config: GlobalClientConfig) {
    this.config = resolveConfig(config);
    this.clock = config.clock ?? systemClock;
    this.random = config.random ?? systemRandom;
    this.connection = new Connection(this.config, this.clock, this.random);
  }

  // ---- status and lifecycle -----------------------------------------------------------

  /** The connection's state now. */
  get connectionStatus(): ConnectionStatus {
    return this.connection.connectionStatus;
  }

  /** Calls `listener` after every connection state change; returns the unsubscribe function. */
  onStatus(listener: StatusListener): () => void {
    return this.connection.onStatus(listener);
  }

  /** Session frames written so far (for tests and stats). */
  get framesSent(): number {
    return this.connection.framesSent;
  }

  /** The server's limits, once a status answer arrived (every new stream asks), else null. */
  get serverLimits(): ServerLimits | null {
    return this.connection.serverLimits;
  }

  /** The replica the client talks to now (or will, once connected). */
  get currentAddress(): string {
    return this.connection.currentAddress();
  }

  /**
   * Rejects every pending call with ClosedError, ends every stream (session, blob transfers,
   * subscriptions), cancels every timer and closes every channel. Idempotent; the client
   * cannot be used afterwards (calls reject with ClosedError).
   */
  close(): Promise<void> {
    if (this.closedFlag) return Promise.resolve();
    this.closedFlag = true;
    this.connection.close();
    for (const cancel of [...this.active]) cancel();
    this.active.clear();
    for (const channel of this.channels.values()) channel.close();
    this.channels.clear();
    return Promise.resolve();
  }

  // ---- keyed operations (Session stream) ----------------------------------------------

  /** Global.Status of the replica the client talks to (also refreshes serverLimits). */
  status(options: CallOptions = {}): Promise<ServerStatus> {
    return this.connection.status(options);
  }

  /** Reads one key; `kv` is null when the key is not bound. */
  async get(key: string, options: GetOptions = {}): Promise<GetResult> {
    validateKey(key);
    const minRevision = options.minRevision ?? 0;
    checkInteger('minRevision', minRevision, 0);
    const request = {
      get: { key, consistency: wireConsistency(options.consistency ?? 'linearizable'), minRevision, withValue: options.withValue ?? true },
    };
    return this.connection.request('get', key, request, (r: ServerResponse__Output) => decodeGet(need(r.get, 'get'), 'Get'), options);
  }

  /**
   * Binds `key` to `value` if it is not bound (put-if-absent): KeyOccupiedError when it is.
   * Values above the server's inline limit are uploaded as a blob first. Exactly once: every
   * retry carries the same WriteId.
   */
  async set(key: string, value: ValueInput, options: WriteOptions = {}): Promise<SetResult> {
    validateKey(key);
    const writeId = options.writeId ?? this.nextWriteId();
    try {
      await this.openSession(key);
      const uploaded = await this.uploadLargeValues([value], options);
      const request = { set: { key, value: wireValueSource(value, (b) => uploaded.get(b)), writeId } };
      return await this.connection.request('set', key, request, (r) => decodeSet(need(r.set, 'set'), 'Set'), options);
    } finally {
      if (options.writeId === undefined) this.writeDone(writeId.requestId);
    }
  }

  /** Removes `key`'s binding; `deleted` is false when it was not bound. Exactly once. */
  async delete(key: string, options: WriteOptions = {}): Promise<DeleteResult> {
    validateKey(key);
    const writeId = options.writeId ?? this.nextWriteId();
    const request = { delete: { key, writeId } };
    try {
      await this.openSession(key);
      return await this.connection.request('delete', key, request, (r) => decodeDelete(need(r.delete, 'delete'), 'Delete'), options);
    } finally {
      if (options.writeId === undefined) this.writeDone(writeId.requestId);
    }
  }

  /**
   * A mini-transaction: if every compare holds, the success ops run, else the failure ops,
   * atomically at one revision. Large put values are uploaded as blobs first. Exactly once.
   */
  async txn(txn: Txn, options: WriteOptions = {}): Promise<TxnResult> {
    const compares = txn.compares ?? [];
    const success = txn.success ?? [];
    const failure = txn.failure ?? [];
    for (const c of compares) validateKey(c.key, 'compare key');
    for (const op of [...success, ...failure]) validateOp(op);
    const writeId = options.writeId ?? this.nextWriteId();
    try {
      await this.openSession(compares[0]?.key ?? opKey(success[0]) ?? '');
      return await this.txnWith(writeId, compares, success, failure, options);
    } finally {
      if (options.writeId === undefined) this.writeDone(writeId.requestId);
    }
  }

  private async txnWith(writeId: WriteIdFields, compares: readonly Compare[], success: readonly Op[], failure: readonly Op[], options: CallOptions): Promise<TxnResult> {
    const values = [...success, ...failure].flatMap((op) => (op.kind === 'put' || op.kind === 'putIfAbsent' ? [op.value] : []));
    const uploaded = await this.uploadLargeValues(values, options);
    const blobHashOf = (b: Uint8Array): Hash | undefined => uploaded.get(b);
    const request = {
      txn: {
        compares: compares.map(wireCompare),
        success: success.map((op) => wireOp(op, blobHashOf)),
        failure: failure.map((op) => wireOp(op, blobHashOf)),
        writeId,
      },
    };
    const firstKey = compares[0]?.key ?? opKey(success[0]) ?? '';
    return this.connection.request('txn', firstKey, request, (r) => decodeTxn(need(r.txn, 'txn'), 'Txn'), options);
  }

  /** Keys in [start, end) or with a prefix, in key order; `more` says a limit cut it short. */
  async range(spec: RangeSpec, options: RangeOptions = {}): Promise<RangeResult> {
    validateRange(spec);
    const minRevision = options.minRevision ?? 0;
    checkInteger('minRevision', minRevision, 0);
    const request = { range: wireRange(spec, options.consistency ?? 'linearizable', minRevision) };
    return this.connection.request('range', spec.prefix ?? spec.start ?? '', request, (r) => decodeRange(need(r.range, 'range'), 'Range'), options);
  }

  /** The subset of `hashes` Global does not hold, in the order given. */
  async missingBlobs(hashes: readonly Hash[], options: CallOptions = {}): Promise<Hash[]> {
    for (const h of hashes) parseHash(h);
    const perRequest = Math.max(1, this.connection.serverLimits?.frameRequestsMax || this.config.frameRequestsMax);
    const groups: Hash[][] = [];
    for (let i = 0; i < hashes.length; i += perRequest) groups.push(hashes.slice(i, i + perRequest));
    const answers = await Promise.all(groups.map((group) => this.missingBlobsOnce(group, options)));
    return answers.flat();
  }

  private missingBlobsOnce(hashes: Hash[], options: CallOptions): Promise<Hash[]> {
    const request = { missingBlobs: { hashes: hashes.map(hashToBytes) } };
    return this.connection.request('missingBlobs', '', request, (r) => decodeMissing(need(r.missingBlobs, 'missingBlobs').missing, hashes, 'MissingBlobs'), options);
  }

  /**
   * Opens this client's exactly-once session on Global, once, before its first write: an empty
   * write at request id 1, answered before any other write is sent (src/global/state/sessions.ts).
   * Global then refuses any other write of this client it has no session for with
   * SessionExpiredError, so no retry runs twice, the first one included. A failure is the
   * waiting writes' error; the next write tries again.
   */
  private openSession(key: string): Promise<void> {
    // Named after the key of the write that waits for it.
    this.sessionOpen ??= this.connection
      .request('txn', key, { txn: { compares: [], success: [], failure: [], writeId: { clientId: this.config.clientId, requestId: 1, firstIncomplete: 1 } } }, (r) => {
        decodeTxn(need(r.txn, 'txn'), 'Txn');
      }, {})
      .catch((err: unknown) => {
        this.sessionOpen = undefined;
        throw err;
      });
    return this.sessionOpen;
  }

  /**
   * A new WriteId. `firstIncomplete` tells the server which answers this client already has
   * (every lower id), so it keeps results only for writes still in flight.
   */
  private nextWriteId(): WriteIdFields {
    const requestId = this.nextRequestId++;
    this.writesOutstanding.add(requestId);
    while (this.lowestOutstanding < requestId && !this.writesOutstanding.has(this.lowestOutstanding)) this.lowestOutstanding++;
    return { clientId: this.config.clientId, requestId, firstIncomplete: this.lowestOutstanding };
  }

  /**
   * A WriteId for a write the caller may send several times (see ReservedWriteId). It holds
   * back WriteId.firstIncomplete, so Global keeps its result, until `releaseWriteId`.
   */
  reserveWriteId(): ReservedWriteId {
    return this.nextWriteId();
  }

  /** The reserved write's outcome is known (or it will never be sent again): Global may forget it. */
  releaseWriteId(writeId: ReservedWriteId): void {
    this.writeDone(writeId.requestId);
  }

  /** The write's caller has its answer (or gave up): it will never be retried. */
  private writeDone(requestId: number): void {
    this.writesOutstanding.delete(requestId);
  }

  /** Uploads the values too large to go inline; returns their hashes by value identity. */
  private async uploadLargeValues(values: readonly ValueInput[], options: CallOptions): Promise<Map<Uint8Array, Hash>> {
    const uploaded = new Map<Uint8Array, Hash>();
    const large = values.filter((v): v is Uint8Array => v instanceof Uint8Array && v.byteLength > VALUE_INLINE_ALWAYS_BYTES);
    if (large.length === 0) return uploaded;
    const inlineMax = await this.valueInlineBytesMax(options);
    await Promise.all(
      large
        .filter((v) => v.byteLength > inlineMax)
        .map(async (v) => {
          uploaded.set(v, (await this.putBlob(v)).hash);
        }),
    );
    return uploaded;
  }

  private async valueInlineBytesMax(options: CallOptions): Promise<number> {
    const limits = this.connection.serverLimits ?? (await this.status(options)).limits;
    const max = limits?.valueInlineBytesMax ?? 0;
    return max > 0 ? max : VALUE_INLINE_BYTES_DEFAULT;
  }

  // ---- blobs ----------------------------------------------------------------------------

  /**
   * Stores `bytes` as a blob: hashes them, asks MissingBlobs, and uploads (in chunks, with the
   * hash in the header so the server checks it) only when Global lacks them. Retries on
   * another replica when a transfer fails. CorruptError if the server reports another hash.
   */
  async putBlob(bytes: Uint8Array, options: BlobOptions = {}): Promise<PutBlobResult> {
    const hash = hashOf(bytes);
    const missing = await this.missingBlobs([hash]);
    if (missing.length === 0) return { hash, size: bytes.byteLength, existed: true, uploaded: false };
    const budget = this.blobBudget(`putBlob ${hash}`, options);
    let address = this.connection.currentAddress();
    for (;;) {
      try {
        const response = await this.upload(address, [bytes], bytes.byteLength, hash, budget);
        return { hash, size: bytes.byteLength, existed: response.existed, uploaded: true };
      } catch (err) {
        address = await this.nextBlobAttempt(budget, asDstoreError(err), address);
      }
    }
  }

  /**
   * Stores a blob produced by `source` (an async iterable of byte chunks, e.g. a Node
   * Readable) of exactly `size` bytes, hashing it on the way. Not retried: the source can be
   * read once. With `hash` given, skips the upload when Global has it (the source is then not
   * read). InvalidArgumentError when the source produces a different number of bytes.
   */
  async putBlobStream(source: BytesSource, options: PutBlobStreamOptions): Promise<PutBlobResult> {
    checkInteger('size', options.size, 0);
    const expected = options.hash ?? null;
    if (expected !== null && (await this.missingBlobs([expected])).length === 0) {
      return { hash: expected, size: options.size, existed: true, uploaded: false };
    }
    const budget = this.blobBudget('putBlobStream', options);
    const response = await this.upload(this.connection.currentAddress(), source, options.size, expected, budget);
    return { hash: decodeHash(response.hash, 'PutBlob'), size: response.size, existed: response.existed, uploaded: true };
  }

  /** One PutBlob call: header, then chunks of at most blobChunkBytes, then the server's answer checked. */
  private async upload(address: string, source: BytesSource, size: number, expected: Hash | null, budget: RetryBudget): Promise<PutBlobResponse__Output> {
    let answered = false;
    let call: ReturnType<WireGlobalClient['PutBlob']> | undefined;
    const response = new Promise<PutBlobResponse__Output>((resolve, reject) => {
      call = this.channel(address).PutBlob({ deadline: Date.now() + budget.remainingMs() }, (err, value) => {
        answered = true;
        if (err) reject(asDstoreError(err));
        else if (value === undefined) reject(new UnavailableError(`PutBlob on ${address} ended without an answer`));
        else resolve(value);
      });
    });
    response.catch(() => {}); // observed below; this keeps an early failure from being "unhandled"
    const stream = call!;
    const untrack = this.track(() => stream.cancel());
    try {
      const hasher = new Hasher();
      stream.write({ header: { size, hash: expected === null ? Buffer.alloc(0) : hashToBytes(expected) } });
      let offset = 0;
      outer: for await (const piece of source) {
        for (let at = 0; at < piece.byteLength; at += this.config.blobChunkBytes) {
          if (answered) break outer; // the server had it, or failed: stop sending
          const data = piece.subarray(at, at + this.config.blobChunkBytes);
          if (offset + data.byteLength > size) throw new InvalidArgumentError(`blob source produced more than the announced ${size} bytes`);
          hasher.update(data);
          const flowing = stream.write({ chunk: { offset, data } });
          offset += data.byteLength;
          if (!flowing) await Promise.race([new Promise((resolve) => stream.once('drain', resolve)), response.then(() => {}, () => {})]);
        }
      }
      if (!answered && offset !== size) throw new InvalidArgumentError(`blob source produced ${offset} bytes, not the announced ${size}`);
      stream.end();
      const value = await response;
      checkUploadAnswer(value, size, answered && offset < size ? null : hasher.digest(), expected, address);
      return value;
    } catch (err) {
      stream.cancel();
      throw err;
    } finally {
      untrack();
    }
  }

  /**
   * Downloads a whole blob and returns its bytes, verified against `hash` (CorruptError
   * otherwise). A transfer that breaks resumes from the bytes already received, on another
   * replica if need be.
   */
  async getBlob(hash: Hash, options: BlobOptions = {}): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    for await (const chunk of this.getBlobStream(hash, options)) parts.push(chunk);
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  /**
   * Downloads a blob as a stream of chunks. The last chunk is held back until the whole blob
   * hashed to `hash`: if it does not, the iteration throws CorruptError instead of completing
   * (a consumer must treat the data as valid only once the iteration ends normally). Breaks
   * resume from the last byte received. Breaking out of the loop cancels the transfer.
   */
  async *getBlobStream(hash: Hash, options: BlobOptions = {}): AsyncGenerator<Uint8Array, void, undefined> {
    parseHash(hash);
    const budget = this.blobBudget(`getBlob ${hash}`, options);
    const download = new BlobDownload(hash);
    let address = this.connection.currentAddress();
    for (;;) {
      const call = this.channel(address).GetBlob({ hash: hashToBytes(hash), offset: download.received, length: 0 }, { deadline: Date.now() + budget.remainingMs() });
      const reader = new CallReader<GetBlobResponse__Output>(call, GET_BLOB_BUFFERED_MAX);
      const untrack = this.track(() => reader.cancel());
      try {
        for (let message = await reader.next(); message !== null; message = await reader.next()) {
          const ready = download.accept(message, address);
          if (ready !== null) yield ready;
        }
        download.checkComplete(address);
        break;
      } catch (err) {
        address = await this.nextBlobAttempt(budget, asDstoreError(err), address);
      } finally {
        untrack();
        reader.cancel();
      }
    }
    const last = download.finish();
    if (last !== null) yield last;
  }

  private blobBudget(what: string, options: BlobOptions): RetryBudget {
    const deadlineMs = options.deadlineMs ?? this.config.blobDeadlineMs;
    checkInteger('deadlineMs', deadlineMs, 1);
    return new RetryBudget(what, this.config, this.clock, this.random, this.clock.nowMs() + deadlineMs, () => this.connection.knownAddresses.join(', '));
  }

  /** Decides the next attempt of a blob transfer (throws when there is none) and waits its backoff. */
  private async nextBlobAttempt(budget: RetryBudget, error: DstoreError, address: string): Promise<string> {
    if (this.closedFlag) throw new ClosedError('the Global client was closed during a blob transfer');
    const next = budget.afterFailure(error, address, this.connection);
    if (next.delayMs === 0) this.connection.noteLeaderHint(next.address, address);
    else await this.sleep(next.delayMs);
    return next.address;
  }

  // ---- subscriptions -------------------------------------------------------------------

  /**
   * Opens a Subscribe stream: key changes from `fromRevision` on, with progress notices.
   * See Subscription for the outcomes (CompactedError when the revision is too old).
   */
  subscribe(options: SubscribeOptions): Subscription {
    checkInteger('fromRevision', options.fromRevision, 0);
    if (options.readAheadMax !== undefined) checkInteger('readAheadMax', options.readAheadMax, 1, SUBSCRIBE_BUFFERED_MAX);
    if (this.closedFlag) throw new ClosedError('subscribe: the Global client is closed');
    const address = options.address ?? this.connection.currentAddress();
    const call = this.channel(address).Subscribe({ fromRevision: options.fromRevision, prefix: options.prefix ?? '' });
    const reader = new CallReader<SubscribeResponse__Output>(call, options.readAheadMax ?? SUBSCRIBE_BUFFERED_MAX);
    let untrack = (): void => {};
    const subscription = new Subscription(reader, address, options.fromRevision, () => untrack());
    untrack = this.track(() => subscription.closeByClient());
    return subscription;
  }

  /**
   * Opens a Hold stream (global.proto) at `address`, for the Local's strict-hold driver
   * (strict-hold.ts), which speaks the protocol and follows leader hints itself. close()
   * cancels it.
   */
  openHold(address: string): HoldCall {
    if (this.closedFlag) throw new ClosedError('openHold: the Global client is closed');
    const call = this.channel(address).Hold();
    const untrack = this.track(() => call.cancel());
    call.on('close', untrack);
    call.on('error', untrack);
    return call;
  }

  // ---- plumbing -------------------------------------------------------------------------

  private channel(address: string): WireGlobalClient {
    if (this.closedFlag) throw new ClosedError('the Global client is closed');
    let channel = this.channels.get(address);
    if (channel === undefined) {
      channel = this.connection.newChannel(address);
      this.channels.set(address, channel);
    }
    return channel;
  }

  /** Registers a cancel function run by close(); returns the function that unregisters it. */
  private track(cancel: () => void): () => void {
    if (this.closedFlag) {
      cancel();
      return () => {};
    }
    this.active.add(cancel);
    return () => {
      this.active.delete(cancel);
    };
  }

  private sleep(delayMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = this.clock.setTimer(() => {
        untrack();
        resolve();
      }, delayMs, true);
      const untrack = this.track(() => {
        timer.cancel();
        reject(new ClosedError('the Global client was closed during a retry'));
      });
    });
  }
}

function opKey(op: Op | undefined): string | undefined {
  if (op === undefined) return undefined;
  return op.kind === 'range' ? (op.range.prefix ?? op.range.start) : op.key;
}

function validateRange(spec: RangeSpec): void {
  if (spec.prefix !== undefined && spec.prefix !== '') validateKey(spec.prefix, 'range prefix');
  if (spec.start !== undefined && spec.start !== '') validateKey(spec.start, 'range start');
  if (spec.end !== undefined && spec.end !== '') validateKey(spec.end, 'range end');
  if (spec.limit !== undefined) checkInteger('range limit', spec.limit, 0, 2 ** 32 - 1);
}

function validateOp(op: Op): void {
  if (op.kind === 'range') validateRange(op.range);
  else validateKey(op.key, `${op.kind} key`);
}

function checkUploadAnswer(value: PutBlobResponse__Output, size: number, computed: Hash | null, expected: Hash | null, address: string): void {
  const reported = decodeHash(value.hash, 'PutBlob');
  if (value.size !== size) throw new CorruptError(`PutBlob on ${address}: server stored ${value.size} bytes, ${size} were sent`);
  if (computed !== null && reported !== computed) {
    throw new CorruptError(`PutBlob on ${address}: server hashed the upload to ${reported}, the client to ${computed}`);
  }
  if (expected !== null && reported !== expected) {
    throw new CorruptError(`PutBlob on ${address}: the bytes hash to ${reported}, not the expected ${expected}`);
  }
}

/**
 * The state of one blob download across resumed attempts: bytes received, the hash so far,
 * and the chunk held back until the hash is checked. Pure bookkeeping, no I/O.
 */
class BlobDownload {
  private readonly hasher = new Hasher();
  private size: number | null = null;
  private held: Uint8Array | null = null;
  received = 0;

  constructor(private readonly hash: Hash) {}

  /** Takes one message; returns the chunk that may now be handed out (the previous one), if any. */
  accept(message: GetBlobResponse__Output, address: string): Uint8Array | null {
    if (this.size === null) this.size = message.size;
    if (message.size !== this.size) throw new CorruptError(`getBlob ${this.hash} from ${address}: blob size changed from ${this.size} to ${message.size}`);
    const chunk = message.chunk;
    if (chunk === null || chunk.data.byteLength === 0) return null;
    if (chunk.offset !== this.received) {
      throw new CorruptError(`getBlob ${this.hash} from ${address}: chunk at offset ${chunk.offset}, expected ${this.received}`);
    }
    if (this.received + chunk.data.byteLength > this.size) {
      throw new CorruptError(`getBlob ${this.hash} from ${address}: more than the announced ${this.size} bytes`);
    }
    this.hasher.update(chunk.data);
    this.received += chunk.data.byteLength;
    const ready = this.held;
    this.held = chunk.data;
    return ready;
  }

  /** After a clean end of one attempt: a short transfer is retryable (resume from `received`). */
  checkComplete(address: string): void {
    if (this.size !== null && this.received < this.size) {
      throw new UnavailableError(`getBlob ${this.hash} from ${address}: the stream ended at ${this.received} of ${this.size} bytes`);
    }
  }

  /** Verifies the whole blob; returns the held-back last chunk. Throws CorruptError on a mismatch. */
  finish(): Uint8Array | null {
    const actual = this.hasher.digest();
    if (actual !== this.hash) {
      throw new CorruptError(`getBlob ${this.hash}: the ${this.received} bytes received hash to ${actual}; nothing returned from them is valid`);
    }
    return this.held;
  }
}
