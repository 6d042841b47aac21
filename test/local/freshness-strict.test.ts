// The strict rule of freshness.ts: a strict key is served only while both the lease and the
// strict hold hold; the hold counts from the send time of the answered keep-alive; a dropped
// hold serves nothing strict; 'strict' is chosen per prefix only.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '../../src/protocol/errors.ts';
import { Freshness } from '../../src/local/cache/freshness.ts';

/** A Freshness whose lease runs until 1000 (a probe sent at 0, met at once). */
function leased(modes: Record<string, 'bounded' | 'eventual' | 'strict'>): Freshness {
  const f = new Freshness(1000, 'bounded', modes);
  f.applied(5);
  assert.equal(f.proved({ revision: 5, sentMs: 0, receivedMs: 1 }), true);
  return f;
}

describe('Freshness, strict mode', () => {
  it('takes strict per prefix only', () => {
    assert.throws(() => new Freshness(1000, 'strict'), InvalidArgumentError);
    assert.throws(() => new Freshness(1000, 'strict', {}), /per key prefix/);
    const f = new Freshness(1000, 'bounded', { 's/': 'strict', 's/b/': 'bounded', 'e/': 'eventual', 'z/': 'strict' });
    assert.deepEqual(f.strictPrefixes.sort(), ['s/', 'z/']);
  });

  it('serves a strict key only while the hold holds, counted from the keep-alive\'s send', () => {
    const f = leased({ 's/': 'strict' });
    assert.equal(f.mayServe('s/k', 10), false, 'no hold yet');
    assert.equal(f.mayServe('b/k', 10), true, 'a bounded key needs only the lease');
    assert.equal(f.held(100, 500), true);
    assert.equal(f.mayServe('s/k', 599), true);
    assert.equal(f.mayServe('s/k', 600), false, 'the hold ran out at send + leaseMs');
    assert.equal(f.held(50, 500), false, 'an older keep-alive answered late does not shorten or extend the hold');
    assert.equal(f.strictHoldUntilMs, 600);
  });

  it('needs the lease too: a hold alone does not serve a strict key', () => {
    const f = leased({ 's/': 'strict' });
    f.held(900, 5000);
    assert.equal(f.mayServe('s/k', 999), true);
    assert.equal(f.mayServe('s/k', 1000), false, 'the lease ran out though the hold still runs');
  });

  it('serves nothing strict once the hold is dropped, and nothing at all once revoked', () => {
    const f = leased({ 's/': 'strict', 'e/': 'eventual' });
    f.held(0, 800);
    f.dropHold();
    assert.equal(f.mayServe('s/k', 10), false);
    assert.equal(f.mayServe('b/k', 10), true);
    f.held(20, 800);
    f.revoke();
    assert.equal(f.mayServe('s/k', 30), false);
    assert.equal(f.strictHoldUntilMs, -Infinity);
    assert.equal(f.mayServe('e/k', 30), true, 'eventual keys are served whatever the lease says');
  });
});
