// The client-facing Global service (global.proto): request validation, reads at the
// requested consistency, writes through the replica node, and the batched Session stream.
// Every handler maps failures through toGrpcStatus / toErrorDetail; nothing a client sends
// can throw past a handler.

import * as grpc from '@grpc/grpc-js';
import { assertNever } from '../../protocol/assert.ts';
import { checkInteger } from '../../protocol/config-check.ts';
import { InvalidArgumentError, KeyOccupiedError, NotFoundError, ResourceExhaustedError, SessionExpiredError, TooLargeError, type DstoreError } from '../../protocol/errors.ts';
import { REQUEST_BYTES_MAX_GUARANTEED } from '../../protocol/frame-budget.ts';
import { hashToBytes, type Hash } from '../../protocol/hash.ts';
import { KEY_BYTES_MAX } from '../../protocol/keys.ts';
import { toErrorDetail, toGrpcStatus } from '../../protocol/grpc-status.ts';
import { checkSessionBytesLimits, SessionBytesInFlight } from '../../protocol/session-bytes.ts';
import type { ClientFrame__Output } from '../../protocol/generated/dstore/v1/ClientFrame.ts';
import type { ClientRequest, ClientRequest__Output } from '../../protocol/generated/dstore/v1/ClientRequest.ts';
import type { DeleteRequest__Output } from '../../protocol/generated/dstore/v1/DeleteRequest.ts';
import type { DeleteResponse } from '../../protocol/generated/dstore/v1/DeleteResponse.ts';
import type { GetRequest__Output } from '../../protocol/generated/dstore/v1/GetRequest.ts';
import type { GetResponse } from '../../protocol/generated/dstore/v1/GetResponse.ts';
import type { KeyValue } from '../../protocol/generated/dstore/v1/KeyValue.ts';
import type { GlobalHandlers } from '../../protocol/generated/dstore/v1/Global.ts';
import type { MissingBlobsRequest__Output } from '../../protocol/generated/dstore/v1/MissingBlobsRequest.ts';
import type { MissingBlobsResponse } from '../../protocol/generated/dstore/v1/MissingBlobsResponse.ts';
import type { RangeRequest__Output } from '../../protocol/generated/dstore/v1/RangeRequest.ts';
import type { RangeResponse } from '../../protocol/generated/dstore/v1/RangeResponse.ts';
import type { ServerFrame } from '../../protocol/generated/dstore/v1/ServerFrame.ts';
import type { ServerResponse } from '../../protocol/generated/dstore/v1/ServerResponse.ts';
import type { SetRequest__Output } from '../../protocol/generated/dstore/v1/SetRequest.ts';
import type { SetResponse } from '../../protocol/generated/dstore/v1/SetResponse.ts';
import type { StatusRequest__Output } from '../../protocol/generated/dstore/v1/StatusRequest.ts';
import type { StatusResponse } from '../../protocol/generated/dstore/v1/StatusResponse.ts';
import type { TxnOp__Output } from '../../protocol/generated/dstore/v1/TxnOp.ts';
import type { TxnRequest__Output } from '../../protocol/generated/dstore/v1/TxnRequest.ts';
import type { TxnResponse } from '../../protocol/generated/dstore/v1/TxnResponse.ts';
import type { ValueSource__Output } from '../../protocol/generated/dstore/v1/ValueSource.ts';
import { FORWARD_METADATA, FORWARD_NEVER, timeLeftMs } from '../../protocol/forwarding.ts';
import { viaLeader, type Forwarder } from './forwarder.ts';
import { checkKey, hashField, isReadOnly, keyValueMsg, opResultMsg, rangeSpecOf, txnOf, writeIdOf } from '../replica/codec.ts';
import { writtenKeys, type HoldService } from './hold-service.ts';
import { opOfBody, type GlobalOp, type RequestTimers } from './metrics.ts';
import type { ReplicaNode } from '../replica/replica-node.ts';
import { stateChecksum } from '../state/snapshot.ts';
import type { StateMachine } from '../state/state-machine.ts';
import { KV_OVERHEAD_BYTES, READ_BYTES_MAX } from '../state/txn.ts';
import type { TxnResult } from '../state/types.ts';

