// Proves a consensus log shorter than its mark (consensus.mark) is never silently trusted:
// truncated, emptied or deleted, with or without a snapshot, the engine either refuses to
// open (the default, and a single replica's: the message names the files and what to do) or
// records the hard state as recovering (`walLoss: 'recover'`, a replica with peers) and says
// so in `warnings`. And that crashes never make an intact log look short (no false alarms).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LogEntry } from '../../src/consensus/types.ts';
import { StorageEngine } from '../../src/global/storage/engine.ts';
import { FaultFileSystem } from '../../src/global/storage/fault-fs.ts';
import { SeededRandom } from '../../src/global/storage/seeded-random.ts';
import { CorruptError } from '../../src/protocol/errors.ts';

const clock = { nowMs: (): number => 0 };
const DIR = '/data';
const MARK = '/data/consensus.mark';
const wal = { segmentBytesTarget: 4096 };

function entry(instance: number): LogEntry {
  return { instance, ballot: { round: 2, replicaId: 1 }, value: { kind: 'commands', commands: [Buffer.alloc(100, instance)] }, decided: false };
}

/** 50 persisted Readies, each an entry and a hard state deciding the previous one; clean close. */
async function filledEngine(fs: FaultFileSystem, snapshotAt?: number): Promise<void> {
  const engine = await StorageEngine.open({ fs, dir: DIR, clock, wal });
  for (let i = 1; i <= 50; i++) {
    await engine.stable.persist({ hardState: { promised: { round: 2, replicaId: 1 }, decidedThrough: i - 1, recovering: false }, entries: [entry(i)] });
    if (i === snapshotAt) await engine.compactToSnapshot(await engine.snapshots.write(i - 1, [Buffer.from(`state through ${i - 1}`)]));
  }
  await engine.close();
}

async function segments(fs: FaultFileSystem): Promise<string[]> {
  return (await fs.readdir(`${DIR}/consensus`)).filter((n) => n.endsWith('.wal')).map((n) => `${DIR}/consensus/${n}`);
}

async function truncate(fs: FaultFileSystem, path: string, toBytes: (size: number) => number): Promise<void> {
  const file = await fs.open(path, 'write');
  await file.truncate(toBytes(await file.sizeBytes()));
  await file.datasync();
  await file.close();
}

const damages: Record<string, (fs: FaultFileSystem) => Promise<void>> = {
  'truncated (last segment cut in half)': async (fs) => truncate(fs, (await segments(fs)).at(-1)!, (size) => Math.floor(size / 2)),
  'emptied (last segment cut to 0 bytes)': async (fs) => truncate(fs, (await segments(fs)).at(-1)!, () => 0),
  'deleted (every segment removed)': async (fs) => {
    for (const path of await segments(fs)) await fs.unlink(path);
    await fs.syncDir(`${DIR}/consensus`);
  },
  'cut at the start (first segment removed)': async (fs) => {
    await fs.unlink((await segments(fs))[0]!);
    await fs.syncDir(`${DIR}/consensus`);
  },
};

