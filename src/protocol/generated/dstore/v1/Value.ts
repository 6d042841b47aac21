// Original file: src/protocol/proto/dstore/v1/replica.proto


/**
 * The value of one log instance.
 */
export interface Value {
  /**
   * A gap filled by a new leader: decided, applies nothing.
   */
  'noop'?: (boolean);
  /**
   * Otherwise a batch of commands, each an encoded dstore.v1 Command (opaque to
   * consensus).
   */
  'commands'?: (Buffer | Uint8Array | string)[];
}

/**
 * The value of one log instance.
 */
export interface Value__Output {
  /**
   * A gap filled by a new leader: decided, applies nothing.
   */
  'noop': (boolean);
  /**
   * Otherwise a batch of commands, each an encoded dstore.v1 Command (opaque to
   * consensus).
   */
  'commands': (Buffer)[];
}