export const SERVER_VERSION = '0.1.0';

export interface ServerLimits {
  readonly valueInlineBytesMax: number;
  readonly blobBytesMax: number;
  /** Largest gRPC message a client may send. */
  readonly requestBytesMax: number;
  /** Requests in one Session frame at most (never below the 256 the protocol promises). */
  readonly frameRequestsMax: number;
  readonly rangeKeysMax: number;
  /**
   * Bytes (on the wire) of the Session frames one stream may hold with requests unanswered;
   * a frame that would pass it is refused in band, request by request (RESOURCE_EXHAUSTED).
   */
  readonly sessionBytesInFlightMax: number;
  /** As sessionBytesInFlightMax, for all Session streams of this replica together. */
  readonly allSessionsBytesInFlightMax: number;
}

/** The protocol promises every server takes Session frames of at least this many requests. */
export const FRAME_REQUESTS_MIN = 256;
/** Bounds of requestBytesMax: room for a useful frame, and no more than peers may send (peer-transport.ts). */
export const REQUEST_BYTES_MAX_MIN = REQUEST_BYTES_MAX_GUARANTEED;
export const REQUEST_BYTES_MAX_MAX = 256 * 1024 * 1024;

/** Throws InvalidArgumentError naming the first limit out of its range. */
export function checkServerLimits(l: ServerLimits): void {
  checkInteger('ServerLimits.requestBytesMax', l.requestBytesMax, REQUEST_BYTES_MAX_MIN, REQUEST_BYTES_MAX_MAX);
  checkInteger('ServerLimits.valueInlineBytesMax', l.valueInlineBytesMax, 0, l.requestBytesMax);
  checkInteger('ServerLimits.blobBytesMax', l.blobBytesMax, 0);
  checkInteger('ServerLimits.frameRequestsMax', l.frameRequestsMax, FRAME_REQUESTS_MIN, 65_536);
  checkInteger('ServerLimits.rangeKeysMax', l.rangeKeysMax, 1);
  // One frame of the largest size always fits: a client that waits for its answers makes progress.
  checkSessionBytesLimits('ServerLimits', l, l.requestBytesMax);
}

/** What the service needs besides the node: blob sizes (for writes by hash) and status. */
export interface GlobalServiceDeps {
  readonly node: ReplicaNode;
  readonly limits: ServerLimits;
  readonly blobSize: (hash: Hash) => number | undefined;
  /**
   * Resolves with the blob's size once it is durable on a majority (fetched here first when
   * only peers hold it); NotFoundError when no majority holds it, UnavailableError (retry).
   */
  readonly ensureBlobDurable: (hash: Hash) => Promise<number>;
  /** Replicas this one has a working stream to. */
  readonly isConnected: (replicaId: number) => boolean;
  readonly walBytes: () => number;
  readonly blobBytes: () => number;
  /** Times a supervisor restarted this replica (Status `restarts`). */
  readonly restarts?: number;
  /** Request latency and failures by operation (metrics.ts); none when metrics are off. */
  readonly requests?: RequestTimers;
  /** Strict holds (hold-service.ts): every write waits for the holders of its keys. */
  readonly holds?: HoldService;
  /**
   * Sends what only the leader serves to the leader when this replica follows one
   * (forwarder.ts); without it a follower answers such requests NOT_LEADER.
   */
  readonly forwarder?: Forwarder<ClientRequest, ResponseBody>;
}

/** A response without its id: what one request of any kind is answered with. */
export type ResponseBody = Omit<ServerResponse, 'id'>;

