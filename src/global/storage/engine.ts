// The storage engine of one Global replica: the consensus stable store (WAL), the snapshot
// store and the blob store under one data directory, opened together and checked against each
// other:
//   <dir>/consensus/   WAL segments (stable-store.ts)
//   <dir>/snapshots/   state-machine snapshots (snapshot-store.ts)
//   <dir>/blobs/       pack/ (inline blobs) and large/ (blob files) (blob-store.ts)
//   <dir>/consensus.mark  how far the consensus log reached (wal-mark.ts)
//
// The order that keeps them consistent, which the driver follows and `compactToSnapshot`
// encodes: a snapshot is durable before the WAL behind it is dropped; and open syncs the
// snapshot directory before the log is opened, so a snapshot a restart restores from (and a
// wiped replica's new log builds on, without a checkpoint) is durable before that log is begun.
//
// A consensus log shorter than its mark (records lost: truncated, emptied, deleted) is never
// trusted as it is. With `walLoss: 'recover'` (a replica with peers) the engine records the
// hard state as recovering, so the replica votes on nothing it may have forgotten until every
// peer has told it what it may have promised and accepted; with 'refuse' (the default, and a
// single replica, which has no one to recover from) open throws, naming the files and what to
// do. A torn tail cut past what the mark vouches for may have been a finished write damaged
// later: with 'recover' the replica recovers after it the same way; with 'refuse' it is taken
// for torn (docs/storage.md, "A cut tail"). Either way `warnings` says what happened, for the log.
//
// Damaged bytes (a record, segment header, mark or snapshot header that fails its checksum:
// a bit flip, a lost or misdirected write) are never read past. With 'recover' the damaged
// consensus state is treated as lost: the log and its mark are moved aside
// (`<name>.corrupt-<ms>`) and the replica starts as a wiped one, recovering from its peers; a
// snapshot with a damaged header, or the newest one with a damaged payload, is moved aside the
// same way, and the log with it (its decided prefix may live only in that snapshot); so is a log
// deciding instances neither it nor the newest snapshot holds. With 'refuse' open throws CorruptFileError naming
// the file, the offset and what to do (docs/storage.md, "Damaged bytes").

import { CorruptError, InvalidArgumentError } from '../../protocol/errors.ts';
import { CorruptFileError, StorageFatalError } from './errors.ts';
import type { RecoveredState } from '../../consensus/types.ts';
import { BlobStore, type BlobStoreConfig, type StorageClock } from './blob-store.ts';
import type { FileSystem } from './fs.ts';
import { joinPath, parentOf } from './fs.ts';
import { parseSegmentName } from './segment.ts';
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
  /** `storage.wal_loss`, `storage.wal_corrupt`, `storage.snapshot_corrupt`, `storage.wal_repaired` or `storage.log_missing`. */
  readonly event: string;
  readonly message: string;
}

/** What an operator does about damaged bytes the engine does not repair by itself. */
const WIPE_ADVICE = 'The bytes on disk are damaged (a bit flip, or a write the disk lost or put elsewhere). '
  + 'For a replica in a cluster: move the data directory aside and start the replica on an empty one; it recovers from its peers (docs/operations.md, "Damaged storage"). '
  + 'For a single replica: restore the data directory from a backup (docs/operations.md, "Backup and restore")';
const RECOVER_NOTE = 'The replica starts as a wiped one: it votes on nothing until every peer has told it what it may have promised and accepted, and fetches the decided writes from them. Delete the moved-aside files once inspected';

/** `err` with `advice` added to its message, when it is a CorruptFileError without any. */
function withAdvice(err: unknown, advice: string): unknown {
  if (!(err instanceof CorruptFileError)) return err;
  return new CorruptFileError(err.file, err.offset, `${err.what}. ${advice}`, { cause: err });
}

function isConsensusFile(dir: string, file: string): boolean {
  return file.startsWith(`${joinPath(dir, 'consensus')}/`) || file === joinPath(dir, WAL_MARK_NAME);
}

