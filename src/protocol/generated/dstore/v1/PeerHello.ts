// Original file: src/protocol/proto/dstore/v1/replica.proto


export interface PeerHello {
  /**
   * Random id fixed when the cluster is created; refuses cross-cluster connections.
   */
  'clusterId'?: (string);
  'fromReplicaId'?: (number);
  'toReplicaId'?: (number);
  /**
   * Protocol version spoken, currently 1.
   */
  'protocolVersion'?: (number);
}

export interface PeerHello__Output {
  /**
   * Random id fixed when the cluster is created; refuses cross-cluster connections.
   */
  'clusterId': (string);
  'fromReplicaId': (number);
  'toReplicaId': (number);
  /**
   * Protocol version spoken, currently 1.
   */
  'protocolVersion': (number);
}