/** How a call reached this replica: what is left of its deadline, and whether a follower may forward it. */
export interface CallContext {
  /** Milliseconds left of the call's deadline; Infinity when it has none. */
  readonly timeoutMs: number;
  readonly mayForward: boolean;
}

/** A request a peer forwarded, or a caller that asked not to be forwarded: run here whatever this replica is. */
export const RUN_HERE: CallContext = { timeoutMs: Infinity, mayForward: false };

function contextOf(call: { metadata: grpc.Metadata; getDeadline(): grpc.Deadline }): CallContext {
  return { timeoutMs: timeLeftMs(call.getDeadline()), mayForward: call.metadata.get(FORWARD_METADATA)[0] !== FORWARD_NEVER };
}

/** An empty write with a WriteId: it opens the client's session (state/sessions.ts) and is logged. */
function opensSession(txn: TxnRequest__Output): boolean {
  return txn.writeId !== null && txn.writeId.clientId !== '' && txn.compares.length === 0 && txn.success.length === 0 && txn.failure.length === 0;
}

/** Who may serve `request`: any replica, or only the leader (a linearizable read, a write). */
function servedBy(request: ClientRequest__Output): 'any' | 'leader-read' | 'leader-write' {
  const read = (consistency: string | undefined): 'any' | 'leader-read' => (consistency === 'READ_CONSISTENCY_SERIALIZABLE' ? 'any' : 'leader-read');
  switch (request.body) {
    case 'get': return read(request.get?.consistency);
    case 'range': return read(request.range?.consistency);
    case 'set':
    case 'delete':
      return 'leader-write';
    case 'txn': {
      const txn = request.txn;
      if (txn === null || txn === undefined) return 'any';
      return !isReadOnly(txn) || opensSession(txn) ? 'leader-write' : read(txn.consistency);
    }
    default: return 'any';
  }
}

/** Requests one Session stream may have unanswered before the server stops reading it. */
export const SESSION_REQUESTS_IN_FLIGHT_MAX = 8192;
/** A Session frame goes out once the answers gathered for it reach about this many bytes. */
export const SESSION_FRAME_BYTES_TARGET = 1024 * 1024;
/**
 * Keys and values one response carries at most, estimated: a range (alone or in a
 * transaction) that would carry more is cut short with `more` set, and the client goes on
 * from its last key. Keeps every response far below the clients' receive limit (64 MiB).
 */
export const RESPONSE_KV_BYTES_MAX = READ_BYTES_MAX;
/**
 * Status requests with with_checksum in one Session frame at most: each may cost a pass over
 * the whole state (once per applied instance; later ones reuse it), so a frame cannot ask for
 * more than one such pass. Further ones in the frame are refused in band.
 */
export const FRAME_CHECKSUMS_MAX = 1;

function kvBytesEstimate(kv: KeyValue): number {
  return Buffer.byteLength(kv.key ?? '') + (kv.value?.length ?? 0) + KV_OVERHEAD_BYTES;
}

/** Roughly how many bytes `response` takes on the wire: its key-values, plus a constant. */
function responseBytesEstimate(response: ServerResponse): number {
  let bytes = KV_OVERHEAD_BYTES;
  const add = (kvs: readonly KeyValue[] | null | undefined): void => {
    for (const kv of kvs ?? []) bytes += kvBytesEstimate(kv);
  };
  add(response.range?.kvs);
  if (response.get?.kv) add([response.get.kv]);
  for (const r of response.txn?.results ?? []) {
    add(r.range?.kvs);
    if (r.get?.kv) add([r.get.kv]);
    if (r.written) add([r.written]);
  }
  return bytes;
}

/**
 * Cuts `kvs` to what fits in `budget.bytesLeft` (at least one key-value, so a client always
 * makes progress) and charges the budget. Returns the kept key-values and whether any were cut.
 */
