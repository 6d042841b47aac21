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
//
// Once any token is configured, every service the port serves asks for one (auth.ts closes
// services the policy does not name):
// - dstore.v1.Replica with client tokens but no peer token (a single replica) is closed: a
//   lone replica has no peers, and without a peer token nothing would tell a peer from a
//   client holding a certificate (which would read the whole snapshot, blobs included).
// - Health and reflection are exactly as open as dstore.v1.Global: with client tokens they
//   take any client token or the peer token (a load balancer's health probe then needs a
//   token too); with only a peer token Global is open to certificate holders, so they are.

import type * as grpc from '@grpc/grpc-js';
import { InvalidArgumentError } from '../../protocol/errors.ts';
import { authInterceptor, OPEN_ACCESS, tokenAccess, TokenTable, type RefusalListener, type ServiceAccess } from '../../protocol/auth.ts';
import { INTROSPECTION_SERVICES } from './introspection.ts';
import { channelCredentials, channelCredentialsWithToken, serverCredentials, type TlsMaterial } from '../../protocol/tls.ts';

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

/** Why dstore.v1.Replica refuses every call on a replica with client tokens and no peer token. */
export const NO_PEER_TOKEN_REASON = 'this replica accepts no peer calls without --peer-token-file (it has client tokens, so a certificate alone cannot make a caller a peer)';

/** The server side: credentials for bindAsync and the auth interceptor (none without tokens). */
export function serverSide(security: ServerSecurity, onRefused: RefusalListener): { credentials: grpc.ServerCredentials; interceptors: grpc.ServerInterceptor[] } {
  const credentials = serverCredentials(security.tls);
  const { clientTokens, peerToken } = security;
  if (clientTokens === null && peerToken === null) return { credentials, interceptors: [] };
  const peer = peerToken === null ? null : TokenTable.of([['replica', peerToken]], '--peer-token-file');
  const services = new Map<string, ServiceAccess>([
    [GLOBAL_SERVICE, clientTokens === null ? OPEN_ACCESS : tokenAccess(clientTokens)],
    [REPLICA_SERVICE, peer === null ? { kind: 'closed', reason: NO_PEER_TOKEN_REASON } : tokenAccess(peer)],
  ]);
  const introspection = clientTokens === null ? OPEN_ACCESS : tokenAccess(...(peer === null ? [clientTokens] : [clientTokens, peer]));
  for (const name of INTROSPECTION_SERVICES) services.set(name, introspection);
  return { credentials, interceptors: [authInterceptor(services, onRefused)] };
}

/** Credentials of this replica's calls to its peers: its certificate and the peer token. */
export function peerCredentials(security: ServerSecurity): grpc.ChannelCredentials {
  if (security.tls === null) return channelCredentials(null);
  return channelCredentialsWithToken(security.tls, security.peerToken);
}
