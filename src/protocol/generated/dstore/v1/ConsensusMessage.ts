// Original file: src/protocol/proto/dstore/v1/replica.proto

import type { Prepare as _dstore_v1_Prepare, Prepare__Output as _dstore_v1_Prepare__Output } from '../../dstore/v1/Prepare.ts';
import type { Promise as _dstore_v1_Promise, Promise__Output as _dstore_v1_Promise__Output } from '../../dstore/v1/Promise.ts';
import type { Accept as _dstore_v1_Accept, Accept__Output as _dstore_v1_Accept__Output } from '../../dstore/v1/Accept.ts';
import type { Accepted as _dstore_v1_Accepted, Accepted__Output as _dstore_v1_Accepted__Output } from '../../dstore/v1/Accepted.ts';
import type { Reject as _dstore_v1_Reject, Reject__Output as _dstore_v1_Reject__Output } from '../../dstore/v1/Reject.ts';
import type { Heartbeat as _dstore_v1_Heartbeat, Heartbeat__Output as _dstore_v1_Heartbeat__Output } from '../../dstore/v1/Heartbeat.ts';
import type { HeartbeatReply as _dstore_v1_HeartbeatReply, HeartbeatReply__Output as _dstore_v1_HeartbeatReply__Output } from '../../dstore/v1/HeartbeatReply.ts';
import type { CatchUpRequest as _dstore_v1_CatchUpRequest, CatchUpRequest__Output as _dstore_v1_CatchUpRequest__Output } from '../../dstore/v1/CatchUpRequest.ts';
import type { CatchUpReply as _dstore_v1_CatchUpReply, CatchUpReply__Output as _dstore_v1_CatchUpReply__Output } from '../../dstore/v1/CatchUpReply.ts';

/**
 * One consensus message. `from` and `to` are replica ids. The kinds mirror
 * src/consensus/messages.ts one to one; see that file for the protocol.
 */
export interface ConsensusMessage {
  'from'?: (number);
  'to'?: (number);
  'prepare'?: (_dstore_v1_Prepare | null);
  'promise'?: (_dstore_v1_Promise | null);
  'accept'?: (_dstore_v1_Accept | null);
  'accepted'?: (_dstore_v1_Accepted | null);
  'reject'?: (_dstore_v1_Reject | null);
  'heartbeat'?: (_dstore_v1_Heartbeat | null);
  'heartbeatReply'?: (_dstore_v1_HeartbeatReply | null);
  'catchUpRequest'?: (_dstore_v1_CatchUpRequest | null);
  'catchUpReply'?: (_dstore_v1_CatchUpReply | null);
  'kind'?: "prepare"|"promise"|"accept"|"accepted"|"reject"|"heartbeat"|"heartbeatReply"|"catchUpRequest"|"catchUpReply";
}

/**
 * One consensus message. `from` and `to` are replica ids. The kinds mirror
 * src/consensus/messages.ts one to one; see that file for the protocol.
 */
export interface ConsensusMessage__Output {
  'from': (number);
  'to': (number);
  'prepare'?: (_dstore_v1_Prepare__Output | null);
  'promise'?: (_dstore_v1_Promise__Output | null);
  'accept'?: (_dstore_v1_Accept__Output | null);
  'accepted'?: (_dstore_v1_Accepted__Output | null);
  'reject'?: (_dstore_v1_Reject__Output | null);
  'heartbeat'?: (_dstore_v1_Heartbeat__Output | null);
  'heartbeatReply'?: (_dstore_v1_HeartbeatReply__Output | null);
  'catchUpRequest'?: (_dstore_v1_CatchUpRequest__Output | null);
  'catchUpReply'?: (_dstore_v1_CatchUpReply__Output | null);
  'kind'?: "prepare"|"promise"|"accept"|"accepted"|"reject"|"heartbeat"|"heartbeatReply"|"catchUpRequest"|"catchUpReply";
}