function fitKvs(kvs: KeyValue[], budget: { bytesLeft: number }): { kvs: KeyValue[]; cut: boolean } {
  for (let i = 0; i < kvs.length; i++) {
    const bytes = kvBytesEstimate(kvs[i]!);
    if (i > 0 && bytes > budget.bytesLeft) return { kvs: kvs.slice(0, i), cut: true };
    budget.bytesLeft -= bytes;
  }
  return { kvs, cut: false };
}

type Unary<Req, Res> = (req: Req) => Promise<Res>;

/** Calls `fn`; a synchronous throw becomes a rejection, so no handler can throw into grpc-js. */
function settle<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return fn();
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}

export class GlobalService {
  /** The last state checksum computed, for the state machine and instance it was computed at. */
  private checksumMemo: { sm: StateMachine; appliedInstance: number; checksum: Uint8Array } | null = null;
  /** Bytes held by the Session frames of every stream that still have requests unanswered. */
  private readonly sessionBytes: SessionBytesInFlight;

  /** Throws InvalidArgumentError naming the first bad limit (checkServerLimits). */
  constructor(private readonly deps: GlobalServiceDeps) {
    checkServerLimits(deps.limits);
    this.sessionBytes = new SessionBytesInFlight(deps.limits, {
      where: 'this replica',
      sessionBytesInFlightMax: 'limits.session_bytes_in_flight_max',
      allSessionsBytesInFlightMax: 'limits.all_sessions_bytes_in_flight_max',
    });
  }

  get limits(): ServerLimits {
    return this.deps.limits;
  }

  /** Bytes held by Session frames with requests unanswered, all streams together. */
  get sessionBytesInFlight(): number {
    return this.sessionBytes.bytesHeld;
  }

  private header(revision: number): { revision: number; replicaId: number } {
    return { revision, replicaId: this.deps.node.replicaId };
  }

  // ---- reads ------------------------------------------------------------------------

  private async readBarrier(consistency: string, minRevision: number): Promise<void> {
    if (minRevision > 0) await this.deps.node.waitForRevision(minRevision);
    if (consistency !== 'READ_CONSISTENCY_SERIALIZABLE') await this.deps.node.linearizableBarrier();
  }

  readonly get: Unary<GetRequest__Output, GetResponse> = async (req) => {
    checkKey(req.key, 'key');
    await this.readBarrier(req.consistency, req.minRevision);
    const sm = this.deps.node.stateMachine;
    const kv = sm.get(req.key, req.withValue);
    return { header: this.header(sm.revision), found: kv !== null, kv: kv === null ? null : keyValueMsg(kv) };
  };

  readonly range: Unary<RangeRequest__Output, RangeResponse> = async (req) => {
    const spec = rangeSpecOf(req);
    await this.readBarrier(req.consistency, req.minRevision);
    const sm = this.deps.node.stateMachine;
    const r = sm.range(spec);
    const fit = fitKvs(r.kvs.map(keyValueMsg), { bytesLeft: RESPONSE_KV_BYTES_MAX });
    return { header: this.header(sm.revision), kvs: fit.kvs, more: r.more || fit.cut };
  };

  // ---- writes -----------------------------------------------------------------------

  /** Checks inline sizes; collects blob references (resolved by `resolveBlobs`). */
  private checkValue(source: ValueSource__Output | null, where: string, blobs: { source: ValueSource__Output; where: string }[]): void {
    if (source === null) return;
    if (source.inline !== undefined && source.inline.byteLength > this.deps.limits.valueInlineBytesMax) {
      throw new TooLargeError(`${where}: inline value of ${source.inline.byteLength} bytes is over ${this.deps.limits.valueInlineBytesMax}: upload it with PutBlob and refer to it by blob_hash`);
    }
    if (source.blobHash !== undefined) {
      hashField(source.blobHash, `${where}: blob_hash`);
      blobs.push({ source, where });
    }
  }

