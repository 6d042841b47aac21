// Original file: src/protocol/proto/dstore/v1/replica.proto

import type { PreVote as _dstore_v1_PreVote, PreVote__Output as _dstore_v1_PreVote__Output } from '../../dstore/v1/PreVote.ts';
import type { PreVoteReply as _dstore_v1_PreVoteReply, PreVoteReply__Output as _dstore_v1_PreVoteReply__Output } from '../../dstore/v1/PreVoteReply.ts';
import type { Prepare as _dstore_v1_Prepare, Prepare__Output as _dstore_v1_Prepare__Output } from '../../dstore/v1/Prepare.ts';
import type { Promise as _dstore_v1_Promise, Promise__Output as _dstore_v1_Promise__Output } from '../../dstore/v1/Promise.ts';
import type { Accept as _dstore_v1_Accept, Accept__Output as _dstore_v1_Accept__Output } from '../../dstore/v1/Accept.ts';
import type { Accepted as _dstore_v1_Accepted, Accepted__Output as _dstore_v1_Accepted__Output } from '../../dstore/v1/Accepted.ts';
import type { Nack as _dstore_v1_Nack, Nack__Output as _dstore_v1_Nack__Output } from '../../dstore/v1/Nack.ts';
import type { Heartbeat as _dstore_v1_Heartbeat, Heartbeat__Output as _dstore_v1_Heartbeat__Output } from '../../dstore/v1/Heartbeat.ts';
import type { HeartbeatReply as _dstore_v1_HeartbeatReply, HeartbeatReply__Output as _dstore_v1_HeartbeatReply__Output } from '../../dstore/v1/HeartbeatReply.ts';
import type { Decided as _dstore_v1_Decided, Decided__Output as _dstore_v1_Decided__Output } from '../../dstore/v1/Decided.ts';
import type { CatchUpRequest as _dstore_v1_CatchUpRequest, CatchUpRequest__Output as _dstore_v1_CatchUpRequest__Output } from '../../dstore/v1/CatchUpRequest.ts';
import type { CatchUp as _dstore_v1_CatchUp, CatchUp__Output as _dstore_v1_CatchUp__Output } from '../../dstore/v1/CatchUp.ts';
import type { SnapshotNeeded as _dstore_v1_SnapshotNeeded, SnapshotNeeded__Output as _dstore_v1_SnapshotNeeded__Output } from '../../dstore/v1/SnapshotNeeded.ts';
import type { RecoveryQuery as _dstore_v1_RecoveryQuery, RecoveryQuery__Output as _dstore_v1_RecoveryQuery__Output } from '../../dstore/v1/RecoveryQuery.ts';
import type { RecoveryReply as _dstore_v1_RecoveryReply, RecoveryReply__Output as _dstore_v1_RecoveryReply__Output } from '../../dstore/v1/RecoveryReply.ts';
import type { StampCheck as _dstore_v1_StampCheck, StampCheck__Output as _dstore_v1_StampCheck__Output } from '../../dstore/v1/StampCheck.ts';
import type { StampCheckReply as _dstore_v1_StampCheckReply, StampCheckReply__Output as _dstore_v1_StampCheckReply__Output } from '../../dstore/v1/StampCheckReply.ts';

/**
 * One consensus message. `from` and `to` are replica ids. The kinds mirror
 * src/consensus/messages.ts one to one; docs/consensus.md explains the protocol:
 * campaign:  PreVote -> PreVoteReply, then Prepare -> Promise (phase 1 for every
 * instance from the candidate's first undecided one)
 * proposal:  Accept (a range of instances) -> Accepted (phase 2)
 * learning:  decided_through rides on Accept, Heartbeat and Decided; a lagging replica
 * pulls values with CatchUpRequest -> CatchUp, or learns it needs a snapshot
 * liveness:  Heartbeat -> HeartbeatReply (also lease renewal and read-index rounds);
 * Nack tells a proposer it was refused and why
 * recovery:  a replica that started without stable state asks every peer
 * RecoveryQuery -> RecoveryReply before it votes again
 * restart:   a replica restarted on its stable state asks every peer
 * StampCheck -> StampCheckReply and votes once a majority confirmed it
 */
