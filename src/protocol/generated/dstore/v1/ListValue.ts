// Original file: src/protocol/proto/dstore/v1/global.proto


/**
 * Structured values are ordinary immutable blobs with a canonical encoding, so equal
 * contents have equal hashes:
 * - a list is the protobuf encoding of ListValue;
 * - a map is the protobuf encoding of MapValue, entries sorted by field, fields unique;
 * - an integer is its decimal ASCII text ("-42"), within signed 64-bit range.
 */
export interface ListValue {
  'items'?: (Buffer | Uint8Array | string)[];
}

/**
 * Structured values are ordinary immutable blobs with a canonical encoding, so equal
 * contents have equal hashes:
 * - a list is the protobuf encoding of ListValue;
 * - a map is the protobuf encoding of MapValue, entries sorted by field, fields unique;
 * - an integer is its decimal ASCII text ("-42"), within signed 64-bit range.
 */
export interface ListValue__Output {
  'items': (Buffer)[];
}