  private checkOps(ops: TxnOp__Output[], branch: string, blobs: { source: ValueSource__Output; where: string }[]): void {
    ops.forEach((op, i) => {
      const where = `${branch} op ${i}`;
      this.checkValue(op.put?.value ?? null, where, blobs);
      this.checkValue(op.putIfAbsent?.value ?? null, where, blobs);
    });
  }

  /**
   * Makes every referenced blob durable on a majority before the command is proposed
   * (docs/architecture.md) and fills in its size, so the command in the log is self-contained.
   * Only on the leader: elsewhere `submit` refuses with a leader hint, and the leader does it.
   */
  private async resolveBlobs(blobs: readonly { source: ValueSource__Output; where: string }[]): Promise<void> {
    if (blobs.length === 0 || !this.deps.node.isLeader()) return;
    const sizes = new Map<Hash, Promise<number>>();
    await Promise.all(blobs.map(async ({ source, where }) => {
      const hash = hashField(source.blobHash!, `${where}: blob_hash`);
      let size = sizes.get(hash);
      if (size === undefined) {
        size = this.deps.ensureBlobDurable(hash);
        sizes.set(hash, size);
      }
      try {
        source.blobSize = await size;
      } catch (err) {
        if (err instanceof NotFoundError) throw new NotFoundError(`${where}: blob ${hash} is not on Global: upload it with PutBlob first`, { cause: err });
        throw err;
      }
    }));
  }

  private async runTxn(txn: TxnRequest__Output): Promise<TxnResult> {
    const checked = txnOf(txn); // validates the whole request before anything is proposed
    if (isReadOnly(txn) && !opensSession(txn)) {
      // Reads never enter the log: served here after the same barrier as a Get, so they cost
      // one replica once, not every replica at apply and again at every replay.
      await this.readBarrier(txn.consistency, txn.minRevision);
      return this.deps.node.stateMachine.readTxn(checked);
    }
    const blobs: { source: ValueSource__Output; where: string }[] = [];
    this.checkOps(txn.success, 'success', blobs);
    this.checkOps(txn.failure, 'failure', blobs);
    await this.resolveBlobs(blobs);
    // Strict holders drop the keys before the write can take effect (docs/coherence.md).
    const finish = this.deps.holds === undefined ? null : await this.deps.holds.gate(writtenKeys(txn));
    let result: TxnResult;
    try {
      result = await this.deps.node.submit(writeIdOf(txn.writeId), txn);
    } catch (err) {
      finish?.(null);
      throw err;
    }
    finish?.(result.revision);
    if (result.failure !== null) {
      switch (result.failure.code) {
        case 'KEY_OCCUPIED': throw new KeyOccupiedError(result.failure.message);
        case 'INVALID_ARGUMENT': throw new InvalidArgumentError(result.failure.message);
        case 'SESSION_EXPIRED': throw new SessionExpiredError(result.failure.message);
        default: return assertNever(result.failure.code, 'txn failure');
      }
    }
    return result;
  }

  readonly txn: Unary<TxnRequest__Output, TxnResponse> = async (req) => {
    const result = await this.runTxn(req);
    const header = this.header(result.revision);
    const results = result.results.map((r) => opResultMsg(r, header));
    const budget = { bytesLeft: RESPONSE_KV_BYTES_MAX };
    for (const r of results) {
      if (r.range?.kvs === undefined) continue;
      const fit = fitKvs(r.range.kvs, budget);
      r.range.kvs = fit.kvs;
      r.range.more = (r.range.more ?? false) || fit.cut;
    }
    return { header, succeeded: result.succeeded, results };
  };

  readonly set: Unary<SetRequest__Output, SetResponse> = async (req) => {
    const result = await this.runTxn({
      compares: [],
      success: [{ putIfAbsent: { key: req.key, value: req.value }, op: 'putIfAbsent' }],
      failure: [],
      writeId: req.writeId,
      consistency: 'READ_CONSISTENCY_LINEARIZABLE',
      minRevision: 0,
    });
    const written = result.results[0];
    return { header: this.header(result.revision), kv: written?.kind === 'written' ? keyValueMsg(written.kv) : null };
  };