export interface ConsensusMessage {
  'from'?: (number);
  'to'?: (number);
  'preVote'?: (_dstore_v1_PreVote | null);
  'preVoteReply'?: (_dstore_v1_PreVoteReply | null);
  'prepare'?: (_dstore_v1_Prepare | null);
  'promise'?: (_dstore_v1_Promise | null);
  'accept'?: (_dstore_v1_Accept | null);
  'accepted'?: (_dstore_v1_Accepted | null);
  'nack'?: (_dstore_v1_Nack | null);
  'heartbeat'?: (_dstore_v1_Heartbeat | null);
  'heartbeatReply'?: (_dstore_v1_HeartbeatReply | null);
  'decided'?: (_dstore_v1_Decided | null);
  'catchUpRequest'?: (_dstore_v1_CatchUpRequest | null);
  'catchUp'?: (_dstore_v1_CatchUp | null);
  'snapshotNeeded'?: (_dstore_v1_SnapshotNeeded | null);
  'recoveryQuery'?: (_dstore_v1_RecoveryQuery | null);
  'recoveryReply'?: (_dstore_v1_RecoveryReply | null);
  'stampCheck'?: (_dstore_v1_StampCheck | null);
  'stampCheckReply'?: (_dstore_v1_StampCheckReply | null);
  'kind'?: "preVote"|"preVoteReply"|"prepare"|"promise"|"accept"|"accepted"|"nack"|"heartbeat"|"heartbeatReply"|"decided"|"catchUpRequest"|"catchUp"|"snapshotNeeded"|"recoveryQuery"|"recoveryReply"|"stampCheck"|"stampCheckReply";
}

/**
 * One consensus message. `from` and `to` are replica ids. The kinds mirror
 * src/consensus/messages.ts one to one; docs/consensus.md explains the protocol:
 * campaign:  PreVote -> PreVoteReply, then Prepare -> Promise (phase 1 for every
 * instance from the candidate's first undecided one)
 * proposal:  Accept (a range of instances) -> Accepted (phase 2)
 * learning:  decided_through rides on Accept, Heartbeat and Decided; a lagging replica
 * pulls values with CatchUpRequest -> CatchUp, or learns it needs a snapshot
 * liveness:  Heartbeat -> HeartbeatReply (also lease renewal and read-index rounds);
 * Nack tells a proposer it was refused and why
 * recovery:  a replica that started without stable state asks every peer
 * RecoveryQuery -> RecoveryReply before it votes again
 * restart:   a replica restarted on its stable state asks every peer
 * StampCheck -> StampCheckReply and votes once a majority confirmed it
 */
export interface ConsensusMessage__Output {
  'from': (number);
  'to': (number);
  'preVote'?: (_dstore_v1_PreVote__Output | null);
  'preVoteReply'?: (_dstore_v1_PreVoteReply__Output | null);
  'prepare'?: (_dstore_v1_Prepare__Output | null);
  'promise'?: (_dstore_v1_Promise__Output | null);
  'accept'?: (_dstore_v1_Accept__Output | null);
  'accepted'?: (_dstore_v1_Accepted__Output | null);
  'nack'?: (_dstore_v1_Nack__Output | null);
  'heartbeat'?: (_dstore_v1_Heartbeat__Output | null);
  'heartbeatReply'?: (_dstore_v1_HeartbeatReply__Output | null);
  'decided'?: (_dstore_v1_Decided__Output | null);
  'catchUpRequest'?: (_dstore_v1_CatchUpRequest__Output | null);
  'catchUp'?: (_dstore_v1_CatchUp__Output | null);
  'snapshotNeeded'?: (_dstore_v1_SnapshotNeeded__Output | null);
  'recoveryQuery'?: (_dstore_v1_RecoveryQuery__Output | null);
  'recoveryReply'?: (_dstore_v1_RecoveryReply__Output | null);
  'stampCheck'?: (_dstore_v1_StampCheck__Output | null);
  'stampCheckReply'?: (_dstore_v1_StampCheckReply__Output | null);
  'kind'?: "preVote"|"preVoteReply"|"prepare"|"promise"|"accept"|"accepted"|"nack"|"heartbeat"|"heartbeatReply"|"decided"|"catchUpRequest"|"catchUp"|"snapshotNeeded"|"recoveryQuery"|"recoveryReply"|"stampCheck"|"stampCheckReply";
}
