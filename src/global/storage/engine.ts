// The storage engine of one Global replica: the consensus stable store (WAL), the snapshot
// store and the blob store under one data directory, opened together and checked against each
// other:
//   <dir>/consensus/   WAL segments (stable-store.ts)
//   <dir>/snapshots/   state-machine snapshots (snapshot-store.ts)
//   <dir>/blobs/       pack/ (inline blobs) and large/ (blob files) (blob-store.ts)
//   <dir>/consensus.mark  how far the consensus log reached (wal-mark.ts)
//
// The order that keeps them consistent, which the driver follows and `compactToSnapshot`
// encodes: a snapshot is durable before the WAL behind it is dropped.
//
// A consensus log shorter than its mark (records lost: truncated, emptied, deleted) is never
// trusted as it is. With `walLoss: 'recover'` (a replica with peers) the engine records the
// hard state as recovering, so the replica votes on nothing it may have forgotten until every
// peer has told it what it may have promised and accepted; with 'refuse' (the default, and a
// single replica, which has no one to recover from) open throws, naming the files and what to
// do. A torn tail cut past what the mark vouches for may have been a finished write damaged
// later: with 'recover' the replica recovers after it the same way; with 'refuse' it is taken
// for torn (docs/storage.md, "A cut tail"). Either way `warnings` says what happened, for the log.

import { CorruptError, InvalidArgumentError } from '../../protocol/errors.ts';
import type { RecoveredState } from '../../consensus/types.ts';
import { BlobStore, type BlobStoreConfig, type StorageClock } from './blob-store.ts';
import type { FileSystem } from './fs.ts';
import { joinPath } from './fs.ts';
import { SnapshotStore, type SnapshotConfig, type SnapshotMeta } from './snapshot-store.ts';
import { StableStore } from './stable-store.ts';
import type { WalConfig } from './wal.ts';

export interface StorageEngineOptions {
  readonly fs: FileSystem;
  readonly dir: string;
  readonly clock: StorageClock;
  readonly wal?: Partial<WalConfig>;
  readonly snapshots?: Partial<SnapshotConfig>;
  readonly blobs?: Partial<BlobStoreConfig>;
  /** What to do when the consensus log lost records (see the file comment); default 'refuse'. */
  readonly walLoss?: 'recover' | 'refuse';
}

/** Name of the consensus log's mark file in the data directory. */
export const WAL_MARK_NAME = 'consensus.mark';

/** Something found on open that the operator should hear about (logged at warn). */
export interface StorageWarning {
  /** `storage.wal_loss`, `storage.wal_repaired` or `storage.log_missing`. */
  readonly event: string;
  readonly message: string;
}

export class StorageEngine {
  private constructor(
    readonly stable: StableStore,
    readonly snapshots: SnapshotStore,
    readonly blobs: BlobStore,
    /** What open found and repaired or worked around, for the log. */
    readonly warnings: readonly StorageWarning[],
  ) {}

  /**
   * Opens and recovers all three stores. Throws CorruptError when the WAL was compacted
   * through an instance no snapshot on disk covers, when it lost records and `walLoss` is
   * 'refuse', and whatever the stores' `open` throws.
   */
  static async open(options: StorageEngineOptions): Promise<StorageEngine> {
    await options.fs.mkdirp(options.dir);
    const snapshots = await SnapshotStore.open({ fs: options.fs, dir: joinPath(options.dir, 'snapshots'), ...(options.snapshots === undefined ? {} : { config: options.snapshots }) });
    const hadMark = (await options.fs.sizeBytes(joinPath(options.dir, WAL_MARK_NAME))) !== undefined;
    const stable = await StableStore.open({ fs: options.fs, dir: joinPath(options.dir, 'consensus'), markPath: joinPath(options.dir, WAL_MARK_NAME), ...(options.wal === undefined ? {} : { wal: options.wal }) });
    const warnings: StorageWarning[] = stable.walRepairs().map((message) => ({ event: 'storage.wal_repaired', message }));
    const through = stable.recovered().snapshotThrough;
    const latest = snapshots.latest()?.throughInstance ?? 0;
    if (through > latest) {
      await stable.close();
      throw new CorruptError(`${options.dir}: the consensus log was compacted through instance ${through}, but the newest snapshot is through ${latest}`);
    }
    const loss = stable.loss;
    if (loss !== undefined) {
      if ((options.walLoss ?? 'refuse') === 'refuse') {
        await stable.close();
        throw new CorruptError(`${loss.description}. This replica has no peers to recover the lost promises, accepts and writes from, so it does not start on what is left. `
          + `Restore the data directory from a backup (docs/operations.md, "Backup and restore"); or, to start from what is left and lose the writes the missing records held, delete ${loss.markPath} and start again`);
      }
      await stable.recoverFromLoss();
      warnings.push({ event: 'storage.wal_loss', message: `${loss.description}. The replica recovers from its peers: it votes on nothing until every peer has told it what it may have promised and accepted, and fetches the decided writes it lost` });
    } else if (stable.tailCut !== undefined) {
      if ((options.walLoss ?? 'refuse') === 'refuse') {
        await stable.acceptTailCut();
      } else {
        const cut = stable.tailCut;
        await stable.recoverFromLoss();
        warnings.push({ event: 'storage.wal_loss', message: `${cut}. The replica recovers from its peers: it votes on nothing until every peer has told it what it may have promised and accepted` });
      }
    }
    if (loss === undefined && !hadMark && !stable.holdsHardState && latest > 0) {
      warnings.push({ event: 'storage.log_missing', message: `${options.dir} holds a snapshot through instance ${latest} but no consensus log (and no ${WAL_MARK_NAME}): taken for a restored backup; if the log was deleted instead, the writes after the snapshot are gone from this replica` });
    }
    const blobs = await BlobStore.open({ fs: options.fs, dir: joinPath(options.dir, 'blobs'), clock: options.clock, ...(options.blobs === undefined ? {} : { config: options.blobs }) });
    return new StorageEngine(stable, snapshots, blobs, warnings);
  }

  /** What consensus restarts from; the state machine restores from `snapshots.latest()`. */
  recovered(): RecoveredState {
    return this.stable.recovered();
  }

  /**
   * Drops the WAL behind `snapshot`, which must be complete (returned by the snapshot store's
   * `write` or an installer's `finish`, so already durable). Throws InvalidArgumentError when
   * the snapshot store does not hold it, else as StableStore.compact.
   */
  compactToSnapshot(snapshot: SnapshotMeta): Promise<void> {
    if (!this.snapshots.list().some((s) => s.throughInstance === snapshot.throughInstance && s.payloadHash === snapshot.payloadHash)) {
      return Promise.reject(new InvalidArgumentError(`compactToSnapshot: snapshot through ${snapshot.throughInstance} is not in the snapshot store`));
    }
    return this.stable.compact(snapshot.throughInstance);
  }

  async close(): Promise<void> {
    await this.stable.close();
    await this.blobs.close();
  }
}
