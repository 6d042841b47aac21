// Authentication by bearer token (issue 7), for Global replicas and the Local's node server.
//
// - A caller sends metadata `authorization: Bearer <token>` on every call (`tokenInterceptor`
//   adds it to every call of a client channel).
// - A server checks it in a gRPC server interceptor (`authInterceptor`), before any handler
//   runs: a call with a missing or unknown token is answered UNAUTHENTICATED (dstore-error:
//   UNAUTHENTICATED) and its handler is never started, so it touches nothing.
// - Which tokens a service accepts is per service (`ServiceAccess`): clients' tokens for
//   dstore.v1.Global, the cluster's peer token for dstore.v1.Replica, either for health and
//   reflection. A service can also be open (no token asked) or closed (every call refused,
//   with a reason). A service the policy does not name is closed: a service added to a server
//   later is never open by accident.
//
// Tokens are compared by their SHA-256 (a Map lookup on the digest, so the time taken does not
// depend on how much of a token matched). A table maps each token to a principal name, so
// per-client credentials can be revoked one at a time and named in logs; tokens themselves
// are never logged.

import * as grpc from '@grpc/grpc-js';
import { createHash } from 'node:crypto';
import { InvalidArgumentError, UnauthenticatedError } from './errors.ts';
import { toGrpcStatus } from './grpc-status.ts';

export const AUTHORIZATION_METADATA = 'authorization';
const BEARER_PREFIX = 'Bearer ';
/** Shortest token accepted: 16 characters (e.g. 8 random bytes in hex); 32+ recommended. */
export const TOKEN_CHARS_MIN = 16;
export const TOKEN_CHARS_MAX = 4096;
const PRINCIPAL_PATTERN = /^[A-Za-z0-9._@:-]{1,128}$/;
const TOKEN_PATTERN = /^[\x21-\x7e]+$/;

function digest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Throws InvalidArgumentError unless `token` is 16..4096 printable ASCII characters without spaces. */
export function checkToken(token: string, where: string): void {
  if (token.length < TOKEN_CHARS_MIN || token.length > TOKEN_CHARS_MAX || !TOKEN_PATTERN.test(token)) {
    throw new InvalidArgumentError(`${where}: a token must be ${TOKEN_CHARS_MIN}..${TOKEN_CHARS_MAX} printable ASCII characters without spaces (e.g. \`openssl rand -hex 32\`)`);
  }
}

/** The tokens a service accepts, each naming a principal. Immutable. */
export class TokenTable {
  private constructor(private readonly principals: ReadonlyMap<string, string>) {}

  /** A table of `principal -> token` pairs. Throws InvalidArgumentError on a bad or repeated token. */
  static of(entries: Iterable<readonly [principal: string, token: string]>, source = 'token table'): TokenTable {
    const principals = new Map<string, string>();
    for (const [principal, token] of entries) {
      if (!PRINCIPAL_PATTERN.test(principal)) throw new InvalidArgumentError(`${source}: principal ${JSON.stringify(principal)} must be 1..128 of A-Z a-z 0-9 . _ @ : -`);
      checkToken(token, `${source}: token of ${principal}`);
      const d = digest(token);
      if (principals.has(d)) throw new InvalidArgumentError(`${source}: principals ${principals.get(d)} and ${principal} have the same token`);
      principals.set(d, principal);
    }
    if (principals.size === 0) throw new InvalidArgumentError(`${source}: no tokens`);
    return new TokenTable(principals);
  }

  /**
   * Parses a tokens file: one `principal token` pair per line; blank lines and lines starting
   * with # are ignored. `source` (the file name) is named in errors, which never quote a token.
   */
  static parse(text: string, source: string): TokenTable {
    const entries: [string, string][] = [];
    text.split('\n').forEach((raw, i) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const parts = line.split(/\s+/);
      if (parts.length !== 2) throw new InvalidArgumentError(`${source} line ${i + 1}: expected "principal token"`);
      entries.push([parts[0]!, parts[1]!]);
    });
    return TokenTable.of(entries, source);
  }

  /** The principal of `token`, or undefined. */
  principalOf(token: string): string | undefined {
    return this.principals.get(digest(token));
  }

  get size(): number {
    return this.principals.size;
  }
}

/** Parses a single-token file (a client's or the cluster's peer token): the file's text, trimmed. */
export function parseTokenFile(text: string, source: string): string {
  const token = text.trim();
  checkToken(token, source);
  return token;
}

