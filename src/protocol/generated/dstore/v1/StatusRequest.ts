// Original file: src/protocol/proto/dstore/v1/global.proto


export interface StatusRequest {
  /**
   * Also compute state_checksum (walks the whole state: for tests and audits, not for
   * monitoring loops).
   */
  'withChecksum'?: (boolean);
}

export interface StatusRequest__Output {
  /**
   * Also compute state_checksum (walks the whole state: for tests and audits, not for
   * monitoring loops).
   */
  'withChecksum': (boolean);
}
