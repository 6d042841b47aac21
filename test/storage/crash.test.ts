// Crash consistency over thousands of seeded random crash points, on the in-memory fault-
// injecting file system. Each case runs a concurrent workload, crashes the machine at a
// random file-system operation (alternating 'torn' crashes, which keep a random prefix of
// unsynced writes plus part of the next, and 'lose-unsynced' ones), then recovers from what
// survived and checks:
// - WAL: the recovered records are exactly a prefix of the records in append order, and that
//   prefix contains every record whose append was acknowledged; the log accepts appends again.
// - Stable store: the recovered state equals the state after some prefix of the persist and
//   compact calls that includes every acknowledged one.
// - Snapshots: the newest snapshot is either the last acknowledged one or a later one, whole,
//   and reads back verified.
// - Blobs: every acknowledged blob (not collected) is present; every blob present reads back
//   matching its hash.
// Each case also checks that it tested something: most workloads opened their store and had
// operations acknowledged before the crash (a store that fails at once would pass every
// check above vacuously), and an operation may fail only because the machine crashed.
// A failure prints the seed; rerun one with CRASH_SEED=<n>, or a fresh set of seeds with
// CRASH_SEED_OFFSET=<n>.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { INITIAL_HARD_STATE, type HardState, type LogEntry } from '../../src/consensus/types.ts';
import { hashOf, type Hash } from '../../src/protocol/hash.ts';
import { BlobStore } from '../../src/global/storage/blob-store.ts';
import { FaultFileSystem, type CrashMode } from '../../src/global/storage/fault-fs.ts';
import { SeededRandom } from '../../src/global/storage/seeded-random.ts';
import { SnapshotStore } from '../../src/global/storage/snapshot-store.ts';
import { StableStore } from '../../src/global/storage/stable-store.ts';
import { Wal } from '../../src/global/storage/wal.ts';

const ONLY_SEED = process.env.CRASH_SEED === undefined ? undefined : Number(process.env.CRASH_SEED);
/** More seeds on demand: CRASH_SEED_OFFSET=1000000 runs a fresh set of the same size. */
const SEED_OFFSET = Number(process.env.CRASH_SEED_OFFSET ?? 0);

function seeds(count: number, base: number): number[] {
  if (ONLY_SEED !== undefined) return [ONLY_SEED];
  return Array.from({ length: count }, (_, i) => SEED_OFFSET + base + i);
}

function modeFor(seed: number): CrashMode {
  return seed % 3 === 0 ? 'lose-unsynced' : 'torn';
}

/** Runs `workload` with a crash armed at a random operation; returns the surviving disk. */
async function crashDuring(seed: number, opsMax: number, setup: (fs: FaultFileSystem) => Promise<void>, workload: (fs: FaultFileSystem, random: SeededRandom) => Promise<void>): Promise<{ disk: FaultFileSystem; midRun: boolean }> {
  const random = new SeededRandom(seed * 7919 + 1);
  const fs = new FaultFileSystem({ seed });
  await setup(fs);
  fs.armCrash(random.below(opsMax), modeFor(seed));
  await workload(fs, random);
  const midRun = fs.isCrashed;
  const disk = fs.afterCrash ?? fs.crashNow(modeFor(seed));
  return { disk, midRun };
}

/**
 * For a workload's `catch`: an operation may fail only because the machine crashed (no other
 * fault is injected here). Anything else is rethrown, so a store that fails for another
 * reason fails the test instead of passing it by acknowledging nothing.
 */
function onlyCrashes(fs: FaultFileSystem): (err: unknown) => undefined {
  return (err) => {
    if (!fs.isCrashed) throw err;
    return undefined;
  };
}

/** How much of the workloads ran before their crash, so that a pass means something. */
class Coverage {
  opened = 0;
  midRun = 0;
  seedsWithAcks = 0;
  acks = 0;

  /** Fails unless most workloads opened their store and acknowledged operations before the crash. */
  check(cases: number, acksMin: number): void {
    if (ONLY_SEED !== undefined) return;
    assert.ok(this.opened > cases * 0.8, `only ${this.opened} of ${cases} workloads opened their store before the crash`);
    assert.ok(this.midRun > cases * 0.7, `only ${this.midRun} of ${cases} crashes hit mid-run`);
    assert.ok(this.seedsWithAcks > cases * 0.5, `only ${this.seedsWithAcks} of ${cases} workloads had an operation acknowledged before the crash`);
    assert.ok(this.acks >= acksMin, `only ${this.acks} operations acknowledged in all (at least ${acksMin} expected)`);
  }
}

