// The request pipeline of the Global client: one long-lived `Session` stream to the replica
// the client currently talks to, batched frames, responses matched by id, leader hints,
// failover, retries with backoff, deadlines. client.ts builds the typed API on top.
//
// How a request travels:
// 1. `request()` makes a PendingCall (its wire request is built once; a write's WriteId is in
//    it, so every retry carries the same one) and appends it to `queue`.
// 2. `flush()` (scheduled with process.nextTick, so requests issued in the same tick share a
//    frame; no timer, so no added latency) moves up to frameRequestsMax queued calls into one
//    ClientFrame on the current session, giving each a fresh wire id; a frame also stays
//    within the server's request_bytes_max and REQUEST_ELEMENTS_MAX (frame-budget.ts), which
//    would otherwise close the session and fail every request on it. While a frame is being
//    written (until grpc-js flushed it), new requests accumulate and go in the next frame:
//    under load frames grow by themselves. At most inFlightMax requests are unanswered.
// 3. A ServerFrame's responses are matched by id, decoded, and resolve their callers.
//    In-band errors: NOT_LEADER with a hint to a replica that is not backing off -> switch
//    to it and resend at once (once in a row per call: a second redirect waits the call's
//    backoff, so two confused replicas cannot bounce a call without pause); NOT_LEADER
//    naming a replica that just failed (a follower that has not noticed the leader died),
//    or naming none -> resend after the call's own backoff; other retryable errors -> the
//    same; the rest -> reject.
// 4. A broken stream (or a malformed server frame, which closes that stream) puts its
//    in-flight calls back at the front of the queue; they go out on the next stream. Every
//    replica has its own connection backoff (replica-directory.ts): a failed connection or a
//    broken session puts it in backoff, any answer from it ends that. Reconnects go at once
//    to the next replica not backing off, or wait for the first one whose backoff ends.
// 5. Every call ends by its deadline, with a typed error that names the operation, the
//    attempts, the last error and what to do. Time is the budget: connection failures and
//    redirects pace themselves by backoff instead of using up a count. Only a client
//    configured with retriesMax also ends a call after retriesMax + 1 attempts (sends and
//    connection failures while it waited), for callers who want to fail fast. A client
//    configured with failFast (the REPL) also ends every waiting call at once while each
//    known replica's latest connection failed, with those failures (DNS, refused, TLS, not
//    dstore: connect-diagnosis.ts); it keeps dialling meanwhile.

import { notForwarded } from '../../protocol/forwarding.ts';
import { assert } from '../../protocol/assert.ts';
import {
  ClosedError,
  CorruptError,
  DstoreError,
  InternalError,
  InvalidArgumentError,
  NotLeaderError,
  TooLargeError,
  UnauthenticatedError,
  UnavailableError,
  type UnavailableReason,
} from '../../protocol/errors.ts';
import { encodedBytesBound, encodedRequestBytes, REQUEST_BYTES_MAX_GUARANTEED, REQUEST_ELEMENTS_MAX, requestElements } from '../../protocol/frame-budget.ts';
import type { ClientRequest } from '../../protocol/generated/dstore/v1/ClientRequest.ts';
import type { GlobalClient as WireGlobalClient } from '../../protocol/generated/dstore/v1/Global.ts';
import type { ServerFrame__Output } from '../../protocol/generated/dstore/v1/ServerFrame.ts';
import type { ServerResponse__Output } from '../../protocol/generated/dstore/v1/ServerResponse.ts';
import { fromErrorDetail, fromGrpcError } from '../../protocol/grpc-status.ts';
import { Backoff, type BackoffConfig, type Clock, type Random, type Timer } from '../../protocol/backoff.ts';
import { decodeStatus } from './client-codec.ts';
import type { ServerLimits, ServerStatus } from './client-types.ts';
import { ConnectionStateMachine, type ConnectionStatus, type StatusListener } from './connection-state.ts';
import { ReplicaDirectory } from './replica-directory.ts';
import { channelOptions, newWireClient, Session, waitForChannelReady } from './session.ts';
import type { ClientSecurity } from '../../protocol/tls.ts';
import type * as grpc from '@grpc/grpc-js';

