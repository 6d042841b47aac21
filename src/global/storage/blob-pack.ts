// Small blobs, stored inline as records of a log of their own (a Wal in `<blobs>/pack`), with
// an in-memory index from hash to record location rebuilt on open.
//
// Why a log of its own rather than the consensus WAL: the consensus WAL is cut below each
// snapshot on consensus's schedule, while a blob lives as long as some key references it. In
// the same segments, either every snapshot would have to carry all small blobs or truncation
// would wait on the oldest referenced blob. A separate log keeps group commit, CRC framing
// and torn-tail recovery (one implementation) and is compacted on the blobs' own schedule.
//
// Record payload: 32-byte BLAKE3 hash, then the blob. Deleting is dropping the index entry;
// the bytes stay until compaction copies the live blobs out of the sealed segments and
// removes those. A deleted blob that comes back after a restart (its segment not yet removed)
// is harmless: it is still exactly the bytes of its hash, and the next collection drops it.

import { NotFoundError } from '../../protocol/errors.ts';
import { HASH_BYTES, hashFromBytes, hashToBytes, verifyHash, type Hash } from '../../protocol/hash.ts';
import { CorruptFileError } from './errors.ts';
import type { FileSystem } from './fs.ts';
import { joinPath } from './fs.ts';
import { RECORD_HEADER_BYTES } from './record-codec.ts';
import { SEGMENT_HEADER_BYTES, segmentName } from './segment.ts';
import { Wal, type RecordLocation } from './wal.ts';

const RECORD_INLINE_BLOB = 1;
const COMPACT_GROUP_BLOBS = 256;

export interface BlobPackConfig {
  readonly segmentBytesTarget: number;
  /** Compact when live bytes fall below this fraction of the sealed segments' bytes. */
  readonly liveRatioMin: number;
  /** Never compact while sealed segments hold less than this. */
  readonly compactBytesMin: number;
  readonly recordBytesMax: number;
}

export class BlobPack {
  // Invariant: every location in `index` is a durable record whose payload starts with its key.
  // Invariant: `bytesTotal` is the sum of the sizes `index` lists (kept, so status and
  // metrics do not walk every blob).
  private readonly index = new Map<Hash, RecordLocation>();
  private bytesTotal = 0;
  private wal!: Wal;

  private constructor(
    private readonly dir: string,
    private readonly config: BlobPackConfig,
  ) {}

  /** Opens (recovering) the pack in `dir`. Throws what Wal.open throws. */
  static async open(fs: FileSystem, dir: string, config: BlobPackConfig): Promise<BlobPack> {
    const pack = new BlobPack(dir, config);
    pack.wal = await Wal.open({
      fs,
      dir,
      config: { segmentBytesTarget: config.segmentBytesTarget, recordBytesMax: config.recordBytesMax },
      visit: (type, payload, lsn, segmentFirstLsn, offset) => {
        if (type !== RECORD_INLINE_BLOB || payload.byteLength < HASH_BYTES) {
          throw new CorruptFileError(joinPath(dir, segmentName(segmentFirstLsn)), offset, `record LSN ${lsn}: not an inline blob (type ${type}, ${payload.byteLength} bytes)`);
        }
        pack.place(hashFromBytes(payload.subarray(0, HASH_BYTES)), { segmentFirstLsn, offset, lsn, payloadBytes: payload.byteLength });
      },
    });
    return pack;
  }

  has(hash: Hash): boolean {
    return this.index.has(hash);
  }

  hashes(): IterableIterator<Hash> {
    return this.index.keys();
  }

  sizeBytes(hash: Hash): number | undefined {
    const at = this.index.get(hash);
    return at === undefined ? undefined : at.payloadBytes - HASH_BYTES;
  }

  /** Bytes of every blob held (payloads, not their framing). */
  totalBytes(): number {
    return this.bytesTotal;
  }

  private place(hash: Hash, at: RecordLocation): void {
    const before = this.index.get(hash);
    if (before !== undefined) this.bytesTotal -= before.payloadBytes - HASH_BYTES;
    this.index.set(hash, at);
    this.bytesTotal += at.payloadBytes - HASH_BYTES;
  }

