// One copy per node: a Local serving the dstore.v1 Global service on its own address, so the
// other processes and threads of the node (workers) attach to it (attach.ts: a Local of their
// own whose Global is this server) and fill from its cache instead of each going to Global.
//
// What each call does here:
// - Session get: served by the Local (its cache, else one fill from Global). The value goes
//   inline up to Global's inline limit; larger ones the worker fetches with GetBlob, which the
//   Local serves from the one copy it caches. `consistency` is not a Global read here: the
//   Local answers as fresh as its invalidation stream (min_revision is honoured).
// - Session set, delete, txn: forwarded through the Local, which applies them at once
//   (read-your-writes for every worker on the node). Each worker WriteId is sent to Global
//   under one WriteId of the Local's own client (reserved for it), so a worker's retry is the
//   same write to Global: its first result when one came (kept for the last
//   WRITE_RESULTS_KEPT writes), and when the forwarded write failed with its outcome unknown
//   (a retryable error), the retry runs it again under the same Global WriteId and Global
//   answers it once. Such an unknown write is kept for `writeRetryWindowMs` after its failure.
// - Session range, missing_blobs: forwarded to Global. Status: the Local answers for itself,
//   naming itself leader so an attached client stays with it.
// - PutBlob: received whole, then stored on Global and cached. GetBlob: from the cache, else
//   fetched once from Global (verified). Subscribe: served from what this Local applied
//   (node-feed.ts), with Global's history before that forwarded (see `subscribe`).
//
// Handlers never throw: failures go back as gRPC status / in-band ErrorDetail.

import * as grpc from '@grpc/grpc-js';
import { LRUCache } from 'lru-cache';
import { assertNever } from '../../protocol/assert.ts';
import { CorruptError, InvalidArgumentError, ResourceExhaustedError, TooLargeError, UnavailableError } from '../../protocol/errors.ts';
import { toErrorDetail, toGrpcStatus } from '../../protocol/grpc-status.ts';
import type { ClientFrame__Output } from '../../protocol/generated/dstore/v1/ClientFrame.ts';
import type { ClientRequest__Output } from '../../protocol/generated/dstore/v1/ClientRequest.ts';
import type { GetBlobRequest__Output } from '../../protocol/generated/dstore/v1/GetBlobRequest.ts';
import type { GetBlobResponse } from '../../protocol/generated/dstore/v1/GetBlobResponse.ts';
import type { GlobalHandlers } from '../../protocol/generated/dstore/v1/Global.ts';
import type { PutBlobRequest__Output } from '../../protocol/generated/dstore/v1/PutBlobRequest.ts';
import type { PutBlobResponse } from '../../protocol/generated/dstore/v1/PutBlobResponse.ts';
import type { ServerFrame } from '../../protocol/generated/dstore/v1/ServerFrame.ts';
import type { ServerResponse } from '../../protocol/generated/dstore/v1/ServerResponse.ts';
import type { SubscribeRequest__Output } from '../../protocol/generated/dstore/v1/SubscribeRequest.ts';
import type { SubscribeResponse } from '../../protocol/generated/dstore/v1/SubscribeResponse.ts';
import { hashToBytes, parseHash } from '../../protocol/hash.ts';
import { dstoreProto } from '../../protocol/proto.ts';
import type { ServerLimits } from '../client/client-types.ts';
import { BLOB_CHUNK_BYTES_MAX, VALUE_INLINE_BYTES_DEFAULT, type ReservedWriteId, type WriteOptions } from '../client/client.ts';
import { systemClock } from '../../protocol/backoff.ts';
import type { Local } from '../local.ts';
import { localServerSide, type LocalServerSecurity } from './local-security.ts';
import { guardRequests, refuseGuardedMessages } from '../../protocol/request-guard.ts';
import { PLAINTEXT } from '../../protocol/tls.ts';
import { checkInteger } from '../../protocol/config-check.ts';
import { receiveBytesMax } from '../../protocol/receive-limit.ts';
import { checkSessionBytesLimits, SessionBytesInFlight } from '../../protocol/session-bytes.ts';
import { serveAdmitted, StreamCaps } from '../../protocol/stream-caps.ts';
import { asDstoreError } from '../client/retry.ts';
import { LEASE_PROBE_KEY } from '../cache/invalidation-stream.ts';
import { NodeFeed } from './node-feed.ts';
import {
  deleteMsg,
  hashArg,
  headerMsg,
  keyValueMsg,
  opResultMsg,
  rangeArg,
  rangeMsg,
  statusMsg,
  subscribeMsg,
  txnArg,
  valueArg,
  writeIdText,
} from './server-codec.ts';

