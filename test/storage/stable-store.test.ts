// Proves the stable store for consensus: what `persist` acknowledged comes back as the
// RecoveredState the core expects (latest hard state, latest entry per instance, ascending);
// compaction below a snapshot removes segments yet keeps every live entry (also ones whose
// only record was in a removed segment) across restarts; a failed write fails the store for
// good; a record that passes its CRC but does not decode is refused with file and offset; a
// decisions-only update (deferrable) is written with the next record, on compaction or close,
// or after two ticks alone, never on its own at once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { INITIAL_HARD_STATE, type HardState, type LogEntry } from '../../src/consensus/types.ts';
import { InvalidArgumentError } from '../../src/protocol/errors.ts';
import { decodeCheckpoint, decodeReady, encodeCheckpoint, encodeReady } from '../../src/global/storage/consensus-codec.ts';
import { CorruptFileError, DiskFullError } from '../../src/global/storage/errors.ts';
import { FaultFileSystem } from '../../src/global/storage/fault-fs.ts';
import { StableStore } from '../../src/global/storage/stable-store.ts';
import { Wal } from '../../src/global/storage/wal.ts';

const DIR = '/data/consensus';

function entry(instance: number, round: number, commands: string[] | 'noop' = [`cmd-${instance}`], decided = false): LogEntry {
  return {
    instance,
    ballot: { round, replicaId: 2 },
    value: commands === 'noop' ? { kind: 'noop' } : { kind: 'commands', commands: commands.map((c) => Buffer.from(c)) },
    decided,
  };
}

function hard(round: number, decidedThrough: number, recovering = false): HardState {
  return { promised: { round, replicaId: 1 }, decidedThrough, recovering };
}

function open(fs: FaultFileSystem, segmentBytesTarget = 64 * 1024): Promise<StableStore> {
  return StableStore.open({ fs, dir: DIR, wal: { segmentBytesTarget } });
}

/** Entries as plain comparable objects (commands as strings). */
function plain(entries: readonly LogEntry[]): unknown[] {
  return entries.map((e) => ({ ...e, value: e.value.kind === 'noop' ? 'noop' : e.value.commands.map((c) => Buffer.from(c).toString()) }));
}

