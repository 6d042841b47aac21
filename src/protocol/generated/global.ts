import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { BlobChunk as _dstore_v1_BlobChunk, BlobChunk__Output as _dstore_v1_BlobChunk__Output } from './dstore/v1/BlobChunk.ts';
import type { ClientFrame as _dstore_v1_ClientFrame, ClientFrame__Output as _dstore_v1_ClientFrame__Output } from './dstore/v1/ClientFrame.ts';
import type { ClientRequest as _dstore_v1_ClientRequest, ClientRequest__Output as _dstore_v1_ClientRequest__Output } from './dstore/v1/ClientRequest.ts';
import type { Compare as _dstore_v1_Compare, Compare__Output as _dstore_v1_Compare__Output } from './dstore/v1/Compare.ts';
import type { DeleteRequest as _dstore_v1_DeleteRequest, DeleteRequest__Output as _dstore_v1_DeleteRequest__Output } from './dstore/v1/DeleteRequest.ts';
import type { DeleteResponse as _dstore_v1_DeleteResponse, DeleteResponse__Output as _dstore_v1_DeleteResponse__Output } from './dstore/v1/DeleteResponse.ts';
import type { ErrorDetail as _dstore_v1_ErrorDetail, ErrorDetail__Output as _dstore_v1_ErrorDetail__Output } from './dstore/v1/ErrorDetail.ts';
import type { Event as _dstore_v1_Event, Event__Output as _dstore_v1_Event__Output } from './dstore/v1/Event.ts';
import type { GetBlobRequest as _dstore_v1_GetBlobRequest, GetBlobRequest__Output as _dstore_v1_GetBlobRequest__Output } from './dstore/v1/GetBlobRequest.ts';
import type { GetBlobResponse as _dstore_v1_GetBlobResponse, GetBlobResponse__Output as _dstore_v1_GetBlobResponse__Output } from './dstore/v1/GetBlobResponse.ts';
import type { GetRequest as _dstore_v1_GetRequest, GetRequest__Output as _dstore_v1_GetRequest__Output } from './dstore/v1/GetRequest.ts';
import type { GetResponse as _dstore_v1_GetResponse, GetResponse__Output as _dstore_v1_GetResponse__Output } from './dstore/v1/GetResponse.ts';
import type { GlobalClient as _dstore_v1_GlobalClient, GlobalDefinition as _dstore_v1_GlobalDefinition } from './dstore/v1/Global.ts';
import type { HoldRequest as _dstore_v1_HoldRequest, HoldRequest__Output as _dstore_v1_HoldRequest__Output } from './dstore/v1/HoldRequest.ts';
import type { HoldResponse as _dstore_v1_HoldResponse, HoldResponse__Output as _dstore_v1_HoldResponse__Output } from './dstore/v1/HoldResponse.ts';
import type { KeyValue as _dstore_v1_KeyValue, KeyValue__Output as _dstore_v1_KeyValue__Output } from './dstore/v1/KeyValue.ts';
import type { ListValue as _dstore_v1_ListValue, ListValue__Output as _dstore_v1_ListValue__Output } from './dstore/v1/ListValue.ts';
import type { MapValue as _dstore_v1_MapValue, MapValue__Output as _dstore_v1_MapValue__Output } from './dstore/v1/MapValue.ts';
import type { MissingBlobsRequest as _dstore_v1_MissingBlobsRequest, MissingBlobsRequest__Output as _dstore_v1_MissingBlobsRequest__Output } from './dstore/v1/MissingBlobsRequest.ts';
import type { MissingBlobsResponse as _dstore_v1_MissingBlobsResponse, MissingBlobsResponse__Output as _dstore_v1_MissingBlobsResponse__Output } from './dstore/v1/MissingBlobsResponse.ts';
import type { NodeLocal as _dstore_v1_NodeLocal, NodeLocal__Output as _dstore_v1_NodeLocal__Output } from './dstore/v1/NodeLocal.ts';
import type { PutBlobRequest as _dstore_v1_PutBlobRequest, PutBlobRequest__Output as _dstore_v1_PutBlobRequest__Output } from './dstore/v1/PutBlobRequest.ts';
import type { PutBlobResponse as _dstore_v1_PutBlobResponse, PutBlobResponse__Output as _dstore_v1_PutBlobResponse__Output } from './dstore/v1/PutBlobResponse.ts';
import type { RangeRequest as _dstore_v1_RangeRequest, RangeRequest__Output as _dstore_v1_RangeRequest__Output } from './dstore/v1/RangeRequest.ts';
import type { RangeResponse as _dstore_v1_RangeResponse, RangeResponse__Output as _dstore_v1_RangeResponse__Output } from './dstore/v1/RangeResponse.ts';
import type { ResponseHeader as _dstore_v1_ResponseHeader, ResponseHeader__Output as _dstore_v1_ResponseHeader__Output } from './dstore/v1/ResponseHeader.ts';
import type { ServerFrame as _dstore_v1_ServerFrame, ServerFrame__Output as _dstore_v1_ServerFrame__Output } from './dstore/v1/ServerFrame.ts';
import type { ServerResponse as _dstore_v1_ServerResponse, ServerResponse__Output as _dstore_v1_ServerResponse__Output } from './dstore/v1/ServerResponse.ts';
import type { SetRequest as _dstore_v1_SetRequest, SetRequest__Output as _dstore_v1_SetRequest__Output } from './dstore/v1/SetRequest.ts';
import type { SetResponse as _dstore_v1_SetResponse, SetResponse__Output as _dstore_v1_SetResponse__Output } from './dstore/v1/SetResponse.ts';
import type { StatusRequest as _dstore_v1_StatusRequest, StatusRequest__Output as _dstore_v1_StatusRequest__Output } from './dstore/v1/StatusRequest.ts';
import type { StatusResponse as _dstore_v1_StatusResponse, StatusResponse__Output as _dstore_v1_StatusResponse__Output } from './dstore/v1/StatusResponse.ts';
import type { SubscribeRequest as _dstore_v1_SubscribeRequest, SubscribeRequest__Output as _dstore_v1_SubscribeRequest__Output } from './dstore/v1/SubscribeRequest.ts';
import type { SubscribeResponse as _dstore_v1_SubscribeResponse, SubscribeResponse__Output as _dstore_v1_SubscribeResponse__Output } from './dstore/v1/SubscribeResponse.ts';
import type { TxnOp as _dstore_v1_TxnOp, TxnOp__Output as _dstore_v1_TxnOp__Output } from './dstore/v1/TxnOp.ts';
import type { TxnOpResult as _dstore_v1_TxnOpResult, TxnOpResult__Output as _dstore_v1_TxnOpResult__Output } from './dstore/v1/TxnOpResult.ts';
import type { TxnRequest as _dstore_v1_TxnRequest, TxnRequest__Output as _dstore_v1_TxnRequest__Output } from './dstore/v1/TxnRequest.ts';
import type { TxnResponse as _dstore_v1_TxnResponse, TxnResponse__Output as _dstore_v1_TxnResponse__Output } from './dstore/v1/TxnResponse.ts';
import type { ValueSource as _dstore_v1_ValueSource, ValueSource__Output as _dstore_v1_ValueSource__Output } from './dstore/v1/ValueSource.ts';
import type { WriteId as _dstore_v1_WriteId, WriteId__Output as _dstore_v1_WriteId__Output } from './dstore/v1/WriteId.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  dstore: {
    v1: {
      BlobChunk: MessageTypeDefinition<_dstore_v1_BlobChunk, _dstore_v1_BlobChunk__Output>
      ClientFrame: MessageTypeDefinition<_dstore_v1_ClientFrame, _dstore_v1_ClientFrame__Output>
      ClientRequest: MessageTypeDefinition<_dstore_v1_ClientRequest, _dstore_v1_ClientRequest__Output>
      Compare: MessageTypeDefinition<_dstore_v1_Compare, _dstore_v1_Compare__Output>
      DeleteRequest: MessageTypeDefinition<_dstore_v1_DeleteRequest, _dstore_v1_DeleteRequest__Output>
      DeleteResponse: MessageTypeDefinition<_dstore_v1_DeleteResponse, _dstore_v1_DeleteResponse__Output>
      ErrorDetail: MessageTypeDefinition<_dstore_v1_ErrorDetail, _dstore_v1_ErrorDetail__Output>
      Event: MessageTypeDefinition<_dstore_v1_Event, _dstore_v1_Event__Output>
      GetBlobRequest: MessageTypeDefinition<_dstore_v1_GetBlobRequest, _dstore_v1_GetBlobRequest__Output>
      GetBlobResponse: MessageTypeDefinition<_dstore_v1_GetBlobResponse, _dstore_v1_GetBlobResponse__Output>
      GetRequest: MessageTypeDefinition<_dstore_v1_GetRequest, _dstore_v1_GetRequest__Output>
      GetResponse: MessageTypeDefinition<_dstore_v1_GetResponse, _dstore_v1_GetResponse__Output>
      Global: SubtypeConstructor<typeof grpc.Client, _dstore_v1_GlobalClient> & { service: _dstore_v1_GlobalDefinition }
      HoldRequest: MessageTypeDefinition<_dstore_v1_HoldRequest, _dstore_v1_HoldRequest__Output>
      HoldResponse: MessageTypeDefinition<_dstore_v1_HoldResponse, _dstore_v1_HoldResponse__Output>
      KeyValue: MessageTypeDefinition<_dstore_v1_KeyValue, _dstore_v1_KeyValue__Output>
      ListValue: MessageTypeDefinition<_dstore_v1_ListValue, _dstore_v1_ListValue__Output>
      MapValue: MessageTypeDefinition<_dstore_v1_MapValue, _dstore_v1_MapValue__Output>
      MissingBlobsRequest: MessageTypeDefinition<_dstore_v1_MissingBlobsRequest, _dstore_v1_MissingBlobsRequest__Output>
      MissingBlobsResponse: MessageTypeDefinition<_dstore_v1_MissingBlobsResponse, _dstore_v1_MissingBlobsResponse__Output>
      NodeLocal: MessageTypeDefinition<_dstore_v1_NodeLocal, _dstore_v1_NodeLocal__Output>
      PutBlobRequest: MessageTypeDefinition<_dstore_v1_PutBlobRequest, _dstore_v1_PutBlobRequest__Output>
      PutBlobResponse: MessageTypeDefinition<_dstore_v1_PutBlobResponse, _dstore_v1_PutBlobResponse__Output>
      RangeRequest: MessageTypeDefinition<_dstore_v1_RangeRequest, _dstore_v1_RangeRequest__Output>
      RangeResponse: MessageTypeDefinition<_dstore_v1_RangeResponse, _dstore_v1_RangeResponse__Output>
      ReadConsistency: EnumTypeDefinition
      ResponseHeader: MessageTypeDefinition<_dstore_v1_ResponseHeader, _dstore_v1_ResponseHeader__Output>
      ServerFrame: MessageTypeDefinition<_dstore_v1_ServerFrame, _dstore_v1_ServerFrame__Output>
      ServerResponse: MessageTypeDefinition<_dstore_v1_ServerResponse, _dstore_v1_ServerResponse__Output>
      SetRequest: MessageTypeDefinition<_dstore_v1_SetRequest, _dstore_v1_SetRequest__Output>
      SetResponse: MessageTypeDefinition<_dstore_v1_SetResponse, _dstore_v1_SetResponse__Output>
      StatusRequest: MessageTypeDefinition<_dstore_v1_StatusRequest, _dstore_v1_StatusRequest__Output>
      StatusResponse: MessageTypeDefinition<_dstore_v1_StatusResponse, _dstore_v1_StatusResponse__Output>
      SubscribeRequest: MessageTypeDefinition<_dstore_v1_SubscribeRequest, _dstore_v1_SubscribeRequest__Output>
      SubscribeResponse: MessageTypeDefinition<_dstore_v1_SubscribeResponse, _dstore_v1_SubscribeResponse__Output>
      TxnOp: MessageTypeDefinition<_dstore_v1_TxnOp, _dstore_v1_TxnOp__Output>
      TxnOpResult: MessageTypeDefinition<_dstore_v1_TxnOpResult, _dstore_v1_TxnOpResult__Output>
      TxnRequest: MessageTypeDefinition<_dstore_v1_TxnRequest, _dstore_v1_TxnRequest__Output>
      TxnResponse: MessageTypeDefinition<_dstore_v1_TxnResponse, _dstore_v1_TxnResponse__Output>
      ValueSource: MessageTypeDefinition<_dstore_v1_ValueSource, _dstore_v1_ValueSource__Output>
      WriteId: MessageTypeDefinition<_dstore_v1_WriteId, _dstore_v1_WriteId__Output>
    }
  }
}

