import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Accept as _dstore_v1_Accept, Accept__Output as _dstore_v1_Accept__Output } from './dstore/v1/Accept.ts';
import type { Accepted as _dstore_v1_Accepted, Accepted__Output as _dstore_v1_Accepted__Output } from './dstore/v1/Accepted.ts';
import type { Ballot as _dstore_v1_Ballot, Ballot__Output as _dstore_v1_Ballot__Output } from './dstore/v1/Ballot.ts';
import type { BlobChunk as _dstore_v1_BlobChunk, BlobChunk__Output as _dstore_v1_BlobChunk__Output } from './dstore/v1/BlobChunk.ts';
import type { CatchUpReply as _dstore_v1_CatchUpReply, CatchUpReply__Output as _dstore_v1_CatchUpReply__Output } from './dstore/v1/CatchUpReply.ts';
import type { CatchUpRequest as _dstore_v1_CatchUpRequest, CatchUpRequest__Output as _dstore_v1_CatchUpRequest__Output } from './dstore/v1/CatchUpRequest.ts';
import type { ConsensusMessage as _dstore_v1_ConsensusMessage, ConsensusMessage__Output as _dstore_v1_ConsensusMessage__Output } from './dstore/v1/ConsensusMessage.ts';
import type { ErrorDetail as _dstore_v1_ErrorDetail, ErrorDetail__Output as _dstore_v1_ErrorDetail__Output } from './dstore/v1/ErrorDetail.ts';
import type { FetchBlobRequest as _dstore_v1_FetchBlobRequest, FetchBlobRequest__Output as _dstore_v1_FetchBlobRequest__Output } from './dstore/v1/FetchBlobRequest.ts';
import type { FetchSnapshotRequest as _dstore_v1_FetchSnapshotRequest, FetchSnapshotRequest__Output as _dstore_v1_FetchSnapshotRequest__Output } from './dstore/v1/FetchSnapshotRequest.ts';
import type { Heartbeat as _dstore_v1_Heartbeat, Heartbeat__Output as _dstore_v1_Heartbeat__Output } from './dstore/v1/Heartbeat.ts';
import type { HeartbeatReply as _dstore_v1_HeartbeatReply, HeartbeatReply__Output as _dstore_v1_HeartbeatReply__Output } from './dstore/v1/HeartbeatReply.ts';
import type { KeyValue as _dstore_v1_KeyValue, KeyValue__Output as _dstore_v1_KeyValue__Output } from './dstore/v1/KeyValue.ts';
import type { LogEntry as _dstore_v1_LogEntry, LogEntry__Output as _dstore_v1_LogEntry__Output } from './dstore/v1/LogEntry.ts';
import type { PeerFrame as _dstore_v1_PeerFrame, PeerFrame__Output as _dstore_v1_PeerFrame__Output } from './dstore/v1/PeerFrame.ts';
import type { PeerHello as _dstore_v1_PeerHello, PeerHello__Output as _dstore_v1_PeerHello__Output } from './dstore/v1/PeerHello.ts';
import type { Prepare as _dstore_v1_Prepare, Prepare__Output as _dstore_v1_Prepare__Output } from './dstore/v1/Prepare.ts';
import type { Promise as _dstore_v1_Promise, Promise__Output as _dstore_v1_Promise__Output } from './dstore/v1/Promise.ts';
import type { PutBlobRequest as _dstore_v1_PutBlobRequest, PutBlobRequest__Output as _dstore_v1_PutBlobRequest__Output } from './dstore/v1/PutBlobRequest.ts';
import type { PutBlobResponse as _dstore_v1_PutBlobResponse, PutBlobResponse__Output as _dstore_v1_PutBlobResponse__Output } from './dstore/v1/PutBlobResponse.ts';
import type { Reject as _dstore_v1_Reject, Reject__Output as _dstore_v1_Reject__Output } from './dstore/v1/Reject.ts';
import type { ReplicaClient as _dstore_v1_ReplicaClient, ReplicaDefinition as _dstore_v1_ReplicaDefinition } from './dstore/v1/Replica.ts';
import type { ResponseHeader as _dstore_v1_ResponseHeader, ResponseHeader__Output as _dstore_v1_ResponseHeader__Output } from './dstore/v1/ResponseHeader.ts';
import type { SnapshotChunk as _dstore_v1_SnapshotChunk, SnapshotChunk__Output as _dstore_v1_SnapshotChunk__Output } from './dstore/v1/SnapshotChunk.ts';
import type { Value as _dstore_v1_Value, Value__Output as _dstore_v1_Value__Output } from './dstore/v1/Value.ts';
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
      CatchUpReply: MessageTypeDefinition<_dstore_v1_CatchUpReply, _dstore_v1_CatchUpReply__Output>
      CatchUpRequest: MessageTypeDefinition<_dstore_v1_CatchUpRequest, _dstore_v1_CatchUpRequest__Output>
      ConsensusMessage: MessageTypeDefinition<_dstore_v1_ConsensusMessage, _dstore_v1_ConsensusMessage__Output>
      ErrorDetail: MessageTypeDefinition<_dstore_v1_ErrorDetail, _dstore_v1_ErrorDetail__Output>
      FetchBlobRequest: MessageTypeDefinition<_dstore_v1_FetchBlobRequest, _dstore_v1_FetchBlobRequest__Output>
      FetchSnapshotRequest: MessageTypeDefinition<_dstore_v1_FetchSnapshotRequest, _dstore_v1_FetchSnapshotRequest__Output>
      Heartbeat: MessageTypeDefinition<_dstore_v1_Heartbeat, _dstore_v1_Heartbeat__Output>
      HeartbeatReply: MessageTypeDefinition<_dstore_v1_HeartbeatReply, _dstore_v1_HeartbeatReply__Output>
      KeyValue: MessageTypeDefinition<_dstore_v1_KeyValue, _dstore_v1_KeyValue__Output>
      LogEntry: MessageTypeDefinition<_dstore_v1_LogEntry, _dstore_v1_LogEntry__Output>
      PeerFrame: MessageTypeDefinition<_dstore_v1_PeerFrame, _dstore_v1_PeerFrame__Output>
      PeerHello: MessageTypeDefinition<_dstore_v1_PeerHello, _dstore_v1_PeerHello__Output>
      Prepare: MessageTypeDefinition<_dstore_v1_Prepare, _dstore_v1_Prepare__Output>
      Promise: MessageTypeDefinition<_dstore_v1_Promise, _dstore_v1_Promise__Output>
      PutBlobRequest: MessageTypeDefinition<_dstore_v1_PutBlobRequest, _dstore_v1_PutBlobRequest__Output>
      PutBlobResponse: MessageTypeDefinition<_dstore_v1_PutBlobResponse, _dstore_v1_PutBlobResponse__Output>
      ReadConsistency: EnumTypeDefinition
      Reject: MessageTypeDefinition<_dstore_v1_Reject, _dstore_v1_Reject__Output>
      Replica: SubtypeConstructor<typeof grpc.Client, _dstore_v1_ReplicaClient> & { service: _dstore_v1_ReplicaDefinition }
      ResponseHeader: MessageTypeDefinition<_dstore_v1_ResponseHeader, _dstore_v1_ResponseHeader__Output>
      SnapshotChunk: MessageTypeDefinition<_dstore_v1_SnapshotChunk, _dstore_v1_SnapshotChunk__Output>
      Value: MessageTypeDefinition<_dstore_v1_Value, _dstore_v1_Value__Output>
      WriteId: MessageTypeDefinition<_dstore_v1_WriteId, _dstore_v1_WriteId__Output>
    }
  }
}

