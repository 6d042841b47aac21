// A key binding as dstore.v1.KeyValue: shared by Global's service and a Local's node
// server, which both answer clients in the same wire shape.

import type { KeyValue } from './generated/dstore/v1/KeyValue.ts';
import { hashToBytes, type Hash } from './hash.ts';

export interface BindingFields {
  readonly key: string;
  readonly hash: Hash;
  readonly size: number;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
}

/** The wire form of a binding; `value` travels inline when given (null: not included). */
export function keyValueToWire(kv: BindingFields, value: Uint8Array | null): KeyValue {
  return {
    key: kv.key,
    hash: hashToBytes(kv.hash),
    size: kv.size,
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
    version: kv.version,
    value: value ?? Buffer.alloc(0),
    valueInline: value !== null,
  };
}