  readonly delete: Unary<DeleteRequest__Output, DeleteResponse> = async (req) => {
    const result = await this.runTxn({ compares: [], success: [{ delete: { key: req.key }, op: 'delete' }], failure: [], writeId: req.writeId, consistency: 'READ_CONSISTENCY_LINEARIZABLE', minRevision: 0 });
    const r = result.results[0];
    const prev = r?.kind === 'delete' ? r.prev : null;
    return { header: this.header(result.revision), deleted: prev !== null, prevKv: prev === null ? null : keyValueMsg(prev) };
  };

  readonly missingBlobs: Unary<MissingBlobsRequest__Output, MissingBlobsResponse> = (req) => {
    if (req.hashes.length > this.deps.limits.frameRequestsMax) {
      return Promise.reject(new InvalidArgumentError(`missing_blobs asks about ${req.hashes.length} hashes, over ${this.deps.limits.frameRequestsMax}: split it`));
    }
    // Rejects (never throws) on a bad hash: a throw here would escape a stream's event handler.
    return settle(() => Promise.resolve({ missing: req.hashes.filter((bytes, i) => this.deps.blobSize(hashField(bytes, `missing_blobs hash ${i}`)) === undefined) }));
  };

  readonly status: Unary<StatusRequest__Output, StatusResponse> = (req) => {
    const node = this.deps.node;
    const s = node.status();
    const sm = node.stateMachine;
    const members = [...node.config.members].map(([id, address]) => ({
      id,
      address,
      connected: id === node.replicaId || this.deps.isConnected(id),
      decidedInstance: id === node.replicaId ? s.decidedThrough : 0,
    }));
    const l = this.deps.limits;
    return Promise.resolve({
      replicaId: node.replicaId,
      version: SERVER_VERSION,
      leaderId: s.leaderId,
      leaderAddress: node.leaderAddress(),
      isLeader: s.role === 'leader',
      recovering: s.recovery !== null,
      restarts: this.deps.restarts ?? 0,
      decidedInstance: s.decidedThrough,
      appliedRevision: sm.revision,
      oldestRevision: sm.oldestRevision,
      members,
      keyCount: sm.keyCount,
      walBytes: this.deps.walBytes(),
      blobBytes: this.deps.blobBytes(),
      appliedInstance: sm.appliedInstance,
      stateChecksum: req.withChecksum ? this.checksum(sm) : Buffer.alloc(0),
      limits: {
        keyBytesMax: KEY_BYTES_MAX,
        valueInlineBytesMax: l.valueInlineBytesMax,
        blobBytesMax: l.blobBytesMax,
        requestBytesMax: l.requestBytesMax,
        frameRequestsMax: l.frameRequestsMax,
        rangeKeysMax: l.rangeKeysMax,
      },
    });
  };

  /** The state's checksum, computed at most once per applied instance (a pass over the whole state). */
  private checksum(sm: StateMachine): Uint8Array {
    const memo = this.checksumMemo;
    if (memo !== null && memo.sm === sm && memo.appliedInstance === sm.appliedInstance) return memo.checksum;
    const checksum = hashToBytes(stateChecksum(sm));
    this.checksumMemo = { sm, appliedInstance: sm.appliedInstance, checksum };
    return checksum;
  }

  // ---- the batched Session stream ---------------------------------------------------

  /**
   * Runs a client request: here, or at the leader when only the leader serves it, this
   * replica follows a leader it knows and the call may be forwarded (`viaLeader`). A forwarded
   * request is answered by the leader exactly as if the client had sent it there.
   */
  route(request: ClientRequest__Output, context: CallContext): Promise<ResponseBody> {
    const forwarder = this.deps.forwarder;
    const by = servedBy(request);
    if (forwarder === undefined || !context.mayForward || by === 'any') return this.dispatch(request);
    return viaLeader(this.deps.node, forwarder, request, by === 'leader-write', context.timeoutMs, () => this.dispatch(request));
  }