export const LOCAL_SERVER_VERSION = '0.1.0';
/** Writes whose first result is kept to answer a worker's retry. */
export const WRITE_RESULTS_KEPT = 10_000;
/** Used until Global told its own limits (the protocol's guaranteed minimums). */
export const LIMITS_BEFORE_GLOBAL_ANSWERS: ServerLimits = {
  keyBytesMax: 1024,
  valueInlineBytesMax: VALUE_INLINE_BYTES_DEFAULT,
  blobBytesMax: 1024 * 1024 * 1024,
  requestBytesMax: 16 * 1024 * 1024,
  frameRequestsMax: 256,
  rangeKeysMax: 1000,
};
/** Largest answer sent to a worker (a Session frame of a Global-sized range). */
const SEND_BYTES_MAX = 64 * 1024 * 1024 + 64 * 1024;

/** What the node server accepts and holds at most; beyond a cap a call is refused RESOURCE_EXHAUSTED naming it. */
export interface LocalServerLimits {
  /**
   * Largest message a worker may send: grpc-js refuses a bigger one from its length prefix
   * (RESOURCE_EXHAUSTED), before buffering it. Match it to Global's limits.request_bytes_max.
   */
  readonly requestBytesMax: number;
  readonly sessionsMax: number;
  readonly sessionsPerConnectionMax: number;
  /**
   * Bytes the Session frames of one stream may hold with requests unanswered (at least
   * requestBytesMax); a frame that would pass it is refused in band, request by request
   * (RESOURCE_EXHAUSTED), as a replica does (src/protocol/session-bytes.ts).
   */
  readonly sessionBytesInFlightMax: number;
  /** As sessionBytesInFlightMax, for all Session streams of this node server together. */
  readonly allSessionsBytesInFlightMax: number;
  readonly subscribesMax: number;
  readonly subscribesPerConnectionMax: number;
  /** PutBlob uploads in progress (each is held whole until stored on Global). */
  readonly uploadsMax: number;
  readonly uploadsPerConnectionMax: number;
  /** Bytes the uploads in progress may announce in all (reserved from each header). */
  readonly uploadBufferBytesMax: number;
  /** An upload that sends no message for this long is cancelled and its bytes dropped. */
  readonly uploadIdleMs: number;
  /**
   * How long after a forwarded write failed with its outcome unknown a worker's retry of it
   * (same WriteId) is still sent under the same Global WriteId, so Global applies it once.
   * Later it runs as a new write. Keep it above the workers' deadlineMs (a client retries a
   * write only within its call).
   */
  readonly writeRetryWindowMs: number;
  /**
   * A forwarded Subscribe whose worker reads nothing for this long while its stream is full
   * is ended with RESOURCE_EXHAUSTED (the worker resubscribes from the revision named).
   */
  readonly subscribeStallMs: number;
}

export const LOCAL_SERVER_LIMITS_DEFAULTS: LocalServerLimits = Object.freeze({
  requestBytesMax: LIMITS_BEFORE_GLOBAL_ANSWERS.requestBytesMax,
  sessionsMax: 256,
  sessionsPerConnectionMax: 16,
  // As a replica's: four frames of the largest size per stream, 1 GiB in all.
  sessionBytesInFlightMax: 64 * 1024 * 1024,
  allSessionsBytesInFlightMax: 1024 * 1024 * 1024,
  subscribesMax: 256,
  subscribesPerConnectionMax: 16,
  uploadsMax: 16,
  uploadsPerConnectionMax: 4,
  uploadBufferBytesMax: LIMITS_BEFORE_GLOBAL_ANSWERS.blobBytesMax,
  uploadIdleMs: 30_000,
  writeRetryWindowMs: 120_000,
  subscribeStallMs: 30_000,
});

/**
 * Merges `partial` over the defaults and checks every field; InvalidArgumentError names the
 * first bad one. The Session byte caps default to at least one frame of requestBytesMax.
 */
export function validateLocalServerLimits(partial: Partial<LocalServerLimits> = {}): LocalServerLimits {
  const d = LOCAL_SERVER_LIMITS_DEFAULTS;
  const requestBytesMax = partial.requestBytesMax ?? d.requestBytesMax;
  const sessionBytesInFlightMax = partial.sessionBytesInFlightMax ?? Math.max(d.sessionBytesInFlightMax, requestBytesMax);
  const allSessionsBytesInFlightMax = partial.allSessionsBytesInFlightMax ?? Math.max(d.allSessionsBytesInFlightMax, sessionBytesInFlightMax);
  const l = { ...d, ...partial, sessionBytesInFlightMax, allSessionsBytesInFlightMax };
  checkInteger('LocalServerLimits.requestBytesMax', l.requestBytesMax, 64 * 1024, 256 * 1024 * 1024);
  for (const name of ['sessionsMax', 'sessionsPerConnectionMax', 'subscribesMax', 'subscribesPerConnectionMax', 'uploadsMax', 'uploadsPerConnectionMax', 'uploadIdleMs', 'writeRetryWindowMs', 'subscribeStallMs'] as const) {
    checkInteger(`LocalServerLimits.${name}`, l[name], 1);
  }
  checkInteger('LocalServerLimits.uploadBufferBytesMax', l.uploadBufferBytesMax, 0);
  checkSessionBytesLimits('LocalServerLimits', l, l.requestBytesMax);
  return l;
}

