// Simulated stable storage for one replica: a write-ahead log of records with a sync point, and
// an atomically replaced snapshot. A crash keeps everything synced, a random prefix of what was
// not, and may tear the last record kept (its checksum then fails and recovery stops there),
// which is what a real WAL with group commit and a torn-tail check leaves behind.

import type { Persist } from '../../src/consensus/ready.ts';
import { INITIAL_HARD_STATE, type HardState, type LogEntry, type RecoveredState, type Value } from '../../src/consensus/types.ts';
import type { SplitMix32 } from '../../src/consensus/random.ts';

type WalRecord =
  | { readonly kind: 'entry'; readonly entry: LogEntry; torn: boolean }
  | { readonly kind: 'hard'; readonly hardState: HardState; torn: boolean };

export interface SimSnapshot {
  readonly through: number;
  /** values[k] is the decided value of instance k + 1. */
  readonly values: readonly Value[];
}

export class SimStorage {
  private records: WalRecord[] = [];
  private syncedCount = 0;
  private snapshotValue: SimSnapshot = { through: 0, values: [] };
  /** Counts for the report. */
  syncs = 0;
  tornWrites = 0;
  lostRecords = 0;

  get snapshot(): SimSnapshot {
    return this.snapshotValue;
  }

  append(persist: Persist): void {
    for (const entry of persist.entries) this.records.push({ kind: 'entry', entry, torn: false });
    if (persist.hardState !== undefined) this.records.push({ kind: 'hard', hardState: persist.hardState, torn: false });
  }

  sync(): void {
    this.syncedCount = this.records.length;
    this.syncs++;
  }

  /** Written and made durable at once (temp file, fsync, rename, directory fsync). */
  saveSnapshot(snapshot: SimSnapshot): void {
    if (snapshot.through <= this.snapshotValue.through) return;
    this.snapshotValue = snapshot;
  }

  /** What the storage holds durably, as a separate copy (a backup or volume snapshot taken now). */
  durableCopy(): SimStorage {
    const copy = new SimStorage();
    copy.records = this.records.slice(0, this.syncedCount).map((r) => ({ ...r }));
    copy.syncedCount = copy.records.length;
    copy.snapshotValue = this.snapshotValue;
    return copy;
  }

  /** Loses unsynced records except a random prefix, possibly tearing the last one kept. */
  crash(random: SplitMix32): void {
    const unsynced = this.records.length - this.syncedCount;
    const kept = this.syncedCount + random.nextInt(unsynced + 1);
    this.lostRecords += this.records.length - kept;
    this.records.length = kept;
    if (kept > this.syncedCount && random.nextInt(2) === 0) {
      this.records[kept - 1]!.torn = true;
      this.tornWrites++;
    }
  }

  /** What a restarting replica reads back: records up to the first torn one, latest per instance. */
  recover(): RecoveredState {
    // No hard state recorded: as the real stable store, a replica that must recover.
    let hardState: HardState = INITIAL_HARD_STATE;
    const latest = new Map<number, LogEntry>();
    let valid = 0;
    for (const record of this.records) {
      if (record.torn) break;
      valid++;
      if (record.kind === 'hard') hardState = record.hardState;
      else latest.set(record.entry.instance, record.entry);
    }
    this.records.length = valid; // recovery truncates the torn tail
    this.syncedCount = valid;
    const through = this.snapshotValue.through;
    const entries = [...latest.values()].filter((e) => e.instance > through).sort((a, b) => a.instance - b.instance);
    return { hardState, entries, snapshotThrough: through };
  }
}
