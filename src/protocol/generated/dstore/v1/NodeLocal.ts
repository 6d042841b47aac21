// Original file: src/protocol/proto/dstore/v1/global.proto


export interface _dstore_v1_NodeLocal_PrefixMode {
  'prefix'?: (string);
  /**
   * "bounded", "eventual" or "strict".
   */
  'mode'?: (string);
}

export interface _dstore_v1_NodeLocal_PrefixMode__Output {
  'prefix': (string);
  /**
   * "bounded", "eventual" or "strict".
   */
  'mode': (string);
}

/**
 * A node's Local, as its attached workers must follow it.
 */
export interface NodeLocal {
  /**
   * The Local's lease (its staleness bound for "bounded" keys).
   */
  'leaseMs'?: (number);
  /**
   * The mode of keys no prefix names.
   */
  'coherence'?: (string);
  'coherenceByPrefix'?: (_dstore_v1_NodeLocal_PrefixMode)[];
  /**
   * Only keys with this prefix are followed ("" = every key).
   */
  'prefix'?: (string);
}

/**
 * A node's Local, as its attached workers must follow it.
 */
export interface NodeLocal__Output {
  /**
   * The Local's lease (its staleness bound for "bounded" keys).
   */
  'leaseMs': (number);
  /**
   * The mode of keys no prefix names.
   */
  'coherence': (string);
  'coherenceByPrefix': (_dstore_v1_NodeLocal_PrefixMode__Output)[];
  /**
   * Only keys with this prefix are followed ("" = every key).
   */
  'prefix': (string);
}
