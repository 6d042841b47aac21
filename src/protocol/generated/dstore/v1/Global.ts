// Original file: src/protocol/proto/dstore/v1/global.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ClientFrame as _dstore_v1_ClientFrame, ClientFrame__Output as _dstore_v1_ClientFrame__Output } from '../../dstore/v1/ClientFrame.ts';
import type { DeleteRequest as _dstore_v1_DeleteRequest, DeleteRequest__Output as _dstore_v1_DeleteRequest__Output } from '../../dstore/v1/DeleteRequest.ts';
import type { DeleteResponse as _dstore_v1_DeleteResponse, DeleteResponse__Output as _dstore_v1_DeleteResponse__Output } from '../../dstore/v1/DeleteResponse.ts';
import type { GetBlobRequest as _dstore_v1_GetBlobRequest, GetBlobRequest__Output as _dstore_v1_GetBlobRequest__Output } from '../../dstore/v1/GetBlobRequest.ts';
import type { GetBlobResponse as _dstore_v1_GetBlobResponse, GetBlobResponse__Output as _dstore_v1_GetBlobResponse__Output } from '../../dstore/v1/GetBlobResponse.ts';
import type { GetRequest as _dstore_v1_GetRequest, GetRequest__Output as _dstore_v1_GetRequest__Output } from '../../dstore/v1/GetRequest.ts';
import type { GetResponse as _dstore_v1_GetResponse, GetResponse__Output as _dstore_v1_GetResponse__Output } from '../../dstore/v1/GetResponse.ts';
import type { HoldRequest as _dstore_v1_HoldRequest, HoldRequest__Output as _dstore_v1_HoldRequest__Output } from '../../dstore/v1/HoldRequest.ts';
import type { HoldResponse as _dstore_v1_HoldResponse, HoldResponse__Output as _dstore_v1_HoldResponse__Output } from '../../dstore/v1/HoldResponse.ts';
import type { MissingBlobsRequest as _dstore_v1_MissingBlobsRequest, MissingBlobsRequest__Output as _dstore_v1_MissingBlobsRequest__Output } from '../../dstore/v1/MissingBlobsRequest.ts';
import type { MissingBlobsResponse as _dstore_v1_MissingBlobsResponse, MissingBlobsResponse__Output as _dstore_v1_MissingBlobsResponse__Output } from '../../dstore/v1/MissingBlobsResponse.ts';
import type { PutBlobRequest as _dstore_v1_PutBlobRequest, PutBlobRequest__Output as _dstore_v1_PutBlobRequest__Output } from '../../dstore/v1/PutBlobRequest.ts';
import type { PutBlobResponse as _dstore_v1_PutBlobResponse, PutBlobResponse__Output as _dstore_v1_PutBlobResponse__Output } from '../../dstore/v1/PutBlobResponse.ts';
import type { RangeRequest as _dstore_v1_RangeRequest, RangeRequest__Output as _dstore_v1_RangeRequest__Output } from '../../dstore/v1/RangeRequest.ts';
import type { RangeResponse as _dstore_v1_RangeResponse, RangeResponse__Output as _dstore_v1_RangeResponse__Output } from '../../dstore/v1/RangeResponse.ts';
import type { ServerFrame as _dstore_v1_ServerFrame, ServerFrame__Output as _dstore_v1_ServerFrame__Output } from '../../dstore/v1/ServerFrame.ts';
import type { SetRequest as _dstore_v1_SetRequest, SetRequest__Output as _dstore_v1_SetRequest__Output } from '../../dstore/v1/SetRequest.ts';
import type { SetResponse as _dstore_v1_SetResponse, SetResponse__Output as _dstore_v1_SetResponse__Output } from '../../dstore/v1/SetResponse.ts';
import type { StatusRequest as _dstore_v1_StatusRequest, StatusRequest__Output as _dstore_v1_StatusRequest__Output } from '../../dstore/v1/StatusRequest.ts';
import type { StatusResponse as _dstore_v1_StatusResponse, StatusResponse__Output as _dstore_v1_StatusResponse__Output } from '../../dstore/v1/StatusResponse.ts';
import type { SubscribeRequest as _dstore_v1_SubscribeRequest, SubscribeRequest__Output as _dstore_v1_SubscribeRequest__Output } from '../../dstore/v1/SubscribeRequest.ts';
import type { SubscribeResponse as _dstore_v1_SubscribeResponse, SubscribeResponse__Output as _dstore_v1_SubscribeResponse__Output } from '../../dstore/v1/SubscribeResponse.ts';
import type { TxnRequest as _dstore_v1_TxnRequest, TxnRequest__Output as _dstore_v1_TxnRequest__Output } from '../../dstore/v1/TxnRequest.ts';
import type { TxnResponse as _dstore_v1_TxnResponse, TxnResponse__Output as _dstore_v1_TxnResponse__Output } from '../../dstore/v1/TxnResponse.ts';

