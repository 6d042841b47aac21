// Pure pieces of issue 7, without servers: token tables (parsing, lookup, refusals that never
// quote a token), the bearer header, the logger (levels, JSON and logfmt lines, child
// fields), the allocation-free histogram's buckets as prom-client prints them, and which
// security combinations a replica refuses.
import assert from 'node:assert/strict';
import { Metadata } from '@grpc/grpc-js';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { checkServerSecurity, NO_SECURITY } from '../../src/global/server/server-security.ts';
import { bearerToken, TokenTable } from '../../src/protocol/auth.ts';
import { InvalidArgumentError } from '../../src/protocol/errors.ts';
import { createLogger, NULL_LOGGER } from '../../src/protocol/log.ts';
import { FixedHistogram } from '../../src/protocol/metrics-kit.ts';
import { loadTls, type TlsMaterial } from '../../src/protocol/tls.ts';

const T1 = 'token-one-0123456789abcdef';
const T2 = 'token-two-0123456789abcdef';

describe('token tables', () => {
  it('parses principal-token lines, skipping comments and blanks', () => {
    const table = TokenTable.parse(`# workers\n\nworker-a ${T1}\n  svc.b@x   ${T2}  \n`, 'tokens');
    assert.equal(table.size, 2);
    assert.equal(table.principalOf(T1), 'worker-a');
    assert.equal(table.principalOf(T2), 'svc.b@x');
    assert.equal(table.principalOf(`${T1}x`), undefined);
    assert.equal(table.principalOf(''), undefined);
  });

  it('refuses bad tables with messages that never quote a token', () => {
    const cases: [string, RegExp][] = [
      [`a ${T1}\nb ${T1}`, /principals a and b have the same token/],
      ['a short', /16\.\.4096 printable ASCII/],
      [`a ${T1} extra`, /line 1: expected "principal token"/],
      [`bad/name ${T1}`, /principal "bad\/name"/],
      ['# nothing\n', /no tokens/],
    ];
    for (const [text, message] of cases) {
      assert.throws(() => TokenTable.parse(text, 'f'), (err: unknown) => {
        assert.ok(err instanceof InvalidArgumentError);
        assert.match(err.message, message);
        assert.ok(!err.message.includes(T1) && !err.message.includes('short'), `no token in ${err.message}`);
        return true;
      });
    }
  });

  it('reads the bearer token from metadata', () => {
    const md = new Metadata();
    assert.equal(bearerToken(md), undefined);
    md.set('authorization', `Basic ${T1}`);
    assert.equal(bearerToken(md), undefined);
    md.set('authorization', `Bearer ${T1}`);
    assert.equal(bearerToken(md), T1);
  });
});

describe('logger', () => {
  const at = (): Date => new Date('2026-11-21T10:00:00.000Z');

  it('writes JSON lines at or above its level, with child fields', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'info', write: (l) => lines.push(l), now: at }).child({ replica: 2 });
    log.debug('hidden');
    log.info('leader.changed', { leader: 3, previous: undefined });
    log.error('replica.fatal', { error: 'disk "full"' });
    assert.equal(lines.length, 2);
    assert.deepEqual(JSON.parse(lines[0]!), { ts: '2026-11-21T10:00:00.000Z', level: 'info', event: 'leader.changed', replica: 2, leader: 3 });
    assert.equal((JSON.parse(lines[1]!) as { error: string }).error, 'disk "full"');
    assert.equal(log.enabled('debug'), false);
    assert.equal(log.enabled('warn'), true);
  });

  it('is quiet by default and writes logfmt on request', () => {
    const lines: string[] = [];
    const quiet = createLogger({ write: (l) => lines.push(l), now: at });
    quiet.info('replica.started');
    assert.equal(lines.length, 0, 'default level is warn');
    quiet.warn('peer.slow', { peer: 3, note: 'two words', ok: true });
    createLogger({ format: 'logfmt', write: (l) => lines.push(l), now: at }).warn('peer.slow', { peer: 3, note: 'two words', ok: true });
    assert.equal(lines[1], 'ts=2026-11-21T10:00:00.000Z level=warn event=peer.slow peer=3 note="two words" ok=true');
    NULL_LOGGER.error('nothing');
  });
});

describe('FixedHistogram', () => {
  it('exports cumulative buckets, sum and count per label value', async () => {
    const registry = new Registry();
    const h = new FixedHistogram<'a' | 'b'>('t_seconds', 'test', 'op', ['a', 'b'], [0.1, 1]);
    registry.registerMetric(h.metric);
    h.child('a').observe(0.05);
    h.child('a').observe(0.5);
    h.child('a').observe(5);
    const text = await registry.metrics();
    assert.match(text, /^# TYPE t_seconds histogram$/m);
    assert.match(text, /^t_seconds_bucket\{op="a",le="0.1"\} 1$/m);
    assert.match(text, /^t_seconds_bucket\{op="a",le="1"\} 2$/m);
    assert.match(text, /^t_seconds_bucket\{op="a",le="\+Inf"\} 3$/m);
    assert.match(text, /^t_seconds_sum\{op="a"\} 5.55$/m);
    assert.match(text, /^t_seconds_count\{op="b"\} 0$/m);
    assert.throws(() => h.child('c' as 'a'), InvalidArgumentError);
  });
});

describe('server security combinations', () => {
  const tls = { subject: 'x' } as unknown as TlsMaterial;
  const tokens = TokenTable.of([['a', T1]]);

  it('allows plaintext, TLS alone, and tokens over TLS', () => {
    checkServerSecurity(NO_SECURITY, 3);
    checkServerSecurity({ tls, clientTokens: null, peerToken: null }, 3);
    checkServerSecurity({ tls, clientTokens: tokens, peerToken: T2 }, 3);
    checkServerSecurity({ tls, clientTokens: tokens, peerToken: null }, 1);
  });

  it('refuses tokens without TLS and client tokens in a cluster without a peer token', () => {
    assert.throws(() => checkServerSecurity({ tls: null, clientTokens: tokens, peerToken: null }, 1), /--auth-tokens needs TLS/);
    assert.throws(() => checkServerSecurity({ tls: null, clientTokens: null, peerToken: T2 }, 3), /--peer-token-file needs TLS/);
    assert.throws(() => checkServerSecurity({ tls, clientTokens: tokens, peerToken: null }, 3), /needs --peer-token-file too/);
  });

  it('names the flag of an unreadable TLS file', () => {
    assert.throws(() => loadTls({ certPath: '/nonexistent/cert.pem', keyPath: '/x', caPath: '/y' }), /--tls-cert \/nonexistent\/cert\.pem: cannot read it/);
  });
});
