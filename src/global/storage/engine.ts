// The storage engine of one Global replica: the consensus stable store (WAL), the snapshot
// store and the blob store under one data directory, opened together and checked against each
// other:
//   <dir>/consensus/   WAL segments (stable-store.ts)
//   <dir>/snapshots/   state-machine snapshots (snapshot-store.ts)
//   <dir>/blobs/       pack/ (inline blobs) and large/ (blob files) (blob-store.ts)
//
// The order that keeps them consistent, which the driver follows and `compactToSnapshot`
// encodes: a snapshot is durable before the WAL behind it is dropped.

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
}

export class StorageEngine {
  private constructor(
    readonly stable: StableStore,
    readonly snapshots: SnapshotStore,
    readonly blobs: BlobStore,
  ) {}

  /**
   * Opens and recovers all three stores. Throws CorruptError when the WAL was compacted
   * through an instance no snapshot on disk covers, and whatever the stores' `open` throws.
   */
  static async open(options: StorageEngineOptions): Promise<StorageEngine> {
    await options.fs.mkdirp(options.dir);
    const snapshots = await SnapshotStore.open({ fs: options.fs, dir: joinPath(options.dir, 'snapshots'), ...(options.snapshots === undefined ? {} : { config: options.snapshots }) });
    const stable = await StableStore.open({ fs: options.fs, dir: joinPath(options.dir, 'consensus'), ...(options.wal === undefined ? {} : { wal: options.wal }) });
    const through = stable.recovered().snapshotThrough;
    const latest = snapshots.latest()?.throughInstance ?? 0;
    if (through > latest) {
      await stable.close();
      throw new CorruptError(`${options.dir}: the consensus log was compacted through instance ${through}, but the newest snapshot is through ${latest}`);
    }
    const blobs = await BlobStore.open({ fs: options.fs, dir: joinPath(options.dir, 'blobs'), clock: options.clock, ...(options.blobs === undefined ? {} : { config: options.blobs }) });
    return new StorageEngine(stable, snapshots, blobs);
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