type Body = Omit<ServerResponse, 'id'>;

/** A worker's write, by its WriteId: the Global WriteId it goes under and its latest run. */
interface KeptWrite {
  /** Reserved on the Local's client while the outcome is not known; null once released. */
  global: ReservedWriteId | null;
  /** The run in flight or its result; null after a run failed with the outcome unknown. */
  result: Promise<Body> | null;
}

export class LocalServer {
  private limits: ServerLimits = LIMITS_BEFORE_GLOBAL_ANSWERS;
  private limitsKnown = false;
  private readonly writes = new LRUCache<string, KeptWrite>({ max: WRITE_RESULTS_KEPT, dispose: (kept, writeId) => this.forget(kept, writeId) });
  /** Worker WriteIds whose last run failed with the outcome unknown, by failure time (oldest first). */
  private readonly unknownSince = new Map<string, number>();
  private forwarding = 0;
  private readonly calls = new Set<{ cancel: () => void }>();
  private stopped = false;
  /** Caps on open streams, checked by the handlers below as each stream starts. */
  readonly sessionCaps: StreamCaps;
  readonly subscribeCaps: StreamCaps;
  private readonly uploadCaps: StreamCaps;
  /** Bytes announced by the uploads in progress (reserved from their headers). */
  private uploadBytesReserved = 0;
  /** Bytes held by Session frames with requests unanswered. */
  private readonly sessionBytes: SessionBytesInFlight;
  /** What this node applied, for its workers' Subscribes (node-feed.ts). */
  private readonly feed: NodeFeed;
  /** The keys this node follows (its Local's prefix). */
  private readonly nodePrefix: string;

  private constructor(
    private readonly server: grpc.Server,
    private readonly local: Local,
    /** The bound "host:port" (the real port when asked for port 0). */
    readonly address: string,
    private readonly caps: LocalServerLimits,
  ) {
    const l = caps;
    this.sessionCaps = new StreamCaps('Session streams', 'this Local', { totalMax: l.sessionsMax, totalName: 'sessionsMax', perConnectionMax: l.sessionsPerConnectionMax, perConnectionName: 'sessionsPerConnectionMax' });
    this.subscribeCaps = new StreamCaps('Subscribe streams', 'this Local', { totalMax: l.subscribesMax, totalName: 'subscribesMax', perConnectionMax: l.subscribesPerConnectionMax, perConnectionName: 'subscribesPerConnectionMax' });
    this.uploadCaps = new StreamCaps('PutBlob uploads', 'this Local', { totalMax: l.uploadsMax, totalName: 'uploadsMax', perConnectionMax: l.uploadsPerConnectionMax, perConnectionName: 'uploadsPerConnectionMax' });
    this.sessionBytes = new SessionBytesInFlight(l, {
      where: 'this Local',
      sessionBytesInFlightMax: `sessionBytesInFlightMax = ${l.sessionBytesInFlightMax}`,
      allSessionsBytesInFlightMax: `allSessionsBytesInFlightMax = ${l.allSessionsBytesInFlightMax}`,
    });
    this.feed = new NodeFeed(local, l.subscribeStallMs);
    this.nodePrefix = local.terms.prefix;
  }

  /** Subscribe streams open on this server, fed or forwarded (tests). */
  get subscribes(): number {
    return this.feed.size + this.forwarding;
  }

  /** Bytes held by Session frames with requests unanswered, all streams together (tests). */
  get sessionBytesInFlight(): number {
    return this.sessionBytes.bytesHeld;
  }

  /** Uploads in progress and the bytes they reserved (tests, status). */
  get uploads(): { readonly open: number; readonly bytesReserved: number } {
    return { open: this.uploadCaps.open, bytesReserved: this.uploadBytesReserved };
  }

