// Proves the client's pure parts: the backoff schedule (bounds, doubling, cap, jitter from
// the injected Random, reset), the connection state machine's allowed transitions and typed
// status events, and construction-time validation of every limit with a precise message.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Backoff, checkBackoffConfig } from '../../src/protocol/backoff.ts';
import { GlobalClient, resolveConfig } from '../../src/local/client/client.ts';
import { ConnectionStateMachine, isTransitionAllowed, type ConnectionStatus } from '../../src/local/client/connection-state.ts';
import { AssertionError } from '../../src/protocol/assert.ts';
import { InvalidArgumentError, UnavailableError } from '../../src/protocol/errors.ts';
import { SeededRandom } from './fake-clock.ts';

describe('Backoff', () => {
  it('draws each delay from [bound/2, bound) with the bound doubling up to backoffMaxMs', () => {
    const backoff = new Backoff({ backoffInitialMs: 100, backoffMaxMs: 1000 }, new SeededRandom(7));
    const bounds = [100, 200, 400, 800, 1000, 1000, 1000];
    for (const bound of bounds) {
      const delay = backoff.nextDelayMs();
      assert.ok(delay >= bound / 2 && delay <= bound, `delay ${delay} outside [${bound / 2}, ${bound}]`);
    }
    assert.equal(backoff.attempts, bounds.length);
    backoff.reset();
    const first = backoff.nextDelayMs();
    assert.ok(first >= 50 && first <= 100, `after reset the bound is the initial one again, got ${first}`);
  });

  it('takes its jitter from the injected Random only', () => {
    const at = (r: number) => new Backoff({ backoffInitialMs: 100, backoffMaxMs: 1000 }, { next: () => r }).nextDelayMs();
    assert.equal(at(0), 50);
    assert.equal(at(0.5), 75);
    assert.equal(at(0.999), 99);
    const a = new Backoff({ backoffInitialMs: 10, backoffMaxMs: 500 }, new SeededRandom(42));
    const b = new Backoff({ backoffInitialMs: 10, backoffMaxMs: 500 }, new SeededRandom(42));
    const seq = (x: Backoff) => Array.from({ length: 8 }, () => x.nextDelayMs());
    assert.deepEqual(seq(a), seq(b));
  });

  it('rejects a maximum below the initial delay', () => {
    assert.throws(() => checkBackoffConfig({ backoffInitialMs: 50, backoffMaxMs: 10 }), {
      name: 'InvalidArgumentError',
      message: 'backoffMaxMs (10) must be >= backoffInitialMs (50)',
    });
  });
});

describe('connection state machine', () => {
  it('allows only the listed transitions', () => {
    assert.ok(isTransitionAllowed('idle', 'connecting'));
    assert.ok(isTransitionAllowed('ready', 'connecting'), 'following a leader hint');
    assert.ok(isTransitionAllowed('transient-failure', 'connecting'));
    assert.ok(!isTransitionAllowed('idle', 'ready'), 'must connect first');
    assert.ok(!isTransitionAllowed('transient-failure', 'ready'), 'must reconnect first');
    assert.ok(!isTransitionAllowed('closed', 'connecting'), 'closed is terminal');
    const fsm = new ConnectionStateMachine();
    assert.throws(() => fsm.transition('ready', 'a:1', 'skip'), AssertionError);
    assert.throws(() => fsm.transition('connecting', 'a:1', 'x', new UnavailableError('no')), AssertionError, 'only transient-failure carries an error');
  });

  it('tells listeners every transition, in order, until they unsubscribe', () => {
    const fsm = new ConnectionStateMachine();
    const seen: ConnectionStatus[] = [];
    const off = fsm.onChange((s) => seen.push(s));
    fsm.transition('connecting', 'a:1', 'first request');
    fsm.transition('transient-failure', 'a:1', 'refused', new UnavailableError('refused'));
    fsm.transition('connecting', 'b:2', 'retry');
    off();
    fsm.transition('ready', 'b:2', 'connected');
    assert.deepEqual(seen.map((s) => `${s.state}@${s.address}`), ['connecting@a:1', 'transient-failure@a:1', 'connecting@b:2']);
    assert.ok(seen[1]!.error instanceof UnavailableError);
    assert.equal(fsm.state, 'ready');
  });
});

describe('client configuration', () => {
  const addresses = ['127.0.0.1:50051'];
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ addresses: [] }, /addresses must list at least one Global replica/],
    [{ addresses: ['localhost'] }, /"localhost" is not "host:port"/],
    [{ addresses: ['h:70000'] }, /port in 1\.\.65535/],
    [{ addresses, frameRequestsMax: 0 }, /^frameRequestsMax must be an integer in 1\.\.65536, got 0$/],
    [{ addresses, inFlightMax: 1.5 }, /^inFlightMax must be an integer in 1\.\.1000000, got 1\.5$/],
    [{ addresses, deadlineMs: -1 }, /^deadlineMs must be an integer in 1\.\.3600000, got -1$/],
    [{ addresses, retriesMax: 1001 }, /^retriesMax must be an integer in 0\.\.1000, got 1001$/],
    [{ addresses, backoffInitialMs: 0 }, /^backoffInitialMs must be an integer in 1\.\.600000, got 0$/],
    [{ addresses, backoffInitialMs: 500, backoffMaxMs: 100 }, /^backoffMaxMs \(100\) must be >= backoffInitialMs \(500\)$/],
    [{ addresses, blobChunkBytes: 2 * 1024 * 1024 }, /^blobChunkBytes must be an integer in 1\.\.1048576/],
    [{ addresses, queuedRequestsMax: 0 }, /^queuedRequestsMax must be/],
    [{ addresses, clientId: 'short' }, /^clientId must be 16\.\.64 bytes of UTF-8, got 5$/],
  ];
  for (const [config, message] of cases) {
    it(`refuses ${JSON.stringify(config)}`, () => {
      assert.throws(() => new GlobalClient(config as never), (err: unknown) => err instanceof InvalidArgumentError && message.test(err.message));
    });
  }

  it('fills in defaults and a fresh random clientId per client', () => {
    const a = resolveConfig({ addresses: ['h:1', 'h:1', 'h:2'] });
    const b = resolveConfig({ addresses: ['h:1'] });
    assert.deepEqual(a.addresses, ['h:1', 'h:2'], 'duplicates dropped');
    assert.equal(a.frameRequestsMax, 256);
    assert.match(a.clientId, /^[0-9a-f]{32}$/);
    assert.notEqual(a.clientId, b.clientId);
  });
});
