// One copy per node: a Local serving the dstore.v1 Global service on its own address, so the
// other processes of the node (short-lived workers) attach to it with a plain GlobalClient
// (attach.ts) and share its cache instead of each holding their own.
//
// What each call does here:
// - Session get: served by the Local (its cache, else one fill from Global). The value goes
//   inline up to Global's inline limit; larger ones the worker fetches with GetBlob, which the
//   Local serves from the one copy it caches. `consistency` is not a Global read here: the
//   Local answers as fresh as its invalidation stream (min_revision is honoured).
// - Session set, delete, txn: forwarded through the Local, which applies them at once
//   (read-your-writes for every worker on the node). A write's WriteId is remembered for
//   the last WRITE_RESULTS_KEPT writes, so a worker's retry gets the first result instead of
//   being written twice.
// - Session range, missing_blobs: forwarded to Global. Status: the Local answers for itself,
//   naming itself leader so an attached client stays with it.
// - PutBlob: received whole, then stored on Global and cached. GetBlob: from the cache, else
//   fetched once from Global (verified). Subscribe: forwarded to Global, message by message.
//
// Handlers never throw: failures go back as gRPC status / in-band ErrorDetail.

import * as grpc from '@grpc/grpc-js';
import { LRUCache } from 'lru-cache';
import { assertNever } from '../protocol/assert.ts';
import { CorruptError, InvalidArgumentError, TooLargeError, UnavailableError } from '../protocol/errors.ts';
import { toErrorDetail, toGrpcStatus } from '../protocol/grpc-status.ts';
import type { ClientFrame__Output } from '../protocol/generated/dstore/v1/ClientFrame.ts';
import type { ClientRequest__Output } from '../protocol/generated/dstore/v1/ClientRequest.ts';
import type { GetBlobRequest__Output } from '../protocol/generated/dstore/v1/GetBlobRequest.ts';
import type { GetBlobResponse } from '../protocol/generated/dstore/v1/GetBlobResponse.ts';
import type { GlobalHandlers } from '../protocol/generated/dstore/v1/Global.ts';
import type { PutBlobRequest__Output } from '../protocol/generated/dstore/v1/PutBlobRequest.ts';
import type { PutBlobResponse } from '../protocol/generated/dstore/v1/PutBlobResponse.ts';
import type { ServerFrame } from '../protocol/generated/dstore/v1/ServerFrame.ts';
import type { ServerResponse } from '../protocol/generated/dstore/v1/ServerResponse.ts';
import type { SubscribeRequest__Output } from '../protocol/generated/dstore/v1/SubscribeRequest.ts';
import type { SubscribeResponse } from '../protocol/generated/dstore/v1/SubscribeResponse.ts';
import { hashToBytes, parseHash } from '../protocol/hash.ts';
import { dstoreProto } from '../protocol/proto.ts';
import type { ServerLimits } from './client-types.ts';
import { BLOB_CHUNK_BYTES_MAX, VALUE_INLINE_BYTES_DEFAULT } from './client.ts';
import type { Local } from './local.ts';
import { localServerSide, type LocalServerSecurity } from './local-security.ts';
import { PLAINTEXT } from '../protocol/tls.ts';
import { asDstoreError } from './retry.ts';
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
const MESSAGE_BYTES_MAX = 64 * 1024 * 1024 + 64 * 1024;

type Body = Omit<ServerResponse, 'id'>;

export class LocalServer {
  private limits: ServerLimits = LIMITS_BEFORE_GLOBAL_ANSWERS;
  private limitsKnown = false;
  private readonly writes = new LRUCache<string, Promise<Body>>({ max: WRITE_RESULTS_KEPT });
  private readonly calls = new Set<{ cancel: () => void }>();
  private stopped = false;

  private constructor(
    private readonly server: grpc.Server,
    private readonly local: Local,
    /** The bound "host:port" (the real port when asked for port 0). */
    readonly address: string,
  ) {}

