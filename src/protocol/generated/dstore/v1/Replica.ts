// Original file: src/protocol/proto/dstore/v1/replica.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { BlobChunk as _dstore_v1_BlobChunk, BlobChunk__Output as _dstore_v1_BlobChunk__Output } from '../../dstore/v1/BlobChunk.ts';
import type { FetchBlobRequest as _dstore_v1_FetchBlobRequest, FetchBlobRequest__Output as _dstore_v1_FetchBlobRequest__Output } from '../../dstore/v1/FetchBlobRequest.ts';
import type { FetchSnapshotRequest as _dstore_v1_FetchSnapshotRequest, FetchSnapshotRequest__Output as _dstore_v1_FetchSnapshotRequest__Output } from '../../dstore/v1/FetchSnapshotRequest.ts';
import type { PeerFrame as _dstore_v1_PeerFrame, PeerFrame__Output as _dstore_v1_PeerFrame__Output } from '../../dstore/v1/PeerFrame.ts';
import type { PutBlobRequest as _dstore_v1_PutBlobRequest, PutBlobRequest__Output as _dstore_v1_PutBlobRequest__Output } from '../../dstore/v1/PutBlobRequest.ts';
import type { PutBlobResponse as _dstore_v1_PutBlobResponse, PutBlobResponse__Output as _dstore_v1_PutBlobResponse__Output } from '../../dstore/v1/PutBlobResponse.ts';
import type { SnapshotChunk as _dstore_v1_SnapshotChunk, SnapshotChunk__Output as _dstore_v1_SnapshotChunk__Output } from '../../dstore/v1/SnapshotChunk.ts';

