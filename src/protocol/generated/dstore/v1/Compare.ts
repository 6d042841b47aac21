// Original file: src/protocol/proto/dstore/v1/global.proto

import type { Long } from '@grpc/proto-loader';

// Original file: src/protocol/proto/dstore/v1/global.proto

export const _dstore_v1_Compare_Operator = {
  OPERATOR_EQUAL: 'OPERATOR_EQUAL',
  OPERATOR_NOT_EQUAL: 'OPERATOR_NOT_EQUAL',
  OPERATOR_LESS: 'OPERATOR_LESS',
  OPERATOR_GREATER: 'OPERATOR_GREATER',
} as const;

export type _dstore_v1_Compare_Operator =
  | 'OPERATOR_EQUAL'
  | 0
  | 'OPERATOR_NOT_EQUAL'
  | 1
  | 'OPERATOR_LESS'
  | 2
  | 'OPERATOR_GREATER'
  | 3

export type _dstore_v1_Compare_Operator__Output = typeof _dstore_v1_Compare_Operator[keyof typeof _dstore_v1_Compare_Operator]

// Original file: src/protocol/proto/dstore/v1/global.proto

export const _dstore_v1_Compare_Target = {
  /**
   * Operand `exists`; operators EQUAL and NOT_EQUAL only.
   */
  TARGET_EXISTS: 'TARGET_EXISTS',
  /**
   * Operand `hash` (32 bytes); operators EQUAL and NOT_EQUAL only.
   */
  TARGET_HASH: 'TARGET_HASH',
  /**
   * Operand `number`, compared with the key's version.
   */
  TARGET_VERSION: 'TARGET_VERSION',
  /**
   * Operand `number`, compared with the key's mod_revision.
   */
  TARGET_MOD_REVISION: 'TARGET_MOD_REVISION',
} as const;

export type _dstore_v1_Compare_Target =
  /**
   * Operand `exists`; operators EQUAL and NOT_EQUAL only.
   */
  | 'TARGET_EXISTS'
  | 0
  /**
   * Operand `hash` (32 bytes); operators EQUAL and NOT_EQUAL only.
   */
  | 'TARGET_HASH'
  | 1
  /**
   * Operand `number`, compared with the key's version.
   */
  | 'TARGET_VERSION'
  | 2
  /**
   * Operand `number`, compared with the key's mod_revision.
   */
  | 'TARGET_MOD_REVISION'
  | 3

export type _dstore_v1_Compare_Target__Output = typeof _dstore_v1_Compare_Target[keyof typeof _dstore_v1_Compare_Target]

/**
 * A test of one key's current binding. A missing key has version 0, mod_revision 0 and
 * an empty hash, and does not exist.
 */
export interface Compare {
  'key'?: (string);
  'target'?: (_dstore_v1_Compare_Target);
  'operator'?: (_dstore_v1_Compare_Operator);
  'exists'?: (boolean);
  'hash'?: (Buffer | Uint8Array | string);
  'number'?: (number | string | Long);
}

/**
 * A test of one key's current binding. A missing key has version 0, mod_revision 0 and
 * an empty hash, and does not exist.
 */
export interface Compare__Output {
  'key': (string);
  'target': (_dstore_v1_Compare_Target__Output);
  'operator': (_dstore_v1_Compare_Operator__Output);
  'exists': (boolean);
  'hash': (Buffer);
  'number': (number);
}