  /**
   * Serves `local` on `listen` ("host:port"; port 0 picks a free one), with TLS and a token
   * check per `security` (local-security.ts: only the Local's own principal is served). Throws
   * UnavailableError naming the address when it cannot bind. The caller keeps owning
   * `local` (stop() does not close it).
   */
  static async listen(local: Local, listen: string, security: LocalServerSecurity = PLAINTEXT): Promise<LocalServer> {
    const side = localServerSide(security);
    const server = new grpc.Server({ 'grpc.max_receive_message_length': MESSAGE_BYTES_MAX, 'grpc.max_send_message_length': MESSAGE_BYTES_MAX, interceptors: side.interceptors });
    const holder: { self: LocalServer | null } = { self: null };
    server.addService(dstoreProto().dstore.v1.Global.service, handlers(() => holder.self!));
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(listen, side.credentials, (err, p) => {
        if (err !== null) reject(new UnavailableError(`cannot listen on ${listen}: ${err.message} (is another Local or server using the port? pick another with --listen)`));
        else resolve(p);
      });
    });
    const host = listen.slice(0, listen.lastIndexOf(':'));
    holder.self = new LocalServer(server, local, `${host}:${port}`);
    return holder.self;
  }

  /** Stops serving; streams in progress are cut. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
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
        return this.once(writeIdText(set.writeId), async () => {
          const r = await this.local.set(set.key, valueArg(set.value, 'set'));
          return { set: { header: headerMsg({ revision: r.revision, replicaId: 0 }), kv: keyValueMsg(r.kv, null) } };
        });
      }
      case 'delete': {
        const del = request.delete!;
        return this.once(writeIdText(del.writeId), async () => {
          const r = await this.local.del(del.key);
          return { delete: deleteMsg(r, r) };
        });
      }
      case 'txn': {
        const txn = request.txn!;
        return this.once(writeIdText(txn.writeId), async () => {
          const r = await this.local.txn(txnArg(txn));
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
          status: statusMsg({ version: LOCAL_SERVER_VERSION, address: this.address, appliedRevision: this.local.revision, keyCount: this.local.stats().bindings, limits }),
        }));
      case undefined:
        return Promise.reject(new InvalidArgumentError(`request ${request.id} has no body: set one of get, set, delete, txn, range, missing_blobs, status`));
      default:
        return assertNever(request.body, 'request body');
    }
  }

  private async get(key: string, minRevision: number, withValue: boolean): Promise<Body> {
    const read = await this.local.read(key, minRevision > 0 ? { minRevision } : {});
    const got = read.found;
    const header = headerMsg({ revision: read.revision, replicaId: 0 });
    if (got === null) return { get: { header, found: false, kv: null } };
    const limits = await this.serverLimits();
    const inline = withValue && got.value.byteLength <= limits.valueInlineBytesMax;
    return { get: { header, found: true, kv: keyValueMsg(got.kv, inline ? got.value : null) } };
  }

  /** Runs a write once per WriteId; a retry of it gets the first run's outcome. */
  private once(writeId: string | null, write: () => Promise<Body>): Promise<Body> {
    if (writeId === null) return write();
    let result = this.writes.get(writeId);
    if (result === undefined) {
      result = write();
      this.writes.set(writeId, result);
      // A write that failed retryably may be sent again: let the retry run it.
      result.catch((err: unknown) => {
        if (asDstoreError(err).retryable) this.writes.delete(writeId);
      });
    }
    return result;
  }

  /** One Session stream: answers completed in the same turn go out in one frame. */
  session(call: grpc.ServerDuplexStream<ClientFrame__Output, ServerFrame>): void {
    let outgoing: ServerResponse[] = [];
    let flushScheduled = false;
    let open = true;
    const flush = (): void => {
      flushScheduled = false;
      if (!open || outgoing.length === 0) return;
      const responses = outgoing;
      outgoing = [];
      call.write({ responses });
    };
    const answer = (response: ServerResponse): void => {
      outgoing.push(response);
      if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flush);
      }
    };
    const tracked = { cancel: () => call.end() };
    this.calls.add(tracked);
    call.on('data', (frame: ClientFrame__Output) => {
      if (frame.requests.length > Math.max(this.limits.frameRequestsMax, 256)) {
        open = false;
        call.emit('error', toGrpcStatus(new TooLargeError(`frame of ${frame.requests.length} requests is over the limit of ${this.limits.frameRequestsMax}: send smaller frames`)));
        return;
      }
      for (const request of frame.requests) {
        this.dispatch(request).then(
          (body) => answer({ id: request.id, ...body }),
          (err: unknown) => answer({ id: request.id, error: toErrorDetail(asDstoreError(err)) }),
        );
      }
    });
    const close = (): void => {
      open = false;
      this.calls.delete(tracked);
    };
    call.on('end', () => {
      close();
      call.end();
    });
    call.on('error', close);
    call.on('cancelled', close);
  }

  // ---- blobs -----------------------------------------------------------------------------

  putBlob(call: grpc.ServerReadableStream<PutBlobRequest__Output, PutBlobResponse>, callback: grpc.sendUnaryData<PutBlobResponse>): void {
    const parts: Buffer[] = [];
    let size = -1;
    let expected = '';
    let received = 0;
    let failed = false;
    const fail = (err: unknown): void => {
      if (failed) return;
      failed = true;
      callback(toGrpcStatus(asDstoreError(err)));
    };
    call.on('data', (m: PutBlobRequest__Output) => {
      if (failed) return;
      if (m.part === 'header' && size === -1) {
        size = m.header!.size;
        expected = m.header!.hash.byteLength === 0 ? '' : hashArg(m.header!.hash, 'PutBlob header');
        if (size > this.limits.blobBytesMax) fail(new TooLargeError(`blob of ${size} bytes is over the limit of ${this.limits.blobBytesMax}`));
        return;
      }
      const chunk = m.chunk;
      if (size === -1 || chunk === null || chunk === undefined) return fail(new InvalidArgumentError('PutBlob: the header comes first, then chunks'));
      if (chunk.offset !== received) return fail(new InvalidArgumentError(`PutBlob: chunk at offset ${chunk.offset}, expected ${received}`));
      received += chunk.data.byteLength;
      if (received > size) return fail(new InvalidArgumentError(`PutBlob: more than the announced ${size} bytes`));
      parts.push(chunk.data);
    });
    call.on('error', (err) => fail(err));
    call.on('end', () => {
      if (failed) return;
      if (received !== size) return fail(new InvalidArgumentError(`PutBlob: ${received} bytes received, ${size} announced`));
      const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      this.local.putBlob(bytes).then(
        (r) => {
          if (expected !== '' && r.hash !== expected) return fail(new CorruptError(`PutBlob: the bytes hash to ${r.hash}, not the expected ${expected}`));
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

  subscribe(call: grpc.ServerWritableStream<SubscribeRequest__Output, SubscribeResponse>): void {
    let subscription: ReturnType<Local['client']['subscribe']>;
    try {
      subscription = this.local.client.subscribe({ fromRevision: call.request.fromRevision, prefix: call.request.prefix });
    } catch (err) {
      call.emit('error', toGrpcStatus(asDstoreError(err)));
      return;
    }
    const tracked = { cancel: () => subscription.close() };
    this.calls.add(tracked);
    call.on('cancelled', () => subscription.close());
    const pump = async (): Promise<void> => {
      for await (const message of subscription) call.write(subscribeMsg(message));
      call.end();
    };
    pump().then(
      () => this.calls.delete(tracked),
      (err: unknown) => {
        this.calls.delete(tracked);
        call.emit('error', toGrpcStatus(asDstoreError(err)));
      },
    );
  }
}

function handlers(self: () => LocalServer): GlobalHandlers {
  const viaSession = (name: string) => (_call: unknown, callback: grpc.sendUnaryData<never>): void => {
    callback({ code: grpc.status.UNIMPLEMENTED, details: `a Local serves ${name} on the Session stream only (use GlobalClient)` });
  };
  return {
    Session: (call) => self().session(call),
    Get: viaSession('Get'),
    Set: viaSession('Set'),
    Delete: viaSession('Delete'),
    Txn: viaSession('Txn'),
    Range: viaSession('Range'),
    MissingBlobs: viaSession('MissingBlobs'),
    Status: viaSession('Status'),
    PutBlob: (call, callback) => self().putBlob(call, callback),
    GetBlob: (call) => self().getBlob(call),
    Subscribe: (call) => self().subscribe(call),
  };
}