  /**
   * Serves `local` on `listen` ("host:port"; port 0 picks a free one), with TLS and a token
   * check per `security` (local-security.ts: only the Local's own principal is served), within
   * `limits` (LOCAL_SERVER_LIMITS_DEFAULTS for those not given). Throws
   * UnavailableError naming the address when it cannot bind. The caller keeps owning
   * `local` (stop() does not close it).
   */
  static async listen(local: Local, listen: string, security: LocalServerSecurity = PLAINTEXT, limits: Partial<LocalServerLimits> = {}): Promise<LocalServer> {
    const checked = validateLocalServerLimits(limits);
    const side = localServerSide(security);
    // After the token check, undecodable messages end their call with INVALID_ARGUMENT (request-guard.ts).
    const interceptors = [...side.interceptors, refuseGuardedMessages];
    const server = new grpc.Server({ 'grpc.max_receive_message_length': receiveBytesMax(checked.requestBytesMax), 'grpc.max_send_message_length': SEND_BYTES_MAX, interceptors });
    const holder: { self: LocalServer | null } = { self: null };
    server.addService(guardRequests(dstoreProto().dstore.v1.Global.service, () => checked.requestBytesMax), handlers(() => holder.self!));
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(listen, side.credentials, (err, p) => {
        if (err !== null) reject(new UnavailableError(`cannot listen on ${listen}: ${err.message} (is another Local or server using the port? pick another with --listen)`));
        else resolve(p);
      });
    });
    const host = listen.slice(0, listen.lastIndexOf(':'));
    holder.self = new LocalServer(server, local, `${host}:${port}`, checked);
    return holder.self;
  }

  /** Stops serving; streams in progress are cut. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.feed.close();
    for (const call of this.calls) call.cancel();
    this.calls.clear();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 200);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.server.forceShutdown();
  }

  private async serverLimits(): Promise<ServerLimits> {
    if (this.limitsKnown) return this.limits;
    try {
      const limits = await this.local.limits();
      if (limits !== null) {
        this.limits = limits;
        this.limitsKnown = true;
      }
    } catch {
      // Global is down: answer with the protocol's minimums and ask again next time.
    }
    return this.limits;
  }

  // ---- Session ---------------------------------------------------------------------------

  private dispatch(request: ClientRequest__Output): Promise<Body> {
    switch (request.body) {
      case 'get': {
        const get = request.get!;
        return this.get(get.key, get.minRevision, get.withValue);
      }
      case 'set': {
        const set = request.set!;
        return this.once(writeIdText(set.writeId), async (options) => {
          const r = await this.local.set(set.key, valueArg(set.value, 'set'), options);
          return { set: { header: headerMsg({ revision: r.revision, replicaId: 0 }), kv: keyValueMsg(r.kv, null) } };
        });
      }
      case 'delete': {
        const del = request.delete!;
        return this.once(writeIdText(del.writeId), async (options) => {
          const r = await this.local.del(del.key, options);
          return { delete: deleteMsg(r, r) };
        });
      }
      case 'txn': {
        const txn = request.txn!;
        return this.once(writeIdText(txn.writeId), async (options) => {
          const r = await this.local.txn(txnArg(txn), options);
          return { txn: { header: headerMsg(r), succeeded: r.succeeded, results: r.results.map((x) => opResultMsg(x, r)) } };
        });
      }
      case 'range': {
        const range = request.range!;
        const consistency = range.consistency === 'READ_CONSISTENCY_SERIALIZABLE' ? 'serializable' : 'linearizable';
        return this.local.range(rangeArg(range), { consistency, minRevision: range.minRevision }).then((r) => ({ range: rangeMsg(r, r) }));
      }
      case 'missingBlobs': {
        const hashes = request.missingBlobs!.hashes.map((h) => hashArg(h, 'missing_blobs'));
        return this.local.client.missingBlobs(hashes).then((missing) => ({ missingBlobs: { missing: missing.map(hashToBytes) } }));
      }
      case 'status':
        return this.serverLimits().then((limits) => ({
          status: statusMsg({ version: LOCAL_SERVER_VERSION, address: this.address, appliedRevision: this.local.revision, keyCount: this.local.stats().bindings, limits, terms: this.local.terms }),
        }));
      case undefined:
        return Promise.reject(new InvalidArgumentError(`request ${request.id} has no body: set one of get, set, delete, txn, range, missing_blobs, status`));
      default:
        return assertNever(request.body, 'request body');
    }
  }

  private async get(key: string, minRevision: number, withValue: boolean): Promise<Body> {
    // A worker's lease probe: answered with this node's next probe to Global, a linearizable
    // read begun after this request arrived, so it proves to the worker what it proves here.
    if (key === LEASE_PROBE_KEY && !withValue) {
      const proof = await this.local.nextProof(this.local.terms.leaseMs);
      const header = headerMsg({ revision: proof.revision, replicaId: 0 });
      return { get: { header, found: proof.kv !== null, kv: proof.kv === null ? null : keyValueMsg(proof.kv, null) } };
    }
    const read = await this.local.read(key, minRevision > 0 ? { minRevision } : {});
    const got = read.found;
    const header = headerMsg({ revision: read.revision, replicaId: 0 });
    if (got === null) return { get: { header, found: false, kv: null } };
    const limits = await this.serverLimits();
    const inline = withValue && got.value.byteLength <= limits.valueInlineBytesMax;
    return { get: { header, found: true, kv: keyValueMsg(got.kv, inline ? got.value : null) } };
  }

  /**
   * Runs a write once per worker WriteId: a retry joins the run in flight or gets its result;
   * after a run failed with the outcome unknown, the retry runs it again under the same
   * Global WriteId (so Global applies it at most once and answers with the first result).
   */
  private once(writeId: string | null, write: (options: WriteOptions) => Promise<Body>): Promise<Body> {
    if (writeId === null) return write({});
    this.expireUnknownWrites();
    let kept = this.writes.get(writeId);
    if (kept === undefined) {
      kept = { global: this.local.client.reserveWriteId(), result: null };
      this.writes.set(writeId, kept);
    }
    if (kept.result !== null) return kept.result;
    this.unknownSince.delete(writeId);
    const run = kept;
    const global = run.global!;
    run.result = write({ writeId: global });
    run.result.then(
      () => this.release(run),
      (err: unknown) => {
        if (!asDstoreError(err).retryable || run.global === null) return this.release(run);
        run.result = null;
        this.unknownSince.set(writeId, systemClock.nowMs());
      },
    );
    return run.result;
  }

  /** The write's outcome is known (its result is kept here): Global may forget its WriteId. */
  private release(kept: KeptWrite): void {
    if (kept.global !== null) this.local.client.releaseWriteId(kept.global);
    kept.global = null;
  }

  /** Evicted from `writes` (or expired): its Global WriteId is released. */
  private forget(kept: KeptWrite, writeId: string): void {
    this.unknownSince.delete(writeId);
    this.release(kept);
  }

  /** Drops the unknown writes whose retry window has passed (oldest first, so it stops early). */
  private expireUnknownWrites(): void {
    const before = systemClock.nowMs() - this.caps.writeRetryWindowMs;
    for (const [writeId, sinceMs] of this.unknownSince) {
      if (sinceMs > before) return;
      this.writes.delete(writeId);
      this.unknownSince.delete(writeId);
    }
  }

  /** Subscribe streams being forwarded from Global now (tests). */
  get subscribesForwarded(): number {
    return this.forwarding;
  }

  /** Worker writes whose outcome is unknown and whose retry would be sent as the same write (tests). */
  get unknownWrites(): number {
    return this.unknownSince.size;
  }

  /**
   * One Session stream: answers completed in the same turn go out in one frame. A half-close
   * is answered by ending the stream once every request in flight is answered. A frame is held
   * until its last request is answered (src/protocol/session-bytes.ts): one that would take
   * this stream past sessionBytesInFlightMax, or all streams past allSessionsBytesInFlightMax,
   * has each of its requests refused in band with RESOURCE_EXHAUSTED (retryable) and is
   * dropped at once; the stream goes on.
   */
  session(call: grpc.ServerDuplexStream<ClientFrame__Output, ServerFrame>): void {
    let outgoing: ServerResponse[] = [];
    let flushScheduled = false;
    let open = true;
    let clientEnded = false;
    let inFlight = 0;
    const streamBytes = this.sessionBytes.stream();
    const tracked = { cancel: () => call.end() };
    this.calls.add(tracked);
    const close = (): void => {
      open = false;
      this.calls.delete(tracked);
    };
    const flush = (): void => {
      flushScheduled = false;
      if (open && outgoing.length > 0) call.write({ responses: outgoing });
      outgoing = [];
      if (open && clientEnded && inFlight === 0) {
        close();
        call.end();
      }
    };
    const answer = (response: ServerResponse): void => {
      inFlight--;
      outgoing.push(response);
      if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flush);
      }
    };
    call.on('data', (frame: ClientFrame__Output) => {
      if (!open) return;
      if (frame.requests.length > Math.max(this.limits.frameRequestsMax, 256)) {
        open = false;
        call.emit('error', toGrpcStatus(new TooLargeError(`frame of ${frame.requests.length} requests is over the limit of ${this.limits.frameRequestsMax}: send smaller frames`)));
        return;
      }
      inFlight += frame.requests.length;
      const { release, refusal } = streamBytes.admit(frame);
      if (release === null) {
        for (const request of frame.requests) answer({ id: request.id, error: toErrorDetail(new ResourceExhaustedError(`request ${request.id}: ${refusal}`)) });
        return;
      }
      for (const request of frame.requests) {
        // settle: a decoder's throw (a bad hash, say) is that request's answer, not an escape into grpc-js.
        settle(() => this.dispatch(request)).then(
          (body) => {
            release();
            answer({ id: request.id, ...body });
          },
          (err: unknown) => {
            release();
            answer({ id: request.id, error: toErrorDetail(asDstoreError(err)) });
          },
        );
      }
    });
    call.on('end', () => {
      clientEnded = true;
      if (!flushScheduled) flush();
    });
    call.on('error', close);
    call.on('cancelled', close);
  }

  // ---- blobs -----------------------------------------------------------------------------

  /**
   * PutBlob: held whole, then stored on Global. Bounded: uploadsMax (per connection and in
   * all) uploads at once, uploadBufferBytesMax announced bytes in all (reserved from the
   * header, so an upload that would not fit is refused before its bytes arrive), and an
   * upload idle for uploadIdleMs is cancelled with its bytes dropped.
   */
  putBlob(call: grpc.ServerReadableStream<PutBlobRequest__Output, PutBlobResponse>, callback: grpc.sendUnaryData<PutBlobResponse>): void {
    let releaseSlot: () => void;
    try {
      releaseSlot = this.uploadCaps.admit(call.getPeer());
    } catch (err) {
      callback(toGrpcStatus(err));
      return;
    }
    let parts: Buffer[] = [];
    let size = -1;
    let expected = '';
    let received = 0;
    let reserved = 0;
    let settled = false;
    let idle: NodeJS.Timeout | null = null;
    const release = (): void => {
      if (idle !== null) clearTimeout(idle);
      idle = null;
      this.uploadBytesReserved -= reserved;
      reserved = 0;
      parts = [];
      releaseSlot();
    };
    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
      release();
      callback(toGrpcStatus(asDstoreError(err)));
    };
    const idleMs = this.caps.uploadIdleMs;
    const armIdle = (): void => {
      if (idle !== null) clearTimeout(idle);
      idle = setTimeout(() => fail(new UnavailableError(`PutBlob sent nothing for ${idleMs} ms (uploadIdleMs): the upload is cancelled; send the chunks without pausing and retry`)), idleMs);
    };
    armIdle();
    call.on('data', (m: PutBlobRequest__Output) => {
      if (settled) return;
      armIdle();
      // A throw would escape into grpc-js and end the process: it fails this upload instead.
      try {
        receive(m);
      } catch (err) {
        fail(err);
      }
    });
    const receive = (m: PutBlobRequest__Output): void => {
      if (m.part === 'header' && size === -1) {
        size = m.header!.size;
        expected = m.header!.hash.byteLength === 0 ? '' : hashArg(m.header!.hash, 'PutBlob header');
        if (size > this.limits.blobBytesMax) return fail(new TooLargeError(`blob of ${size} bytes is over the limit of ${this.limits.blobBytesMax}`));
        const bytesMax = this.caps.uploadBufferBytesMax;
        if (this.uploadBytesReserved + size > bytesMax) {
          return fail(new ResourceExhaustedError(`uploads in progress on this Local hold ${this.uploadBytesReserved} bytes; ${size} more would pass its limit (uploadBufferBytesMax = ${bytesMax}): retry shortly`));
        }
        reserved = size;
        this.uploadBytesReserved += size;
        return;
      }
      const chunk = m.chunk;
      if (size === -1 || chunk === null || chunk === undefined) return fail(new InvalidArgumentError('PutBlob: the header comes first, then chunks'));
      if (chunk.offset !== received) return fail(new InvalidArgumentError(`PutBlob: chunk at offset ${chunk.offset}, expected ${received}`));
      received += chunk.data.byteLength;
      if (received > size) return fail(new InvalidArgumentError(`PutBlob: more than the announced ${size} bytes`));
      parts.push(chunk.data);
    };
    call.on('error', (err) => fail(err));
    call.on('cancelled', () => fail(new UnavailableError('PutBlob: the worker cancelled the upload')));
    call.on('end', () => {
      if (settled) return;
      if (idle !== null) clearTimeout(idle);
      idle = null;
      if (received !== size) return fail(new InvalidArgumentError(`PutBlob: ${received} bytes received, ${size} announced`));
      const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      parts = [];
      settle(() => this.local.putBlob(bytes)).then(
        (r) => {
          if (expected !== '' && r.hash !== expected) return fail(new CorruptError(`PutBlob: the bytes hash to ${r.hash}, not the expected ${expected}`));
          settled = true;
          release();
          callback(null, { hash: hashToBytes(r.hash), size: r.size, existed: r.existed });
        },
        fail,
      );
    });
  }

  getBlob(call: grpc.ServerWritableStream<GetBlobRequest__Output, GetBlobResponse>): void {
    const tracked = { cancel: () => call.end() };
    this.calls.add(tracked);
    const done = (): void => {
      this.calls.delete(tracked);
    };
    call.on('cancelled', done);
    this.sendBlob(call).then(done, (err: unknown) => {
      done();
      call.emit('error', toGrpcStatus(asDstoreError(err)));
    });
  }

  private async sendBlob(call: grpc.ServerWritableStream<GetBlobRequest__Output, GetBlobResponse>): Promise<void> {
    const hash = parseHash(hashArg(call.request.hash, 'GetBlob'));
    const bytes = await this.local.getBlob(hash);
    const size = bytes.byteLength;
    const from = call.request.offset;
    const end = call.request.length === 0 ? size : Math.min(size, from + call.request.length);
    if (from > size) throw new InvalidArgumentError(`GetBlob: offset ${from} is past the end of the ${size}-byte blob`);
    if (from === end) call.write({ size, chunk: { offset: from, data: Buffer.alloc(0) } });
    for (let at = from; at < end && !call.cancelled; at += BLOB_CHUNK_BYTES_MAX) {
      const data = bytes.subarray(at, Math.min(end, at + BLOB_CHUNK_BYTES_MAX));
      if (!call.write({ size, chunk: { offset: at, data } })) await new Promise((resolve) => call.once('drain', resolve));
    }
    call.end();
  }

  // ---- Subscribe -------------------------------------------------------------------------

  /**
   * Subscribe. Keys this node follows are served from what it applied (node-feed.ts): an
   * attached worker's own bindings follow that, never ahead of the node. From a revision older
   * than the feed keeps, Global's history is forwarded, each message only once this node has
   * applied its revision, until the stream reaches the feed, which takes over. Keys outside
   * the node's prefix (which it does not follow) are forwarded from Global as they come.
   */
  subscribe(call: grpc.ServerWritableStream<SubscribeRequest__Output, SubscribeResponse>): void {
    const prefix = call.request.prefix;
    const follows = this.nodePrefix === '' || prefix.startsWith(this.nodePrefix);
    let next = call.request.fromRevision;
    let stopCurrent: (() => void) | null = null;
    let cancelled = false;
    const tracked = {
      cancel: (): void => {
        cancelled = true;
        stopCurrent?.();
      },
    };
    this.calls.add(tracked);
    call.on('cancelled', tracked.cancel);
    const run = async (): Promise<void> => {
      while (!cancelled) {
        if (follows && (next === 0 || next >= this.feed.oldest || this.feed.oldest === Infinity)) {
          const served = this.feed.serve(call, next, prefix);
          stopCurrent = served.cancel;
          if (cancelled) served.cancel();
          await served.done;
          return;
        }
        const forwarded = await this.forward(call, next, prefix, follows, (stop) => {
          stopCurrent = stop;
          if (cancelled) stop();
        });
        if (forwarded === null) return;
        next = forwarded;
      }
    };
    run().then(
      () => {
        this.calls.delete(tracked);
        if (!cancelled) call.end();
      },
      (err: unknown) => {
        this.calls.delete(tracked);
        call.emit('error', toGrpcStatus(asDstoreError(err)));
      },
    );
  }

  /**
   * Forwards Global's stream from `from`: the Local's own subscription to Global reads at most
   * FORWARD_READ_AHEAD messages ahead, and at most FORWARD_UNSENT_MAX written messages wait to
   * be handed to HTTP/2; beyond that the pump waits for the worker to read, which holds
   * Global's stream back. A worker that reads nothing for `subscribeStallMs` while its stream
   * is full is dropped with RESOURCE_EXHAUSTED naming the revision to resume from. When
   * `gated`, each message waits until this node applied its revision, and the forwarding
   * stops (returning the next revision) once the feed can take over; otherwise it returns null
   * when Global's stream ends.
   */
  private async forward(
    call: grpc.ServerWritableStream<SubscribeRequest__Output, SubscribeResponse>,
    from: number,
    prefix: string,
    gated: boolean,
    onStart: (stop: () => void) => void,
  ): Promise<number | null> {
    const subscription = this.local.client.subscribe({ fromRevision: from, prefix, readAheadMax: FORWARD_READ_AHEAD });
    this.forwarding++;
    onStart(() => subscription.close());
    const stallMs = this.caps.subscribeStallMs;
    try {
      const window = new SendWindow(call);
      for await (const message of subscription) {
        if (gated && this.local.revision < message.revision && !(await this.local.waitForRevision(message.revision, stallMs))) {
          throw new UnavailableError(`this node's Local has not applied revision ${message.revision} within ${stallMs} ms: subscribe again`);
        }
        window.write(subscribeMsg(message));
        if (window.unsent >= FORWARD_UNSENT_MAX && !(await window.below(FORWARD_UNSENT_MAX, stallMs))) {
          throw new ResourceExhaustedError(
            `this watcher read nothing for ${stallMs} ms (subscribeStallMs) with ${window.unsent} messages waiting; its stream is ended after revision ${message.revision}: read faster, or subscribe again from revision ${message.revision + 1}`,
          );
        }
        if (gated && message.revision + 1 >= this.feed.oldest) return message.revision + 1;
      }
      return null;
    } finally {
      this.forwarding--;
      subscription.close();
    }
  }
}

