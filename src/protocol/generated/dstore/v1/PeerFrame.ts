// Original file: src/protocol/proto/dstore/v1/replica.proto

import type { PeerHello as _dstore_v1_PeerHello, PeerHello__Output as _dstore_v1_PeerHello__Output } from '../../dstore/v1/PeerHello.ts';
import type { ConsensusMessage as _dstore_v1_ConsensusMessage, ConsensusMessage__Output as _dstore_v1_ConsensusMessage__Output } from '../../dstore/v1/ConsensusMessage.ts';
import type { ForwardedRequest as _dstore_v1_ForwardedRequest, ForwardedRequest__Output as _dstore_v1_ForwardedRequest__Output } from '../../dstore/v1/ForwardedRequest.ts';
import type { ServerResponse as _dstore_v1_ServerResponse, ServerResponse__Output as _dstore_v1_ServerResponse__Output } from '../../dstore/v1/ServerResponse.ts';

export interface PeerFrame {
  /**
   * Only in the first frame of each direction.
   */
  'hello'?: (_dstore_v1_PeerHello | null);
  /**
   * Messages from the stream's sender to its receiver, in send order.
   */
  'messages'?: (_dstore_v1_ConsensusMessage)[];
  /**
   * One consensus message too large for a frame (every frame must fit the receiver's
   * message limit), as consecutive pieces of the encoding of a PeerFrame that carries only
   * it; `fragment_last` marks the final piece. A frame with a fragment carries nothing else.
   */
  'fragment'?: (Buffer | Uint8Array | string);
  'fragmentLast'?: (boolean);
  /**
   * Client requests a follower forwards to the leader (caller to callee only; see
   * ForwardedRequest). A frame carrying them may carry messages too; one too large for a
   * frame travels as fragments like a consensus message.
   */
  'forwarded'?: (_dstore_v1_ForwardedRequest)[];
  /**
   * The leader's answers to `forwarded` requests, by their id (callee to caller only: on the
   * stream the follower opened, so the answer returns on the connection the request came on).
   */
  'forwardedReplies'?: (_dstore_v1_ServerResponse)[];
}

export interface PeerFrame__Output {
  /**
   * Only in the first frame of each direction.
   */
  'hello': (_dstore_v1_PeerHello__Output | null);
  /**
   * Messages from the stream's sender to its receiver, in send order.
   */
  'messages': (_dstore_v1_ConsensusMessage__Output)[];
  /**
   * One consensus message too large for a frame (every frame must fit the receiver's
   * message limit), as consecutive pieces of the encoding of a PeerFrame that carries only
   * it; `fragment_last` marks the final piece. A frame with a fragment carries nothing else.
   */
  'fragment': (Buffer);
  'fragmentLast': (boolean);
  /**
   * Client requests a follower forwards to the leader (caller to callee only; see
   * ForwardedRequest). A frame carrying them may carry messages too; one too large for a
   * frame travels as fragments like a consensus message.
   */
  'forwarded': (_dstore_v1_ForwardedRequest__Output)[];
  /**
   * The leader's answers to `forwarded` requests, by their id (callee to caller only: on the
   * stream the follower opened, so the answer returns on the connection the request came on).
   */
  'forwardedReplies': (_dstore_v1_ServerResponse__Output)[];
}
