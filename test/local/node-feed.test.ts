// The node's feed for attached workers (src/local/node/node-feed.ts), driven by a stand-in for
// the node's Local: what a subscriber is sent, from where, and when it is told COMPACTED.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChangeEvent } from '../../src/local/client/client-types.ts';
import type { Hash } from '../../src/protocol/hash.ts';
import type { AppliedChange } from '../../src/local/local.ts';
import { FEED_UNSENT_MAX, NodeFeed, type AppliedSource } from '../../src/local/node/node-feed.ts';
import type { SubscribeResponse } from '../../src/protocol/generated/dstore/v1/SubscribeResponse.ts';

const HASH = '0'.repeat(64) as Hash;

class Source implements AppliedSource {
  private listener: ((change: AppliedChange) => void) | null = null;
  constructor(public synced: boolean, public revision: number) {}
  onApplied(listener: (change: AppliedChange) => void): () => void {
    this.listener = listener;
    return () => (this.listener = null);
  }
  /** One message of events at `revisions` (keys as given), covering up to `through`. */
  events(through: number, ...changes: [number, string][]): void {
    const events: ChangeEvent[] = changes.map(([revision, key]) => ({ type: 'put', kv: { key, hash: HASH, size: 1, createRevision: revision, modRevision: revision, version: 1 } }));
    this.revision = through;
    this.listener?.({ kind: 'message', message: { kind: 'events', revision: through, events } });
  }
  progress(revision: number): void {
    this.revision = revision;
    this.listener?.({ kind: 'message', message: { kind: 'progress', revision } });
  }
  jump(revision: number | null): void {
    this.synced = revision !== null;
    this.revision = revision ?? 0;
    this.listener?.({ kind: 'jump', revision });
  }
}

/** A call whose write callbacks run at once, or wait in `pending` while `holding`. */
class Call {
  readonly sent: SubscribeResponse[] = [];
  holding = false;
  readonly pending: (() => void)[] = [];
  write(message: SubscribeResponse, written: () => void): void {
    this.sent.push(message);
    if (this.holding) this.pending.push(written);
    else written();
  }
  /** What was sent, as `e<revision>:<revisions>` or `p<revision>`. */
  get summary(): string[] {
    return this.sent.map((m) => (m.events ? `e${Number(m.revision)}:${m.events.events!.map((e) => Number(e.kv!.modRevision)).join(',')}` : `p${Number(m.revision)}`));
  }
}

async function ended(done: Promise<void>): Promise<{ name: string; oldestRevision?: number } | null> {
  return done.then(() => null, (err: { name: string; oldestRevision?: number }) => err);
}

describe('NodeFeed', () => {
  it('from now: opens with a progress notice, then what the node applies, filtered by prefix', () => {
    const source = new Source(true, 10);
    const feed = new NodeFeed(source, 1000);
    const call = new Call();
    feed.serve(call, 0, 'a/');
    source.events(12, [11, 'a/x'], [12, 'b/y']);
    source.events(13, [13, 'b/z']);
    source.progress(15);
    assert.deepEqual(call.summary, ['p10', 'e12:11', 'p13', 'p15']);
  });

  it('catches up from the backlog from inside a message, then follows live, never repeating', () => {
    const source = new Source(true, 0);
    const feed = new NodeFeed(source, 1000);
    source.events(3, [1, 'k'], [2, 'k'], [3, 'k']);
    source.events(5, [5, 'k']);
    const call = new Call();
    feed.serve(call, 2, '');
    source.events(3, [3, 'k']); // a resumed stream repeating what was applied: not sent again
    source.events(6, [6, 'k']);
    assert.deepEqual(call.summary, ['e3:2,3', 'e5:5', 'e6:6']);
  });

  it('waits, silent, for a node behind the subscriber', () => {
    const source = new Source(true, 4);
    const feed = new NodeFeed(source, 1000);
    const call = new Call();
    feed.serve(call, 8, '');
    source.events(6, [5, 'k']);
    assert.deepEqual(call.summary, [], 'nothing the node has not applied is vouched for');
    source.events(9, [8, 'k'], [9, 'k']);
    assert.deepEqual(call.summary, ['e9:8,9']);
  });

  it('ends a subscriber behind what it keeps with COMPACTED naming the oldest revision', async () => {
    const source = new Source(true, 0);
    const feed = new NodeFeed(source, 1000, 3);
    for (let r = 1; r <= 5; r++) source.events(r, [r, 'k']);
    assert.equal(feed.oldest, 3, 'three events kept');
    const err = await ended(feed.serve(new Call(), 2, '').done);
    assert.equal(err?.name, 'CompactedError');
    assert.equal(err?.oldestRevision, 3);
    const call = new Call();
    feed.serve(call, 3, '');
    assert.deepEqual(call.summary, ['e3:3', 'e4:4', 'e5:5']);
  });

  it("a jump of the node's revision ends the subscribers it skipped; an unsynced node's come after it", async () => {
    const source = new Source(false, 0);
    const feed = new NodeFeed(source, 1000);
    const fromOne = feed.serve(new Call(), 1, '');
    const fromNow = new Call();
    const now = feed.serve(fromNow, 0, '');
    source.jump(20);
    const err = await ended(fromOne.done);
    assert.equal(err?.name, 'CompactedError');
    assert.equal(err?.oldestRevision, 21);
    assert.deepEqual(fromNow.summary, ['p20'], 'a subscriber from now starts at the node\'s revision');
    source.jump(null); // the node lost its place: everyone starts over
    const lost = await ended(now.done);
    assert.equal(lost?.name, 'CompactedError');
    assert.equal(lost?.oldestRevision, 0);
    const waiting = new Call();
    const late = feed.serve(waiting, 21, '');
    assert.equal(feed.size, 1);
    assert.deepEqual(waiting.summary, [], 'a subscriber to an unsynced node waits');
    source.jump(30);
    assert.equal((await ended(late.done))?.oldestRevision, 31);
  });

  it(`holds at most ${FEED_UNSENT_MAX} messages unsent, and resumes in order as they are handed on`, () => {
    const source = new Source(true, 0);
    const feed = new NodeFeed(source, 60_000);
    const call = new Call();
    call.holding = true;
    const served = feed.serve(call, 1, '');
    for (let r = 1; r <= 3 * FEED_UNSENT_MAX; r++) source.events(r, [r, 'k']);
    assert.equal(call.sent.length, FEED_UNSENT_MAX, 'the opening notice and the first events');
    call.holding = false;
    for (const written of call.pending.splice(0)) written();
    assert.deepEqual(call.summary, ['p0', ...Array.from({ length: 3 * FEED_UNSENT_MAX }, (_, i) => `e${i + 1}:${i + 1}`)]);
    served.cancel();
    assert.equal(feed.size, 0);
  });
});