/** Messages a forwarded Subscribe reads ahead from Global before pausing it. */
export const FORWARD_READ_AHEAD = 1;
/** Messages written to a worker's Subscribe stream and not yet handed to HTTP/2 before the pump waits. */
export const FORWARD_UNSENT_MAX = 2;

/**
 * Counts the messages written to a server stream whose write callback has not fired yet (not
 * yet handed to HTTP/2, whose flow control holds back a client that does not read).
 */
class SendWindow {
  unsent = 0;
  private wake: (() => void) | null = null;

  constructor(private readonly call: grpc.ServerWritableStream<SubscribeRequest__Output, SubscribeResponse>) {}

  write(message: SubscribeResponse): void {
    this.unsent++;
    this.call.write(message, () => {
      this.unsent--;
      this.wake?.();
    });
  }

  /** Resolves true once fewer than `max` are unsent (or the call ended), false after `waitMs`. */
  below(max: number, waitMs: number): Promise<boolean> {
    if (this.unsent < max) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const events = ['close', 'error', 'finish', 'cancelled'];
      const finish = (ok: boolean): void => {
        this.wake = null;
        clearTimeout(timer);
        for (const e of events) this.call.off(e, ended);
        resolve(ok);
      };
      const ended = (): void => finish(true);
      for (const e of events) this.call.on(e, ended);
      this.wake = () => {
        if (this.unsent < max) finish(true);
      };
      const timer = setTimeout(() => finish(this.unsent < max), waitMs);
    });
  }
}

