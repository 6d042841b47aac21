// How the Local's node server (local-server.ts) is protected, and why it serves one principal.
//
// A Local reaches Global with one set of credentials (its TLS certificate and token): every
// binding and blob it caches was fetched as that principal. Workers on the node that attach to
// it are served from that cache, so the Local must never serve them to a caller that is not
// the same principal. The rule chosen: the node server accepts exactly the token the Local
// itself uses towards Global (`security.token`), and no other. A worker therefore needs the
// very credentials the Local holds, and can never read through the Local anything it could
// not read from Global itself. Two principals on one node run two Locals (each with its own
// --listen address and token); keying one cache by principal was rejected because Global
// checks no per-key permissions today, so a shared cache would save memory but offer no way
// to enforce anything a second Local does not enforce more simply.
//
// With a token, every service the node server serves asks for it (auth.ts refuses calls to
// a service not named here, so one added later is not open by accident).
// A Local without a token serves anyone who can reach its address (keep it on 127.0.0.1).
// With TLS material, the node server speaks only TLS and wants a client certificate from the
// CA, like Global; without it a token travels in plaintext, which is acceptable on loopback
// only (docs/operations.md).

import type * as grpc from '@grpc/grpc-js';
import { authInterceptor, tokenAccess, TokenTable } from '../../protocol/auth.ts';
import { serverCredentials, type ClientSecurity } from '../../protocol/tls.ts';

/** The Local's own credentials towards Global, which its node server also demands of workers. */
export type LocalServerSecurity = ClientSecurity;

export const LOCAL_PRINCIPAL = 'local';

export function localServerSide(security: LocalServerSecurity): { credentials: grpc.ServerCredentials; interceptors: grpc.ServerInterceptor[] } {
  const credentials = serverCredentials(security.tls);
  if (security.token === null) return { credentials, interceptors: [] };
  const table = TokenTable.of([[LOCAL_PRINCIPAL, security.token]], 'the Local\'s token');
  // Every service the node server serves wants the token; any it does not name is refused.
  return { credentials, interceptors: [authInterceptor(new Map([['dstore.v1.Global', tokenAccess(table)]]))] };
}