/** The token of `authorization: Bearer <token>` in `metadata`, or undefined. */
export function bearerToken(metadata: grpc.Metadata): string | undefined {
  const value = metadata.get(AUTHORIZATION_METADATA)[0];
  if (typeof value !== 'string' || !value.startsWith(BEARER_PREFIX)) return undefined;
  return value.slice(BEARER_PREFIX.length).trim();
}

/** A client interceptor adding `authorization: Bearer <token>` to every call of a channel. */
export function tokenInterceptor(token: string): grpc.Interceptor {
  checkToken(token, 'token');
  const value = `${BEARER_PREFIX}${token}`;
  return (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start: (metadata, listener, next) => {
        metadata.set(AUTHORIZATION_METADATA, value);
        next(metadata, listener);
      },
    });
}

/**
 * Who may call one gRPC service: anyone (`open`), a caller with a token of any of `tables`,
 * or nobody (`closed`, refused with `reason`, which says what the operator must configure).
 */
export type ServiceAccess =
  | { readonly kind: 'open' }
  | { readonly kind: 'tokens'; readonly tables: readonly TokenTable[] }
  | { readonly kind: 'closed'; readonly reason: string };

export const OPEN_ACCESS: ServiceAccess = Object.freeze({ kind: 'open' });

/** Access by token of any of `tables`. */
export function tokenAccess(...tables: TokenTable[]): ServiceAccess {
  return { kind: 'tokens', tables };
}

/** Who may call each gRPC service: full service name (e.g. "dstore.v1.Global") -> access. */
export type ServiceTokens = ReadonlyMap<string, ServiceAccess>;

/** Told about each refused call (for a counter and a debug line); never given the token. */
export type RefusalListener = (service: string, method: string, reason: 'missing' | 'unknown' | 'closed') => void;

/** "/dstore.v1.Global/Get" -> ["dstore.v1.Global", "Get"]. */
function splitPath(path: string): [string, string] {
  const slash = path.lastIndexOf('/');
  return [path.slice(1, slash), path.slice(slash + 1)];
}

/** The principal `token` names in the first of `tables` that knows it, or undefined. */
function principalIn(tables: readonly TokenTable[], token: string): string | undefined {
  for (const table of tables) {
    const principal = table.principalOf(token);
    if (principal !== undefined) return principal;
  }
  return undefined;
}

/**
 * A server interceptor that refuses, with UNAUTHENTICATED, every call its policy does not
 * let through: a call to a `tokens` service whose metadata carries no token of its tables,
 * every call to a `closed` service, and every call to a service `services` does not name
 * (closed by default). Calls to `open` services pass untouched. The handler of a refused call
 * never starts (the call ends before its metadata reaches the handler), so nothing of the
 * request is read or acted on. (grpc-js answers UNIMPLEMENTED to unknown methods before
 * interceptors run, so `service` is always one the server registered.)
 */
export function authInterceptor(services: ServiceTokens, onRefused?: RefusalListener): grpc.ServerInterceptor {
  return (methodDescriptor, call) => {
    const [service, method] = splitPath(methodDescriptor.path);
    const access = services.get(service) ?? { kind: 'closed', reason: 'this server accepts no calls to it' };
    if (access.kind === 'open') return new grpc.ServerInterceptingCall(call);
    return new grpc.ServerInterceptingCall(call, {
      start: (next) => {
        next(new grpc.ServerListenerBuilder().withOnReceiveMetadata((metadata, mdNext) => {
          const token = access.kind === 'closed' ? undefined : bearerToken(metadata);
          const principal = token === undefined || access.kind === 'closed' ? undefined : principalIn(access.tables, token);
          if (principal !== undefined) {
            mdNext(metadata);
            return;
          }
          const reason = access.kind === 'closed' ? 'closed' : token === undefined ? 'missing' : 'unknown';
          onRefused?.(service, method, reason);
          const message = access.kind === 'closed'
            ? `${service}/${method}: ${access.reason}`
            : reason === 'missing'
              ? `${service}/${method} needs credentials: send metadata "authorization: Bearer <token>"`
              : `${service}/${method}: the token is not accepted here`;
          const s = toGrpcStatus(new UnauthenticatedError(message));
          call.sendStatus({ code: s.code, details: s.details, metadata: s.metadata });
        }).build());
      },
    });
  };
}
