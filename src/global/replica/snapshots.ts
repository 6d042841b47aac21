// Snapshots of the state machine (docs/architecture.md, "Lifecycle of a Global replica"):
// taking one every `snapshotEveryInstances` applied instances and compacting the WAL behind
// it, installing one fetched from a peer, restoring the newest one at start, and where the
// consensus core restarts relative to it.
//
// Every snapshot step that touches storage (a local snapshot and the WAL compaction behind
// it, the compaction behind a snapshot installed from a peer) runs one at a time, in call
// order. Without that, a slow local snapshot could try to compact the WAL to an instance
// below a newer snapshot's compaction point (refused by the stable store, which would be
// fatal). A step at or below `through` has nothing to do.

import { ClosedError, CorruptError, NotFoundError } from '../../protocol/errors.ts';
import { compareBallots, type LogEntry, type RecoveredState } from '../../consensus/index.ts';
import { decodeSnapshot, encodeSnapshot } from '../state/snapshot.ts';
import { StateMachine, type StateMachineConfig } from '../state/state-machine.ts';
import type { StorageEngine } from '../storage/engine.ts';

/** What the snapshot steps need from the coordinator. */
export interface SnapshotHost {
  readonly storage: StorageEngine;
  readonly closed: () => boolean;
  /** Tells the core, at the next loop boundary, to drop its log through `through`. */
  readonly compactLog: (through: number) => void;
  readonly fatal: (err: unknown) => void;
}

/** The state machine of the newest snapshot in `storage`, or an empty one. Throws CorruptError. */
export async function restoreStateMachine(storage: StorageEngine, config: StateMachineConfig): Promise<StateMachine> {
  if (storage.snapshots.latest() === undefined) return new StateMachine(config);
  const chunks: Uint8Array[] = [];
  for await (const chunk of storage.snapshots.read()) chunks.push(chunk.bytes);
  return decodeSnapshot(Buffer.concat(chunks), config);
}

export class Snapshots {
  private taking = false;
  /** Storage steps of snapshots, one at a time. */
  private work: Promise<void> = Promise.resolve();
  // Invariant: a snapshot through `through` is durable in the snapshot store and the state
  // machine has applied (or is about to install) at least that far; a snapshot step at or
  // below it is obsolete.
  private through: number;

  constructor(
    private readonly host: SnapshotHost,
    private readonly everyInstances: number,
    recoveredThrough: number,
  ) {
    this.through = recoveredThrough;
  }

  /** After an applied instance: takes a snapshot when `everyInstances` have passed since the last. */
  maybeTake(sm: StateMachine): void {
    if (this.taking || sm.appliedInstance - this.through < this.everyInstances) return;
    this.taking = true;
    // Encoding is synchronous, so the snapshot is exactly the state at this instance.
    const through = sm.appliedInstance;
    const bytes = encodeSnapshot(sm);
    this.write(through, bytes)
      .catch((err: unknown) => this.host.fatal(err))
      .finally(() => {
        this.taking = false;
      });
  }

  /** Takes a snapshot of `sm` now; resolves with its instance once it is durable. */
  async takeNow(sm: StateMachine): Promise<number> {
    const through = sm.appliedInstance;
    await this.write(through, encodeSnapshot(sm));
    return through;
  }

  /**
   * The storage part of installing a snapshot fetched from a peer: checks that the store
   * holds it and that `bytes` decode as a state through `through`, then compacts the WAL to
   * it (so no restart can find a decided prefix the WAL cannot back). Returns the decoded
   * state; the caller swaps it in at a loop boundary. Throws NotFoundError, CorruptError,
   * ClosedError (see ReplicaNode.installSnapshot).
   */
  async prepareInstall(through: number, bytes: Uint8Array, config: StateMachineConfig): Promise<StateMachine> {
    if (this.host.closed()) throw new ClosedError('replica is shutting down');
    const meta = this.host.storage.snapshots.list().find((s) => s.throughInstance === through);
    if (meta === undefined) throw new NotFoundError(`snapshot through ${through} is not in the snapshot store`);
    const incoming = decodeSnapshot(bytes, config);
    if (incoming.appliedInstance !== through) {
      throw new CorruptError(`snapshot through ${through} holds a state applied through ${incoming.appliedInstance}`);
    }
    await this.serially(async () => {
      if (through <= this.through || this.host.closed()) return;
      await this.host.storage.compactToSnapshot(meta);
      this.through = through;
    });
    return incoming;
  }

  /** Resolves once no snapshot write or compaction is running (before storage closes). */
  idle(): Promise<void> {
    return this.work;
  }

  private serially(work: () => Promise<void>): Promise<void> {
    const run = this.work.then(work);
    this.work = run.catch(() => undefined);
    return run;
  }

  /** Writes the local snapshot, drops the WAL behind it, then the core's log behind it. */
  private write(through: number, bytes: Uint8Array): Promise<void> {
    return this.serially(async () => {
      if (through <= this.through || this.host.closed()) return;
      const meta = await this.host.storage.snapshots.write(through, [bytes]);
      await this.host.storage.compactToSnapshot(meta);
      this.through = through;
      this.host.compactLog(through);
    });
  }
}

/**
 * What the consensus core restarts from when the state machine was restored from a snapshot
 * through `snapshotThrough` that is newer than the WAL's compaction point: a crash came
 * between a snapshot becoming durable and the WAL compaction behind it, or after a peer's
 * snapshot was installed. The core then starts at the snapshot (entries at or below it are
 * dropped) instead of replaying a log the state machine is already past, or finding a decided
 * prefix the WAL cannot back. An accepted entry dropped here still raises the promise, as the
 * core does for every recovered accept. Pure; does not modify `recovered`.
 */
export function recoveredAbove(recovered: RecoveredState, snapshotThrough: number): RecoveredState {
  if (snapshotThrough <= recovered.snapshotThrough) return recovered;
  let promised = recovered.hardState.promised;
  const entries: LogEntry[] = [];
  for (const entry of recovered.entries) {
    if (entry.instance > snapshotThrough) entries.push(entry);
    else if (!entry.decided && entry.instance > recovered.hardState.decidedThrough && compareBallots(entry.ballot, promised) > 0) promised = entry.ballot;
  }
  return { hardState: { ...recovered.hardState, promised }, entries, snapshotThrough };
}
