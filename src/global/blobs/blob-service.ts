// Global.PutBlob and Global.GetBlob (global.proto; docs/architecture.md). Any replica
// serves both.
//
// PutBlob: header (size, optional hash) then chunks. The size is checked against
// limits.blob_bytes_max before any byte is read; a blob this replica already holds (by the
// header's hash) is answered `existed` without reading the chunks; otherwise the bytes are
// hashed as they stream to disk (a mismatch with the header's hash is DATA_LOSS and nothing
// is kept). Either way the answer waits until the blob is durable on a majority
// (BlobReplicator.ensureDurable): UNAVAILABLE, retryable, when no majority is reachable.
//
// GetBlob: served from the local copy, verified: the last message is held back until the
// whole blob has hashed to its name (bytes before it are sent as they are read, so a reader
// acts on the data only once the call ends OK, as the client does). A blob missing here is
// fetched from a peer first (verified); NOT_FOUND when a majority of replicas lack it. A
// local copy that fails its hash is quarantined (blob-store.ts) and repaired from a peer:
// found before anything was sent, at once, and the call serves the repaired copy; found
// later, the call fails with DATA_LOSS saying a repair is under way (the next call gets the
// repaired copy). When no majority holds a good copy, DATA_LOSS names the damaged copies
// (never NOT_FOUND: the blob existed).
// A byte range is served from the whole blob's verified read, so a short range of a large
// blob costs a full read (verification needs every byte).

import type * as grpc from '@grpc/grpc-js';
import { checkInteger } from '../../protocol/config-check.ts';
import { CorruptError, InvalidArgumentError, NotFoundError } from '../../protocol/errors.ts';
import { toGrpcStatus } from '../../protocol/grpc-status.ts';
import { hashFromBytes, hashToBytes, type Hash } from '../../protocol/hash.ts';
import type { GetBlobRequest__Output } from '../../protocol/generated/dstore/v1/GetBlobRequest.ts';
import type { GetBlobResponse } from '../../protocol/generated/dstore/v1/GetBlobResponse.ts';
import type { GlobalHandlers } from '../../protocol/generated/dstore/v1/Global.ts';
import type { PutBlobRequest__Output } from '../../protocol/generated/dstore/v1/PutBlobRequest.ts';
import type { PutBlobResponse } from '../../protocol/generated/dstore/v1/PutBlobResponse.ts';
import { drained } from '../../protocol/drained.ts';
import { BLOB_CHUNK_BYTES_MAX, checkHeldSize, readUploadHeader, type BlobReplicator } from './blob-replicator.ts';
import type { BlobStore } from '../storage/blob-store.ts';

export interface BlobServiceOptions {
  readonly blobs: BlobStore;
  readonly replicator: BlobReplicator;
  /** limits.blob_bytes_max: larger uploads are refused from their header. */
  readonly blobBytesMax: number;
}

export class BlobService {
  /** Throws InvalidArgumentError for a bad limit. */
  constructor(private readonly options: BlobServiceOptions) {
    checkInteger('blobBytesMax', options.blobBytesMax, 0);
  }

  /** Global.PutBlob, wired into the server by global-server.ts. */
  readonly handlePutBlob: GlobalHandlers['PutBlob'] = (call, callback) => {
    this.options.replicator.serveClientTransfer(call.getPeer(), () => this.putBlob(call)).then(
      (response) => callback(null, response),
      (err: unknown) => callback(toGrpcStatus(err)),
    );
  };

  /** Global.GetBlob, wired into the server by global-server.ts. */
  readonly handleGetBlob: GlobalHandlers['GetBlob'] = (call) => {
    this.options.replicator.serveClientTransfer(call.getPeer(), () => this.getBlob(call)).catch((err: unknown) => {
      if (!call.cancelled) call.emit('error', toGrpcStatus(err));
    });
  };

  private async putBlob(call: grpc.ServerReadableStream<PutBlobRequest__Output, PutBlobResponse>): Promise<PutBlobResponse> {
    const { blobs, replicator } = this.options;
    const messages = replicator.uploadMessages(call, 'PutBlob');
    const header = await readUploadHeader(messages, this.options.blobBytesMax);
    if (header.hash !== null) {
      const held = blobs.sizeBytes(header.hash);
      if (held !== undefined) {
        checkHeldSize(header, held);
        replicator.pin(header.hash);
        const size = await replicator.ensureDurable(header.hash);
        return { hash: hashToBytes(header.hash), size, existed: true };
      }
    }
    const result = await replicator.receive(header, messages);
    await replicator.ensureDurable(result.hash);
    return { hash: hashToBytes(result.hash), size: result.sizeBytes, existed: false };
  }

  private async getBlob(call: grpc.ServerWritableStream<GetBlobRequest__Output, GetBlobResponse>): Promise<void> {
    const req = call.request;
    const hash = hashFromBytes(req.hash);
    checkInteger('GetBlob offset', req.offset, 0);
    checkInteger('GetBlob length', req.length, 0);
    for (let attempt = 1; ; attempt++) {
      await this.options.replicator.fetch(hash);
      const size = this.options.blobs.sizeBytes(hash);
      if (size === undefined) {
        if (attempt === 1) continue; // collected or dropped between the fetch and now
        throw new NotFoundError(`blob ${hash} is no longer held: it may have been collected`);
      }
      if (req.offset > size) throw new InvalidArgumentError(`GetBlob offset ${req.offset} is past the end of the ${size}-byte blob ${hash}`);
      const end = req.length === 0 ? size : Math.min(size, req.offset + req.length);
      const progress = { sent: false };
      try {
        await this.send(call, hash, size, req.offset, end, progress);
        return;
      } catch (err) {
        this.options.replicator.noteLocalFailure(hash, err);
        const retry = attempt === 1 && !progress.sent && (err instanceof CorruptError || err instanceof NotFoundError);
        if (retry) continue;
        if (err instanceof CorruptError && progress.sent) {
          throw new CorruptError(`${err.message}; part of the blob was sent before its hash check failed: the copy on this replica is quarantined and a repair from a peer is under way, retry the read`, { cause: err });
        }
        throw err;
      }
    }
  }

  /** Streams [offset, end) of the local copy, holding the last message back until the read verified. */
  private async send(call: grpc.ServerWritableStream<GetBlobRequest__Output, GetBlobResponse>, hash: Hash, size: number, offset: number, end: number, progress: { sent: boolean }): Promise<void> {
    let held: GetBlobResponse | null = null;
    let position = 0;
    for await (const piece of this.options.blobs.read(hash, BLOB_CHUNK_BYTES_MAX)) {
      if (call.cancelled) return;
      const start = position;
      position += piece.byteLength;
      const from = Math.max(offset, start);
      const to = Math.min(end, position);
      if (from >= to) continue; // outside the range, but read on: the whole blob is verified
      if (held !== null) {
        progress.sent = true;
        if (!call.write(held)) await drained(call);
      }
      held = { size, chunk: { offset: from, data: piece.subarray(from - start, to - start) } };
    }
    if (call.cancelled) return;
    progress.sent = true;
    call.write(held ?? { size, chunk: { offset, data: Buffer.alloc(0) } }); // at least one message
    call.end();
  }
}
