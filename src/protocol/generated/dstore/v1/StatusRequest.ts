// Original file: src/protocol/proto/dstore/v1/global.proto


export interface StatusRequest {
}

export interface StatusRequest__Output {
}