describe('StableStore', () => {
  it('starts empty, with the hard state of a replica that must recover', async () => {
    const store = await open(new FaultFileSystem({ seed: 1 }));
    assert.deepEqual(store.recovered(), { hardState: { promised: { round: 0, replicaId: 0 }, decidedThrough: 0, recovering: true }, entries: [], snapshotThrough: 0 });
    assert.equal(store.recovered().hardState, INITIAL_HARD_STATE);
    await store.close();
  });

  it('keeps the recovering flag of the latest hard state, through a compaction', async () => {
    const fs = new FaultFileSystem({ seed: 6 });
    const store = await open(fs);
    // Entries alone do not end recovery: no hard state recorded yet.
    await store.persist({ entries: [entry(1, 1, ['x'], true)] });
    assert.equal(store.recovered().hardState.recovering, true);
    await store.persist({ hardState: hard(0, 1, true), entries: [] });
    await store.compact(1);
    await store.close();
    const afterCrash = fs.crashNow('lose-unsynced');
    let again = await open(afterCrash);
    assert.deepEqual(again.recovered().hardState, hard(0, 1, true), 'the checkpoint carries the flag');
    await again.persist({ hardState: hard(4, 1, false), entries: [] });
    await again.close();
    again = await open(afterCrash.crashNow('lose-unsynced'));
    assert.deepEqual(again.recovered().hardState, hard(4, 1, false));
    await again.close();
  });

  it('reads records written before the recovering flag existed as not recovering', () => {
    // A Ready with flags 1 (hard state, no bit 1) and a checkpoint without its trailing flags byte.
    const ready = encodeReady({ hardState: hard(3, 2), entries: [] });
    assert.equal(ready[0], 1);
    assert.equal(decodeReady(ready).hardState?.recovering, false);
    const checkpoint = encodeCheckpoint({ snapshotThrough: 2, hardState: hard(3, 2) });
    assert.deepEqual(decodeCheckpoint(checkpoint.subarray(0, checkpoint.length - 1)), { snapshotThrough: 2, hardState: hard(3, 2) });
    assert.deepEqual(decodeCheckpoint(encodeCheckpoint({ snapshotThrough: 2, hardState: hard(3, 2, true) })).hardState, hard(3, 2, true));
    assert.throws(() => decodeReady(Buffer.from([2, 0, 0, 0, 0])), /recovering without a hard state/);
  });

  it('keeps the vote stamps of the hard state, through a compaction; records without them read back without', async () => {
    const stamped: HardState = { ...hard(3, 1), stamp: { incarnation: 2, voteSeq: 2 ** 40 }, stampsSeen: [{ replicaId: 2, incarnation: 1, voteSeq: 7 }, { replicaId: 3, incarnation: 0, voteSeq: 2 ** 52 }] };
    assert.deepEqual(decodeReady(encodeReady({ hardState: stamped, entries: [entry(2, 3)] })).hardState, stamped);
    assert.deepEqual(decodeCheckpoint(encodeCheckpoint({ snapshotThrough: 1, hardState: stamped })).hardState, stamped);
    assert.deepEqual(decodeReady(encodeReady({ hardState: hard(3, 1), entries: [] })).hardState, hard(3, 1), 'no stamps written, none read');
    assert.throws(() => decodeReady(Buffer.from([4, 0, 0, 0, 0])), /vote stamps without a hard state/);
    const fs = new FaultFileSystem({ seed: 7 });
    const store = await open(fs);
    await store.persist({ hardState: stamped, entries: [entry(1, 1, ['x'], true)] });
    await store.compact(1);
    await store.close();
    const again = await open(fs.crashNow('lose-unsynced'));
    assert.deepEqual(again.recovered().hardState, stamped, 'the checkpoint carries the stamps');
    await again.close();
  });

  it('recovers the latest hard state and the latest entry per instance, ascending', async () => {
    const fs = new FaultFileSystem({ seed: 2 });
    const store = await open(fs);
    await store.persist({ hardState: hard(1, 0), entries: [entry(1, 1), entry(2, 1, 'noop')] });
    await store.persist({ entries: [entry(4, 1, ['a', '', 'c'])] });
    await store.persist({ hardState: hard(3, 2), entries: [entry(2, 3, ['x'], true), entry(1, 1, ['cmd-1'], true)] });
    await store.close();
    const again = await open(fs.crashNow('lose-unsynced'));
    const state = again.recovered();
    assert.deepEqual(state.hardState, hard(3, 2));
    assert.equal(state.snapshotThrough, 0);
    assert.deepEqual(plain(state.entries), plain([entry(1, 1, ['cmd-1'], true), entry(2, 3, ['x'], true), entry(4, 1, ['a', '', 'c'])]));
    await again.close();
  });

  it('round-trips large rounds, instances and binary commands through the codec', () => {
    const big = entry(2 ** 53 - 1, 2 ** 40 + 7, ['\u0000\u00ff binary']);
    const decoded = decodeReady(encodeReady({ hardState: { promised: { round: 2 ** 52, replicaId: 2 ** 32 - 1 }, decidedThrough: 2 ** 50, recovering: true }, entries: [big] }));
    assert.deepEqual(decoded.hardState, { promised: { round: 2 ** 52, replicaId: 2 ** 32 - 1 }, decidedThrough: 2 ** 50, recovering: true });
    assert.deepEqual(plain(decoded.entries), plain([big]));
    assert.throws(() => decodeReady(Buffer.from([0, 1, 0, 0, 0])), /entry.instance: needs 8 bytes/);
  });

  it('compacts below a snapshot: removes segments, keeps live entries, even old ones', async () => {
    const fs = new FaultFileSystem({ seed: 3 });
    const store = await open(fs, 1024);
    // Instance 101 is accepted early and stays undecided: its only record is in an old segment.
    await store.persist({ entries: [entry(101, 1, ['early'])] });
    for (let i = 1; i <= 100; i++) await store.persist({ hardState: hard(1, i), entries: [entry(i, 1, [`v${i}`], true)] });
    const before = store.segmentCount();
    assert.ok(before > 5, `${before} segments`);
    await store.compact(100);
    assert.ok(store.segmentCount() <= 2, `${store.segmentCount()} segments after compaction`);
    assert.deepEqual(plain(store.recovered().entries), plain([entry(101, 1, ['early'])]));
    await store.persist({ entries: [entry(102, 1)] });
    await store.close();
    const again = await open(fs.crashNow('lose-unsynced'), 1024);
    const state = again.recovered();
    assert.equal(state.snapshotThrough, 100);
    assert.deepEqual(state.hardState, hard(1, 100));
    assert.deepEqual(plain(state.entries), plain([entry(101, 1, ['early']), entry(102, 1)]));
    await assert.rejects(again.compact(99), (err: unknown) => err instanceof InvalidArgumentError && /snapshotThrough must be a safe integer >= 100, got 99/.test(err.message));
    await again.close();
  });

  it('fails for good after a full disk, keeping what was synced', async () => {
    const fs = new FaultFileSystem({ seed: 4 });
    const store = await open(fs);
    await store.persist({ hardState: hard(1, 0), entries: [entry(1, 1)] });
    fs.setCapacityBytes(fs.usedBytes() + 10);
    await assert.rejects(store.persist({ entries: [entry(2, 1)] }), DiskFullError);
    fs.setCapacityBytes(Number.MAX_SAFE_INTEGER);
    await assert.rejects(store.persist({ entries: [entry(3, 1)] }), DiskFullError, 'refuses after the failure');
    await store.close();
    const again = await open(fs.crashNow('lose-unsynced'));
    assert.deepEqual(plain(again.recovered().entries), plain([entry(1, 1)]));
    await again.close();
  });

  it('refuses a record that passes its CRC but does not decode, naming file and offset', async () => {
    const fs = new FaultFileSystem({ seed: 5 });
    const store = await open(fs);
    await store.persist({ entries: [entry(1, 1)] });
    await store.close();
    const wal = await Wal.open({ fs, dir: DIR, visit: () => undefined });
    const at = await wal.appendLocated(1, Buffer.from([8, 0, 0]));
    await wal.close();
    await assert.rejects(open(fs), (err: unknown) => {
      assert.ok(err instanceof CorruptFileError);
      assert.equal(err.offset, at.offset);
      assert.match(err.file, /0000000000000001\.wal$/);
      assert.match(err.message, /record LSN 2: ready.flags 8 has unknown bits/);
      return true;
    });
  });

  it('holds a deferrable update for the head of the next record, and resolves it when that is durable', async () => {
    const fs = new FaultFileSystem({ seed: 7 });
    const store = await open(fs);
    await store.persist({ hardState: hard(1, 0), entries: [entry(1, 1), entry(2, 1)] });
    const bytes = store.walBytes();
    let settled = false;
    const decided = store.persist({ hardState: hard(1, 1), entries: [entry(1, 1, ['cmd-1'], true)] }, true).then(() => { settled = true; });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(store.walBytes(), bytes, 'nothing written for it alone');
    assert.equal(settled, false);
    await store.persist({ entries: [entry(3, 1)] });
    await decided;
    const again = await open(fs.crashNow('lose-unsynced'));
    assert.deepEqual(again.recovered().hardState, hard(1, 1));
    assert.deepEqual(plain(again.recovered().entries), plain([entry(1, 1, ['cmd-1'], true), entry(2, 1), entry(3, 1)]));
    await again.close();
  });

  it('writes a deferred update that waited through two ticks alone, on compaction, and on close', async () => {
    const fs = new FaultFileSystem({ seed: 8 });
    const store = await open(fs);
    await store.persist({ hardState: hard(1, 0), entries: [entry(1, 1), entry(2, 1)] });
    const bytes = store.walBytes();
    const first = store.persist({ hardState: hard(1, 1), entries: [] }, true);
    store.ageDeferred();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(store.walBytes(), bytes, 'one tick: still held');
    store.ageDeferred();
    await first;
    assert.ok(store.walBytes() > bytes, 'two ticks: written');
    const second = store.persist({ hardState: hard(1, 2), entries: [] }, true);
    await store.compact(1);
    await second;
    const third = store.persist({ hardState: hard(1, 2), entries: [entry(2, 1, ['cmd-2'], true)] }, true);
    await store.close();
    await third;
    const again = await open(fs.crashNow('lose-unsynced'));
    assert.deepEqual(again.recovered().hardState, hard(1, 2));
    assert.deepEqual(plain(again.recovered().entries), plain([entry(2, 1, ['cmd-2'], true)]));
    await again.close();
  });
});
