// Original file: src/protocol/proto/dstore/v1/global.proto

import type { GetRequest as _dstore_v1_GetRequest, GetRequest__Output as _dstore_v1_GetRequest__Output } from '../../dstore/v1/GetRequest.ts';
import type { SetRequest as _dstore_v1_SetRequest, SetRequest__Output as _dstore_v1_SetRequest__Output } from '../../dstore/v1/SetRequest.ts';
import type { DeleteRequest as _dstore_v1_DeleteRequest, DeleteRequest__Output as _dstore_v1_DeleteRequest__Output } from '../../dstore/v1/DeleteRequest.ts';
import type { TxnRequest as _dstore_v1_TxnRequest, TxnRequest__Output as _dstore_v1_TxnRequest__Output } from '../../dstore/v1/TxnRequest.ts';
import type { RangeRequest as _dstore_v1_RangeRequest, RangeRequest__Output as _dstore_v1_RangeRequest__Output } from '../../dstore/v1/RangeRequest.ts';
import type { MissingBlobsRequest as _dstore_v1_MissingBlobsRequest, MissingBlobsRequest__Output as _dstore_v1_MissingBlobsRequest__Output } from '../../dstore/v1/MissingBlobsRequest.ts';
import type { StatusRequest as _dstore_v1_StatusRequest, StatusRequest__Output as _dstore_v1_StatusRequest__Output } from '../../dstore/v1/StatusRequest.ts';
import type { Long } from '@grpc/proto-loader';

export interface ClientRequest {
  /**
   * Chosen by the client, unique among its requests in flight on this stream.
   */
  'id'?: (number | string | Long);
  'get'?: (_dstore_v1_GetRequest | null);
  'set'?: (_dstore_v1_SetRequest | null);
  'delete'?: (_dstore_v1_DeleteRequest | null);
  'txn'?: (_dstore_v1_TxnRequest | null);
  'range'?: (_dstore_v1_RangeRequest | null);
  'missingBlobs'?: (_dstore_v1_MissingBlobsRequest | null);
  'status'?: (_dstore_v1_StatusRequest | null);
  'body'?: "get"|"set"|"delete"|"txn"|"range"|"missingBlobs"|"status";
}

export interface ClientRequest__Output {
  /**
   * Chosen by the client, unique among its requests in flight on this stream.
   */
  'id': (number);
  'get'?: (_dstore_v1_GetRequest__Output | null);
  'set'?: (_dstore_v1_SetRequest__Output | null);
  'delete'?: (_dstore_v1_DeleteRequest__Output | null);
  'txn'?: (_dstore_v1_TxnRequest__Output | null);
  'range'?: (_dstore_v1_RangeRequest__Output | null);
  'missingBlobs'?: (_dstore_v1_MissingBlobsRequest__Output | null);
  'status'?: (_dstore_v1_StatusRequest__Output | null);
  'body'?: "get"|"set"|"delete"|"txn"|"range"|"missingBlobs"|"status";
}
