// Original file: src/protocol/proto/dstore/v1/global.proto

import type { ServerResponse as _dstore_v1_ServerResponse, ServerResponse__Output as _dstore_v1_ServerResponse__Output } from '../../dstore/v1/ServerResponse.ts';

export interface ServerFrame {
  'responses'?: (_dstore_v1_ServerResponse)[];
}

export interface ServerFrame__Output {
  'responses': (_dstore_v1_ServerResponse__Output)[];
}
