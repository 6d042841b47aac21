// Original file: src/protocol/proto/dstore/v1/replica.proto

import type { PeerHello as _dstore_v1_PeerHello, PeerHello__Output as _dstore_v1_PeerHello__Output } from '../../dstore/v1/PeerHello.ts';
import type { ConsensusMessage as _dstore_v1_ConsensusMessage, ConsensusMessage__Output as _dstore_v1_ConsensusMessage__Output } from '../../dstore/v1/ConsensusMessage.ts';

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
}
