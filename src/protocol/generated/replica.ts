import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Accept as _dstore_v1_Accept, Accept__Output as _dstore_v1_Accept__Output } from './dstore/v1/Accept.ts';
import type { Accepted as _dstore_v1_Accepted, Accepted__Output as _dstore_v1_Accepted__Output } from './dstore/v1/Accepted.ts';
import type { Ballot as _dstore_v1_Ballot, Ballot__Output as _dstore_v1_Ballot__Output } from './dstore/v1/Ballot.ts';
import type { BlobChunk as _dstore_v1_BlobChunk, BlobChunk__Output as _dstore_v1_BlobChunk__Output } from './dstore/v1/BlobChunk.ts';
import type { CatchUp as _dstore_v1_CatchUp, CatchUp__Output as _dstore_v1_CatchUp__Output } from './dstore/v1/CatchUp.ts';
import type { CatchUpRequest as _dstore_v1_CatchUpRequest, CatchUpRequest__Output as _dstore_v1_CatchUpRequest__Output } from './dstore/v1/CatchUpRequest.ts';
import type { ClientFrame as _dstore_v1_ClientFrame, ClientFrame__Output as _dstore_v1_ClientFrame__Output } from './dstore/v1/ClientFrame.ts';
import type { ClientRequest as _dstore_v1_ClientRequest, ClientRequest__Output as _dstore_v1_ClientRequest__Output } from './dstore/v1/ClientRequest.ts';
import type { Command as _dstore_v1_Command, Command__Output as _dstore_v1_Command__Output } from './dstore/v1/Command.ts';
import type { Compare as _dstore_v1_Compare, Compare__Output as _dstore_v1_Compare__Output } from './dstore/v1/Compare.ts';
import type { ConsensusMessage as _dstore_v1_ConsensusMessage, ConsensusMessage__Output as _dstore_v1_ConsensusMessage__Output } from './dstore/v1/ConsensusMessage.ts';
import type { Decided as _dstore_v1_Decided, Decided__Output as _dstore_v1_Decided__Output } from './dstore/v1/Decided.ts';
import type { DeleteRequest as _dstore_v1_DeleteRequest, DeleteRequest__Output as _dstore_v1_DeleteRequest__Output } from './dstore/v1/DeleteRequest.ts';
import type { DeleteResponse as _dstore_v1_DeleteResponse, DeleteResponse__Output as _dstore_v1_DeleteResponse__Output } from './dstore/v1/DeleteResponse.ts';
import type { ErrorDetail as _dstore_v1_ErrorDetail, ErrorDetail__Output as _dstore_v1_ErrorDetail__Output } from './dstore/v1/ErrorDetail.ts';
import type { Event as _dstore_v1_Event, Event__Output as _dstore_v1_Event__Output } from './dstore/v1/Event.ts';
import type { FetchBlobRequest as _dstore_v1_FetchBlobRequest, FetchBlobRequest__Output as _dstore_v1_FetchBlobRequest__Output } from './dstore/v1/FetchBlobRequest.ts';
import type { FetchSnapshotRequest as _dstore_v1_FetchSnapshotRequest, FetchSnapshotRequest__Output as _dstore_v1_FetchSnapshotRequest__Output } from './dstore/v1/FetchSnapshotRequest.ts';
import type { ForwardedRequest as _dstore_v1_ForwardedRequest, ForwardedRequest__Output as _dstore_v1_ForwardedRequest__Output } from './dstore/v1/ForwardedRequest.ts';
import type { GetBlobRequest as _dstore_v1_GetBlobRequest, GetBlobRequest__Output as _dstore_v1_GetBlobRequest__Output } from './dstore/v1/GetBlobRequest.ts';
import type { GetBlobResponse as _dstore_v1_GetBlobResponse, GetBlobResponse__Output as _dstore_v1_GetBlobResponse__Output } from './dstore/v1/GetBlobResponse.ts';
import type { GetRequest as _dstore_v1_GetRequest, GetRequest__Output as _dstore_v1_GetRequest__Output } from './dstore/v1/GetRequest.ts';
import type { GetResponse as _dstore_v1_GetResponse, GetResponse__Output as _dstore_v1_GetResponse__Output } from './dstore/v1/GetResponse.ts';
import type { GlobalClient as _dstore_v1_GlobalClient, GlobalDefinition as _dstore_v1_GlobalDefinition } from './dstore/v1/Global.ts';
import type { Heartbeat as _dstore_v1_Heartbeat, Heartbeat__Output as _dstore_v1_Heartbeat__Output } from './dstore/v1/Heartbeat.ts';
import type { HeartbeatReply as _dstore_v1_HeartbeatReply, HeartbeatReply__Output as _dstore_v1_HeartbeatReply__Output } from './dstore/v1/HeartbeatReply.ts';
import type { HoldRequest as _dstore_v1_HoldRequest, HoldRequest__Output as _dstore_v1_HoldRequest__Output } from './dstore/v1/HoldRequest.ts';
import type { HoldResponse as _dstore_v1_HoldResponse, HoldResponse__Output as _dstore_v1_HoldResponse__Output } from './dstore/v1/HoldResponse.ts';
import type { KeyValue as _dstore_v1_KeyValue, KeyValue__Output as _dstore_v1_KeyValue__Output } from './dstore/v1/KeyValue.ts';
import type { ListValue as _dstore_v1_ListValue, ListValue__Output as _dstore_v1_ListValue__Output } from './dstore/v1/ListValue.ts';
import type { LogEntry as _dstore_v1_LogEntry, LogEntry__Output as _dstore_v1_LogEntry__Output } from './dstore/v1/LogEntry.ts';
import type { MapValue as _dstore_v1_MapValue, MapValue__Output as _dstore_v1_MapValue__Output } from './dstore/v1/MapValue.ts';
import type { MissingBlobsRequest as _dstore_v1_MissingBlobsRequest, MissingBlobsRequest__Output as _dstore_v1_MissingBlobsRequest__Output } from './dstore/v1/MissingBlobsRequest.ts';
import type { MissingBlobsResponse as _dstore_v1_MissingBlobsResponse, MissingBlobsResponse__Output as _dstore_v1_MissingBlobsResponse__Output } from './dstore/v1/MissingBlobsResponse.ts';
import type { Nack as _dstore_v1_Nack, Nack__Output as _dstore_v1_Nack__Output } from './dstore/v1/Nack.ts';
import type { NodeLocal as _dstore_v1_NodeLocal, NodeLocal__Output as _dstore_v1_NodeLocal__Output } from './dstore/v1/NodeLocal.ts';
import type { PeerFrame as _dstore_v1_PeerFrame, PeerFrame__Output as _dstore_v1_PeerFrame__Output } from './dstore/v1/PeerFrame.ts';
import type { PeerHello as _dstore_v1_PeerHello, PeerHello__Output as _dstore_v1_PeerHello__Output } from './dstore/v1/PeerHello.ts';
import type { PreVote as _dstore_v1_PreVote, PreVote__Output as _dstore_v1_PreVote__Output } from './dstore/v1/PreVote.ts';
import type { PreVoteReply as _dstore_v1_PreVoteReply, PreVoteReply__Output as _dstore_v1_PreVoteReply__Output } from './dstore/v1/PreVoteReply.ts';
import type { Prepare as _dstore_v1_Prepare, Prepare__Output as _dstore_v1_Prepare__Output } from './dstore/v1/Prepare.ts';
import type { Promise as _dstore_v1_Promise, Promise__Output as _dstore_v1_Promise__Output } from './dstore/v1/Promise.ts';
import type { PutBlobRequest as _dstore_v1_PutBlobRequest, PutBlobRequest__Output as _dstore_v1_PutBlobRequest__Output } from './dstore/v1/PutBlobRequest.ts';
import type { PutBlobResponse as _dstore_v1_PutBlobResponse, PutBlobResponse__Output as _dstore_v1_PutBlobResponse__Output } from './dstore/v1/PutBlobResponse.ts';
import type { RangeRequest as _dstore_v1_RangeRequest, RangeRequest__Output as _dstore_v1_RangeRequest__Output } from './dstore/v1/RangeRequest.ts';
import type { RangeResponse as _dstore_v1_RangeResponse, RangeResponse__Output as _dstore_v1_RangeResponse__Output } from './dstore/v1/RangeResponse.ts';
import type { RecoveryQuery as _dstore_v1_RecoveryQuery, RecoveryQuery__Output as _dstore_v1_RecoveryQuery__Output } from './dstore/v1/RecoveryQuery.ts';
import type { RecoveryReply as _dstore_v1_RecoveryReply, RecoveryReply__Output as _dstore_v1_RecoveryReply__Output } from './dstore/v1/RecoveryReply.ts';
import type { ReplicaClient as _dstore_v1_ReplicaClient, ReplicaDefinition as _dstore_v1_ReplicaDefinition } from './dstore/v1/Replica.ts';
import type { ResponseHeader as _dstore_v1_ResponseHeader, ResponseHeader__Output as _dstore_v1_ResponseHeader__Output } from './dstore/v1/ResponseHeader.ts';
import type { SeenStamp as _dstore_v1_SeenStamp, SeenStamp__Output as _dstore_v1_SeenStamp__Output } from './dstore/v1/SeenStamp.ts';
import type { ServerFrame as _dstore_v1_ServerFrame, ServerFrame__Output as _dstore_v1_ServerFrame__Output } from './dstore/v1/ServerFrame.ts';
import type { ServerResponse as _dstore_v1_ServerResponse, ServerResponse__Output as _dstore_v1_ServerResponse__Output } from './dstore/v1/ServerResponse.ts';
import type { SetRequest as _dstore_v1_SetRequest, SetRequest__Output as _dstore_v1_SetRequest__Output } from './dstore/v1/SetRequest.ts';
import type { SetResponse as _dstore_v1_SetResponse, SetResponse__Output as _dstore_v1_SetResponse__Output } from './dstore/v1/SetResponse.ts';
import type { SnapshotChunk as _dstore_v1_SnapshotChunk, SnapshotChunk__Output as _dstore_v1_SnapshotChunk__Output } from './dstore/v1/SnapshotChunk.ts';
import type { SnapshotNeeded as _dstore_v1_SnapshotNeeded, SnapshotNeeded__Output as _dstore_v1_SnapshotNeeded__Output } from './dstore/v1/SnapshotNeeded.ts';
import type { StampCheck as _dstore_v1_StampCheck, StampCheck__Output as _dstore_v1_StampCheck__Output } from './dstore/v1/StampCheck.ts';
import type { StampCheckReply as _dstore_v1_StampCheckReply, StampCheckReply__Output as _dstore_v1_StampCheckReply__Output } from './dstore/v1/StampCheckReply.ts';
import type { StatusRequest as _dstore_v1_StatusRequest, StatusRequest__Output as _dstore_v1_StatusRequest__Output } from './dstore/v1/StatusRequest.ts';
import type { StatusResponse as _dstore_v1_StatusResponse, StatusResponse__Output as _dstore_v1_StatusResponse__Output } from './dstore/v1/StatusResponse.ts';
import type { SubscribeRequest as _dstore_v1_SubscribeRequest, SubscribeRequest__Output as _dstore_v1_SubscribeRequest__Output } from './dstore/v1/SubscribeRequest.ts';
import type { SubscribeResponse as _dstore_v1_SubscribeResponse, SubscribeResponse__Output as _dstore_v1_SubscribeResponse__Output } from './dstore/v1/SubscribeResponse.ts';
import type { TxnOp as _dstore_v1_TxnOp, TxnOp__Output as _dstore_v1_TxnOp__Output } from './dstore/v1/TxnOp.ts';
import type { TxnOpResult as _dstore_v1_TxnOpResult, TxnOpResult__Output as _dstore_v1_TxnOpResult__Output } from './dstore/v1/TxnOpResult.ts';
import type { TxnRequest as _dstore_v1_TxnRequest, TxnRequest__Output as _dstore_v1_TxnRequest__Output } from './dstore/v1/TxnRequest.ts';
import type { TxnResponse as _dstore_v1_TxnResponse, TxnResponse__Output as _dstore_v1_TxnResponse__Output } from './dstore/v1/TxnResponse.ts';
import type { Value as _dstore_v1_Value, Value__Output as _dstore_v1_Value__Output } from './dstore/v1/Value.ts';
import type { ValueSource as _dstore_v1_ValueSource, ValueSource__Output as _dstore_v1_ValueSource__Output } from './dstore/v1/ValueSource.ts';
import type { VoteStamp as _dstore_v1_VoteStamp, VoteStamp__Output as _dstore_v1_VoteStamp__Output } from './dstore/v1/VoteStamp.ts';
import type { WriteId as _dstore_v1_WriteId, WriteId__Output as _dstore_v1_WriteId__Output } from './dstore/v1/WriteId.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  dstore: {
    v1: {
      Accept: MessageTypeDefinition<_dstore_v1_Accept, _dstore_v1_Accept__Output>
      Accepted: MessageTypeDefinition<_dstore_v1_Accepted, _dstore_v1_Accepted__Output>
      Ballot: MessageTypeDefinition<_dstore_v1_Ballot, _dstore_v1_Ballot__Output>
      BlobChunk: MessageTypeDefinition<_dstore_v1_BlobChunk, _dstore_v1_BlobChunk__Output>
      CatchUp: MessageTypeDefinition<_dstore_v1_CatchUp, _dstore_v1_CatchUp__Output>
      CatchUpRequest: MessageTypeDefinition<_dstore_v1_CatchUpRequest, _dstore_v1_CatchUpRequest__Output>
      ClientFrame: MessageTypeDefinition<_dstore_v1_ClientFrame, _dstore_v1_ClientFrame__Output>
      ClientRequest: MessageTypeDefinition<_dstore_v1_ClientRequest, _dstore_v1_ClientRequest__Output>
      Command: MessageTypeDefinition<_dstore_v1_Command, _dstore_v1_Command__Output>
      Compare: MessageTypeDefinition<_dstore_v1_Compare, _dstore_v1_Compare__Output>
      ConsensusMessage: MessageTypeDefinition<_dstore_v1_ConsensusMessage, _dstore_v1_ConsensusMessage__Output>
      Decided: MessageTypeDefinition<_dstore_v1_Decided, _dstore_v1_Decided__Output>
      DeleteRequest: MessageTypeDefinition<_dstore_v1_DeleteRequest, _dstore_v1_DeleteRequest__Output>
      DeleteResponse: MessageTypeDefinition<_dstore_v1_DeleteResponse, _dstore_v1_DeleteResponse__Output>
      ErrorDetail: MessageTypeDefinition<_dstore_v1_ErrorDetail, _dstore_v1_ErrorDetail__Output>
      Event: MessageTypeDefinition<_dstore_v1_Event, _dstore_v1_Event__Output>
      FetchBlobRequest: MessageTypeDefinition<_dstore_v1_FetchBlobRequest, _dstore_v1_FetchBlobRequest__Output>
      FetchSnapshotRequest: MessageTypeDefinition<_dstore_v1_FetchSnapshotRequest, _dstore_v1_FetchSnapshotRequest__Output>
      ForwardedRequest: MessageTypeDefinition<_dstore_v1_ForwardedRequest, _dstore_v1_ForwardedRequest__Output>
      GetBlobRequest: MessageTypeDefinition<_dstore_v1_GetBlobRequest, _dstore_v1_GetBlobRequest__Output>
      GetBlobResponse: MessageTypeDefinition<_dstore_v1_GetBlobResponse, _dstore_v1_GetBlobResponse__Output>
      GetRequest: MessageTypeDefinition<_dstore_v1_GetRequest, _dstore_v1_GetRequest__Output>
      GetResponse: MessageTypeDefinition<_dstore_v1_GetResponse, _dstore_v1_GetResponse__Output>
      Global: SubtypeConstructor<typeof grpc.Client, _dstore_v1_GlobalClient> & { service: _dstore_v1_GlobalDefinition }
      Heartbeat: MessageTypeDefinition<_dstore_v1_Heartbeat, _dstore_v1_Heartbeat__Output>
      HeartbeatReply: MessageTypeDefinition<_dstore_v1_HeartbeatReply, _dstore_v1_HeartbeatReply__Output>
      HoldRequest: MessageTypeDefinition<_dstore_v1_HoldRequest, _dstore_v1_HoldRequest__Output>
      HoldResponse: MessageTypeDefinition<_dstore_v1_HoldResponse, _dstore_v1_HoldResponse__Output>
      KeyValue: MessageTypeDefinition<_dstore_v1_KeyValue, _dstore_v1_KeyValue__Output>
      ListValue: MessageTypeDefinition<_dstore_v1_ListValue, _dstore_v1_ListValue__Output>
      LogEntry: MessageTypeDefinition<_dstore_v1_LogEntry, _dstore_v1_LogEntry__Output>
      MapValue: MessageTypeDefinition<_dstore_v1_MapValue, _dstore_v1_MapValue__Output>
      MissingBlobsRequest: MessageTypeDefinition<_dstore_v1_MissingBlobsRequest, _dstore_v1_MissingBlobsRequest__Output>
      MissingBlobsResponse: MessageTypeDefinition<_dstore_v1_MissingBlobsResponse, _dstore_v1_MissingBlobsResponse__Output>
      Nack: MessageTypeDefinition<_dstore_v1_Nack, _dstore_v1_Nack__Output>
      NodeLocal: MessageTypeDefinition<_dstore_v1_NodeLocal, _dstore_v1_NodeLocal__Output>
      PeerFrame: MessageTypeDefinition<_dstore_v1_PeerFrame, _dstore_v1_PeerFrame__Output>
      PeerHello: MessageTypeDefinition<_dstore_v1_PeerHello, _dstore_v1_PeerHello__Output>
      PreVote: MessageTypeDefinition<_dstore_v1_PreVote, _dstore_v1_PreVote__Output>
      PreVoteReply: MessageTypeDefinition<_dstore_v1_PreVoteReply, _dstore_v1_PreVoteReply__Output>
      Prepare: MessageTypeDefinition<_dstore_v1_Prepare, _dstore_v1_Prepare__Output>
      Promise: MessageTypeDefinition<_dstore_v1_Promise, _dstore_v1_Promise__Output>
      PutBlobRequest: MessageTypeDefinition<_dstore_v1_PutBlobRequest, _dstore_v1_PutBlobRequest__Output>
      PutBlobResponse: MessageTypeDefinition<_dstore_v1_PutBlobResponse, _dstore_v1_PutBlobResponse__Output>
      RangeRequest: MessageTypeDefinition<_dstore_v1_RangeRequest, _dstore_v1_RangeRequest__Output>
      RangeResponse: MessageTypeDefinition<_dstore_v1_RangeResponse, _dstore_v1_RangeResponse__Output>
      ReadConsistency: EnumTypeDefinition
      RecoveryQuery: MessageTypeDefinition<_dstore_v1_RecoveryQuery, _dstore_v1_RecoveryQuery__Output>
      RecoveryReply: MessageTypeDefinition<_dstore_v1_RecoveryReply, _dstore_v1_RecoveryReply__Output>
      Replica: SubtypeConstructor<typeof grpc.Client, _dstore_v1_ReplicaClient> & { service: _dstore_v1_ReplicaDefinition }
      ResponseHeader: MessageTypeDefinition<_dstore_v1_ResponseHeader, _dstore_v1_ResponseHeader__Output>
      SeenStamp: MessageTypeDefinition<_dstore_v1_SeenStamp, _dstore_v1_SeenStamp__Output>
      ServerFrame: MessageTypeDefinition<_dstore_v1_ServerFrame, _dstore_v1_ServerFrame__Output>
      ServerResponse: MessageTypeDefinition<_dstore_v1_ServerResponse, _dstore_v1_ServerResponse__Output>
      SetRequest: MessageTypeDefinition<_dstore_v1_SetRequest, _dstore_v1_SetRequest__Output>
      SetResponse: MessageTypeDefinition<_dstore_v1_SetResponse, _dstore_v1_SetResponse__Output>
      SnapshotChunk: MessageTypeDefinition<_dstore_v1_SnapshotChunk, _dstore_v1_SnapshotChunk__Output>
      SnapshotNeeded: MessageTypeDefinition<_dstore_v1_SnapshotNeeded, _dstore_v1_SnapshotNeeded__Output>
      StampCheck: MessageTypeDefinition<_dstore_v1_StampCheck, _dstore_v1_StampCheck__Output>
      StampCheckReply: MessageTypeDefinition<_dstore_v1_StampCheckReply, _dstore_v1_StampCheckReply__Output>
      StatusRequest: MessageTypeDefinition<_dstore_v1_StatusRequest, _dstore_v1_StatusRequest__Output>
      StatusResponse: MessageTypeDefinition<_dstore_v1_StatusResponse, _dstore_v1_StatusResponse__Output>
      SubscribeRequest: MessageTypeDefinition<_dstore_v1_SubscribeRequest, _dstore_v1_SubscribeRequest__Output>
      SubscribeResponse: MessageTypeDefinition<_dstore_v1_SubscribeResponse, _dstore_v1_SubscribeResponse__Output>
      TxnOp: MessageTypeDefinition<_dstore_v1_TxnOp, _dstore_v1_TxnOp__Output>
      TxnOpResult: MessageTypeDefinition<_dstore_v1_TxnOpResult, _dstore_v1_TxnOpResult__Output>
      TxnRequest: MessageTypeDefinition<_dstore_v1_TxnRequest, _dstore_v1_TxnRequest__Output>
      TxnResponse: MessageTypeDefinition<_dstore_v1_TxnResponse, _dstore_v1_TxnResponse__Output>
      Value: MessageTypeDefinition<_dstore_v1_Value, _dstore_v1_Value__Output>
      ValueSource: MessageTypeDefinition<_dstore_v1_ValueSource, _dstore_v1_ValueSource__Output>
      VoteStamp: MessageTypeDefinition<_dstore_v1_VoteStamp, _dstore_v1_VoteStamp__Output>
      WriteId: MessageTypeDefinition<_dstore_v1_WriteId, _dstore_v1_WriteId__Output>
    }
  }
}

