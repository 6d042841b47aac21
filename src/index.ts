// The package's public API (`import { Local } from 'dstore'`): everything a worker or an
// embedding program may use, re-exported from where it lives. Nothing inside src/ imports this
// file; anything not named here is internal and may change without notice.

// A worker's cache: linked in-process (Local) or attached to the node's Local (attach).
export {
  Local,
  LOCAL_DEFAULTS,
  type DstoreApi,
  type LocalConfig,
  type LocalGetOptions,
  type LocalRead,
  type LocalReadConsistency,
  type LocalStats,
  type LocalValue,
  type LocalWriteOptions,
  type ReadSource,
  type ReplaceOptions,
  type ReplaceResult,
  type WriteResult,
  type WatchEvent,
  type WatchOptions,
  type WatchEventsOptions,
  type CallControl,
  type ValueLike,
} from './local/local.ts';
export { attach, AttachedLocal, DEFAULT_LOCAL_ADDRESS, type AttachConfig } from './local/node/attach.ts';
export type { CoherenceMode } from './local/cache/freshness.ts';

// The Global client underneath (docs/client.md) and its types.
export { GlobalClient, GLOBAL_CLIENT_DEFAULTS, Subscription, type GlobalClientConfig, type GetOptions, type RangeOptions, type WriteOptions, type SubscribeOptions } from './local/client/client.ts';
export type * from './local/client/client-types.ts';

// Errors: switch on `code` or instanceof (docs/client.md).
export {
  DstoreError,
  NotFoundError,
  KeyOccupiedError,
  InvalidArgumentError,
  NotLeaderError,
  UnavailableError,
  TooLargeError,
  CorruptError,
  ClosedError,
  CompactedError,
  UnauthenticatedError,
  InternalError,
  ResourceExhaustedError,
  SessionExpiredError,
  DeadlineExceededError,
  CancelledError,
  isRetryable,
  type ErrorCode,
} from './protocol/errors.ts';

// Content hashes.
export { hashOf, parseHash, isHash, type Hash } from './protocol/hash.ts';
export { loadTls, type TlsFiles, type TlsMaterial, type ClientSecurity } from './protocol/tls.ts';

// Servers, for embedding: a Global replica, and the node server of a Local (what attach() dials).
export { GlobalServer, type GlobalServerOptions, type ListenOptions } from './global/server/global-server.ts';
export { NO_SECURITY, type ServerSecurity } from './global/server/server-security.ts';
export { TokenTable } from './protocol/auth.ts';
export { LocalServer, type LocalServerLimits } from './local/node/local-server.ts';