  private dispatch(request: ClientRequest__Output): Promise<ResponseBody> {
    switch (request.body) {
      case 'get': return this.get(request.get!).then((get) => ({ get }));
      case 'set': return this.set(request.set!).then((set) => ({ set }));
      case 'delete': return this.delete(request.delete!).then((del) => ({ delete: del }));
      case 'txn': return this.txn(request.txn!).then((txn) => ({ txn }));
      case 'range': return this.range(request.range!).then((range) => ({ range }));
      case 'missingBlobs': return this.missingBlobs(request.missingBlobs!).then((missingBlobs) => ({ missingBlobs }));
      case 'status': return this.status(request.status!).then((status) => ({ status }));
      case undefined: return Promise.reject(new InvalidArgumentError(`request ${request.id} has no body: set one of get, set, delete, txn, range, missing_blobs, status`));
      default: return assertNever(request.body, 'request body');
    }
  }

  /**
   * One Session stream: requests are answered as they complete; answers completed in the
   * same burst of callbacks (one apply resolves a whole proposal's) go out together, in frames of about
   * SESSION_FRAME_BYTES_TARGET. Flow control: reading pauses while
   * SESSION_REQUESTS_IN_FLIGHT_MAX requests are unanswered or the client is not reading
   * answers, so a client cannot make the server buffer without bound. A frame is held until
   * its last request is answered (src/protocol/session-bytes.ts): one that would take this
   * stream past limits.sessionBytesInFlightMax, or all streams past
   * allSessionsBytesInFlightMax, has each of its requests refused in band with
   * RESOURCE_EXHAUSTED (retryable) and is dropped at once; the stream goes on. A frame over a limit
   * closes this stream only, with INVALID_ARGUMENT (an undecodable one never gets here:
   * request-guard.ts); a half-close is answered by ending the stream once every request in flight is answered.
   */
  session(call: grpc.ServerDuplexStream<ClientFrame__Output, ServerFrame>): void {
    const { mayForward } = contextOf(call);
    let outgoing: ServerResponse[] = [];
    let outgoingBytes = 0;
    let flushScheduled = false;
    let open = true;
    let clientEnded = false;
    let inFlight = 0;
    /** Bytes held by this stream's frames with requests unanswered. */
    const streamBytes = this.sessionBytes.stream();
    let writable = true;
    let paused = false;
    const updateFlow = (): void => {
      if (!paused && (inFlight >= SESSION_REQUESTS_IN_FLIGHT_MAX || !writable)) {
        paused = true;
        call.pause();
      } else if (paused && writable && inFlight <= SESSION_REQUESTS_IN_FLIGHT_MAX / 2) {
        paused = false;
        call.resume();
      }
    };
    const write = (responses: ServerResponse[]): void => {
      if (!call.write({ responses })) writable = false;
    };
    const flush = (): void => {
      flushScheduled = false;
      if (open && outgoing.length > 0) write(outgoing);
      outgoing = [];
      outgoingBytes = 0;
      if (open && clientEnded && inFlight === 0) {
        open = false;
        call.end();
      }
      updateFlow();
    };
    const answer = (response: ServerResponse): void => {
      inFlight--;
      outgoing.push(response);
      outgoingBytes += responseBytesEstimate(response);
      if (outgoingBytes >= SESSION_FRAME_BYTES_TARGET && open) {
        write(outgoing);
        outgoing = [];
        outgoingBytes = 0;
      }
      if (!flushScheduled) {
        flushScheduled = true;
        process.nextTick(flush);
      }
    };
    const refuse = (err: DstoreError): void => {
      if (!open) return;
      open = false;
      const s = toGrpcStatus(err);
      call.emit('error', { code: s.code, details: s.details, metadata: s.metadata });
    };
    call.on('data', (frame: ClientFrame__Output) => {
      if (!open) return;
      if (frame.requests.length > this.deps.limits.frameRequestsMax) {
        return refuse(new InvalidArgumentError(`frame of ${frame.requests.length} requests is over the limit of ${this.deps.limits.frameRequestsMax} (limits.frame_requests_max): send smaller frames`));
      }
      inFlight += frame.requests.length;
      const timers = this.deps.requests;
      // The frame's bytes stay whole while any request holds a Buffer field (a slice of them).
      const { release, refusal } = streamBytes.admit(frame);
      if (release === null) {
        for (const request of frame.requests) {
          timers?.done(opOfBody(request.body), performance.now(), true);
          answer({ id: request.id, error: toErrorDetail(new ResourceExhaustedError(`request ${request.id}: ${refusal}`)) });
        }
        updateFlow();
        return;
      }
      let checksums = 0;
      for (const request of frame.requests) {
        const startMs = timers === undefined ? 0 : performance.now();
        const overChecksums = request.body === 'status' && request.status?.withChecksum === true && ++checksums > FRAME_CHECKSUMS_MAX;
        const run = overChecksums
          ? (): Promise<never> => Promise.reject(new InvalidArgumentError(`request ${request.id}: more than ${FRAME_CHECKSUMS_MAX} Status with_checksum in one frame (FRAME_CHECKSUMS_MAX): each costs a pass over the whole state; ask in a later frame`))
          : (): Promise<ResponseBody> => this.route(request, { timeoutMs: timeLeftMs(call.getDeadline()), mayForward });
        settle(run).then(
          (body) => {
            timers?.done(opOfBody(request.body), startMs, false);
            release();
            answer({ ...body, id: request.id });
          },
          (err: unknown) => {
            timers?.done(opOfBody(request.body), startMs, true);
            release();
            answer({ id: request.id, error: toErrorDetail(err) });
          },
        );
      }
      updateFlow();
    });
    call.on('drain', () => {
      writable = true;
      updateFlow();
    });
    call.on('end', () => {
      clientEnded = true;
      if (!flushScheduled) flush();
    });
    const close = (): void => {
      open = false;
    };
    call.on('error', close);
    call.on('cancelled', close);
  }