function withSeed(seed: number, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    if (err instanceof Error) err.message = `seed ${seed} (CRASH_SEED=${seed}): ${err.message}`;
    throw err;
  }
}

// ---------------------------------------------------------------- WAL

describe('crash consistency: WAL', () => {
  const WAL_DIR = '/d/wal';
  const config = { segmentBytesTarget: 2048 };

  it('recovers a prefix of the append order containing every acknowledged record (1500 crash points)', async () => {
    let midRun = 0;
    let repaired = 0;
    const cases = seeds(1500, 0);
    for (const seed of cases) {
      const appended: string[] = [];
      let ackedMax = -1;
      // The workload takes 36-56 file-system operations (median 44).
      const { disk, midRun: mid } = await crashDuring(
        seed,
        50,
        async (fs) => {
          const wal = await Wal.open({ fs, dir: WAL_DIR, config, visit: () => undefined });
          await wal.close();
        },
        async (fs, random) => {
          const wal = await Wal.open({ fs, dir: WAL_DIR, config, visit: () => undefined }).catch(() => undefined);
          if (wal === undefined) return;
          const writers = Array.from({ length: 4 }, async (_, w) => {
            for (let i = 0; i < 12; i++) {
              const text = `w${w}-r${i}-${'x'.repeat(random.below(400))}`;
              const index = appended.push(text) - 1;
              try {
                await wal.append(1, Buffer.from(text));
                ackedMax = Math.max(ackedMax, index);
              } catch {
                return;
              }
            }
          });
          await Promise.all(writers);
          await wal.close();
        },
      );
      if (mid) midRun++;
      const recovered: string[] = [];
      const wal = await Wal.open({ fs: disk, dir: WAL_DIR, config, visit: (_t, payload) => recovered.push(payload.toString()) });
      if (wal.repairs.length > 0) repaired++;
      withSeed(seed, () => {
        assert.deepEqual(recovered, appended.slice(0, recovered.length), 'recovered records are a prefix of the append order');
        assert.ok(recovered.length > ackedMax, `acknowledged record #${ackedMax} lost (recovered ${recovered.length})`);
      });
      await wal.append(1, Buffer.from('after'));
      await wal.close();
      const again: string[] = [];
      const reopened = await Wal.open({ fs: disk, dir: WAL_DIR, config, visit: (_t, payload) => again.push(payload.toString()) });
      withSeed(seed, () => assert.deepEqual(again, [...recovered, 'after']));
      await reopened.close();
    }
    if (ONLY_SEED === undefined) {
      assert.ok(midRun > cases.length * 0.8, `only ${midRun} of ${cases.length} crashes hit mid-run`);
      assert.ok(repaired > 50, `only ${repaired} recoveries had a torn tail to repair`);
    }
  });
});

// ---------------------------------------------------------------- stable store

interface ModelState {
  hardState: HardState;
  entries: Map<number, string>;
  snapshotThrough: number;
}

function describeState(state: { hardState: HardState; entries: Iterable<[number, string]>; snapshotThrough: number }): string {
  const entries = [...state.entries].sort((a, b) => a[0] - b[0]);
  return JSON.stringify({ h: state.hardState, e: entries, s: state.snapshotThrough });
}

function entryText(e: LogEntry): string {
  return `${e.ballot.round}/${e.decided ? 'd' : 'a'}/${e.value.kind === 'noop' ? 'noop' : e.value.commands.map((c) => Buffer.from(c).toString()).join(',')}`;
}