export interface ReplicaClient extends grpc.Client {
  /**
   * Consensus traffic. The caller's first frame carries `hello`; the callee checks the
   * cluster id and the replica ids and answers with its own hello, or fails the call
   * with FAILED_PRECONDITION naming the mismatch.
   */
  Exchange(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_dstore_v1_PeerFrame, _dstore_v1_PeerFrame__Output>;
  Exchange(options?: grpc.CallOptions): grpc.ClientDuplexStream<_dstore_v1_PeerFrame, _dstore_v1_PeerFrame__Output>;
  /**
   * Consensus traffic. The caller's first frame carries `hello`; the callee checks the
   * cluster id and the replica ids and answers with its own hello, or fails the call
   * with FAILED_PRECONDITION naming the mismatch.
   */
  exchange(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_dstore_v1_PeerFrame, _dstore_v1_PeerFrame__Output>;
  exchange(options?: grpc.CallOptions): grpc.ClientDuplexStream<_dstore_v1_PeerFrame, _dstore_v1_PeerFrame__Output>;
  
  /**
   * Fetches a blob by hash (a replica missing a blob referenced by the log). The receiver
   * verifies the bytes against the hash. NOT_FOUND if the peer lacks it.
   */
  FetchBlob(argument: _dstore_v1_FetchBlobRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_dstore_v1_BlobChunk__Output>;
  FetchBlob(argument: _dstore_v1_FetchBlobRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_dstore_v1_BlobChunk__Output>;
  /**
   * Fetches a blob by hash (a replica missing a blob referenced by the log). The receiver
   * verifies the bytes against the hash. NOT_FOUND if the peer lacks it.
   */
  fetchBlob(argument: _dstore_v1_FetchBlobRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_dstore_v1_BlobChunk__Output>;
  fetchBlob(argument: _dstore_v1_FetchBlobRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_dstore_v1_BlobChunk__Output>;
  
  /**
   * Streams the peer's latest snapshot, for a replica that lags behind the log's
   * truncation point or lost its disk.
   */
  FetchSnapshot(argument: _dstore_v1_FetchSnapshotRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_dstore_v1_SnapshotChunk__Output>;
  FetchSnapshot(argument: _dstore_v1_FetchSnapshotRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_dstore_v1_SnapshotChunk__Output>;
  /**
   * Streams the peer's latest snapshot, for a replica that lags behind the log's
   * truncation point or lost its disk.
   */
  fetchSnapshot(argument: _dstore_v1_FetchSnapshotRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_dstore_v1_SnapshotChunk__Output>;
  fetchSnapshot(argument: _dstore_v1_FetchSnapshotRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_dstore_v1_SnapshotChunk__Output>;
  
  /**
   * Sends a blob to a peer before the transaction that references it is proposed, so
   * that it is durable on a majority first. Same framing as Global.PutBlob.
   */
  StoreBlob(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dstore_v1_PutBlobResponse__Output>): grpc.ClientWritableStream<_dstore_v1_PutBlobRequest>;
  StoreBlob(metadata: grpc.Metadata, callback: grpc.requestCallback<_dstore_v1_PutBlobResponse__Output>): grpc.ClientWritableStream<_dstore_v1_PutBlobRequest>;
  StoreBlob(options: grpc.CallOptions, callback: grpc.requestCallback<_dstore_v1_PutBlobResponse__Output>): grpc.ClientWritableStream<_dstore_v1_PutBlobRequest>;
  StoreBlob(callback: grpc.requestCallback<_dstore_v1_PutBlobResponse__Output>): grpc.ClientWritableStream<_dstore_v1_PutBlobRequest>;
  /**
   * Sends a blob to a peer before the transaction that references it is proposed, so
   * that it is durable on a majority first. Same framing as Global.PutBlob.
   */
  storeBlob(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dstore_v1_PutBlobResponse__Output>): grpc.ClientWritableStream<_dstore_v1_PutBlobRequest>;
  storeBlob(metadata: grpc.Metadata, callback: grpc.requestCallback<_dstore_v1_PutBlobResponse__Output>): grpc.ClientWritableStream<_dstore_v1_PutBlobRequest>;
  storeBlob(options: grpc.CallOptions, callback: grpc.requestCallback<_dstore_v1_PutBlobResponse__Output>): grpc.ClientWritableStream<_dstore_v1_PutBlobRequest>;
  storeBlob(callback: grpc.requestCallback<_dstore_v1_PutBlobResponse__Output>): grpc.ClientWritableStream<_dstore_v1_PutBlobRequest>;
  
}

export interface ReplicaHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Consensus traffic. The caller's first frame carries `hello`; the callee checks the
   * cluster id and the replica ids and answers with its own hello, or fails the call
   * with FAILED_PRECONDITION naming the mismatch.
   */
  Exchange: grpc.handleBidiStreamingCall<_dstore_v1_PeerFrame__Output, _dstore_v1_PeerFrame>;
  
  /**
   * Fetches a blob by hash (a replica missing a blob referenced by the log). The receiver
   * verifies the bytes against the hash. NOT_FOUND if the peer lacks it.
   */
  FetchBlob: grpc.handleServerStreamingCall<_dstore_v1_FetchBlobRequest__Output, _dstore_v1_BlobChunk>;
  
  /**
   * Streams the peer's latest snapshot, for a replica that lags behind the log's
   * truncation point or lost its disk.
   */
  FetchSnapshot: grpc.handleServerStreamingCall<_dstore_v1_FetchSnapshotRequest__Output, _dstore_v1_SnapshotChunk>;
  
  /**
   * Sends a blob to a peer before the transaction that references it is proposed, so
   * that it is durable on a majority first. Same framing as Global.PutBlob.
   */
  StoreBlob: grpc.handleClientStreamingCall<_dstore_v1_PutBlobRequest__Output, _dstore_v1_PutBlobResponse>;
  
}

export interface ReplicaDefinition extends grpc.ServiceDefinition {
  Exchange: MethodDefinition<_dstore_v1_PeerFrame, _dstore_v1_PeerFrame, _dstore_v1_PeerFrame__Output, _dstore_v1_PeerFrame__Output>
  FetchBlob: MethodDefinition<_dstore_v1_FetchBlobRequest, _dstore_v1_BlobChunk, _dstore_v1_FetchBlobRequest__Output, _dstore_v1_BlobChunk__Output>
  FetchSnapshot: MethodDefinition<_dstore_v1_FetchSnapshotRequest, _dstore_v1_SnapshotChunk, _dstore_v1_FetchSnapshotRequest__Output, _dstore_v1_SnapshotChunk__Output>
  StoreBlob: MethodDefinition<_dstore_v1_PutBlobRequest, _dstore_v1_PutBlobResponse, _dstore_v1_PutBlobRequest__Output, _dstore_v1_PutBlobResponse__Output>
}