export interface ConnectionConfig extends BackoffConfig {
  /** Replicas to try, "host:port"; leader hints may add more. */
  readonly addresses: readonly string[];
  /** Most requests in one ClientFrame (lowered to the server's limit once known). */
  readonly frameRequestsMax: number;
  /** Most requests sent and not yet answered on the current stream. */
  readonly inFlightMax: number;
  /** Most requests waiting to be sent; beyond it a call fails at once with UnavailableError. */
  readonly queuedRequestsMax: number;
  /** Default per-call deadline, from the call until its outcome. */
  readonly deadlineMs: number;
  /**
   * null (the default): a call retries until its deadline. A number: a call also ends after
   * this many resends after its first attempt, counting connection failures while it waited.
   */
  readonly retriesMax: number | null;
  /** How long one connection attempt to one replica may take. */
  readonly connectTimeoutMs: number;
  /** Largest gRPC message sent or received. */
  readonly messageBytesMax: number;
  /** TLS and the bearer token for every channel (default: plaintext, no token). */
  readonly security?: ClientSecurity;
  /**
   * false (the default): a call waits for a replica until its deadline. true: while every
   * known replica failed its latest connection (none answered since), calls fail at once with
   * those failures instead; the client keeps dialling in the background (for a REPL).
   */
  readonly failFast?: boolean;
}

export type RequestKind = 'get' | 'set' | 'delete' | 'txn' | 'range' | 'missingBlobs' | 'status';

export interface CallOptions {
  /** Overrides the client's deadlineMs for this call. */
  readonly deadlineMs?: number;
}

type CallState = 'queued' | 'sent' | 'waiting' | 'done';

interface PendingCall {
  readonly kind: RequestKind;
  /** For messages: the key the call is about, or '' (status, missingBlobs). */
  readonly key: string;
  // Invariant: `request.id` === `wireId`, the id of the latest send; changed only by takeFrame().
  readonly request: ClientRequest;
  wireId: number;
  readonly decode: (response: ServerResponse__Output) => unknown;
  /** What `request` adds to a frame: elements as the server counts them, and at most this many bytes. */
  readonly elements: number;
  readonly bytesBound: number;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: DstoreError) => void;
  readonly startedAtMs: number;
  readonly deadlineAtMs: number;
  readonly attemptsMax: number;
  /** Internal calls (the status probe of a new session) never surface errors. */
  readonly internal: boolean;
  // Invariant: attempts counts sends plus connection failures while queued; <= attemptsMax.
  attempts: number;
  /** Followed a leader hint at once since its last backoff: the next redirect waits a backoff. */
  redirectedSinceBackoff: boolean;
  // Invariant: state 'sent' <=> session !== null and session.inFlight has request.id -> this.
  state: CallState;
  session: Session<PendingCall> | null;
  lastError: DstoreError | null;
  lastAddress: string | null;
  backoff: Backoff | null;
  timer: Timer | null;
}

/** What a request adds to a frame (its id, set per send, counted at its largest). */
function frameShare(request: ClientRequest): { elements: number; bytesBound: number } {
  return { elements: requestElements(request), bytesBound: encodedBytesBound({ ...request, id: Number.MAX_SAFE_INTEGER }) };
}

function describe(call: PendingCall): string {
  return call.key === '' ? call.kind : `${call.kind} ${JSON.stringify(call.key)}`;
}

/** A write sent at least once: if it fails now, it may or may not have been applied. */
function isWrite(call: PendingCall): boolean {
  return (call.kind === 'set' || call.kind === 'delete' || call.kind === 'txn') && call.attempts > 0;
}

/** Errors that say the request itself is wrong: resending it anywhere cannot help. */
function isRequestError(err: DstoreError): boolean {
  // UNAUTHENTICATED: the credentials are wrong everywhere; retrying cannot help.
  return err instanceof InvalidArgumentError || err instanceof TooLargeError || err instanceof UnauthenticatedError;
}

/** A final error's reason: that of the last failure, when it was a connection's. */
function reasonOf(err: DstoreError | null): UnavailableReason {
  return err instanceof UnavailableError ? err.reason : 'unavailable';
}

const QUEUE_COMPACT_MIN = 1024;

export class Connection {
  private readonly fsm = new ConnectionStateMachine();
  private readonly directory: ReplicaDirectory;
  /** Where to connect next instead of the round robin (a leader hint that came while not ready). */
  private preferredAddress: string | null = null;
  private current: Session<PendingCall> | null = null;
  private readonly draining = new Set<Session<PendingCall>>();
  // Invariant: calls before queueHead are consumed; consumed slots are undefined.
  private queue: (PendingCall | undefined)[] = [];
  private queueHead = 0;
  /** Every call not done yet, for deadlines and close(). */
  private readonly live = new Set<PendingCall>();
  private nextWireId = 1;
  private flushScheduled = false;
  private readonly flushNow = (): void => this.flush();
  private connectGeneration = 0;
  private reconnectTimer: Timer | null = null;
  private deadlineTimer: Timer | null = null;
  private deadlineTimerAtMs = Infinity;
  private limits: ServerLimits | null = null;
  private closedFlag = false;
  /** Frames written, for tests and stats. */
  framesSent = 0;

