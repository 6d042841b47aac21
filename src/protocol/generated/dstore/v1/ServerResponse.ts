// Original file: src/protocol/proto/dstore/v1/global.proto

import type { ErrorDetail as _dstore_v1_ErrorDetail, ErrorDetail__Output as _dstore_v1_ErrorDetail__Output } from '../../dstore/v1/ErrorDetail.ts';
import type { GetResponse as _dstore_v1_GetResponse, GetResponse__Output as _dstore_v1_GetResponse__Output } from '../../dstore/v1/GetResponse.ts';
import type { SetResponse as _dstore_v1_SetResponse, SetResponse__Output as _dstore_v1_SetResponse__Output } from '../../dstore/v1/SetResponse.ts';
import type { DeleteResponse as _dstore_v1_DeleteResponse, DeleteResponse__Output as _dstore_v1_DeleteResponse__Output } from '../../dstore/v1/DeleteResponse.ts';
import type { TxnResponse as _dstore_v1_TxnResponse, TxnResponse__Output as _dstore_v1_TxnResponse__Output } from '../../dstore/v1/TxnResponse.ts';
import type { RangeResponse as _dstore_v1_RangeResponse, RangeResponse__Output as _dstore_v1_RangeResponse__Output } from '../../dstore/v1/RangeResponse.ts';
import type { MissingBlobsResponse as _dstore_v1_MissingBlobsResponse, MissingBlobsResponse__Output as _dstore_v1_MissingBlobsResponse__Output } from '../../dstore/v1/MissingBlobsResponse.ts';
import type { StatusResponse as _dstore_v1_StatusResponse, StatusResponse__Output as _dstore_v1_StatusResponse__Output } from '../../dstore/v1/StatusResponse.ts';
import type { Long } from '@grpc/proto-loader';

export interface ServerResponse {
  /**
   * The id of the request this answers.
   */
  'id'?: (number | string | Long);
  /**
   * The request failed; the stream stays open.
   */
  'error'?: (_dstore_v1_ErrorDetail | null);
  'get'?: (_dstore_v1_GetResponse | null);
  'set'?: (_dstore_v1_SetResponse | null);
  'delete'?: (_dstore_v1_DeleteResponse | null);
  'txn'?: (_dstore_v1_TxnResponse | null);
  'range'?: (_dstore_v1_RangeResponse | null);
  'missingBlobs'?: (_dstore_v1_MissingBlobsResponse | null);
  'status'?: (_dstore_v1_StatusResponse | null);
  'body'?: "error"|"get"|"set"|"delete"|"txn"|"range"|"missingBlobs"|"status";
}

export interface ServerResponse__Output {
  /**
   * The id of the request this answers.
   */
  'id': (number);
  /**
   * The request failed; the stream stays open.
   */
  'error'?: (_dstore_v1_ErrorDetail__Output | null);
  'get'?: (_dstore_v1_GetResponse__Output | null);
  'set'?: (_dstore_v1_SetResponse__Output | null);
  'delete'?: (_dstore_v1_DeleteResponse__Output | null);
  'txn'?: (_dstore_v1_TxnResponse__Output | null);
  'range'?: (_dstore_v1_RangeResponse__Output | null);
  'missingBlobs'?: (_dstore_v1_MissingBlobsResponse__Output | null);
  'status'?: (_dstore_v1_StatusResponse__Output | null);
  'body'?: "error"|"get"|"set"|"delete"|"txn"|"range"|"missingBlobs"|"status";
}