function handlers(self: () => LocalServer): GlobalHandlers {
  // The caps are checked at the start of each stream, the slot freed when it ends.
  const viaSession = (name: string) => (_call: unknown, callback: grpc.sendUnaryData<never>): void => {
    callback({ code: grpc.status.UNIMPLEMENTED, details: `a Local serves ${name} on the Session stream only (use GlobalClient)` });
  };
  return {
    Session: streaming((call) => serveAdmitted(self().sessionCaps, call, () => self().session(call))),
    Get: viaSession('Get'),
    Set: viaSession('Set'),
    Delete: viaSession('Delete'),
    Txn: viaSession('Txn'),
    Range: viaSession('Range'),
    MissingBlobs: viaSession('MissingBlobs'),
    Status: viaSession('Status'),
    PutBlob: withCallback((call, callback) => self().putBlob(call, callback)),
    GetBlob: streaming((call) => self().getBlob(call)),
    Subscribe: streaming((call) => serveAdmitted(self().subscribeCaps, call, () => self().subscribe(call))),
    // Strict holds are the node's Local's business with Global's leader, not a worker's.
    Hold: (call) => call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'a Local does not serve Hold: strict holds are kept by the node\'s Local with Global\'s leader' }),
  };
}

/** Calls `fn`; a synchronous throw becomes a rejection, so no handler can throw into grpc-js. */
function settle<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return fn();
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}

/** A streaming handler whose throw ends the call with its mapped status (grpc-js would answer UNKNOWN). */
function streaming<C extends { emit(event: 'error', err: unknown): boolean }>(serve: (call: C) => void): (call: C) => void {
  return (call) => {
    try {
      serve(call);
    } catch (err) {
      call.emit('error', toGrpcStatus(asDstoreError(err)));
    }
  };
}

/** A handler with a callback whose throw is answered as `streaming`'s. */
function withCallback<C, R>(serve: (call: C, callback: grpc.sendUnaryData<R>) => void): (call: C, callback: grpc.sendUnaryData<R>) => void {
  return (call, callback) => {
    try {
      serve(call, callback);
    } catch (err) {
      callback(toGrpcStatus(asDstoreError(err)));
    }
  };
}
