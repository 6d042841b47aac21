// Original file: src/protocol/proto/dstore/v1/global.proto

import type { KeyValue as _dstore_v1_KeyValue, KeyValue__Output as _dstore_v1_KeyValue__Output } from '../../dstore/v1/KeyValue.ts';

// Original file: src/protocol/proto/dstore/v1/global.proto

export const _dstore_v1_Event_Type = {
  /**
   * The key was bound (created or changed); kv is the new binding.
   */
  TYPE_PUT: 'TYPE_PUT',
  /**
   * The key was removed; kv carries the key and mod_revision = the delete's revision.
   */
  TYPE_DELETE: 'TYPE_DELETE',
} as const;

export type _dstore_v1_Event_Type =
  /**
   * The key was bound (created or changed); kv is the new binding.
   */
  | 'TYPE_PUT'
  | 0
  /**
   * The key was removed; kv carries the key and mod_revision = the delete's revision.
   */
  | 'TYPE_DELETE'
  | 1

export type _dstore_v1_Event_Type__Output = typeof _dstore_v1_Event_Type[keyof typeof _dstore_v1_Event_Type]

export interface Event {
  'type'?: (_dstore_v1_Event_Type);
  'kv'?: (_dstore_v1_KeyValue | null);
}

export interface Event__Output {
  'type': (_dstore_v1_Event_Type__Output);
  'kv': (_dstore_v1_KeyValue__Output | null);
}