describe('crash consistency: stable store', () => {
  const DIR = '/d/consensus';
  const wal = { segmentBytesTarget: 1024 };

  it('recovers the state after a prefix of the calls including every acknowledged one (800 crash points)', async () => {
    const cases = seeds(800, 10_000);
    const coverage = new Coverage();
    for (const seed of cases) {
      // states[k] = model state after the first k calls (persist or compact).
      const states: string[] = [];
      let ackedMax = 0;
      const model: ModelState = { hardState: INITIAL_HARD_STATE, entries: new Map(), snapshotThrough: 0 };
      states.push(describeState(model));
      let acks = 0;
      const { disk, midRun } = await crashDuring(
        seed,
        36,
        async (fs) => {
          await fs.mkdirp('/d');
        },
        async (_fs, random) => {
          const store = await StableStore.open({ fs: _fs, dir: DIR, wal }).catch(onlyCrashes(_fs));
          if (store === undefined) return;
          coverage.opened++;
          const acked = (index: number) => (): void => {
            ackedMax = Math.max(ackedMax, index);
            acks++;
          };
          const calls: Array<Promise<void>> = [];
          let round = 1;
          for (let step = 1; step <= 30; step++) {
            const index = step;
            if (random.chance(0.1) && model.hardState.decidedThrough > model.snapshotThrough) {
              const through = model.hardState.decidedThrough;
              model.snapshotThrough = through;
              for (const instance of [...model.entries.keys()]) if (instance <= through) model.entries.delete(instance);
              states.push(describeState(model));
              calls.push(store.compact(through).then(acked(index), onlyCrashes(_fs)));
              continue;
            }
            if (random.chance(0.2)) round++;
            const entries: LogEntry[] = [];
            for (let n = random.below(3); n > 0; n--) {
              const instance = model.snapshotThrough + 1 + random.below(8);
              const commands = random.chance(0.2) ? undefined : [Buffer.from(`s${step}-${'y'.repeat(random.below(120))}`)];
              const entry: LogEntry = { instance, ballot: { round, replicaId: 1 }, value: commands === undefined ? { kind: 'noop' } : { kind: 'commands', commands }, decided: random.chance(0.5) };
              entries.push(entry);
              model.entries.set(instance, entryText(entry));
            }
            let hardState: HardState | undefined;
            if (random.chance(0.6)) {
              hardState = { promised: { round, replicaId: 1 }, decidedThrough: Math.max(model.hardState.decidedThrough, model.snapshotThrough + random.below(6)), recovering: random.chance(0.2) };
              model.hardState = hardState;
            }
            states.push(describeState(model));
            calls.push(store.persist(hardState === undefined ? { entries } : { hardState, entries }).then(acked(index), onlyCrashes(_fs)));
            if (random.chance(0.3)) await Promise.all(calls);
          }
          await Promise.all(calls);
          await store.close().catch(onlyCrashes(_fs));
        },
      );
      if (midRun) coverage.midRun++;
      if (acks > 0) coverage.seedsWithAcks++;
      coverage.acks += acks;
      const store = await StableStore.open({ fs: disk, dir: DIR, wal });
      const recovered = store.recovered();
      const got = describeState({ hardState: recovered.hardState, entries: recovered.entries.map((e) => [e.instance, entryText(e)] as [number, string]), snapshotThrough: recovered.snapshotThrough });
      withSeed(seed, () => {
        const k = states.lastIndexOf(got);
        assert.ok(k >= 0, `recovered state matches no prefix of the calls: ${got}`);
        assert.ok(k >= ackedMax, `recovered the state after ${k} calls, but call ${ackedMax} was acknowledged`);
        const ascending = recovered.entries.every((e, i, all) => i === 0 || all[i - 1]!.instance < e.instance);
        assert.ok(ascending, 'entries ascend');
      });
      await store.close();
    }
    coverage.check(cases.length, cases.length * 3);
  });
});

// ---------------------------------------------------------------- snapshots