/**
 * The first instance `recovered` says is decided that neither its entries nor the snapshot
 * through `latest` hold, or undefined. A log begun by a wiped replica holds no checkpoint:
 * its decided prefix lives only in the snapshot it restored from, so it is trusted only with
 * that snapshot (or a newer one) on disk.
 */
function missingDecided(recovered: RecoveredState, latest: number): number | undefined {
  const held = new Set(recovered.entries.map((e) => e.instance));
  for (let i = Math.max(latest, recovered.snapshotThrough) + 1; i <= recovered.hardState.decidedThrough; i++) {
    if (!held.has(i)) return i;
  }
  return undefined;
}

/** Renames `path` to `<path>.corrupt-<ms>` (a name no store reads) and syncs its directory. */
async function moveAside(options: StorageEngineOptions, path: string): Promise<string> {
  const aside = `${path}.corrupt-${Math.floor(options.clock.nowMs())}`;
  await options.fs.rename(path, aside);
  await options.fs.syncDir(parentOf(path));
  return aside;
}

/** Moves every WAL segment and the mark aside: what is left is a wiped replica's (no consensus state). */
async function quarantineConsensusState(options: StorageEngineOptions): Promise<string[]> {
  const walDir = joinPath(options.dir, 'consensus');
  const moved: string[] = [];
  for (const name of await options.fs.readdir(walDir)) {
    if (parseSegmentName(name) !== undefined) moved.push(await moveAside(options, joinPath(walDir, name)));
  }
  const markPath = joinPath(options.dir, WAL_MARK_NAME);
  if ((await options.fs.sizeBytes(markPath)) !== undefined) moved.push(await moveAside(options, markPath));
  return moved;
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
    const recover = options.walLoss === 'recover';
    const warnings: StorageWarning[] = [];
    await options.fs.mkdirp(options.dir);
    const snapshots = await StorageEngine.openSnapshots(options, warnings);
    const markPath = joinPath(options.dir, WAL_MARK_NAME);
    const hadMark = (await options.fs.sizeBytes(markPath)) !== undefined;
    let stable = await StorageEngine.openStable(options, warnings);
    warnings.push(...stable.walRepairs().map((message) => ({ event: 'storage.wal_repaired', message })));
    const through = stable.recovered().snapshotThrough;
    const latest = snapshots.latest()?.throughInstance ?? 0;
    const snapshotMovedAside = warnings.some((w) => w.event === 'storage.snapshot_corrupt');
    // A log shorter than its mark has a gap of its own, reported and handled as a loss below.
    const missing = stable.loss === undefined ? missingDecided(stable.recovered(), latest) : undefined;
    if (through > latest || snapshotMovedAside || missing !== undefined) {
      await stable.close();
      const what = through > latest
        ? `${options.dir}: the consensus log was compacted through instance ${through}, but the newest snapshot is through ${latest}`
        : snapshotMovedAside
          ? `${options.dir}: a snapshot the consensus log may build on was moved aside`
          : `${options.dir}: the consensus log says instances through ${stable.recovered().hardState.decidedThrough} are decided, but neither it nor a snapshot holds instance ${missing} (the snapshot it builds on is gone)`;
      if (!recover) throw new CorruptError(`${what}. ${WIPE_ADVICE}`);
      // A snapshot the log builds on is gone (moved aside as damaged, or its name never
      // reached the disk): the log's decided prefix may live only there (a log begun by a
      // wiped replica has no checkpoint), so the replica starts as a wiped one.
      const moved = await quarantineConsensusState(options);
      warnings.push({ event: 'storage.wal_corrupt', message: `${what}; moved the consensus log aside (${moved.join(', ')}). ${RECOVER_NOTE}` });
      stable = await StorageEngine.openStable(options, warnings);
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
      const gap = missingDecided(stable.recovered(), latest);
      if (gap !== undefined) {
        // Records lost from the log's start: what is left decides instances it does not hold.
        await stable.close();
        const moved = await quarantineConsensusState(options);
        warnings.push({ event: 'storage.wal_corrupt', message: `${options.dir}: what is left of the consensus log says instances through ${stable.recovered().hardState.decidedThrough} are decided, but neither it nor a snapshot holds instance ${gap}; moved the consensus log aside (${moved.join(', ')}). ${RECOVER_NOTE}` });
        stable = await StorageEngine.openStable(options, warnings);
      }
    } else if (stable.tailCut !== undefined) {
      if ((options.walLoss ?? 'refuse') === 'refuse') {
        await stable.acceptTailCut();
      } else {
        const cut = stable.tailCut;
        await stable.recoverFromLoss();
        warnings.push({ event: 'storage.wal_loss', message: `${cut}. The replica recovers from its peers: it votes on nothing until every peer has told it what it may have promised and accepted` });
      }
    }
    const quarantined = warnings.some((w) => w.event === 'storage.wal_corrupt');
    if (loss === undefined && !hadMark && !quarantined && !stable.holdsHardState && latest > 0) {
      warnings.push({ event: 'storage.log_missing', message: `${options.dir} holds a snapshot through instance ${latest} but no consensus log (and no ${WAL_MARK_NAME}): taken for a restored backup; if the log was deleted instead, the writes after the snapshot are gone from this replica` });
    }
    let blobs: BlobStore;
    try {
      blobs = await BlobStore.open({ fs: options.fs, dir: joinPath(options.dir, 'blobs'), clock: options.clock, ...(options.blobs === undefined ? {} : { config: options.blobs }) });
    } catch (err) {
      await stable.close().catch(() => undefined);
      throw withAdvice(err, WIPE_ADVICE);
    }
    return new StorageEngine(stable, snapshots, blobs, warnings);
  }

  /**
   * The snapshot store; with 'recover', a snapshot whose header is damaged is moved aside, and
   * so is the newest one when its payload fails its hash (read through once here: the replica
   * restores from it next, so the second read mostly hits the page cache).
   */
  private static async openSnapshots(options: StorageEngineOptions, warnings: StorageWarning[]): Promise<SnapshotStore> {
    const dir = joinPath(options.dir, 'snapshots');
    for (;;) {
      try {
        const store = await SnapshotStore.open({ fs: options.fs, dir, ...(options.snapshots === undefined ? {} : { config: options.snapshots }) });
        const latest = store.latest();
        if (options.walLoss === 'recover' && latest !== undefined) for await (const chunk of store.read(latest.throughInstance)) void chunk;
        // The names found here may not be durable yet (a publish whose directory sync failed
        // before a crash): the replica restores from them and the log it writes next may hold
        // no checkpoint, so they are made durable before that log is begun.
        await options.fs.syncDir(dir).catch((err: unknown) => {
          throw new StorageFatalError(`syncing the snapshot directory ${dir} on open failed: ${String(err)}`, { cause: err });
        });
        return store;
      } catch (err) {
        if (options.walLoss !== 'recover' || !(err instanceof CorruptFileError) || !err.file.startsWith(`${dir}/`)) throw withAdvice(err, WIPE_ADVICE);
        const aside = await moveAside(options, err.file);
        warnings.push({ event: 'storage.snapshot_corrupt', message: `${err.message}; moved it aside to ${aside}` });
      }
    }
  }

  /** The stable store; with 'recover', damaged consensus state is moved aside (file comment). */
  private static async openStable(options: StorageEngineOptions, warnings: StorageWarning[]): Promise<StableStore> {
    const open = (): Promise<StableStore> => StableStore.open({ fs: options.fs, dir: joinPath(options.dir, 'consensus'), markPath: joinPath(options.dir, WAL_MARK_NAME), ...(options.wal === undefined ? {} : { wal: options.wal }) });
    try {
      return await open();
    } catch (err) {
      if (options.walLoss !== 'recover' || !(err instanceof CorruptFileError) || !isConsensusFile(options.dir, err.file)) throw withAdvice(err, WIPE_ADVICE);
      const moved = await quarantineConsensusState(options);
      warnings.push({ event: 'storage.wal_corrupt', message: `${err.message}; moved the consensus log aside (${moved.join(', ')}). ${RECOVER_NOTE}` });
      return open();
    }
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