  /** The unary handlers, wired for grpc-js; streaming blob and subscribe calls are added by the server. */
  unaryHandlers(): Pick<GlobalHandlers, 'Get' | 'Set' | 'Delete' | 'Txn' | 'Range' | 'MissingBlobs' | 'Status' | 'Session'> {
    const timers = this.deps.requests;
    // Each unary call is run as the one request of a Session frame would be (route).
    type Kind = 'get' | 'set' | 'delete' | 'txn' | 'range' | 'missingBlobs' | 'status';
    const unary = <Req, Res>(kind: Kind, op: GlobalOp): grpc.handleUnaryCall<Req, Res> => (call, callback) => {
      const startMs = timers === undefined ? 0 : performance.now();
      const request = { id: 0, body: kind, [kind]: call.request } as ClientRequest__Output;
      settle(() => this.route(request, contextOf(call))).then(
        (res) => {
          timers?.done(op, startMs, false);
          callback(null, res[kind] as Res);
        },
        (err: unknown) => {
          timers?.done(op, startMs, true);
          callback(toGrpcStatus(err));
        },
      );
    };
    return {
      Get: unary('get', 'get'),
      Set: unary('set', 'set'),
      Delete: unary('delete', 'delete'),
      Txn: unary('txn', 'txn'),
      Range: unary('range', 'range'),
      MissingBlobs: unary('missingBlobs', 'missing_blobs'),
      Status: unary('status', 'status'),
      Session: (call) => this.session(call),
    };
  }
}

