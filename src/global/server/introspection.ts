// What a replica tells tools about itself, besides its own services:
// - gRPC health checking (`grpc.health.v1.Health`, Check and Watch): NOT_SERVING from the
//   moment the port is bound until the replica has recovered and started, SERVING while it
//   runs, NOT_SERVING again as soon as it starts stopping (load balancers and orchestrators
//   stop sending it work while calls in flight finish). The overall status ("") and each
//   dstore service report the same.
// - gRPC server reflection (v1 and v1alpha): the dstore.v1 services and the health service,
//   so `grpcurl -plaintext host:port list` and `describe` work without the .proto files.
// Both answer only callers Global itself would answer (server-security.ts).

import type * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as HEALTH_PROTO_PATH } from 'grpc-health-check';
import { PROTO_FILES, PROTO_LOADER_OPTIONS } from '../../protocol/proto.ts';

/** The gRPC services this file adds to a server (server-security.ts decides who may call them). */
export const INTROSPECTION_SERVICES: readonly string[] = ['grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection'];

/** The names a health check may ask about; '' is the server as a whole. */
export const HEALTH_SERVICE_NAMES: readonly string[] = ['', 'dstore.v1.Global', 'dstore.v1.Replica'];

export class ServingHealth {
  private readonly health = new HealthImplementation(Object.fromEntries(HEALTH_SERVICE_NAMES.map((name) => [name, 'NOT_SERVING' as const])));

  /** Adds the Health service to `server` (before it binds). */
  addTo(server: Pick<grpc.Server, 'addService'>): void {
    this.health.addToServer(server);
  }

  /** Sets every name's status; Watch streams hear it at once. */
  setServing(serving: boolean): void {
    for (const name of HEALTH_SERVICE_NAMES) this.health.setStatus(name, serving ? 'SERVING' : 'NOT_SERVING');
  }
}

/** Adds the reflection service describing dstore.v1 and grpc.health.v1 to `server`. */
export function addReflection(server: Pick<grpc.Server, 'addService'>): void {
  const definition: protoLoader.PackageDefinition = {
    ...protoLoader.loadSync(PROTO_FILES, PROTO_LOADER_OPTIONS),
    ...protoLoader.loadSync(HEALTH_PROTO_PATH, PROTO_LOADER_OPTIONS),
  };
  new ReflectionService(definition).addToServer(server);
}
