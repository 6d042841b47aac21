// The leader's strict-hold table (holders.ts): a write waits for every live holder of its keys
// (ack or lease end), the leader's view of a hold outlasts the Local's, a holder that registers
// during an invalidation is waited for too, a hold that ran out cannot be revived by a late
// keep-alive, and a new leader's grace period covers every hold an old leader granted.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError, ResourceExhaustedError } from '../../src/protocol/errors.ts';
import { HOLDER_ID_LENGTH_MAX, HOLD_PREFIXES_MAX, HOLDS_MAX, HolderRegistry } from '../../src/global/server/holders.ts';

describe('HolderRegistry', () => {
  it("stretches the leader's view of a hold by the drift bound", () => {
    const r = new HolderRegistry(1000, 10, 0);
    assert.equal(r.leaderLeaseMs, 1100);
    assert.equal(r.graceUntilMs, 1100);
    assert.equal(new HolderRegistry(1000, 10, 5000).graceUntilMs, 6100);
  });

  it('sends invalidations only to live holders whose prefixes cover a key', () => {
    const r = new HolderRegistry(1000, 0, 0);
    r.register('a', ['s/'], 0);
    r.register('b', ['t/'], 0);
    r.register('c', ['s/x', 't/'], 0);
    const inv = r.begin(['s/x1', 'u/1'], 10);
    assert.deepEqual(inv.sends.map((s) => [s.holderId, s.keys]), [['a', ['s/x1']], ['c', ['s/x1']]]);
    const unheld = r.begin(['u/1', 'v'], 10);
    assert.deepEqual(unheld.sends, []);
    assert.equal(r.waitUntilMs(unheld.id, 10), null, 'no holder of u/ or v: nothing to wait for');
  });

  it('holds the write until every holder acked', () => {
    const r = new HolderRegistry(1000, 0, 0);
    r.register('a', ['s/'], 0);
    r.register('b', ['s/'], 0);
    const inv = r.begin(['s/k'], 10);
    assert.equal(r.waitUntilMs(inv.id, 20), 1000);
    r.acked('a', inv.id);
    assert.equal(r.waitUntilMs(inv.id, 30), 1000, 'b has not acked');
    r.acked('b', inv.id);
    assert.equal(r.waitUntilMs(inv.id, 40), null);
  });

  it('lets the write go once a silent holder\'s lease ran out, and not before', () => {
    const r = new HolderRegistry(1000, 10, 0);
    r.register('a', ['s/'], 0);
    assert.equal(r.keepAlive('a', 500), true);
    const inv = r.begin(['s/k'], 600);
    assert.equal(r.waitUntilMs(inv.id, 1599), 1600);
    assert.equal(r.waitUntilMs(inv.id, 1600), null);
  });

  it('waits out a holder whose stream ended, without sending to it', () => {
    const r = new HolderRegistry(1000, 0, 0);
    r.register('a', ['s/'], 0);
    r.detach('a');
    const inv = r.begin(['s/k'], 10);
    assert.deepEqual(inv.sends, []);
    assert.equal(r.waitUntilMs(inv.id, 10), 1000);
    assert.equal(r.keepAlive('a', 20), false, 'a detached hold cannot be renewed: register anew');
  });

  it('tells a holder that registers before a write finished about it, without waiting for it', () => {
    const r = new HolderRegistry(1000, 0, 0);
    r.register('a', ['s/'], 0);
    const inv = r.begin(['s/k', 't/k'], 10);
    r.acked('a', inv.id);
    assert.equal(r.waitUntilMs(inv.id, 20), null, 'a acked: the write may be proposed');
    const sends = r.register('b', ['s/', 'u/'], 20);
    assert.deepEqual(sends, [{ holderId: 'b', id: inv.id, keys: ['s/k'] }], 'b learns of the write still in flight');
    assert.equal(r.waitUntilMs(inv.id, 30), null, 'b is not waited for');
    const unheld = r.begin(['v/k'], 30);
    assert.deepEqual(unheld.sends, []);
    assert.deepEqual(r.register('c', ['v/'], 40), [{ holderId: 'c', id: unheld.id, keys: ['v/k'] }], 'a write nobody held is told too');
    r.detach('a');
    assert.deepEqual(r.finish(inv.id), ['b'], 'a finished write is released at the attached holders it was sent to');
    assert.deepEqual(r.finish(unheld.id), ['c']);
    assert.equal(r.writesInFlight, 0);
    assert.deepEqual(r.register('d', ['s/', 'v/'], 50), [], 'a finished write is forgotten');
  });

  it('stops renewing a holder that keeps alive but never acks, so a write waits at most about two leases', () => {
    const r = new HolderRegistry(1000, 0, 0);
    r.register('a', ['s/'], 0);
    const inv = r.begin(['s/k'], 100);
    assert.equal(r.keepAlive('a', 600), true, 'within a lease of the invalidation: still renewed');
    assert.equal(r.waitUntilMs(inv.id, 600), 1600);
    assert.equal(r.keepAlive('a', 1100), false, 'a whole lease without an ack: not renewed');
    assert.equal(r.waitUntilMs(inv.id, 1600), null, 'the write goes ahead once the last renewal ran out');
  });

  it('refuses a keep-alive after the hold ran out (writes may have gone ahead without it)', () => {
    const r = new HolderRegistry(1000, 0, 0);
    r.register('a', ['s/'], 0);
    assert.equal(r.keepAlive('a', 999), true);
    assert.equal(r.keepAlive('a', 1999), false);
    assert.equal(r.keepAlive('a', 2000), false, 'refused for good');
    assert.equal(r.liveCount(1999), 0);
  });

  it('refuses a reused holder id, an empty id and a hold on no prefix', () => {
    const r = new HolderRegistry(1000, 0, 0);
    r.register('a', ['s/'], 0);
    assert.throws(() => r.register('a', ['s/'], 1), InvalidArgumentError);
    assert.throws(() => r.register('', ['s/'], 1), InvalidArgumentError);
    assert.throws(() => r.register('b', [], 1), InvalidArgumentError);
    assert.throws(() => r.register('b', [''], 1), InvalidArgumentError);
  });

  it('caps what one registration can make every write check: holds, prefixes per hold, id length', () => {
    const r = new HolderRegistry(1000, 0, 0);
    assert.throws(() => r.register('x'.repeat(HOLDER_ID_LENGTH_MAX + 1), ['s/'], 0), /holder_id is 129 characters, at most 128/);
    assert.throws(() => r.register('p', Array.from({ length: HOLD_PREFIXES_MAX + 1 }, (_, i) => `p${i}/`), 0), /65 prefixes, at most 64/);
    for (let i = 0; i < HOLDS_MAX; i++) r.register(`h${i}`, ['s/'], 0);
    assert.throws(() => r.register('one-more', ['s/'], 1), ResourceExhaustedError);
    // Once the holds ran out (leaderLeaseMs 1000), a registration makes room for itself.
    r.register('one-more', ['s/'], 1000);
    assert.equal(r.liveCount(1000), 1);
  });

  it('forgets run-out holds on expire', () => {
    const r = new HolderRegistry(1000, 0, 0);
    r.register('a', ['s/'], 0);
    r.register('b', ['s/'], 500);
    r.expire(1000);
    assert.equal(r.liveCount(1000), 1);
    const inv = r.begin(['s/k'], 1000);
    assert.deepEqual(inv.sends.map((s) => s.holderId), ['b']);
  });
});
