// A scripted fake Global server for the client's tests: a real grpc-js server on 127.0.0.1
// (port 0) serving the real dstore.v1.Global service definition, with a tiny in-memory store
// behind it. Tests script it by replacing `onRequest` (answer, fail, or hold a request to
// answer later with `reply`), and observe what arrived: every Session frame, every WriteId
// applied, every blob call. Where it answers by itself it keeps the real Global's rules, so a
// test against it can fail: a txn evaluates its compares (src/global/state/txn.ts) and runs
// its success or failure branch at one revision; a write is deduplicated only per client
// session and request id (src/global/state/sessions.ts), so a retry under a new WriteId, or a
// write without one, runs again.

import * as grpc from '@grpc/grpc-js';
import type { ClientFrame__Output } from '../../src/protocol/generated/dstore/v1/ClientFrame.ts';
import type { Compare__Output } from '../../src/protocol/generated/dstore/v1/Compare.ts';
import type { ClientRequest__Output } from '../../src/protocol/generated/dstore/v1/ClientRequest.ts';
import type { GetBlobRequest__Output } from '../../src/protocol/generated/dstore/v1/GetBlobRequest.ts';
import type { GetBlobResponse } from '../../src/protocol/generated/dstore/v1/GetBlobResponse.ts';
import type { KeyValue } from '../../src/protocol/generated/dstore/v1/KeyValue.ts';
import type { PutBlobRequest__Output } from '../../src/protocol/generated/dstore/v1/PutBlobRequest.ts';
import type { PutBlobResponse } from '../../src/protocol/generated/dstore/v1/PutBlobResponse.ts';
import type { ServerFrame } from '../../src/protocol/generated/dstore/v1/ServerFrame.ts';
import type { ServerResponse } from '../../src/protocol/generated/dstore/v1/ServerResponse.ts';
import type { StatusResponse } from '../../src/protocol/generated/dstore/v1/StatusResponse.ts';
import type { SubscribeRequest__Output } from '../../src/protocol/generated/dstore/v1/SubscribeRequest.ts';
import type { SubscribeResponse } from '../../src/protocol/generated/dstore/v1/SubscribeResponse.ts';
import type { TxnOpResult } from '../../src/protocol/generated/dstore/v1/TxnOpResult.ts';
import type { TxnRequest__Output } from '../../src/protocol/generated/dstore/v1/TxnRequest.ts';
import type { ValueSource__Output } from '../../src/protocol/generated/dstore/v1/ValueSource.ts';
import type { DstoreError } from '../../src/protocol/errors.ts';
import { toErrorDetail } from '../../src/protocol/grpc-status.ts';
import { Hasher, hashFromBytes, hashOf, hashToBytes, type Hash } from '../../src/protocol/hash.ts';
import { dstoreProto } from '../../src/protocol/proto.ts';

export type SessionCall = grpc.ServerDuplexStream<ClientFrame__Output, ServerFrame>;

/** What a scripted handler does with one request: answer now, or hold it (answer with `reply`). */
export type Answer = ServerResponse | 'hold';

export interface HeldRequest {
  readonly session: SessionCall;
  readonly request: ClientRequest__Output;
}

interface Binding {
  readonly hash: Hash;
  readonly value: Buffer;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
}

/** What the fake remembers of one client's writes (see sessions.ts). */
interface FakeSession {
  readonly results: Map<number, ServerResponse>;
  forgottenThrough: number;
}

type WriteIdOf = { clientId: string; requestId: number; firstIncomplete?: number } | null | undefined;

export function errorResponse(id: number, err: DstoreError): ServerResponse {
  return { id, error: toErrorDetail(err) };
}

