// Original file: src/protocol/proto/dstore/v1/replica.proto

import type { ClientRequest as _dstore_v1_ClientRequest, ClientRequest__Output as _dstore_v1_ClientRequest__Output } from '../../dstore/v1/ClientRequest.ts';

/**
 * A request a client sent to a follower that only the leader serves (a write, a
 * linearizable read): the leader runs it exactly as if the client had sent it to it (same
 * WriteId, so a retry by the client, to any replica, still runs once) and answers with a
 * ServerResponse of the same id. The leader never forwards it again: if it no longer
 * leads it answers NOT_LEADER, and the follower tells its client UNAVAILABLE (not run).
 */
export interface ForwardedRequest {
  /**
   * `request.id` is chosen by the follower, unique among its requests in flight to this peer.
   */
  'request'?: (_dstore_v1_ClientRequest | null);
  /**
   * What is left of the client's deadline when the follower sent it, in ms (at least 1). The
   * follower stops waiting then and answers DEADLINE_EXCEEDED itself (outcome unknown for a
   * write); the leader runs the request all the same (a proposed write cannot be withdrawn),
   * and an answer that comes too late is dropped.
   */
  'timeoutMs'?: (number);
}

/**
 * A request a client sent to a follower that only the leader serves (a write, a
 * linearizable read): the leader runs it exactly as if the client had sent it to it (same
 * WriteId, so a retry by the client, to any replica, still runs once) and answers with a
 * ServerResponse of the same id. The leader never forwards it again: if it no longer
 * leads it answers NOT_LEADER, and the follower tells its client UNAVAILABLE (not run).
 */
export interface ForwardedRequest__Output {
  /**
   * `request.id` is chosen by the follower, unique among its requests in flight to this peer.
   */
  'request': (_dstore_v1_ClientRequest__Output | null);
  /**
   * What is left of the client's deadline when the follower sent it, in ms (at least 1). The
   * follower stops waiting then and answers DEADLINE_EXCEEDED itself (outcome unknown for a
   * write); the leader runs the request all the same (a proposed write cannot be withdrawn),
   * and an answer that comes too late is dropped.
   */
  'timeoutMs': (number);
}