export interface GlobalClient extends grpc.Client {
  /**
   * Removes a key binding. Deleting a missing key succeeds with deleted = false.
   */
  Delete(argument: _dstore_v1_DeleteRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dstore_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  Delete(argument: _dstore_v1_DeleteRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dstore_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  Delete(argument: _dstore_v1_DeleteRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dstore_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  Delete(argument: _dstore_v1_DeleteRequest, callback: grpc.requestCallback<_dstore_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Removes a key binding. Deleting a missing key succeeds with deleted = false.
   */
  delete(argument: _dstore_v1_DeleteRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dstore_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  delete(argument: _dstore_v1_DeleteRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dstore_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  delete(argument: _dstore_v1_DeleteRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dstore_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  delete(argument: _dstore_v1_DeleteRequest, callback: grpc.requestCallback<_dstore_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Reads one key.
   */
  Get(argument: _dstore_v1_GetRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dstore_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  Get(argument: _dstore_v1_GetRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dstore_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  Get(argument: _dstore_v1_GetRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dstore_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  Get(argument: _dstore_v1_GetRequest, callback: grpc.requestCallback<_dstore_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Reads one key.
   */
  get(argument: _dstore_v1_GetRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dstore_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  get(argument: _dstore_v1_GetRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dstore_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  get(argument: _dstore_v1_GetRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dstore_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  get(argument: _dstore_v1_GetRequest, callback: grpc.requestCallback<_dstore_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Downloads a blob (or a byte range of it) in chunks. NOT_FOUND if absent.
   */
  GetBlob(argument: _dstore_v1_GetBlobRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_dstore_v1_GetBlobResponse__Output>;
  GetBlob(argument: _dstore_v1_GetBlobRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_dstore_v1_GetBlobResponse__Output>;
  /**
   * Downloads a blob (or a byte range of it) in chunks. NOT_FOUND if absent.
   */
  getBlob(argument: _dstore_v1_GetBlobRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_dstore_v1_GetBlobResponse__Output>;
  getBlob(argument: _dstore_v1_GetBlobRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_dstore_v1_GetBlobResponse__Output>;
  
  /**
   * A Local's hold on strict-mode prefixes (docs/coherence.md, `strict`), on the leader only:
   * a follower answers NOT_LEADER with a leader_hint (a hold is the leader's own state and
   * lives as long as the stream, so it is not forwarded). The Local registers, then keeps its hold
   * alive; the leader sends an invalidation for every write to a held key before the write
   * is proposed, and waits for its ack or for the hold's lease to run out.
   */
  Hold(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_dstore_v1_HoldRequest, _dstore_v1_HoldResponse__Output>;
  Hold(options?: grpc.CallOptions): grpc.ClientDuplexStream<_dstore_v1_HoldRequest, _dstore_v1_HoldResponse__Output>;
  /**
   * A Local's hold on strict-mode prefixes (docs/coherence.md, `strict`), on the leader only:
   * a follower answers NOT_LEADER with a leader_hint (a hold is the leader's own state and
   * lives as long as the stream, so it is not forwarded). The Local registers, then keeps its hold
   * alive; the leader sends an invalidation for every write to a held key before the write
   * is proposed, and waits for its ack or for the hold's lease to run out.
   */
  hold(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_dstore_v1_HoldRequest, _dstore_v1_HoldResponse__Output>;
  hold(options?: grpc.CallOptions): grpc.ClientDuplexStream<_dstore_v1_HoldRequest, _dstore_v1_HoldResponse__Output>;
  
  /**
   * Which of the given blobs the replica answering does not hold, so a client uploads only
   * those (another replica may hold one this one has not fetched yet).
   */
  MissingBlobs(argument: _dstore_v1_MissingBlobsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dstore_v1_MissingBlobsResponse__Output>): grpc.ClientUnaryCall;
  MissingBlobs(argument: _dstore_v1_MissingBlobsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dstore_v1_MissingBlobsResponse__Output>): grpc.ClientUnaryCall;
  MissingBlobs(argument: _dstore_v1_MissingBlobsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dstore_v1_MissingBlobsResponse__Output>): grpc.ClientUnaryCall;
  MissingBlobs(argument: _dstore_v1_MissingBlobsRequest, callback: grpc.requestCallback<_dstore_v1_MissingBlobsResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Which of the given blobs the replica answering does not hold, so a client uploads only
   * those (another replica may hold one this one has not fetched yet).
   */
  missingBlobs(argument: _dstore_v1_MissingBlobsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dstore_v1_MissingBlobsResponse__Output>): grpc.ClientUnaryCall;
  missingBlobs(argument: _dstore_v1_MissingBlobsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dstore_v1_MissingBlobsResponse__Output>): grpc.ClientUnaryCall;
  missingBlobs(argument: _dstore_v1_MissingBlobsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dstore_v1_MissingBlobsResponse__Output>): grpc.ClientUnaryCall;
  missingBlobs(argument: _dstore_v1_MissingBlobsRequest, callback: grpc.requestCallback<_dstore_v1_MissingBlobsResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Uploads a blob in chunks. Returns once it is durable on a majority of replicas.
   */
  PutBlob(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dstore_v1_PutBlobResponse__Output>): grpc.ClientWritableStream<_dstore_v1_PutBlobRequest>;
  PutBlob(metadata: grpc.Metadata, callback: grpc.requestCallback<_dstore_v1_PutBlobResponse__Output>): grpc.ClientWritableStream<_dstore_v1_PutBlobRequest>;
  PutBlob(options: grpc.CallOptions, callback: grpc.requestCallback<_dstore_v1_PutBlobResponse__Output>): grpc.ClientWritableStream<_dstore_v1_PutBlobRequest>;
  PutBlob(callback: grpc.requestCallback<_dstore_v1_PutBlobResponse__Output>): grpc.ClientWritableStream<_dstore_v1_PutBlobRequest>;
  /**
   * Uploads a blob in chunks. Returns once it is durable on a majority of replicas.
   */
  putBlob(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dstore_v1_PutBlobResponse__Output>): grpc.ClientWritableStream<_dstore_v1_PutBlobRequest>;
  putBlob(metadata: grpc.Metadata, callback: grpc.requestCallback<_dstore_v1_PutBlobResponse__Output>): grpc.ClientWritableStream<_dstore_v1_PutBlobRequest>;
  putBlob(options: grpc.CallOptions, callback: grpc.requestCallback<_dstore_v1_PutBlobResponse__Output>): grpc.ClientWritableStream<_dstore_v1_PutBlobRequest>;
  putBlob(callback: grpc.requestCallback<_dstore_v1_PutBlobResponse__Output>): grpc.ClientWritableStream<_dstore_v1_PutBlobRequest>;
  
  /**
   * Reads keys in an interval or with a prefix, in key order.
   */
  Range(argument: _dstore_v1_RangeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dstore_v1_RangeResponse__Output>): grpc.ClientUnaryCall;
  Range(argument: _dstore_v1_RangeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dstore_v1_RangeResponse__Output>): grpc.ClientUnaryCall;
  Range(argument: _dstore_v1_RangeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dstore_v1_RangeResponse__Output>): grpc.ClientUnaryCall;
  Range(argument: _dstore_v1_RangeRequest, callback: grpc.requestCallback<_dstore_v1_RangeResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Reads keys in an interval or with a prefix, in key order.
   */
  range(argument: _dstore_v1_RangeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dstore_v1_RangeResponse__Output>): grpc.ClientUnaryCall;
  range(argument: _dstore_v1_RangeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dstore_v1_RangeResponse__Output>): grpc.ClientUnaryCall;
  range(argument: _dstore_v1_RangeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dstore_v1_RangeResponse__Output>): grpc.ClientUnaryCall;
  range(argument: _dstore_v1_RangeRequest, callback: grpc.requestCallback<_dstore_v1_RangeResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Batched, multiplexed requests. Responses carry the request's id and may arrive in a
   * different order and frame grouping than the requests. A malformed frame closes only
   * this stream with INVALID_ARGUMENT.
   */
  Session(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_dstore_v1_ClientFrame, _dstore_v1_ServerFrame__Output>;
  Session(options?: grpc.CallOptions): grpc.ClientDuplexStream<_dstore_v1_ClientFrame, _dstore_v1_ServerFrame__Output>;
  /**
   * Batched, multiplexed requests. Responses carry the request's id and may arrive in a
   * different order and frame grouping than the requests. A malformed frame closes only
   * this stream with INVALID_ARGUMENT.
   */
  session(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_dstore_v1_ClientFrame, _dstore_v1_ServerFrame__Output>;
  session(options?: grpc.CallOptions): grpc.ClientDuplexStream<_dstore_v1_ClientFrame, _dstore_v1_ServerFrame__Output>;
  
  /**
   * Binds a key that does not exist yet (put-if-absent). ALREADY_EXISTS when it does.
   */
  Set(argument: _dstore_v1_SetRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dstore_v1_SetResponse__Output>): grpc.ClientUnaryCall;
  Set(argument: _dstore_v1_SetRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dstore_v1_SetResponse__Output>): grpc.ClientUnaryCall;
  Set(argument: _dstore_v1_SetRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dstore_v1_SetResponse__Output>): grpc.ClientUnaryCall;
  Set(argument: _dstore_v1_SetRequest, callback: grpc.requestCallback<_dstore_v1_SetResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Binds a key that does not exist yet (put-if-absent). ALREADY_EXISTS when it does.
   */
  set(argument: _dstore_v1_SetRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dstore_v1_SetResponse__Output>): grpc.ClientUnaryCall;
  set(argument: _dstore_v1_SetRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dstore_v1_SetResponse__Output>): grpc.ClientUnaryCall;
  set(argument: _dstore_v1_SetRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dstore_v1_SetResponse__Output>): grpc.ClientUnaryCall;
  set(argument: _dstore_v1_SetRequest, callback: grpc.requestCallback<_dstore_v1_SetResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * This replica's view of the cluster, and the server's limits.
   */
  Status(argument: _dstore_v1_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dstore_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _dstore_v1_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dstore_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _dstore_v1_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dstore_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _dstore_v1_StatusRequest, callback: grpc.requestCallback<_dstore_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  /**
   * This replica's view of the cluster, and the server's limits.
   */
  status(argument: _dstore_v1_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dstore_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _dstore_v1_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dstore_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _dstore_v1_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dstore_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _dstore_v1_StatusRequest, callback: grpc.requestCallback<_dstore_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Key changes from a revision on, in revision order without gaps, with progress
   * notices when idle. Fails with OUT_OF_RANGE (metadata dstore-error: COMPACTED and
   * dstore-oldest-revision) when from_revision is older than the history kept.
   */
  Subscribe(argument: _dstore_v1_SubscribeRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_dstore_v1_SubscribeResponse__Output>;
  Subscribe(argument: _dstore_v1_SubscribeRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_dstore_v1_SubscribeResponse__Output>;
  /**
   * Key changes from a revision on, in revision order without gaps, with progress
   * notices when idle. Fails with OUT_OF_RANGE (metadata dstore-error: COMPACTED and
   * dstore-oldest-revision) when from_revision is older than the history kept.
   */
  subscribe(argument: _dstore_v1_SubscribeRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_dstore_v1_SubscribeResponse__Output>;
  subscribe(argument: _dstore_v1_SubscribeRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_dstore_v1_SubscribeResponse__Output>;
  
  /**
   * A mini-transaction: compares, then the success or the failure ops, atomically.
   */
  Txn(argument: _dstore_v1_TxnRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dstore_v1_TxnResponse__Output>): grpc.ClientUnaryCall;
  Txn(argument: _dstore_v1_TxnRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dstore_v1_TxnResponse__Output>): grpc.ClientUnaryCall;
  Txn(argument: _dstore_v1_TxnRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dstore_v1_TxnResponse__Output>): grpc.ClientUnaryCall;
  Txn(argument: _dstore_v1_TxnRequest, callback: grpc.requestCallback<_dstore_v1_TxnResponse__Output>): grpc.ClientUnaryCall;
  /**
   * A mini-transaction: compares, then the success or the failure ops, atomically.
   */
  txn(argument: _dstore_v1_TxnRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dstore_v1_TxnResponse__Output>): grpc.ClientUnaryCall;
  txn(argument: _dstore_v1_TxnRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dstore_v1_TxnResponse__Output>): grpc.ClientUnaryCall;
  txn(argument: _dstore_v1_TxnRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dstore_v1_TxnResponse__Output>): grpc.ClientUnaryCall;
  txn(argument: _dstore_v1_TxnRequest, callback: grpc.requestCallback<_dstore_v1_TxnResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface GlobalHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Removes a key binding. Deleting a missing key succeeds with deleted = false.
   */
  Delete: grpc.handleUnaryCall<_dstore_v1_DeleteRequest__Output, _dstore_v1_DeleteResponse>;
  
  /**
   * Reads one key.
   */
  Get: grpc.handleUnaryCall<_dstore_v1_GetRequest__Output, _dstore_v1_GetResponse>;
  
  /**
   * Downloads a blob (or a byte range of it) in chunks. NOT_FOUND if absent.
   */
  GetBlob: grpc.handleServerStreamingCall<_dstore_v1_GetBlobRequest__Output, _dstore_v1_GetBlobResponse>;
  
  /**
   * A Local's hold on strict-mode prefixes (docs/coherence.md, `strict`), on the leader only:
   * a follower answers NOT_LEADER with a leader_hint (a hold is the leader's own state and
   * lives as long as the stream, so it is not forwarded). The Local registers, then keeps its hold
   * alive; the leader sends an invalidation for every write to a held key before the write
   * is proposed, and waits for its ack or for the hold's lease to run out.
   */
  Hold: grpc.handleBidiStreamingCall<_dstore_v1_HoldRequest__Output, _dstore_v1_HoldResponse>;
  
  /**
   * Which of the given blobs the replica answering does not hold, so a client uploads only
   * those (another replica may hold one this one has not fetched yet).
   */
  MissingBlobs: grpc.handleUnaryCall<_dstore_v1_MissingBlobsRequest__Output, _dstore_v1_MissingBlobsResponse>;
  
  /**
   * Uploads a blob in chunks. Returns once it is durable on a majority of replicas.
   */
  PutBlob: grpc.handleClientStreamingCall<_dstore_v1_PutBlobRequest__Output, _dstore_v1_PutBlobResponse>;
  
  /**
   * Reads keys in an interval or with a prefix, in key order.
   */
  Range: grpc.handleUnaryCall<_dstore_v1_RangeRequest__Output, _dstore_v1_RangeResponse>;
  
  /**
   * Batched, multiplexed requests. Responses carry the request's id and may arrive in a
   * different order and frame grouping than the requests. A malformed frame closes only
   * this stream with INVALID_ARGUMENT.
   */
  Session: grpc.handleBidiStreamingCall<_dstore_v1_ClientFrame__Output, _dstore_v1_ServerFrame>;
  
  /**
   * Binds a key that does not exist yet (put-if-absent). ALREADY_EXISTS when it does.
   */
  Set: grpc.handleUnaryCall<_dstore_v1_SetRequest__Output, _dstore_v1_SetResponse>;
  
  /**
   * This replica's view of the cluster, and the server's limits.
   */
  Status: grpc.handleUnaryCall<_dstore_v1_StatusRequest__Output, _dstore_v1_StatusResponse>;
  
  /**
   * Key changes from a revision on, in revision order without gaps, with progress
   * notices when idle. Fails with OUT_OF_RANGE (metadata dstore-error: COMPACTED and
   * dstore-oldest-revision) when from_revision is older than the history kept.
   */
  Subscribe: grpc.handleServerStreamingCall<_dstore_v1_SubscribeRequest__Output, _dstore_v1_SubscribeResponse>;
  
  /**
   * A mini-transaction: compares, then the success or the failure ops, atomically.
   */
  Txn: grpc.handleUnaryCall<_dstore_v1_TxnRequest__Output, _dstore_v1_TxnResponse>;
  
}

export interface GlobalDefinition extends grpc.ServiceDefinition {
  Delete: MethodDefinition<_dstore_v1_DeleteRequest, _dstore_v1_DeleteResponse, _dstore_v1_DeleteRequest__Output, _dstore_v1_DeleteResponse__Output>
  Get: MethodDefinition<_dstore_v1_GetRequest, _dstore_v1_GetResponse, _dstore_v1_GetRequest__Output, _dstore_v1_GetResponse__Output>
  GetBlob: MethodDefinition<_dstore_v1_GetBlobRequest, _dstore_v1_GetBlobResponse, _dstore_v1_GetBlobRequest__Output, _dstore_v1_GetBlobResponse__Output>
  Hold: MethodDefinition<_dstore_v1_HoldRequest, _dstore_v1_HoldResponse, _dstore_v1_HoldRequest__Output, _dstore_v1_HoldResponse__Output>
  MissingBlobs: MethodDefinition<_dstore_v1_MissingBlobsRequest, _dstore_v1_MissingBlobsResponse, _dstore_v1_MissingBlobsRequest__Output, _dstore_v1_MissingBlobsResponse__Output>
  PutBlob: MethodDefinition<_dstore_v1_PutBlobRequest, _dstore_v1_PutBlobResponse, _dstore_v1_PutBlobRequest__Output, _dstore_v1_PutBlobResponse__Output>
  Range: MethodDefinition<_dstore_v1_RangeRequest, _dstore_v1_RangeResponse, _dstore_v1_RangeRequest__Output, _dstore_v1_RangeResponse__Output>
  Session: MethodDefinition<_dstore_v1_ClientFrame, _dstore_v1_ServerFrame, _dstore_v1_ClientFrame__Output, _dstore_v1_ServerFrame__Output>
  Set: MethodDefinition<_dstore_v1_SetRequest, _dstore_v1_SetResponse, _dstore_v1_SetRequest__Output, _dstore_v1_SetResponse__Output>
  Status: MethodDefinition<_dstore_v1_StatusRequest, _dstore_v1_StatusResponse, _dstore_v1_StatusRequest__Output, _dstore_v1_StatusResponse__Output>
  Subscribe: MethodDefinition<_dstore_v1_SubscribeRequest, _dstore_v1_SubscribeResponse, _dstore_v1_SubscribeRequest__Output, _dstore_v1_SubscribeResponse__Output>
  Txn: MethodDefinition<_dstore_v1_TxnRequest, _dstore_v1_TxnResponse, _dstore_v1_TxnRequest__Output, _dstore_v1_TxnResponse__Output>
}