/** Polls `condition` every few ms until it holds; fails naming `what` after `timeoutMs`. */
export async function waitUntil(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

export class FakeGlobal {
  readonly frames: ClientRequest__Output[][] = [];
  readonly sessions = new Set<SessionCall>();
  sessionsOpened = 0;
  readonly held: HeldRequest[] = [];
  /** WriteId "clientId/requestId" -> how many times the write was applied (exactly-once: 1). */
  readonly applied = new Map<string, number>();
  /** WriteId -> every time a request carrying it arrived. */
  readonly received = new Map<string, number>();
  readonly blobs = new Map<Hash, Buffer>();
  readonly keys = new Map<string, Binding>();
  revision = 0;
  putBlobCalls = 0;
  /** Chunk sizes of every PutBlob call, in order. */
  readonly putBlobChunks: number[][] = [];
  readonly getBlobRequests: GetBlobRequest__Output[] = [];
  status: StatusResponse;
  /** Scripted answer to every session request; default: the in-memory store. */
  onRequest: (request: ClientRequest__Output, session: SessionCall) => Answer = (r) => this.answer(r);
  /** Scripted Subscribe; default: progress notices are never sent, the call stays open. */
  onSubscribe: (call: grpc.ServerWritableStream<SubscribeRequest__Output, SubscribeResponse>) => void = () => {};
  /** Scripted GetBlob; default: the stored blob in chunks of getBlobChunkBytes. */
  onGetBlob: (call: grpc.ServerWritableStream<GetBlobRequest__Output, GetBlobResponse>) => void = (call) => this.serveBlob(call);
  getBlobChunkBytes = 1024 * 1024;

  private constructor(
    private readonly server: grpc.Server,
    readonly address: string,
    readonly replicaId: number,
  ) {
    this.status = {
      replicaId,
      version: '0.0.0-fake',
      leaderId: replicaId,
      leaderAddress: address,
      isLeader: true,
      limits: { keyBytesMax: 1024, valueInlineBytesMax: 64 * 1024, blobBytesMax: 1 << 30, requestBytesMax: 4 << 20, frameRequestsMax: 1000, rangeKeysMax: 1000 },
    };
  }

  static async start(replicaId = 1): Promise<FakeGlobal> {
    const server = new grpc.Server();
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
    });
    const fake = new FakeGlobal(server, `127.0.0.1:${port}`, replicaId);
    server.addService(dstoreProto().dstore.v1.Global.service, fake.handlers());
    return fake;
  }

  /** Requests of every frame, flattened, without the client's own status probes. */
  userRequests(): ClientRequest__Output[] {
    return this.frames.flat().filter((r) => r.body !== 'status');
  }

  /** Answers held requests (or anything else) in one frame on `session`. */
  reply(session: SessionCall, responses: ServerResponse[]): void {
    session.write({ responses });
  }

  /** Ends every open session with UNAVAILABLE, as a crashing replica's connection would. */
  breakSessions(): void {
    for (const session of this.sessions) {
      session.emit('error', { code: grpc.status.UNAVAILABLE, details: 'fake: session broken', metadata: new grpc.Metadata() });
    }
    this.sessions.clear();
  }

  async stop(): Promise<void> {
    this.server.forceShutdown();
    await Promise.resolve();
  }

  private handlers(): grpc.UntypedServiceImplementation {
    const unimplemented = (_call: unknown, callback: grpc.sendUnaryData<never>): void => {
      callback({ code: grpc.status.UNIMPLEMENTED, details: 'fake: use Session' });
    };
    return {
      Session: (call: SessionCall) => this.serveSession(call),
      Get: unimplemented,
      Set: unimplemented,
      Delete: unimplemented,
      Txn: unimplemented,
      Range: unimplemented,
      MissingBlobs: unimplemented,
      Status: unimplemented,
      PutBlob: (call: grpc.ServerReadableStream<PutBlobRequest__Output, PutBlobResponse>, callback: grpc.sendUnaryData<PutBlobResponse>) =>
        this.servePutBlob(call, callback),
      GetBlob: (call: grpc.ServerWritableStream<GetBlobRequest__Output, GetBlobResponse>) => {
        this.getBlobRequests.push(call.request);
        this.onGetBlob(call);
      },
      Subscribe: (call: grpc.ServerWritableStream<SubscribeRequest__Output, SubscribeResponse>) => this.onSubscribe(call),
    };
  }

  private serveSession(call: SessionCall): void {
    this.sessions.add(call);
    this.sessionsOpened++;
    call.on('data', (frame: ClientFrame__Output) => {
      this.frames.push(frame.requests);
      const responses: ServerResponse[] = [];
      for (const request of frame.requests) {
        const answer = this.onRequest(request, call);
        if (answer === 'hold') this.held.push({ session: call, request });
        else responses.push(answer);
      }
      if (responses.length > 0) call.write({ responses });
    });
    call.on('end', () => {
      this.sessions.delete(call);
      call.end();
    });
    call.on('error', () => this.sessions.delete(call));
    call.on('cancelled', () => this.sessions.delete(call));
  }

  /** The default in-memory behaviour for one session request. */
  answer(r: ClientRequest__Output): ServerResponse {
    const header = () => ({ revision: this.revision, replicaId: this.replicaId });
    switch (r.body) {
      case 'status':
        return { id: r.id, status: { ...this.status, appliedRevision: this.revision } };
      case 'get': {
        const b = this.keys.get(r.get!.key);
        return { id: r.id, get: { header: header(), found: b !== undefined, kv: b ? this.kv(r.get!.key, b, r.get!.withValue) : null } };
      }
      case 'set': {
        const set = r.set!;
        return this.once(r.id, set.writeId, () => {
          if (this.keys.has(set.key)) return { id: r.id, error: { code: 'KEY_OCCUPIED', message: `key ${JSON.stringify(set.key)} is occupied`, retryable: false } };
          const b = this.bind(set.key, set.value!, ++this.revision);
          return { id: r.id, set: { header: header(), kv: this.kv(set.key, b, false) } };
        });
      }
      case 'delete': {
        const del = r.delete!;
        return this.once(r.id, del.writeId, () => {
          const b = this.keys.get(del.key);
          if (b === undefined) return { id: r.id, delete: { header: header(), deleted: false } };
          this.keys.delete(del.key);
          this.revision++;
          return { id: r.id, delete: { header: header(), deleted: true, prevKv: this.kv(del.key, b, false) } };
        });
      }
      case 'txn':
        return this.once(r.id, r.txn!.writeId, () => this.runTxn(r.id, r.txn!));
      case 'missingBlobs':
        return { id: r.id, missingBlobs: { missing: r.missingBlobs!.hashes.filter((h) => !this.blobs.has(hashFromBytes(h))) } };
      case 'range': {
        const prefix = r.range!.prefix;
        const kvs = [...this.keys.entries()].filter(([k]) => k.startsWith(prefix)).map(([k, b]) => this.kv(k, b, r.range!.withValues));
        return { id: r.id, range: { header: header(), kvs, more: false } };
      }
      default:
        return { id: r.id, error: { code: 'INVALID_ARGUMENT', message: 'empty request', retryable: false } };
    }
  }

  /**
   * Runs `apply` once per (clientId, requestId), as the real Global's sessions do: a retry
   * with the same WriteId gets the first answer; a write without a WriteId, or under a new
   * one, runs again. Answers below the client's firstIncomplete are forgotten, and a retry
   * of one is refused (never run twice).
   */
  private once(id: number, writeId: WriteIdOf, apply: () => ServerResponse): ServerResponse {
    if (writeId === null || writeId === undefined || writeId.clientId === '') return apply();
    const key = `${writeId.clientId}/${writeId.requestId}`;
    this.received.set(key, (this.received.get(key) ?? 0) + 1);
    let session = this.writeSessions.get(writeId.clientId);
    if (session === undefined) {
      session = { results: new Map(), forgottenThrough: 0 };
      this.writeSessions.set(writeId.clientId, session);
    }
    const seen = session.results.get(writeId.requestId);
    if (seen !== undefined) return { ...seen, id };
    if (writeId.requestId <= session.forgottenThrough) {
      return { id, error: { code: 'INVALID_ARGUMENT', message: `fake: request ${writeId.requestId} of client ${writeId.clientId} is older than the results kept; it may or may not have run`, retryable: false } };
    }
    const response = apply();
    this.applied.set(key, (this.applied.get(key) ?? 0) + 1);
    session.results.set(writeId.requestId, response);
    const firstIncomplete = writeId.firstIncomplete ?? 0;
    if (firstIncomplete - 1 > session.forgottenThrough) session.forgottenThrough = firstIncomplete - 1;
    for (const requestId of [...session.results.keys()]) if (requestId < firstIncomplete) session.results.delete(requestId);
    return response;
  }

  private readonly writeSessions = new Map<string, FakeSession>();

  /** A compare as txn.ts evaluates it: a missing key has version 0, modRevision 0, no hash. */
  private compare(c: Compare__Output): boolean {
    const b = this.keys.get(c.key);
    const equalOrNot = (same: boolean): boolean => (c.operator === 'OPERATOR_NOT_EQUAL' ? !same : same);
    if (c.target === 'TARGET_EXISTS') return equalOrNot((b !== undefined) === c.exists);
    if (c.target === 'TARGET_HASH') return equalOrNot(b !== undefined && c.hash.byteLength === 32 && b.hash === hashFromBytes(c.hash));
    const actual = b === undefined ? 0 : c.target === 'TARGET_VERSION' ? b.version : b.modRevision;
    switch (c.operator) {
      case 'OPERATOR_EQUAL': return actual === c.number;
      case 'OPERATOR_NOT_EQUAL': return actual !== c.number;
      case 'OPERATOR_LESS': return actual < c.number;
      case 'OPERATOR_GREATER': return actual > c.number;
      default: throw new Error(`fake: compare operator ${String(c.operator)} not understood`);
    }
  }

  /**
   * Evaluates the compares, then runs the success or the failure branch at one revision: put,
   * putIfAbsent (a bound key fails the whole txn with KEY_OCCUPIED, changing nothing) and
   * delete. Other ops are not served by the fake (INVALID_ARGUMENT says so).
   */
  private runTxn(id: number, txn: TxnRequest__Output): ServerResponse {
    const succeeded = txn.compares.every((c) => this.compare(c));
    const ops = succeeded ? txn.success : txn.failure;
    const refuse = (code: string, message: string): ServerResponse => ({ id, error: { code, message, retryable: false } });
    for (const op of ops) {
      if (op.op !== 'put' && op.op !== 'putIfAbsent' && op.op !== 'delete') return refuse('INVALID_ARGUMENT', `fake: txn op ${op.op ?? 'none'} is not served by the fake`);
      if (op.putIfAbsent && this.keys.has(op.putIfAbsent.key)) return refuse('KEY_OCCUPIED', `key ${JSON.stringify(op.putIfAbsent.key)} is occupied`);
    }
    const revision = ops.length > 0 ? this.revision + 1 : this.revision;
    const results: TxnOpResult[] = ops.map((op) => {
      const put = op.put ?? op.putIfAbsent;
      if (put) return { written: this.kv(put.key, this.bind(put.key, put.value!, revision), false) };
      const key = op.delete!.key;
      const b = this.keys.get(key);
      this.keys.delete(key);
      return { delete: { header: { revision, replicaId: this.replicaId }, deleted: b !== undefined, prevKv: b === undefined ? null : this.kv(key, b, false) } };
    });
    this.revision = revision;
    return { id, txn: { header: { revision, replicaId: this.replicaId }, succeeded, results } };
  }

  private bind(key: string, source: ValueSource__Output, revision: number): Binding {
    const value = source.source === 'inline' ? source.inline! : this.blobs.get(hashFromBytes(source.blobHash!))!;
    if (value === undefined) throw new Error('fake: blob_hash of a blob never uploaded');
    const prev = this.keys.get(key);
    const b: Binding = { hash: hashOf(value), value, createRevision: prev?.createRevision ?? revision, modRevision: revision, version: (prev?.version ?? 0) + 1 };
    this.keys.set(key, b);
    return b;
  }

  kv(key: string, b: Binding, withValue: boolean): KeyValue {
    const inline = withValue && b.value.byteLength <= 64 * 1024;
    return {
      key,
      hash: hashToBytes(b.hash),
      size: b.value.byteLength,
      createRevision: b.createRevision,
      modRevision: b.modRevision,
      version: b.version,
      value: inline ? b.value : Buffer.alloc(0),
      valueInline: inline,
    };
  }

  private servePutBlob(call: grpc.ServerReadableStream<PutBlobRequest__Output, PutBlobResponse>, callback: grpc.sendUnaryData<PutBlobResponse>): void {
    this.putBlobCalls++;
    const hasher = new Hasher();
    const parts: Buffer[] = [];
    const sizes: number[] = [];
    this.putBlobChunks.push(sizes);
    let size = 0;
    call.on('data', (m: PutBlobRequest__Output) => {
      if (m.part === 'header') size = m.header!.size;
      else if (m.chunk) {
        hasher.update(m.chunk.data);
        parts.push(m.chunk.data);
        sizes.push(m.chunk.data.byteLength);
      }
    });
    call.on('end', () => {
      const bytes = Buffer.concat(parts);
      if (bytes.byteLength !== size) {
        callback({ code: grpc.status.INVALID_ARGUMENT, details: `fake: got ${bytes.byteLength} of ${size} bytes` });
        return;
      }
      const hash = hasher.digest();
      const existed = this.blobs.has(hash);
      this.blobs.set(hash, bytes);
      callback(null, { hash: hashToBytes(hash), size, existed });
    });
  }

  private serveBlob(call: grpc.ServerWritableStream<GetBlobRequest__Output, GetBlobResponse>): void {
    const blob = this.blobs.get(hashFromBytes(call.request.hash));
    if (blob === undefined) {
      call.emit('error', { code: grpc.status.NOT_FOUND, details: 'fake: no such blob' });
      return;
    }
    for (let at = call.request.offset; at < blob.byteLength; at += this.getBlobChunkBytes) {
      call.write({ size: blob.byteLength, chunk: { offset: at, data: blob.subarray(at, at + this.getBlobChunkBytes) } });
    }
    if (blob.byteLength === 0) call.write({ size: 0, chunk: { offset: 0, data: Buffer.alloc(0) } });
    call.end();
  }
}
