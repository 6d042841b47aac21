// Original file: src/protocol/proto/dstore/v1/global.proto

import type { ClientRequest as _dstore_v1_ClientRequest, ClientRequest__Output as _dstore_v1_ClientRequest__Output } from '../../dstore/v1/ClientRequest.ts';

export interface ClientFrame {
  /**
   * At most StatusResponse.limits.frame_requests_max requests; every server accepts at
   * least 256, so a client may send frames of up to 256 before it has asked Status.
   */
  'requests'?: (_dstore_v1_ClientRequest)[];
}

export interface ClientFrame__Output {
  /**
   * At most StatusResponse.limits.frame_requests_max requests; every server accepts at
   * least 256, so a client may send frames of up to 256 before it has asked Status.
   */
  'requests': (_dstore_v1_ClientRequest__Output)[];
}