  constructor(
    private readonly config: ConnectionConfig,
    private readonly clock: Clock,
    private readonly random: Random,
  ) {
    assert(config.addresses.length > 0, 'connection: no addresses');
    this.directory = new ReplicaDirectory(config.addresses, config, random);
  }

  // ---- public surface -------------------------------------------------------------

  get connectionStatus(): ConnectionStatus {
    return this.fsm.status;
  }

  onStatus(listener: StatusListener): () => void {
    return this.fsm.onChange(listener);
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** The server's limits from the latest status answer, or null before one arrived. */
  get serverLimits(): ServerLimits | null {
    return this.limits;
  }

  /** Every address known: the configured ones, then those learned from leader hints. */
  get knownAddresses(): readonly string[] {
    return this.directory.addresses;
  }

  /** The replica requests go to now (or will, once connected). */
  currentAddress(): string {
    return this.current?.address ?? this.preferredAddress ?? this.directory.addresses[0]!;
  }

  /** The replica to try after `address` failed: the next one in the round robin not backing off, if any. */
  addressAfter(address: string): string {
    return this.directory.nextAfter(address, this.clock.nowMs()).address;
  }

  /** Whether `address` failed recently and is not to be tried again before its backoff ends. */
  isBackingOff(address: string): boolean {
    return this.directory.isBackingOff(address, this.clock.nowMs());
  }

  /** Notes a leader hint from outside the session (a blob call): later connections prefer it, unless it is backing off. */
  noteLeaderHint(address: string, from: string): void {
    if (this.isBackingOff(address)) return;
    this.followLeader(address, `leader hint from ${from}`, false);
  }

  /** A channel for calls outside the session (blobs, subscriptions); the caller closes it. */
  newChannel(address: string): WireGlobalClient {
    return newWireClient(address, this.channelOptions(), this.config.security);
  }

  /**
   * Sends one request through the session and resolves with `decode(response)`. `request` is
   * owned by the connection from now on (its id is rewritten per send). Rejects with a
   * DstoreError: the server's non-retryable error, or UnavailableError after the deadline or
   * the attempt budget, or ClosedError after close().
   */
  request<T>(kind: RequestKind, key: string, request: ClientRequest, decode: (response: ServerResponse__Output) => T, options: CallOptions = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const now = this.clock.nowMs();
      const call: PendingCall = {
        kind, key, request, decode, ...frameShare(request),
        resolve: resolve as (value: unknown) => void,
        reject,
        startedAtMs: now,
        deadlineAtMs: now + (options.deadlineMs ?? this.config.deadlineMs),
        attemptsMax: this.config.retriesMax === null ? Infinity : this.config.retriesMax + 1,
        internal: false,
        wireId: 0, attempts: 0, redirectedSinceBackoff: false, state: 'queued', session: null, lastError: null, lastAddress: null, backoff: null, timer: null,
      };
      this.admit(call);
    });
  }

  /** Global.Status through the session; also refreshes `serverLimits`. */
  status(options: CallOptions = {}): Promise<ServerStatus> {
    return this.request('status', '', { status: {} }, (r) => this.decodeStatusResponse(r), options);
  }

  /** Rejects everything pending with ClosedError, ends every stream, cancels every timer. Idempotent. */
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.connectGeneration++;
    this.reconnectTimer?.cancel();
    this.reconnectTimer = null;
    this.deadlineTimer?.cancel();
    this.deadlineTimer = null;
    const error = new ClosedError('the Global client was closed: the request was abandoned (it may or may not have been applied)');
    for (const call of [...this.live]) this.fail(call, error);
    this.queue = [];
    this.queueHead = 0;
    if (this.current !== null) this.current.end();
    this.current = null;
    for (const session of this.draining) session.end();
    this.draining.clear();
    this.fsm.transition('closed', null, 'close() called');
  }

  // ---- admission, queue, flush ----------------------------------------------------

  private admit(call: PendingCall): void {
    if (this.closedFlag) {
      call.state = 'done';
      call.reject(new ClosedError(`${describe(call)}: the Global client is closed`));
      return;
    }
    if (this.queue.length - this.queueHead >= this.config.queuedRequestsMax) {
      call.state = 'done';
      call.reject(new UnavailableError(
        `${describe(call)}: ${this.config.queuedRequestsMax} requests are already waiting to be sent (queuedRequestsMax); ` +
          'Global is slow or unreachable: slow down or raise queuedRequestsMax',
      ));
      return;
    }
    const failures = this.unreachable();
    if (failures !== null) {
      call.state = 'done';
      call.reject(this.unreachableError(call, failures));
      return;
    }
    this.live.add(call);
    this.armDeadline(call.deadlineAtMs);
    this.queue.push(call);
    this.scheduleFlush();
  }

  /** With failFast, when no replica is connected and every one failed: their failures. */
  private unreachable(): [string, DstoreError][] | null {
    if (this.config.failFast !== true || this.fsm.state === 'ready') return null;
    return this.directory.failures();
  }

  private unreachableError(call: PendingCall, failures: [string, DstoreError][]): UnavailableError {
    const write = isWrite(call);
    const reasons = new Set(failures.map(([, e]) => reasonOf(e)));
    const text = failures.map(([address, e]) => (e.message.includes(address) ? e.message : `Global replica ${address}: ${e.message}`)).join('; ');
    return new UnavailableError(
      `${describe(call)}: no Global replica is reachable: ${text}. ` +
        (write ? 'The write may or may not have been applied (outcomeUnknown). ' : '') +
        'The client keeps trying to connect in the background',
      { cause: failures[0]![1], outcomeUnknown: write, reason: reasons.size === 1 ? [...reasons][0]! : 'unavailable' },
    );
  }

  /** With failFast, when every replica failed: ends every call waiting to be sent (any in flight on a draining session stay there). */
  private failFastIfUnreachable(): void {
    const failures = this.unreachable();
    if (failures === null) return;
    for (const call of [...this.live]) {
      if (!call.internal && (call.state === 'queued' || call.state === 'waiting')) this.fail(call, this.unreachableError(call, failures));
    }
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.closedFlag) return;
    this.flushScheduled = true;
    process.nextTick(this.flushNow);
  }

  private queuedCount(): number {
    return this.queue.length - this.queueHead;
  }

  private frameRequestsMax(): number {
    const serverMax = this.limits?.frameRequestsMax ?? 0;
    return serverMax > 0 ? Math.min(serverMax, this.config.frameRequestsMax) : this.config.frameRequestsMax;
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.closedFlag || this.queuedCount() === 0) return;
    const session = this.current;
    if (session === null) {
      if (this.fsm.state === 'idle') this.connect(this.currentAddress(), 'first request', false);
      return;
    }
    if (session.writing) return; // the write callback flushes again
    const requests = this.takeFrame(session);
    if (requests.length === 0) return;
    this.framesSent++;
    session.writeFrame(requests, this.flushNow);
  }

  /**
   * Why `call` can never go out in a frame of at most `bytesMax` bytes (a known server limit),
   * or null. Its exact size is computed only when the bound is over.
   */
  private oversize(call: PendingCall, bytesMax: number): TooLargeError | null {
    if (call.elements > REQUEST_ELEMENTS_MAX) {
      return new TooLargeError(`${describe(call)}: holds ${call.elements} compares, ops, list items, map entries and hashes, over the ${REQUEST_ELEMENTS_MAX} one message may carry (REQUEST_ELEMENTS_MAX): split it`);
    }
    if (call.bytesBound <= bytesMax) return null;
    const bytes = encodedRequestBytes(call.request);
    if (bytes <= bytesMax) return null;
    return new TooLargeError(`${describe(call)}: the request takes ${bytes} bytes, over the server's request limit of ${bytesMax} bytes (limits.request_bytes_max): split it, or upload large values with PutBlob`);
  }

  /**
   * Moves up to a frame's worth of queued calls onto `session` (at most frameRequestsMax
   * requests, REQUEST_ELEMENTS_MAX elements and the server's request_bytes_max bytes, so the
   * server never refuses the frame); returns their wire requests. Until the server's limits
   * are known, frames stay within the smallest request_bytes_max a server may have, and a
   * request larger than that waits for them.
   */
  private takeFrame(session: Session<PendingCall>): ClientRequest[] {
    const frameMax = this.frameRequestsMax();
    const serverBytesMax = this.limits !== null && this.limits.requestBytesMax > 0 ? this.limits.requestBytesMax : null;
    const bytesMax = serverBytesMax ?? REQUEST_BYTES_MAX_GUARANTEED;
    let room = this.config.inFlightMax - session.inFlight.size;
    let elements = 0;
    let bytes = 0;
    const requests: ClientRequest[] = [];
    while (room > 0 && requests.length < frameMax && this.queueHead < this.queue.length) {
      const call = this.queue[this.queueHead]!;
      if (call.state === 'queued' && (elements + call.elements > REQUEST_ELEMENTS_MAX || bytes + call.bytesBound > bytesMax)) {
        if (requests.length > 0) break; // the next frame takes it
        if (serverBytesMax === null && call.elements <= REQUEST_ELEMENTS_MAX) break; // waits for the limits (the status probe's answer)
        const error = this.oversize(call, bytesMax);
        if (error !== null) {
          this.queue[this.queueHead] = undefined;
          this.queueHead++;
          this.fail(call, error);
          continue;
        }
      }
      this.queue[this.queueHead] = undefined;
      this.queueHead++;
      if (call.state !== 'queued') continue; // failed by its deadline while queued
      elements += call.elements;
      bytes += call.bytesBound;
      const id = this.nextWireId++;
      call.request.id = id;
      call.wireId = id;
      call.state = 'sent';
      call.session = session;
      call.attempts++;
      call.lastAddress = session.address;
      session.inFlight.set(id, call);
      requests.push(call.request);
      room--;
    }
    if (this.queueHead >= QUEUE_COMPACT_MIN && this.queueHead * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
    return requests;
  }

  /** Puts calls back at the front of the queue, in their original order. */
  private requeueFront(calls: PendingCall[]): void {
    if (calls.length === 0) return;
    for (const call of calls) {
      call.state = 'queued';
      call.session = null;
    }
    this.queue = [...calls, ...this.queue.slice(this.queueHead)];
    this.queueHead = 0;
    this.scheduleFlush();
  }

  // ---- responses ----------------------------------------------------------------------

  private onFrame(session: Session<PendingCall>, frame: ServerFrame__Output): void {
    if (session.ended) return;
    if (frame.responses.length > 0) this.directory.noteHealthy(session.address); // it answers: not down
    for (const response of frame.responses) {
      const call = session.inFlight.get(response.id);
      if (call === undefined) continue; // answered after its deadline: nobody waits any more
      session.inFlight.delete(response.id);
      call.session = null;
      if (response.body === 'error') {
        const detail = response.error ?? { code: 'INTERNAL', message: 'error without detail', leaderHint: '', oldestRevision: 0, retryable: false };
        this.onCallError(session, call, fromErrorDetail(detail));
        continue;
      }
      if (!this.answerCall(session, call, response)) return; // the session was closed as malformed
    }
    if (session.draining && session.inFlight.size === 0) this.endDrained(session);
    if (this.queuedCount() > 0) this.scheduleFlush();
  }

  /** Decodes and settles; returns false when the response was malformed and the session closed. */
  private answerCall(session: Session<PendingCall>, call: PendingCall, response: ServerResponse__Output): boolean {
    let value: unknown;
    try {
      if (response.body !== call.kind) {
        throw new InternalError(`malformed response from Global: ${describe(call)} answered with ${response.body ?? 'nothing'}`);
      }
      value = call.decode(response);
    } catch (err) {
      if (err instanceof CorruptError) {
        this.fail(call, err);
        return true;
      }
      const error = err instanceof DstoreError ? err : new InternalError(`malformed response from Global: ${String(err)}`);
      this.fail(call, error);
      this.onSessionBroken(session, new UnavailableError(`closed the session to ${session.address} after a malformed response: ${error.message}`, { cause: error }));
      return false;
    }
    this.settle(call, value);
    return true;
  }

  private decodeStatusResponse(response: ServerResponse__Output): ServerStatus {
    if (!response.status) throw new InternalError('malformed response from Global: status missing');
    const status = decodeStatus(response.status);
    if (status.limits !== null) this.limits = status.limits;
    return status;
  }

  // ---- failures and retries ---------------------------------------------------------

  private onCallError(session: Session<PendingCall>, call: PendingCall, err: DstoreError): void {
    call.lastError = err;
    if (err instanceof NotLeaderError) {
      this.onNotLeader(session, call, err);
      return;
    }
    if (err.retryable) this.retryLater(call);
    else this.fail(call, err);
  }

  /**
   * A leader hint to a live replica is followed at once (once in a row per call). A hint to a
   * replica that is backing off is stale news (the follower has not noticed the leader died):
   * the client stays where it is and the call waits its backoff; meanwhile the replicas elect
   * a new leader, and the hinted replica's backoff runs out so it gets dialled again in case
   * it is back. A replica that knows no leader (it may be cut off) is left for the next one.
   */
  private onNotLeader(session: Session<PendingCall>, call: PendingCall, err: NotLeaderError): void {
    const hint = err.leaderHint === session.address ? '' : err.leaderHint;
    if (hint !== '' && !this.isBackingOff(hint)) {
      this.followLeader(hint, `leader hint from ${session.address}`, false);
      if (call.redirectedSinceBackoff) {
        this.retryLater(call);
      } else {
        call.redirectedSinceBackoff = true;
        this.retryNow(call);
      }
      return;
    }
    if (hint === '' && this.current === session) this.switchTo(this.addressAfter(session.address), `${session.address} knows no leader`, false);
    this.retryLater(call);
  }

  /** Resends as soon as a session is ready (to another replica); fails the call when its attempts are used up. */
  private retryNow(call: PendingCall): void {
    if (call.attempts >= call.attemptsMax) {
      this.fail(call, this.giveUpError(call));
      return;
    }
    call.state = 'queued';
    this.queue.push(call);
    this.scheduleFlush();
  }

  /**
   * Resends after the call's own backoff, unless its attempts are used up. A delay that runs
   * past the deadline is waited all the same: the deadline timer ends the call at its deadline.
   */
  private retryLater(call: PendingCall): void {
    if (call.attempts >= call.attemptsMax) {
      this.fail(call, this.giveUpError(call));
      return;
    }
    call.backoff ??= new Backoff(this.config, this.random);
    const delayMs = call.backoff.nextDelayMs();
    call.redirectedSinceBackoff = false;
    call.state = 'waiting';
    call.timer = this.clock.setTimer(() => {
      call.timer = null;
      if (call.state !== 'waiting') return;
      call.state = 'queued';
      this.queue.push(call);
      this.scheduleFlush();
    }, delayMs, true);
  }

  private giveUpError(call: PendingCall): UnavailableError {
    const elapsedMs = Math.round(this.clock.nowMs() - call.startedAtMs);
    const unknown = isWrite(call);
    return new UnavailableError(
      `${describe(call)}: gave up after ${call.attempts} attempts in ${elapsedMs} ms; ${this.lastErrorText(call)}. ` +
        (unknown ? 'The write may or may not have been applied (outcomeUnknown). ' : '') +
        `Check that a majority of the Global replicas (${this.knownAddresses.join(', ')}) are running and reachable, or raise retriesMax`,
      { cause: call.lastError ?? undefined, outcomeUnknown: unknown, reason: reasonOf(call.lastError) },
    );
  }

  private deadlineError(call: PendingCall): UnavailableError {
    const budgetMs = Math.round(call.deadlineAtMs - call.startedAtMs);
    const write = isWrite(call);
    return new UnavailableError(
      `${describe(call)}: no answer within its ${budgetMs} ms deadline (${call.attempts} attempts); ${this.lastErrorText(call)}. ` +
        (write ? 'The write may or may not have been applied (outcomeUnknown). ' : '') +
        `Check that a majority of the Global replicas (${this.knownAddresses.join(', ')}) are running and reachable, or raise deadlineMs`,
      { cause: call.lastError ?? undefined, outcomeUnknown: write, reason: reasonOf(call.lastError) },
    );
  }

  private lastErrorText(call: PendingCall): string {
    if (call.lastError === null) return 'no error was reported (no replica answered)';
    const from = call.lastAddress === null ? '' : ` from ${call.lastAddress}`;
    return `last error${from}: ${call.lastError.code}: ${call.lastError.message}`;
  }

  private settle(call: PendingCall, value: unknown): void {
    assert(call.state !== 'done', 'connection: settling a finished call');
    this.finish(call);
    call.resolve(value);
  }

  private fail(call: PendingCall, err: DstoreError): void {
    if (call.state === 'done') return;
    this.finish(call);
    call.reject(err);
  }

  private finish(call: PendingCall): void {
    if (call.state === 'sent' && call.session !== null) call.session.inFlight.delete(call.wireId);
    call.state = 'done';
    call.session = null;
    call.timer?.cancel();
    call.timer = null;
    this.live.delete(call);
  }

  // ---- deadlines ----------------------------------------------------------------------

  // One timer for the earliest deadline: with the default deadline for every call, new calls
  // never need an earlier one, so the timer is rarely re-armed. It does not keep the process
  // alive (streams and backoff timers do, while anything is pending).
  private armDeadline(atMs: number): void {
    if (this.deadlineTimer !== null && this.deadlineTimerAtMs <= atMs) return;
    this.deadlineTimer?.cancel();
    this.deadlineTimerAtMs = atMs;
    this.deadlineTimer = this.clock.setTimer(() => this.expireDeadlines(), Math.max(0, atMs - this.clock.nowMs()), false);
  }

  private expireDeadlines(): void {
    this.deadlineTimer = null;
    this.deadlineTimerAtMs = Infinity;
    const now = this.clock.nowMs();
    let nextAtMs = Infinity;
    for (const call of [...this.live]) {
      if (call.deadlineAtMs <= now) {
        if (call.internal) this.fail(call, new UnavailableError('status probe timed out'));
        else this.fail(call, this.deadlineError(call));
      } else {
        nextAtMs = Math.min(nextAtMs, call.deadlineAtMs);
      }
    }
    for (const session of [...this.draining]) if (session.inFlight.size === 0) this.endDrained(session);
    if (nextAtMs !== Infinity) this.armDeadline(nextAtMs);
  }

  // ---- connection state machine -----------------------------------------------------

  private channelOptions(): grpc.ChannelOptions {
    return channelOptions(this.config.messageBytesMax, this.config.backoffInitialMs, this.config.backoffMaxMs);
  }

  private connect(address: string, reason: string, viaStatusHint: boolean): void {
    assert(this.current === null, 'connection: connect while a session is current');
    const generation = ++this.connectGeneration;
    this.preferredAddress = null;
    this.fsm.transition('connecting', address, reason);
    const client = newWireClient(address, this.channelOptions(), this.config.security);
    waitForChannelReady(client, address, (this.config.security?.tls ?? null) !== null, this.config.connectTimeoutMs, (problem) => {
      if (generation !== this.connectGeneration || this.closedFlag) {
        client.close();
        return;
      }
      if (problem !== null) {
        client.close();
        this.onConnectFailed(address, problem);
        return;
      }
      this.openSession(address, client, viaStatusHint);
    });
  }

  private openSession(address: string, client: WireGlobalClient, viaStatusHint: boolean): void {
    // Straight to the leader (NOT_LEADER hints, Status) rather than through a follower's forwarding: one hop less.
    const session = new Session<PendingCall>(address, client, client.Session(notForwarded()), viaStatusHint);
    session.call.on('data', (frame: ServerFrame__Output) => this.onFrame(session, frame));
    session.call.on('error', (err: grpc.ServiceError) => this.onSessionBroken(session, fromGrpcError(err)));
    session.call.on('end', () => this.onSessionBroken(session, new UnavailableError(`Global replica ${address} ended the session`)));
    this.current = session;
    this.fsm.transition('ready', address, viaStatusHint ? 'connected to the leader named by status' : 'connected');
    this.probeStatus(session);
    this.flush();
  }

  /** The first request on every session: learn the server's limits and whether it leads. */
  private probeStatus(session: Session<PendingCall>): void {
    const now = this.clock.nowMs();
    const call: PendingCall = {
      kind: 'status', key: '', request: { status: {} }, ...frameShare({ status: {} }),
      decode: (r) => this.decodeStatusResponse(r),
      resolve: (value) => this.onProbeStatus(session, value as ServerStatus),
      reject: () => {},
      startedAtMs: now, deadlineAtMs: now + this.config.connectTimeoutMs, attemptsMax: 1, internal: true,
      wireId: 0, attempts: 0, redirectedSinceBackoff: false, state: 'queued', session: null, lastError: null, lastAddress: null, backoff: null, timer: null,
    };
    this.live.add(call);
    this.armDeadline(call.deadlineAtMs);
    this.requeueFront([call]);
  }

  private onProbeStatus(session: Session<PendingCall>, status: ServerStatus): void {
    const leader = status.leaderAddress;
    if (status.isLeader || leader === '' || leader === session.address) return;
    if (this.current !== session || session.openedByStatusHint) return; // follow status hints once in a row
    if (this.isBackingOff(leader)) return; // stale: the named leader failed moments ago
    this.followLeader(leader, `${session.address} says ${leader} leads`, true);
  }

  private followLeader(address: string, reason: string, viaStatusHint: boolean): void {
    this.directory.add(address);
    this.switchTo(address, reason, viaStatusHint);
  }

  /** Makes `address` the replica new requests go to; the old stream drains. */
  private switchTo(address: string, reason: string, viaStatusHint: boolean): void {
    if (this.closedFlag || this.current?.address === address) return;
    if (this.fsm.state !== 'ready') {
      this.preferredAddress = address; // used by the next (re)connect
      if (this.reconnectTimer !== null && !this.isBackingOff(address)) {
        // Waiting out other replicas' backoff while this one may be dialled now: go now.
        this.reconnectTimer.cancel();
        this.reconnectTimer = null;
        this.connect(address, reason, viaStatusHint);
      }
      return;
    }
    const old = this.current!;
    this.current = null;
    old.draining = true;
    this.draining.add(old);
    if (old.inFlight.size === 0) this.endDrained(old);
    this.connect(address, reason, viaStatusHint);
  }

  private endDrained(session: Session<PendingCall>): void {
    this.draining.delete(session);
    session.end();
  }

  private onConnectFailed(address: string, error: UnavailableError): void {
    this.directory.noteFailure(address, this.clock.nowMs(), error);
    this.fsm.transition('transient-failure', address, 'connection failed', error);
    this.chargeQueued(address, error);
    this.failFastIfUnreachable();
    this.scheduleReconnect(address);
  }

  /** Every queued call spent one attempt waiting on a failed connection. */
  private chargeQueued(address: string, error: DstoreError): void {
    for (let i = this.queueHead; i < this.queue.length; i++) {
      const call = this.queue[i]!;
      if (call.state !== 'queued') continue;
      call.attempts++;
      call.lastError = error;
      call.lastAddress = address;
      if (call.attempts >= call.attemptsMax) this.fail(call, this.giveUpError(call));
    }
  }

  /**
   * Connects to the preferred replica (a leader hint) or the next one after `failedAddress`,
   * at once when it is not backing off, else when the first replica's backoff ends (the plan
   * is made again then: a hint may have come meanwhile).
   */
  private scheduleReconnect(failedAddress: string): void {
    if (this.closedFlag) return;
    const nowMs = this.clock.nowMs();
    const preferred = this.preferredAddress;
    const plan = preferred !== null && !this.directory.isBackingOff(preferred, nowMs)
      ? { address: preferred, atMs: nowMs }
      : this.directory.nextAfter(failedAddress, nowMs);
    if (plan.atMs <= nowMs) {
      this.connect(plan.address, `after ${failedAddress} failed`, false);
      return;
    }
    this.reconnectTimer = this.clock.setTimer(() => {
      this.reconnectTimer = null;
      this.scheduleReconnect(failedAddress);
    }, Math.ceil(plan.atMs - nowMs), true);
  }

  private onSessionBroken(session: Session<PendingCall>, error: DstoreError): void {
    if (session.ended) return;
    session.end();
    const calls = [...session.inFlight.values()];
    session.inFlight.clear();
    this.draining.delete(session);
    // A session that broke says the replica was reachable, unless it broke because the
    // server is not dstore: only then do calls stop waiting for it (failFast).
    this.directory.noteFailure(session.address, this.clock.nowMs(), error instanceof UnavailableError && error.reason !== 'unavailable' ? error : null);
    if (this.current === session) {
      this.current = null;
      this.fsm.transition('transient-failure', session.address, 'session broke', error);
      this.scheduleReconnect(session.address);
    }
    this.retryBroken(calls, session.address, error);
    this.failFastIfUnreachable();
  }

  /** In-flight calls of a broken stream go out again on the next one (writes with their WriteId). */
  private retryBroken(calls: PendingCall[], address: string, error: DstoreError): void {
    const again: PendingCall[] = [];
    for (const call of calls) {
      call.state = 'queued';
      call.session = null;
      call.lastError = error;
      call.lastAddress = address;
      if (call.internal) this.fail(call, error);
      else if (isRequestError(error)) this.fail(call, error);
      else if (call.attempts >= call.attemptsMax) this.fail(call, this.giveUpError(call));
      else again.push(call);
    }
    this.requeueFront(again);
  }
}