  /** Makes `bytes` (which must hash to `hash`) durable. Throws what Wal.append throws. */
  async put(hash: Hash, bytes: Uint8Array): Promise<void> {
    const payload = Buffer.allocUnsafe(HASH_BYTES + bytes.byteLength);
    hashToBytes(hash).copy(payload, 0);
    payload.set(bytes, HASH_BYTES);
    this.place(hash, await this.wal.appendLocated(RECORD_INLINE_BLOB, payload));
  }

  /**
   * The blob's bytes (a new buffer), checked by CRC and by hash. Throws NotFoundError,
   * CorruptError / CorruptFileError.
   */
  async get(hash: Hash): Promise<Buffer> {
    for (;;) {
      const at = this.index.get(hash);
      if (at === undefined) throw new NotFoundError(`blob ${hash} not found`);
      let payload: Buffer;
      try {
        payload = await this.wal.readAt(at);
      } catch (err) {
        // Compaction moved it and removed the old segment meanwhile: look again.
        if (err instanceof NotFoundError && this.index.get(hash) !== at) continue;
        throw err;
      }
      const path = joinPath(this.dir, segmentName(at.segmentFirstLsn));
      if (hashFromBytes(payload.subarray(0, HASH_BYTES)) !== hash) throw new CorruptFileError(path, at.offset, `inline blob record holds ${hashFromBytes(payload.subarray(0, HASH_BYTES))}, index says ${hash}`);
      const bytes = payload.subarray(HASH_BYTES);
      verifyHash(bytes, hash, `inline blob in ${path} at byte ${at.offset}`);
      return bytes;
    }
  }

  /** Forgets the blob; its bytes go with the next compaction. Returns its size, or undefined. */
  remove(hash: Hash): number | undefined {
    const at = this.index.get(hash);
    if (at === undefined) return undefined;
    this.index.delete(hash);
    this.bytesTotal -= at.payloadBytes - HASH_BYTES;
    return at.payloadBytes - HASH_BYTES;
  }

  /**
   * When live blobs fill too little of the sealed segments, copies them to the head of the
   * log and removes the sealed segments. Returns what it did. Throws what Wal throws (a read
   * that fails its check is a CorruptError: the segment is not removed).
   */
  async compact(): Promise<{ moved: number; segmentsRemoved: number }> {
    const cutLsn = this.wal.activeSegmentFirstLsn;
    const sealed = this.wal.segmentInfos().filter((s) => s.firstLsn < cutLsn);
    const sealedBytes = sealed.reduce((sum, s) => sum + s.sizeBytes - SEGMENT_HEADER_BYTES, 0);
    if (sealed.length === 0 || sealedBytes < this.config.compactBytesMin) return { moved: 0, segmentsRemoved: 0 };
    const live = [...this.index.entries()].filter(([, at]) => at.segmentFirstLsn < cutLsn);
    const liveBytes = live.reduce((sum, [, at]) => sum + RECORD_HEADER_BYTES + at.payloadBytes, 0);
    if (liveBytes >= sealedBytes * this.config.liveRatioMin) return { moved: 0, segmentsRemoved: 0 };
    // In groups, so one group shares one group commit without holding every blob in memory.
    for (let start = 0; start < live.length; start += COMPACT_GROUP_BLOBS) {
      const group = live.slice(start, start + COMPACT_GROUP_BLOBS);
      const payloads: Buffer[] = [];
      for (const [, at] of group) payloads.push(await this.wal.readAt(at));
      const copies = group.map(([hash, at], i) => {
        if (this.index.get(hash) !== at) return Promise.resolve(); // removed or put again meanwhile
        return this.wal.appendLocated(RECORD_INLINE_BLOB, payloads[i]!).then((moved) => {
          if (this.index.get(hash) === at) this.place(hash, moved);
        });
      });
      await Promise.all(copies);
    }
    const segmentsRemoved = await this.wal.removeSegmentsBelow(cutLsn);
    return { moved: live.length, segmentsRemoved };
  }

  close(): Promise<void> {
    return this.wal.close();
  }
}
