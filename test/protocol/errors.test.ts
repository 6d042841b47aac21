// Proves the protocol's error vocabulary survives the trip through gRPC status (and the
// in-band ErrorDetail of batched frames) with its class, message, retryability and extra
// fields intact, and that statuses from non-dstore peers map to sensible errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Metadata, status } from '@grpc/grpc-js';
import {
  CancelledError,
  ClosedError,
  CompactedError,
  CorruptError,
  DeadlineExceededError,
  DstoreError,
  InternalError,
  InvalidArgumentError,
  KeyOccupiedError,
  NotFoundError,
  NotLeaderError,
  SessionExpiredError,
  TooLargeError,
  UnauthenticatedError,
  UnavailableError,
  isRetryable,
} from '../../src/protocol/errors.ts';
import { fromErrorDetail, fromGrpcError, toErrorDetail, toGrpcStatus } from '../../src/protocol/grpc-status.ts';

const samples: [DstoreError, status][] = [
  [new NotFoundError('no key "a"'), status.NOT_FOUND],
  [new KeyOccupiedError('key "a" is occupied'), status.ALREADY_EXISTS],
  [new InvalidArgumentError('key is empty'), status.INVALID_ARGUMENT],
  [new NotLeaderError('replica 2 is not the leader', '127.0.0.1:50051'), status.UNAVAILABLE],
  [new UnavailableError('no quorum'), status.UNAVAILABLE],
  [new TooLargeError('value of 2 MiB exceeds 1 MiB'), status.INVALID_ARGUMENT],
  [new CorruptError('blob x: content hash mismatch'), status.DATA_LOSS],
  [new ClosedError('client closed'), status.CANCELLED],
  [new CompactedError('revision 3 compacted', 17), status.OUT_OF_RANGE],
  [new UnauthenticatedError('no token'), status.UNAUTHENTICATED],
  [new InternalError('bug'), status.INTERNAL],
  [new SessionExpiredError('client c has no session for request 2'), status.FAILED_PRECONDITION],
  [new DeadlineExceededError('get "a": no answer within its 100 ms deadline'), status.DEADLINE_EXCEEDED],
  [new CancelledError('put "a": cancelled by its AbortSignal'), status.CANCELLED],
];

function assertSameError(actual: DstoreError, expected: DstoreError): void {
  assert.equal(actual.constructor, expected.constructor);
  assert.equal(actual.code, expected.code);
  assert.equal(actual.message, expected.message);
  assert.equal(actual.retryable, expected.retryable);
  if (expected instanceof NotLeaderError) assert.equal((actual as NotLeaderError).leaderHint, expected.leaderHint);
  if (expected instanceof CompactedError) assert.equal((actual as CompactedError).oldestRevision, expected.oldestRevision);
}

describe('errors <-> gRPC status', () => {
  for (const [err, code] of samples) {
    it(`${err.code} maps to gRPC ${status[code]} and back`, () => {
      const s = toGrpcStatus(err);
      assert.equal(s.code, code);
      assert.equal(s.details, err.message);
      assertSameError(fromGrpcError(s), err);
    });
    it(`${err.code} round-trips through ErrorDetail`, () => {
      assertSameError(fromErrorDetail(toErrorDetail(err)), err);
    });
  }

  it('marks exactly the transient errors retryable', () => {
    const retryable = samples.filter(([e]) => isRetryable(e)).map(([e]) => e.code);
    assert.deepEqual(retryable, ['NOT_LEADER', 'UNAVAILABLE', 'DEADLINE_EXCEEDED']);
    assert.equal(isRetryable(new Error('plain')), false);
  });

  it('maps a thrown non-dstore error to INTERNAL without losing its message', () => {
    const s = toGrpcStatus(new TypeError('boom'));
    assert.equal(s.code, status.INTERNAL);
    assert.match(s.details, /boom/);
    assert.ok(fromGrpcError(s) instanceof InternalError);
  });

  it('maps statuses from peers that send no dstore metadata', () => {
    const plain = (code: status) => fromGrpcError({ code, details: 'x', metadata: new Metadata() });
    assert.ok(plain(status.RESOURCE_EXHAUSTED) instanceof TooLargeError, 'grpc-js reports oversized messages this way');
    assert.ok(plain(status.DEADLINE_EXCEEDED) instanceof UnavailableError);
    assert.ok(plain(status.UNAVAILABLE).retryable);
    assert.ok(plain(status.UNIMPLEMENTED) instanceof InternalError);
    assert.ok(plain(status.ALREADY_EXISTS) instanceof KeyOccupiedError);
  });

  it("names a failed connection's cause from grpc-js's details, without its empty \"Resolution note: \"", () => {
    const details = 'No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:1. Resolution note: ';
    const err = fromGrpcError({ code: status.UNAVAILABLE, details, metadata: new Metadata() });
    assert.ok(err instanceof UnavailableError);
    assert.equal(err.reason, 'connection-refused');
    assert.equal(err.message, 'connection refused (connect ECONNREFUSED 127.0.0.1:1): nothing listens on that port; check that the replica runs and the port is right');
    const noted = fromGrpcError({ code: status.UNAVAILABLE, details: 'x. Resolution note: DNS failed', metadata: new Metadata() });
    assert.equal(noted.message, 'x. Resolution note: DNS failed', 'a note with something in it stays');
    const dropped = fromGrpcError({ code: status.UNAVAILABLE, details: 'Connection dropped', metadata: new Metadata() });
    assert.deepEqual([dropped.message, (dropped as UnavailableError).reason], ['Connection dropped', 'unavailable'], 'a broken connection is said well enough');
  });

  it('tells a server that is not dstore from an error of ours', () => {
    const other = fromGrpcError({ code: status.UNIMPLEMENTED, details: 'The server does not implement the method /dstore.v1.Global/Session', metadata: new Metadata() });
    assert.ok(other instanceof UnavailableError && other.reason === 'not-dstore', other.message);
    assert.match(other.message, /does not speak dstore \(a gRPC server without dstore\.v1\.Global\.Session\): check that the address points at a dstore Global replica/);
    const web = fromGrpcError({ code: status.UNKNOWN, details: 'Received HTTP status code 200', metadata: new Metadata() });
    assert.ok(web instanceof UnavailableError && web.reason === 'not-dstore');
    // A replica's own UNAVAILABLE naming a peer's refused connection stays its own error.
    const ours = fromGrpcError(toGrpcStatus(new UnavailableError('peer 2: No connection established. Last error: connect ECONNREFUSED')));
    assert.ok(ours instanceof UnavailableError && ours.reason === 'unavailable');
    assert.equal(ours.message, 'peer 2: No connection established. Last error: connect ECONNREFUSED');
  });

  it('keeps the original status as the cause', () => {
    const original = { code: status.NOT_FOUND, details: 'gone' };
    assert.equal(fromGrpcError(original).cause, original);
  });

  it('turns an unknown in-band code into INTERNAL naming it', () => {
    const e = fromErrorDetail({ code: 'WAT', message: 'm', leaderHint: '', oldestRevision: 0, retryable: true });
    assert.ok(e instanceof InternalError);
    assert.match(e.message, /unknown error code "WAT"/);
  });
});
