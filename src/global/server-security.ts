// How a Global replica protects its port (issue 7; docs/operations.md "TLS" and
// "Authentication"):
//
// - TLS (`tls`): every connection, from clients and from peers, is TLS with a client
//   certificate signed by the cluster's CA (mutual TLS); plaintext handshakes fail before any
//   handler. The replica dials its peers with the same certificate.
// - Client tokens (`clientTokens`): every call to dstore.v1.Global carries `authorization:
//   Bearer <token>` naming a principal of the table, else UNAUTHENTICATED before its handler.
// - Peer token (`peerToken`): every call to dstore.v1.Replica (consensus, blob and snapshot
//   transfer between replicas) carries the cluster's shared peer token; the replica sends it
//   on its own peer calls. With TLS alone, any holder of a certificate from the CA could
//   call the Replica service; the peer token narrows that to the replicas.
//
// Tokens travel only over TLS: gRPC sends call credentials only on secure channels, and a
// bearer token on plaintext can be read off the wire. So both token settings need `tls`, and
// a cluster of more than one replica with client tokens needs a peer token (else a client's
// certificate alone would let it speak as a replica).

import type * as grpc from '@grpc/grpc-js';
import { InvalidArgumentError } from '../protocol/errors.ts';
import { authInterceptor, TokenTable, type RefusalListener, type ServiceTokens } from '../protocol/auth.ts';
import { channelCredentials, channelCredentialsWithToken, serverCredentials, type TlsMaterial } from '../protocol/tls.ts';

export interface ServerSecurity {
  readonly tls: TlsMaterial | null;
  readonly clientTokens: TokenTable | null;
  readonly peerToken: string | null;
}

export const NO_SECURITY: ServerSecurity = Object.freeze({ tls: null, clientTokens: null, peerToken: null });

export const GLOBAL_SERVICE = 'dstore.v1.Global';
export const REPLICA_SERVICE = 'dstore.v1.Replica';

/** Throws InvalidArgumentError when the combination cannot be secure (see the file comment). */
export function checkServerSecurity(security: ServerSecurity, memberCount: number): void {
  if (security.tls === null && security.clientTokens !== null) {
    throw new InvalidArgumentError('--auth-tokens needs TLS (--tls-cert, --tls-key, --tls-ca): bearer tokens on plaintext can be read off the wire');
  }
  if (security.tls === null && security.peerToken !== null) {
    throw new InvalidArgumentError('--peer-token-file needs TLS (--tls-cert, --tls-key, --tls-ca): gRPC sends call credentials only over TLS');
  }
  if (security.clientTokens !== null && security.peerToken === null && memberCount > 1) {
    throw new InvalidArgumentError('--auth-tokens in a cluster needs --peer-token-file too: without it a client certificate alone could speak as a replica');
  }
}

/** The server side: credentials for bindAsync and the auth interceptor (none without tokens). */
export function serverSide(security: ServerSecurity, onRefused: RefusalListener): { credentials: grpc.ServerCredentials; interceptors: grpc.ServerInterceptor[] } {
  const tokens = new Map<string, TokenTable>();
  if (security.clientTokens !== null) tokens.set(GLOBAL_SERVICE, security.clientTokens);
  if (security.peerToken !== null) tokens.set(REPLICA_SERVICE, TokenTable.of([['replica', security.peerToken]], '--peer-token-file'));
  const services: ServiceTokens = tokens;
  return { credentials: serverCredentials(security.tls), interceptors: services.size === 0 ? [] : [authInterceptor(services, onRefused)] };
}

/** Credentials of this replica's calls to its peers: its certificate and the peer token. */
export function peerCredentials(security: ServerSecurity): grpc.ChannelCredentials {
  if (security.tls === null) return channelCredentials(null);
  return channelCredentialsWithToken(security.tls, security.peerToken);
}
