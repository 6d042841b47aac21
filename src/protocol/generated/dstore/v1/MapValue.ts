// Original file: src/protocol/proto/dstore/v1/global.proto


export interface _dstore_v1_MapValue_Entry {
  'field'?: (string);
  'value'?: (Buffer | Uint8Array | string);
}

export interface _dstore_v1_MapValue_Entry__Output {
  'field': (string);
  'value': (Buffer);
}

export interface MapValue {
  'entries'?: (_dstore_v1_MapValue_Entry)[];
}

export interface MapValue__Output {
  'entries': (_dstore_v1_MapValue_Entry__Output)[];
}
