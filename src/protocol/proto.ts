// Loads the dstore.v1 .proto files for grpc-js. The TypeScript types of every message
// are generated from the same files into ./generated (`npm run proto:gen`; a test fails
// when they are stale), with the same options as below so the types match the objects.

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProtoGrpcType as GlobalProto } from './generated/global.ts';
import type { ProtoGrpcType as ReplicaProto } from './generated/replica.ts';

/** Directory holding dstore/v1/*.proto; the include root for other-language generators too. */
export const PROTO_ROOT = fileURLToPath(new URL('./proto/', import.meta.url));
export const PROTO_FILES = ['dstore/v1/common.proto', 'dstore/v1/global.proto', 'dstore/v1/replica.proto'];

// Numbers for 64-bit fields (revisions, instances and sizes stay below 2^53 by contract),
// enum names as strings, defaults filled in, and a virtual field naming the set oneof.
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_ROOT],
};

export type DstoreProto = GlobalProto & ReplicaProto;

let loaded: DstoreProto | undefined;

/** The loaded package, cached: loading parses the .proto files (tens of milliseconds). */
export function dstoreProto(): DstoreProto {
  loaded ??= grpc.loadPackageDefinition(protoLoader.loadSync(PROTO_FILES, PROTO_LOADER_OPTIONS)) as unknown as DstoreProto;
  return loaded;
}

let root: protobuf.Root | undefined;

/**
 * The same .proto files as a protobufjs Root, for encoding messages outside gRPC calls
 * (log commands, structured values). Decode with `toObject(message, TO_OBJECT_OPTIONS)`
 * to get the same shapes grpc-js hands to handlers.
 */
export function dstoreRoot(): protobuf.Root {
  if (root === undefined) {
    const r = new protobuf.Root();
    r.resolvePath = (_origin, target) => join(PROTO_ROOT, target);
    r.loadSync(PROTO_FILES, { keepCase: false });
    root = r;
  }
  return root;
}

/** protobufjs conversion options equal to PROTO_LOADER_OPTIONS. */
export const TO_OBJECT_OPTIONS: protobuf.IConversionOptions = { longs: Number, enums: String, defaults: true, oneofs: true, arrays: true };
