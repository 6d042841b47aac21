// Original file: src/protocol/proto/dstore/v1/global.proto

import type { NodeLocal as _dstore_v1_NodeLocal, NodeLocal__Output as _dstore_v1_NodeLocal__Output } from '../../dstore/v1/NodeLocal.ts';
import type { Long } from '@grpc/proto-loader';

export interface _dstore_v1_StatusResponse_Limits {
  'keyBytesMax'?: (number);
  'valueInlineBytesMax'?: (number | string | Long);
  'blobBytesMax'?: (number | string | Long);
  'requestBytesMax'?: (number);
  'frameRequestsMax'?: (number);
  'rangeKeysMax'?: (number);
}

export interface _dstore_v1_StatusResponse_Limits__Output {
  'keyBytesMax': (number);
  'valueInlineBytesMax': (number);
  'blobBytesMax': (number);
  'requestBytesMax': (number);
  'frameRequestsMax': (number);
  'rangeKeysMax': (number);
}

export interface _dstore_v1_StatusResponse_Member {
  'id'?: (number);
  /**
   * "host:port" clients and peers reach it at.
   */
  'address'?: (string);
  /**
   * This replica has a working stream to the member (always true for itself).
   */
  'connected'?: (boolean);
  /**
   * The member's decided instance as last known here (exact on the leader).
   */
  'decidedInstance'?: (number | string | Long);
}

export interface _dstore_v1_StatusResponse_Member__Output {
  'id': (number);
  /**
   * "host:port" clients and peers reach it at.
   */
  'address': (string);
  /**
   * This replica has a working stream to the member (always true for itself).
   */
  'connected': (boolean);
  /**
   * The member's decided instance as last known here (exact on the leader).
   */
  'decidedInstance': (number);
}

export interface StatusResponse {
  'replicaId'?: (number);
  /**
   * dstore server version, e.g. "0.1.0".
   */
  'version'?: (string);
  /**
   * 0 when no leader is known.
   */
  'leaderId'?: (number);
  'leaderAddress'?: (string);
  'isLeader'?: (boolean);
  'decidedInstance'?: (number | string | Long);
  'appliedRevision'?: (number | string | Long);
  /**
   * Oldest revision a Subscribe can start from.
   */
  'oldestRevision'?: (number | string | Long);
  'members'?: (_dstore_v1_StatusResponse_Member)[];
  'keyCount'?: (number | string | Long);
  'walBytes'?: (number | string | Long);
  'blobBytes'?: (number | string | Long);
  'limits'?: (_dstore_v1_StatusResponse_Limits | null);
  /**
   * The last log instance applied to the state machine.
   */
  'appliedInstance'?: (number | string | Long);
  /**
   * With with_checksum: BLAKE3-256 of the state machine's canonical encoding. Two replicas
   * at the same applied_instance have equal checksums exactly when their states are equal.
   */
  'stateChecksum'?: (Buffer | Uint8Array | string);
  /**
   * The replica started without its consensus state (a new or wiped data directory) and does
   * not vote yet: it waits for every other member to answer and catches up as a learner.
   */
  'recovering'?: (boolean);
  /**
   * Times this replica's supervisor (`global.ts --cluster`) started it again after it exited
   * unexpectedly; 0 when it runs unsupervised.
   */
  'restarts'?: (number);
  /**
   * How a node's Local serves its cache; set only by a node's Local (never by a replica), so
   * an attached worker runs its own bindings under the same terms (docs/local.md).
   */
  'nodeLocal'?: (_dstore_v1_NodeLocal | null);
}

export interface StatusResponse__Output {
  'replicaId': (number);
  /**
   * dstore server version, e.g. "0.1.0".
   */
  'version': (string);
  /**
   * 0 when no leader is known.
   */
  'leaderId': (number);
  'leaderAddress': (string);
  'isLeader': (boolean);
  'decidedInstance': (number);
  'appliedRevision': (number);
  /**
   * Oldest revision a Subscribe can start from.
   */
  'oldestRevision': (number);
  'members': (_dstore_v1_StatusResponse_Member__Output)[];
  'keyCount': (number);
  'walBytes': (number);
  'blobBytes': (number);
  'limits': (_dstore_v1_StatusResponse_Limits__Output | null);
  /**
   * The last log instance applied to the state machine.
   */
  'appliedInstance': (number);
  /**
   * With with_checksum: BLAKE3-256 of the state machine's canonical encoding. Two replicas
   * at the same applied_instance have equal checksums exactly when their states are equal.
   */
  'stateChecksum': (Buffer);
  /**
   * The replica started without its consensus state (a new or wiped data directory) and does
   * not vote yet: it waits for every other member to answer and catches up as a learner.
   */
  'recovering': (boolean);
  /**
   * Times this replica's supervisor (`global.ts --cluster`) started it again after it exited
   * unexpectedly; 0 when it runs unsupervised.
   */
  'restarts': (number);
  /**
   * How a node's Local serves its cache; set only by a node's Local (never by a replica), so
   * an attached worker runs its own bindings under the same terms (docs/local.md).
   */
  'nodeLocal': (_dstore_v1_NodeLocal__Output | null);
}