describe('consensus log shorter than its mark', () => {
  for (const [what, damage] of Object.entries(damages)) {
    for (const snapshotAt of [undefined, 30]) {
      const name = `${what}${snapshotAt === undefined ? '' : ', with a snapshot'}`;
      it(`${name}: refused by default, naming the files and what to do`, async () => {
        const fs = new FaultFileSystem({ seed: 1 });
        await filledEngine(fs, snapshotAt);
        await damage(fs);
        await assert.rejects(StorageEngine.open({ fs, dir: DIR, clock, wal }), (err: unknown) => {
          assert.ok(err instanceof CorruptError, String(err));
          assert.match(err.message, /the consensus log in \/data\/consensus is shorter than \/data\/consensus\.mark records/);
          assert.match(err.message, /Restore the data directory from a backup/);
          assert.match(err.message, /delete \/data\/consensus\.mark and start again/);
          return true;
        });
        // Refused again on the next start: the refusal left the mark alone.
        await assert.rejects(StorageEngine.open({ fs, dir: DIR, clock, wal }), /shorter than/);
      });

      it(`${name}: with walLoss 'recover', durably recovering and reported`, async () => {
        const fs = new FaultFileSystem({ seed: 2 });
        await filledEngine(fs, snapshotAt);
        await damage(fs);
        const engine = await StorageEngine.open({ fs, dir: DIR, clock, wal, walLoss: 'recover' });
        assert.equal(engine.recovered().hardState.recovering, true);
        assert.deepEqual(engine.warnings.filter((w) => w.event === 'storage.wal_loss').length, 1);
        assert.match(engine.warnings.find((w) => w.event === 'storage.wal_loss')!.message, /shorter than \/data\/consensus\.mark.*recovers from its peers/s);
        await engine.close();
        // Resolved: the mark now matches the log, and the recovering flag survived.
        const again = await StorageEngine.open({ fs: fs, dir: DIR, clock, wal });
        assert.equal(again.recovered().hardState.recovering, true);
        assert.equal(again.warnings.filter((w) => w.event === 'storage.wal_loss').length, 0);
        await again.close();
      });
    }
  }

  it('deleting the mark is the override: the log is taken as it is', async () => {
    const fs = new FaultFileSystem({ seed: 3 });
    await filledEngine(fs);
    await damages['truncated (last segment cut in half)']!(fs);
    await fs.unlink(MARK);
    await fs.syncDir(DIR);
    const engine = await StorageEngine.open({ fs, dir: DIR, clock, wal });
    assert.equal(engine.recovered().hardState.recovering, false);
    assert.ok(engine.recovered().entries.length < 50);
    await engine.close();
  });

  it('a log without a mark beside a snapshot is taken for a restored backup, with a warning', async () => {
    const fs = new FaultFileSystem({ seed: 4 });
    await filledEngine(fs, 30);
    await damages['deleted (every segment removed)']!(fs);
    await fs.unlink(MARK);
    await fs.syncDir(DIR);
    const engine = await StorageEngine.open({ fs, dir: DIR, clock, wal });
    assert.equal(engine.recovered().hardState.recovering, true);
    assert.match(engine.warnings.find((w) => w.event === 'storage.log_missing')?.message ?? '', /snapshot through instance 29 but no consensus log/);
    await engine.close();
  });

  it('a damaged mark is refused, naming it', async () => {
    const fs = new FaultFileSystem({ seed: 5 });
    await filledEngine(fs);
    const file = await fs.open(MARK, 'write');
    await file.write(Buffer.from([0xff]), 20);
    await file.datasync();
    await file.close();
    await assert.rejects(StorageEngine.open({ fs, dir: DIR, clock, wal }), /\/data\/consensus\.mark at byte 0: consensus log mark: CRC32C mismatch/);
  });

  it('an intact log never looks short after a crash (200 crash points)', async () => {
    let crashedMidRun = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const fs = new FaultFileSystem({ seed });
      const random = new SeededRandom(seed);
      // The workload takes about 80 file-system operations.
      fs.armCrash(random.below(80), seed % 2 === 0 ? 'torn' : 'lose-unsynced');
      try {
        const engine = await StorageEngine.open({ fs, dir: DIR, clock, wal });
        for (let i = 1; i <= 40; i++) {
          void engine.stable.persist({ hardState: { promised: { round: 2, replicaId: 1 }, decidedThrough: i - 1, recovering: false }, entries: [entry(i)] }).catch(() => undefined);
          if (i % 4 === 0) await engine.stable.persist({ entries: [] });
          if (i === 25) await engine.compactToSnapshot(await engine.snapshots.write(20, [Buffer.from('s')]));
        }
        await engine.close();
      } catch (err) {
        if ((err as { code?: unknown }).code !== 'ECRASHED' && !fs.isCrashed) throw err;
      }
      if (fs.isCrashed) crashedMidRun++;
      const disk = fs.afterCrash ?? fs.crashNow(seed % 2 === 0 ? 'torn' : 'lose-unsynced');
      try {
        const engine = await StorageEngine.open({ fs: disk, dir: DIR, clock, wal });
        assert.equal(engine.warnings.filter((w) => w.event === 'storage.wal_loss').length, 0);
        await engine.close();
      } catch (err) {
        if (err instanceof Error) err.message = `seed ${seed}: ${err.message}`;
        throw err;
      }
    }
    assert.ok(crashedMidRun > 150, `only ${crashedMidRun} of 200 runs crashed mid-run`);
  });
});

