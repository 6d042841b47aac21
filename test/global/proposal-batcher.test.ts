// Proves DB-level batching: no waiting under light load, batches grow while proposals are
// in flight, limits hold, results route back to their submitters, and a lost instance or
// lost leadership rejects with retryable errors instead of hanging, and so does a proposal
// that a snapshot from a peer covered (unless the snapshot says what it returned).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NotLeaderError, UnavailableError } from '../../src/protocol/errors.ts';
import { BATCHER_DEFAULTS, ProposalBatcher, type ProposeOutcome } from '../../src/global/replica/proposal-batcher.ts';

const cmd = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array): string => new TextDecoder().decode(b);

/** A fake consensus that records proposals and lets the test decide them. */
class FakeLog {
  readonly proposals: { instance: number; commands: readonly Uint8Array[] }[] = [];
  next = 1;
  outcome: ProposeOutcome | null = null;
  propose = (commands: readonly Uint8Array[]): ProposeOutcome => {
    if (this.outcome !== null) return this.outcome;
    this.proposals.push({ instance: this.next, commands });
    return { outcome: 'proposed', instance: this.next++ };
  };
  decideOwn(batcher: ProposalBatcher<string>, index: number): void {
    const p = this.proposals[index]!;
    batcher.decided(p.instance, p.commands, p.commands.map((c) => `applied ${str(c)}`));
  }
}

describe('proposal batcher', () => {
  it('proposes at once when nothing is in flight (no added latency)', async () => {
    const log = new FakeLog();
    const b = new ProposalBatcher<string>(log.propose, { ...BATCHER_DEFAULTS, proposalsInFlightMax: 1 });
    const p = b.submit(cmd('a'));
    assert.equal(log.proposals.length, 1, 'proposed synchronously inside submit');
    log.decideOwn(b, 0);
    assert.equal(await p, 'applied a');
  });

  it('gathers commands that arrive while a proposal is in flight into one batch', async () => {
    const log = new FakeLog();
    const b = new ProposalBatcher<string>(log.propose, { ...BATCHER_DEFAULTS, proposalsInFlightMax: 1 });
    const first = b.submit(cmd('a'));
    const rest = ['b', 'c', 'd'].map((s) => b.submit(cmd(s)));
    assert.equal(log.proposals.length, 1);
    assert.equal(b.queuedCount, 3);
    log.decideOwn(b, 0);
    assert.equal(log.proposals.length, 2, 'the queue went out as one proposal');
    assert.deepEqual(log.proposals[1]!.commands.map(str), ['b', 'c', 'd']);
    log.decideOwn(b, 1);
    assert.equal(await first, 'applied a');
    assert.deepEqual(await Promise.all(rest), ['applied b', 'applied c', 'applied d']);
  });

  it('caps a batch by commands and by bytes', () => {
    const log = new FakeLog();
    const b = new ProposalBatcher<string>(log.propose, { ...BATCHER_DEFAULTS, proposalsInFlightMax: 1, batchCommandsMax: 2, batchBytesMax: 4 });
    void b.submit(cmd('x')).catch(() => {});
    for (const s of ['aa', 'bb', 'cccc', 'd']) void b.submit(cmd(s)).catch(() => {});
    log.decideOwn(b, 0);
    assert.deepEqual(log.proposals[1]!.commands.map(str), ['aa', 'bb'], 'two commands max');
    log.decideOwn(b, 1);
    assert.deepEqual(log.proposals[2]!.commands.map(str), ['cccc'], 'cccc + d would exceed 4 bytes');
    b.failAllPending(new UnavailableError('test over'));
  });

  it('rejects commands whose instance was won by another value, retryably', async () => {
    const log = new FakeLog();
    const b = new ProposalBatcher<string>(log.propose);
    const p = b.submit(cmd('mine'));
    b.decided(1, [cmd('theirs')], ['applied theirs']);
    await assert.rejects(p, (e: unknown) => e instanceof UnavailableError && e.retryable && /another leader's value/.test(e.message));
  });

  it('fails queued and in-flight commands with a leader hint when leadership is gone', async () => {
    const log = new FakeLog();
    const b = new ProposalBatcher<string>(log.propose, { ...BATCHER_DEFAULTS, proposalsInFlightMax: 1 });
    const inFlight = b.submit(cmd('a'));
    const queued = b.submit(cmd('b'));
    log.outcome = { outcome: 'not-leader', leaderHint: '127.0.0.1:7002' };
    log.decideOwn(b, 0);
    assert.equal(await inFlight, 'applied a', 'decided before the change: still succeeds');
    await assert.rejects(queued, (e: unknown) => e instanceof NotLeaderError && e.leaderHint === '127.0.0.1:7002');
    const late = b.submit(cmd('c'));
    await assert.rejects(late, NotLeaderError);
  });

  it('keeps commands queued while the consensus window is full', async () => {
    const log = new FakeLog();
    const b = new ProposalBatcher<string>(log.propose);
    log.outcome = { outcome: 'window-full' };
    const p = b.submit(cmd('a'));
    assert.equal(b.queuedCount, 1);
    log.outcome = null;
    b.flush();
    log.decideOwn(b, 0);
    assert.equal(await p, 'applied a');
  });

  it('refuses new commands past the queue limit', async () => {
    const log = new FakeLog();
    const b = new ProposalBatcher<string>(log.propose, { ...BATCHER_DEFAULTS, proposalsInFlightMax: 1, queuedCommandsMax: 1 });
    void b.submit(cmd('a')).catch(() => {});
    void b.submit(cmd('b')).catch(() => {});
    await assert.rejects(b.submit(cmd('c')), (e: unknown) => e instanceof UnavailableError && /1 commands queued/.test(e.message));
    b.failAllPending(new UnavailableError('test over'));
  });

  it('settles the proposals a snapshot covers: a known result, or a retryable refusal; then proposes what queued', async () => {
    const log = new FakeLog();
    const b = new ProposalBatcher<string>(log.propose, { ...BATCHER_DEFAULTS, proposalsInFlightMax: 2 });
    const ran = b.submit(cmd('ran'));
    const lost = b.submit(cmd('lost'));
    const queued = b.submit(cmd('queued'));
    assert.equal(b.proposalsInFlight, 2);
    const lostOutcome = assert.rejects(lost, (e: unknown) => e instanceof UnavailableError && /instance 2 covered/.test(e.message));
    b.coveredBySnapshot(2, (c) => (str(c) === 'ran' ? 'from the snapshot' : undefined), (instance) => new UnavailableError(`instance ${instance} covered`));
    assert.equal(await ran, 'from the snapshot');
    await lostOutcome;
    assert.equal(b.proposalsInFlight, 1, 'the queued command went out in a freed slot');
    log.decideOwn(b, 2);
    assert.equal(await queued, 'applied queued');
  });

  it('validates its limits', () => {
    assert.throws(() => new ProposalBatcher<string>(() => ({ outcome: 'window-full' }), { ...BATCHER_DEFAULTS, batchBytesMax: 0 }), /batchBytesMax must be an integer >= 1, got 0/);
  });
});
