// The rules of a follower's forwarded requests (src/global/server/forwarder.ts) on a fake clock and a
// fake link: what the caller learns when the answer comes, when it never comes (deadline, link
// broken, leader changed, replica closing), and when nothing could be sent (cap, no link).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClosedError, DeadlineExceededError, DstoreError, InvalidArgumentError, KeyOccupiedError, NotLeaderError, ResourceExhaustedError, UnavailableError } from '../../src/protocol/errors.ts';
import { Forwarder, viaLeader, type ForwarderConfig } from '../../src/global/server/forwarder.ts';
import { FakeClock } from '../local/fake-clock.ts';

interface Sent {
  readonly leaderId: number;
  readonly id: number;
  readonly request: string;
  readonly timeoutMs: number;
}

function setup(config: Partial<ForwarderConfig> = {}, linkUp = true): { clock: FakeClock; sent: Sent[]; forwarder: Forwarder<string, string> } {
  const clock = new FakeClock();
  const sent: Sent[] = [];
  const forwarder = new Forwarder<string, string>(2, { inFlightMax: 4, timeoutMsMax: 1_000, ...config }, clock, {
    send: (leaderId, id, request, timeoutMs) => {
      if (!linkUp) return false;
      sent.push({ leaderId, id, request, timeoutMs });
      return true;
    },
  });
  return { clock, sent, forwarder };
}

async function rejection(p: Promise<unknown>): Promise<DstoreError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof DstoreError, String(err));
    return err;
  }
  throw new Error('resolved');
}

describe('Forwarder', () => {
  it('resolves with the leader\'s answer and relays its errors as they are', async () => {
    const { sent, forwarder } = setup();
    const a = forwarder.forward(1, 'put a', true, 500);
    const b = forwarder.forward(1, 'put b', true, Infinity);
    assert.deepEqual(sent.map((s) => [s.leaderId, s.request, s.timeoutMs]), [[1, 'put a', 500], [1, 'put b', 1_000]]);
    forwarder.answer(3, sent[0]!.id, { ok: 'from the wrong replica' }); // ignored
    forwarder.answer(1, sent[0]!.id, { ok: 'done a' });
    forwarder.answer(1, sent[1]!.id, { error: new KeyOccupiedError('bound') });
    assert.equal(await a, 'done a');
    assert.ok((await rejection(b)) instanceof KeyOccupiedError);
    assert.equal(forwarder.inFlight, 0);
  });

  it('turns a NOT_LEADER answer into UNAVAILABLE, not run', async () => {
    const { sent, forwarder } = setup();
    const p = forwarder.forward(1, 'put', true, 500);
    forwarder.answer(1, sent[0]!.id, { error: new NotLeaderError('no longer', 'replica-3:1') });
    const err = await rejection(p);
    assert.ok(err instanceof UnavailableError);
    assert.equal(err.outcomeUnknown, false);
  });

  it('turns a CLOSED answer (the leader shutting down) into UNAVAILABLE, outcome unknown for a write', async () => {
    const { sent, forwarder } = setup();
    const p = forwarder.forward(1, 'put', true, 500);
    forwarder.answer(1, sent[0]!.id, { error: new ClosedError('replica is shutting down') });
    const err = await rejection(p);
    assert.ok(err instanceof UnavailableError && err.retryable && err.outcomeUnknown, err.message);
  });

  it('ends the wait at the deadline: a write\'s outcome is unknown, a read\'s is not', async () => {
    const { clock, sent, forwarder } = setup();
    const write = forwarder.forward(1, 'put', true, 300);
    const read = forwarder.forward(1, 'get', false, 300);
    clock.advance(299);
    assert.equal(forwarder.inFlight, 2);
    clock.advance(1);
    const w = await rejection(write);
    const r = await rejection(read);
    assert.ok(w instanceof DeadlineExceededError && w.outcomeUnknown);
    assert.ok(r instanceof DeadlineExceededError && !r.outcomeUnknown);
    forwarder.answer(1, sent[0]!.id, { ok: 'too late' }); // dropped
    assert.equal(forwarder.inFlight, 0);
  });

  it('fails what waits on a broken link or a leader change, and everything on close', async () => {
    const { forwarder } = setup();
    const toOne = forwarder.forward(1, 'put', true, 500);
    const toThree = forwarder.forward(3, 'put', true, 500);
    const readAtThree = forwarder.forward(3, 'get', false, 500);
    forwarder.linkDown(1);
    const e1 = await rejection(toOne);
    assert.ok(e1 instanceof UnavailableError && e1.outcomeUnknown, e1.message);
    forwarder.leaderChanged(3); // still the leader they went to: nothing fails
    assert.equal(forwarder.inFlight, 2);
    forwarder.leaderChanged(0);
    const e3 = await rejection(toThree);
    assert.ok(e3 instanceof UnavailableError && e3.outcomeUnknown, e3.message);
    assert.equal((await rejection(readAtThree)).outcomeUnknown, false);
    const later = forwarder.forward(3, 'put', true, 500);
    forwarder.close();
    assert.ok((await rejection(later)).outcomeUnknown);
    const closed = await rejection(forwarder.forward(3, 'put', true, 500));
    assert.ok(closed instanceof UnavailableError && !closed.outcomeUnknown, closed.message);
  });

  it('sends nothing past its cap, without a link, or without time left', async () => {
    const { forwarder } = setup({ inFlightMax: 2 });
    void forwarder.forward(1, 'a', false, 500).catch(() => undefined);
    void forwarder.forward(1, 'b', false, 500).catch(() => undefined);
    const full = await rejection(forwarder.forward(1, 'c', true, 500));
    assert.ok(full instanceof ResourceExhaustedError && !full.outcomeUnknown && full.retryable, full.message);
    forwarder.close();
    const down = setup({}, false).forwarder;
    const e = await rejection(down.forward(1, 'a', true, 500));
    assert.ok(e instanceof UnavailableError && !e.outcomeUnknown);
    assert.equal(down.inFlight, 0);
    const late = await rejection(down.forward(1, 'a', true, 0.5));
    assert.ok(late instanceof DeadlineExceededError && !late.outcomeUnknown);
  });

  it('refuses a bad config', () => {
    assert.throws(() => setup({ inFlightMax: 0 }), InvalidArgumentError);
    assert.throws(() => setup({ timeoutMsMax: -1 }), InvalidArgumentError);
  });

  it('viaLeader runs here when leading, knowing no leader, or not forwarding; else at the leader', async () => {
    const { sent, forwarder } = setup();
    const here = (): Promise<string> => Promise.resolve('here');
    assert.equal(await viaLeader({ isLeader: () => true, leaderId: () => 2 }, forwarder, 'r', true, 100, here), 'here');
    assert.equal(await viaLeader({ isLeader: () => false, leaderId: () => 0 }, forwarder, 'r', true, 100, here), 'here');
    assert.equal(await viaLeader({ isLeader: () => false, leaderId: () => 1 }, null, 'r', true, 100, here), 'here');
    const p = viaLeader({ isLeader: () => false, leaderId: () => 1 }, forwarder, 'r', true, 100, here);
    forwarder.answer(1, sent[0]!.id, { ok: 'there' });
    assert.equal(await p, 'there');
  });
});