describe('crash consistency: snapshots', () => {
  const DIR = '/d/snapshots';

  it('leaves the previous or a newer whole snapshot, never a partial one (400 crash points)', async () => {
    const cases = seeds(400, 20_000);
    const coverage = new Coverage();
    for (const seed of cases) {
      let ackedThrough = 0;
      const contents = new Map<number, Buffer>();
      const { disk, midRun } = await crashDuring(
        seed,
        60,
        async (fs) => {
          const store = await SnapshotStore.open({ fs, dir: DIR });
          const first = Buffer.from('first snapshot');
          contents.set(1, first);
          await store.write(1, [first]);
          ackedThrough = 1;
        },
        async (fs, random) => {
          const store = await SnapshotStore.open({ fs, dir: DIR }).catch(onlyCrashes(fs));
          if (store === undefined) return;
          coverage.opened++;
          for (let through = 2; through <= 5; through++) {
            const payload = Buffer.from(new SeededRandom(seed + through).fill(new Uint8Array(200 + random.below(3000))));
            contents.set(through, payload);
            const pieces = [payload.subarray(0, 1000), payload.subarray(1000, 2000), payload.subarray(2000)];
            try {
              await store.write(through, pieces);
              ackedThrough = through;
              coverage.acks++;
            } catch (err) {
              onlyCrashes(fs)(err);
              return;
            }
          }
        },
      );
      if (midRun) coverage.midRun++;
      if (ackedThrough > 1) coverage.seedsWithAcks++;
      const store = await SnapshotStore.open({ fs: disk, dir: DIR });
      const latest = store.latest();
      withSeed(seed, () => {
        assert.ok(latest !== undefined && latest.throughInstance >= ackedThrough, `latest ${latest?.throughInstance}, acknowledged ${ackedThrough}`);
        assert.ok(!(disk.contents(DIR) ?? '').includes('partial'));
      });
      const read: Buffer[] = [];
      for await (const chunk of store.read()) read.push(Buffer.from(chunk.bytes));
      withSeed(seed, () => assert.deepEqual(Buffer.concat(read), contents.get(latest!.throughInstance)));
      const names = await disk.readdir(DIR);
      withSeed(seed, () => assert.ok(names.every((n) => !n.includes('partial')), `partial files left: ${names.join(',')}`));
    }
    coverage.check(cases.length, cases.length);
  });
});

// ---------------------------------------------------------------- blobs

describe('crash consistency: blobs', () => {
  const DIR = '/d/blobs';
  const config = { inlineBytesMax: 512, graceMs: 100, packSegmentBytesTarget: 4096, packCompactBytesMin: 0 };

  it('keeps every acknowledged blob and returns only bytes that match their hash (600 crash points)', async () => {
    const cases = seeds(600, 30_000);
    const coverage = new Coverage();
    let collections = 0;
    for (const seed of cases) {
      const clock = { ms: 0, nowMs(): number { return this.ms; } };
      const acked = new Map<Hash, Buffer>();
      const collected = new Set<Hash>();
      const { disk, midRun } = await crashDuring(
        seed,
        100,
        async (fs) => {
          await fs.mkdirp('/d');
        },
        async (fs, random) => {
          const store = await BlobStore.open({ fs, dir: DIR, clock, config }).catch(onlyCrashes(fs));
          if (store === undefined) return;
          coverage.opened++;
          const puts: Array<Promise<void>> = [];
          for (let i = 0; i < 24; i++) {
            const bytes = Buffer.from(new SeededRandom(seed * 100 + i).fill(new Uint8Array(random.chance(0.6) ? random.below(600) : 600 + random.below(6000))));
            if (random.chance(0.5)) {
              puts.push(store.put(bytes).then((hash) => void acked.set(hash, bytes), onlyCrashes(fs)));
            } else {
              const half = bytes.byteLength >> 1;
              puts.push(store.putStream([bytes.subarray(0, half), bytes.subarray(half)]).then((r) => void acked.set(r.hash, bytes), onlyCrashes(fs)));
            }
            if (random.chance(0.15)) {
              await Promise.all(puts);
              clock.ms += 150;
              const keep = new Set([...acked.keys()].filter(() => random.chance(0.5)));
              // Marked before the call: a collection cut short by the crash may have deleted them.
              for (const h of store.hashes()) if (!keep.has(h)) collected.add(h);
              const report = await store.collectGarbage((h) => keep.has(h)).catch(onlyCrashes(fs));
              if (report === undefined) return;
              collections++;
            }
          }
          await Promise.all(puts);
        },
      );
      if (midRun) coverage.midRun++;
      if (acked.size > 0) coverage.seedsWithAcks++;
      coverage.acks += acked.size;
      const store = await BlobStore.open({ fs: disk, dir: DIR, clock, config });
      for (const [hash, bytes] of acked) {
        if (collected.has(hash)) continue;
        const got = await store.get(hash).catch((err: unknown) => err);
        withSeed(seed, () => assert.deepEqual(got, bytes, `acknowledged blob ${hash} lost or wrong`));
      }
      for (const hash of store.hashes()) {
        const got = await store.get(hash);
        withSeed(seed, () => assert.equal(hashOf(got), hash));
      }
    }
    coverage.check(cases.length, cases.length * 3);
    if (ONLY_SEED === undefined) assert.ok(collections > cases.length * 0.3, `only ${collections} garbage collections completed before a crash`);
  });
});