// A damaged last record looks the same whether the crash tore its write or a finished write
// (whose Promise or Accepted may have been sent) was damaged later. Where the mark vouches for
// the record, it is a loss; past the mark, a replica with peers recovers and a single replica
// takes it for torn (docs/storage.md, "A cut tail").
describe('a cut tail of the consensus log', () => {
  /** 50 durable Readies, then the process stops without closing (the mark lags the log). */
  async function crashedAfterSync(seed: number): Promise<FaultFileSystem> {
    const fs = new FaultFileSystem({ seed });
    const engine = await StorageEngine.open({ fs, dir: DIR, clock, wal });
    for (let i = 1; i <= 50; i++) {
      await engine.stable.persist({ hardState: { promised: { round: 2, replicaId: 1 }, decidedThrough: i - 1, recovering: false }, entries: [entry(i)] });
    }
    return fs.crashNow('lose-unsynced');
  }

  async function flipLastRecord(fs: FaultFileSystem): Promise<void> {
    const last = (await segments(fs)).at(-1)!;
    fs.flipBit(last, fs.contents(last)!.byteLength - 5);
  }

  it('a synced last record bit-flipped after a crash: a replica with peers opens recovering', async () => {
    const fs = await crashedAfterSync(11);
    await flipLastRecord(fs);
    const engine = await StorageEngine.open({ fs, dir: DIR, clock, wal, walLoss: 'recover' });
    assert.equal(engine.recovered().hardState.recovering, true);
    assert.equal(engine.recovered().entries.length, 49);
    assert.match(engine.warnings.find((w) => w.event === 'storage.wal_loss')?.message ?? '', /ended in a damaged record at LSN \d+, past what \/data\/consensus\.mark vouches for.*recovers from its peers/s);
    await engine.close();
    // Durable: the next start still recovers (and reports nothing new).
    const again = await StorageEngine.open({ fs, dir: DIR, clock, wal, walLoss: 'recover' });
    assert.equal(again.recovered().hardState.recovering, true);
    await again.close();
  });

  it('the same damage crashing between the recovering record and the mark still recovers', async () => {
    const fs = await crashedAfterSync(12);
    await flipLastRecord(fs);
    // The recovering record is the next write; the crash comes before the mark moves.
    fs.armCrash(4, 'lose-unsynced');
    await StorageEngine.open({ fs, dir: DIR, clock, wal, walLoss: 'recover' }).catch(() => undefined);
    const disk = fs.afterCrash ?? fs.crashNow('lose-unsynced');
    const engine = await StorageEngine.open({ fs: disk, dir: DIR, clock, wal, walLoss: 'recover' });
    assert.equal(engine.recovered().hardState.recovering, true);
    await engine.close();
  });

  it('a single replica takes it for torn: opens on the records before it', async () => {
    const fs = await crashedAfterSync(13);
    await flipLastRecord(fs);
    const engine = await StorageEngine.open({ fs, dir: DIR, clock, wal });
    assert.equal(engine.recovered().hardState.recovering, false);
    assert.equal(engine.recovered().entries.length, 49);
    assert.equal(engine.warnings.filter((w) => w.event === 'storage.wal_repaired').length, 1);
    await engine.close();
  });

  it('a last record the mark vouches for (clean stop), bit-flipped: refused alone, recovering with peers', async () => {
    const fs = new FaultFileSystem({ seed: 14 });
    await filledEngine(fs);
    await flipLastRecord(fs);
    await assert.rejects(StorageEngine.open({ fs, dir: DIR, clock, wal }), /shorter than \/data\/consensus\.mark records.*Restore the data directory from a backup/s);
    const engine = await StorageEngine.open({ fs, dir: DIR, clock, wal, walLoss: 'recover' });
    assert.equal(engine.recovered().hardState.recovering, true);
    await engine.close();
  });

  it('a torn tail (last write cut short) opens normally alone, and with peers recovers', async () => {
    for (const walLoss of ['refuse', 'recover'] as const) {
      const fs = await crashedAfterSync(15);
      // The power went while the 50th write was in flight: only its first bytes reached the disk.
      await truncate(fs, (await segments(fs)).at(-1)!, (size) => size - 20);
      const engine = await StorageEngine.open({ fs, dir: DIR, clock, wal, walLoss });
      assert.equal(engine.recovered().entries.length, 49, walLoss);
      assert.equal(engine.recovered().hardState.recovering, walLoss === 'recover', walLoss);
      assert.match(engine.warnings.find((w) => w.event === 'storage.wal_repaired')?.message ?? '', /cut a torn tail/, walLoss);
      await engine.close();
    }
  });
});
