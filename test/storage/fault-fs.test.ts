// Proves that the fault-injecting file system models what the crash tests rely on: unsynced
// data and names are lost on a crash, synced ones survive, a torn crash keeps a prefix of the
// pending writes plus part of the next, ENOSPC writes what fits, injected EIO fails the
// chosen call once, bit flips reach both reads and the surviving disk, and an armed crash
// kills the instance at the chosen operation. For files opened '-dsync' (O_DSYNC): a write
// that resolved survives any crash, one in flight at a crash is refused and survives whole,
// torn or not at all, a short write ending in ENOSPC keeps what fit durably, and an EIO
// leaves the write possibly in the page cache, never durable. Silent faults: a seeded bit flip
// at rest replays from its seed; a lost write (whole or one page) and a misdirected write (a
// page away, or into another file) are seen by reads until the machine restarts, then not.
// Also checks CRC32C against its standard vector.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32c } from '../../src/global/storage/crc32c.ts';
import { FaultFileSystem } from '../../src/global/storage/fault-fs.ts';

const D = '/d';

async function freshFs(seed = 1): Promise<FaultFileSystem> {
  const fs = new FaultFileSystem({ seed });
  await fs.mkdirp(D);
  return fs;
}

describe('FaultFileSystem', () => {
  it('loses unsynced data and names on a crash, keeps synced ones', async () => {
    const fs = await freshFs();
    const a = await fs.open(`${D}/a`, 'create');
    await a.write(Buffer.from('synced'), 0);
    await a.datasync();
    await fs.syncDir(D);
    await a.write(Buffer.from('-lost'), 6);
    const b = await fs.open(`${D}/b`, 'create');
    await b.write(Buffer.from('data'), 0);
    await b.datasync(); // data durable, but its name was never synced
    const disk = fs.crashNow('lose-unsynced');
    assert.deepEqual(disk.contents(`${D}/a`), Buffer.from('synced'));
    assert.equal(disk.contents(`${D}/b`), undefined);
    await assert.rejects(a.read(Buffer.alloc(1), 0, 1, 0), /ECRASHED/);
  });

  it('keeps a renamed name only once the directory is synced', async () => {
    const fs = await freshFs();
    const f = await fs.open(`${D}/tmp`, 'create');
    await f.write(Buffer.from('x'), 0);
    await f.datasync();
    await fs.syncDir(D);
    await fs.rename(`${D}/tmp`, `${D}/final`);
    const lost = fs.crashNow('lose-unsynced');
    assert.deepEqual(await lost.readdir(D), ['tmp']);
    const fs2 = await freshFs();
    const g = await fs2.open(`${D}/tmp`, 'create');
    await g.datasync();
    await fs2.rename(`${D}/tmp`, `${D}/final`);
    await fs2.syncDir(D);
    assert.deepEqual(await fs2.crashNow('lose-unsynced').readdir(D), ['final']);
  });

  it('tears: a torn crash keeps a prefix of pending writes, sector by sector for the next one', async () => {
    const outcomes = new Set<string>();
    for (let seed = 0; seed < 200; seed++) {
      const fs = await freshFs(seed);
      const f = await fs.open(`${D}/f`, 'create');
      await f.datasync();
      await fs.syncDir(D);
      await f.write(Buffer.alloc(1024, 1), 0);
      await f.write(Buffer.alloc(1024, 2), 1024);
      const survived = fs.crashNow('torn').contents(`${D}/f`)!;
      // Sector-level summary: 1 = first write, 2 = second, 0 = hole/zero, x = garbage
      const sectors = Array.from({ length: Math.ceil(survived.byteLength / 512) }, (_, s) => {
        const chunk = survived.subarray(s * 512, (s + 1) * 512);
        const v = chunk[0]!;
        return chunk.every((b) => b === v) && v <= 2 ? String(v) : 'x';
      }).join('');
      outcomes.add(sectors);
      // Never the second write's data without the first write's whole data.
      if (sectors.includes('2')) assert.equal(sectors.slice(0, 2), '11', sectors);
    }
    assert.ok(outcomes.has(''), 'all lost');
    assert.ok(outcomes.has('1122'), 'all kept');
    assert.ok([...outcomes].some((o) => /^11(?!22)/.test(o) && o.length > 2), `a torn second write among ${[...outcomes].join(',')}`);
  });

  it('writes what fits and then fails with ENOSPC', async () => {
    const fs = new FaultFileSystem({ seed: 1, capacityBytes: 100 });
    await fs.mkdirp(D);
    const f = await fs.open(`${D}/f`, 'create');
    await f.write(Buffer.alloc(60), 0);
    await assert.rejects(f.write(Buffer.alloc(60, 7), 60), (err: unknown) => (err as { code?: string }).code === 'ENOSPC');
    assert.equal(await f.sizeBytes(), 100);
  });

  it('fails the injected operation once, on the chosen path only', async () => {
    const fs = await freshFs();
    const a = await fs.open(`${D}/a`, 'create');
    const b = await fs.open(`${D}/b`, 'create');
    fs.inject({ op: 'datasync', code: 'EIO', pathIncludes: '/b' });
    await a.datasync();
    await assert.rejects(b.datasync(), (err: unknown) => (err as { code?: string }).code === 'EIO');
    await b.datasync();
  });

  it('flips a bit in what reads see and in what survives', async () => {
    const fs = await freshFs();
    const f = await fs.open(`${D}/f`, 'create');
    await f.write(Buffer.alloc(4), 0);
    await f.datasync();
    await fs.syncDir(D);
    fs.flipBit(`${D}/f`, 2, 7);
    assert.deepEqual(fs.contents(`${D}/f`), Buffer.from([0, 0, 0x80, 0]));
    assert.deepEqual(fs.crashNow('lose-unsynced').contents(`${D}/f`), Buffer.from([0, 0, 0x80, 0]));
  });

  it('keeps an unlinked file readable through a handle opened before', async () => {
    const fs = await freshFs();
    const f = await fs.open(`${D}/f`, 'create');
    await f.write(Buffer.from('abc'), 0);
    await fs.unlink(`${D}/f`);
    const out = Buffer.alloc(3);
    assert.equal(await f.read(out, 0, 3, 0), 3);
    assert.equal(out.toString(), 'abc');
  });

  it('crashes at the armed operation and exposes the surviving disk', async () => {
    const fs = await freshFs();
    const f = await fs.open(`${D}/f`, 'create');
    fs.armCrash(2, 'lose-unsynced');
    await f.write(Buffer.from('a'), 0);
    await fs.syncDir(D);
    await assert.rejects(f.datasync(), /ECRASHED/);
    assert.ok(fs.isCrashed);
    assert.equal(fs.afterCrash!.contents(`${D}/f`)!.byteLength, 0, 'file named (dir synced) but its data never synced');
  });

  it('makes a dsync write durable when it resolves, with no datasync; a plain write is not', async () => {
    const fs = await freshFs();
    const d = await fs.open(`${D}/d`, 'create-dsync');
    const p = await fs.open(`${D}/p`, 'create');
    assert.equal(d.dsync, true);
    assert.equal(p.dsync, false);
    await fs.syncDir(D);
    await d.write(Buffer.from('durable'), 0);
    await p.write(Buffer.from('volatile'), 0);
    const reopened = await fs.open(`${D}/d`, 'write-dsync');
    await reopened.write(Buffer.from('+more'), 7);
    const disk = fs.crashNow('lose-unsynced');
    assert.deepEqual(disk.contents(`${D}/d`), Buffer.from('durable+more'));
    assert.deepEqual(disk.contents(`${D}/p`), Buffer.alloc(0));
  });

  it('refuses a dsync write still in flight at a crash; it survives whole, torn or not at all', async () => {
    const outcomes = new Set<string>();
    for (let seed = 0; seed < 100; seed++) {
      const fs = await freshFs(seed);
      const f = await fs.open(`${D}/f`, 'create-dsync');
      await fs.syncDir(D);
      await f.write(Buffer.alloc(512, 1), 0);
      const inFlight = f.write(Buffer.alloc(2048, 2), 512);
      const disk = fs.crashNow(seed % 4 === 0 ? 'lose-unsynced' : 'torn');
      await assert.rejects(inFlight, /ECRASHED/, 'a dead machine acknowledges nothing');
      const survived = disk.contents(`${D}/f`)!;
      assert.deepEqual(survived.subarray(0, 512), Buffer.alloc(512, 1), 'the completed write is intact');
      const tail = survived.subarray(512);
      const twos = tail.filter((b) => b === 2).length;
      outcomes.add(twos === 0 ? 'none' : twos === 2048 ? 'whole' : 'part');
      if (seed % 4 === 0) assert.equal(twos, 0, 'lose-unsynced keeps nothing of it');
    }
    assert.deepEqual([...outcomes].sort(), ['none', 'part', 'whole']);
  });

  it('keeps part of a write the armed crash lands on', async () => {
    const outcomes = new Set<number>();
    for (let seed = 0; seed < 60; seed++) {
      const fs = await freshFs(seed);
      const f = await fs.open(`${D}/f`, 'create-dsync');
      await fs.syncDir(D);
      fs.armCrash(0, 'torn');
      await assert.rejects(f.write(Buffer.alloc(2048, 3), 0), /ECRASHED/);
      outcomes.add(fs.afterCrash!.contents(`${D}/f`)!.filter((b) => b === 3).length);
    }
    assert.ok(outcomes.has(0) && outcomes.has(2048) && [...outcomes].some((n) => n > 0 && n < 2048), [...outcomes].join(','));
  });

  it('keeps what fit of a dsync write that ran out of space, durably', async () => {
    const fs = new FaultFileSystem({ seed: 1, capacityBytes: 100 });
    await fs.mkdirp(D);
    const f = await fs.open(`${D}/f`, 'create-dsync');
    await fs.syncDir(D);
    await f.write(Buffer.alloc(60, 1), 0);
    await assert.rejects(f.write(Buffer.alloc(60, 7), 60), (err: unknown) => (err as { code?: string }).code === 'ENOSPC');
    assert.deepEqual(fs.crashNow('lose-unsynced').contents(`${D}/f`), Buffer.concat([Buffer.alloc(60, 1), Buffer.alloc(40, 7)]));
  });

  it('makes a truncate pending before a dsync write durable with it', async () => {
    const fs = await freshFs();
    const f = await fs.open(`${D}/f`, 'create-dsync');
    await fs.syncDir(D);
    await f.write(Buffer.alloc(100, 1), 0);
    await f.truncate(50);
    await f.write(Buffer.alloc(10, 2), 50);
    assert.deepEqual(fs.crashNow('lose-unsynced').contents(`${D}/f`), Buffer.concat([Buffer.alloc(50, 1), Buffer.alloc(10, 2)]));
  });

  it('leaves a write failed with EIO possibly in the page cache, never durable', async () => {
    const fs = await freshFs();
    const f = await fs.open(`${D}/f`, 'create-dsync');
    await fs.syncDir(D);
    fs.inject({ op: 'write', code: 'EIO' });
    await assert.rejects(f.write(Buffer.from('maybe'), 0), (err: unknown) => (err as { code?: string }).code === 'EIO');
    assert.deepEqual(fs.contents(`${D}/f`), Buffer.from('maybe'), 'reads may see it');
    assert.deepEqual(fs.crashNow('lose-unsynced').contents(`${D}/f`), Buffer.alloc(0));
  });

  it('flips a seeded bit at rest, the same one for the same seed, and reports it', async () => {
    const flipped = async (): Promise<{ offset: number; contents: Buffer }> => {
      const fs = await freshFs(7);
      const f = await fs.open(`${D}/f`, 'create');
      await f.write(Buffer.alloc(64), 0);
      await f.datasync();
      await fs.syncDir(D);
      const fault = fs.flipRandomBit(D)!;
      assert.equal(fault.kind, 'bit-flip');
      assert.deepEqual(fs.silentFaults, [fault]);
      return { offset: fault.offset, contents: fs.crashNow('lose-unsynced').contents(`${D}/f`)! };
    };
    const a = await flipped();
    const b = await flipped();
    assert.deepEqual(a, b, 'replayable from the seed');
    assert.notEqual(a.contents[a.offset], 0, 'the reported byte changed on disk');
    assert.equal(a.contents.filter((x) => x !== 0).byteLength, 1);
  });

  it('loses an acknowledged, synced write: reads see it until the machine restarts, then the old bytes', async () => {
    const fs = await freshFs();
    const f = await fs.open(`${D}/f`, 'create');
    await f.write(Buffer.alloc(8, 1), 0);
    await f.datasync();
    await fs.syncDir(D);
    fs.armLostWrite({ pathIncludes: '/f' });
    await f.write(Buffer.alloc(8, 2), 4);
    await f.datasync();
    assert.deepEqual(fs.contents(`${D}/f`), Buffer.concat([Buffer.alloc(4, 1), Buffer.alloc(8, 2)]), 'the page cache has it');
    assert.equal(fs.silentFaults[0]!.kind, 'lost-write');
    assert.deepEqual(fs.crashNow('lose-unsynced').contents(`${D}/f`), Buffer.concat([Buffer.alloc(8, 1), Buffer.alloc(4)]), 'old bytes, zeros past the old end');
  });

  it('loses one page of a synced dsync write', async () => {
    const fs = await freshFs(3);
    const f = await fs.open(`${D}/f`, 'create-dsync');
    await fs.syncDir(D);
    fs.armLostWrite({ page: true });
    await f.write(Buffer.alloc(3 * 4096, 9), 0);
    const fault = fs.silentFaults[0]!;
    assert.equal(fault.kind, 'lost-page');
    assert.equal(fault.offset % 4096, 0);
    const after = fs.crashNow('lose-unsynced').contents(`${D}/f`)!;
    assert.equal(after.byteLength, 3 * 4096);
    assert.ok(after.subarray(fault.offset, fault.offset + 4096).every((x) => x === 0), 'the lost page reads as zeros');
    assert.equal(after.filter((x) => x === 9).byteLength, 2 * 4096, 'the other pages were stored');
  });

  it('misdirects a synced write a page away in the same file', async () => {
    const fs = await freshFs(5);
    const f = await fs.open(`${D}/f`, 'create');
    await f.write(Buffer.alloc(3 * 4096, 1), 0);
    await f.datasync();
    await fs.syncDir(D);
    fs.armMisdirectedWrite({ target: 'offset' });
    await f.write(Buffer.alloc(100, 2), 4096);
    await f.datasync();
    const after = fs.crashNow('lose-unsynced').contents(`${D}/f`)!;
    assert.ok(after.subarray(4096, 4196).every((x) => x === 1), 'its own place kept the old bytes');
    const landed = after[0] === 2 ? 0 : 8192;
    assert.ok(after.subarray(landed, landed + 100).every((x) => x === 2), 'it landed a page away');
  });

  it('misdirects a synced write into another file, which reads see at once', async () => {
    const fs = await freshFs();
    const a = await fs.open(`${D}/a`, 'create');
    const b = await fs.open(`${D}/b`, 'create');
    await a.write(Buffer.alloc(16, 1), 0);
    await b.write(Buffer.alloc(16, 3), 0);
    await a.datasync();
    await b.datasync();
    await fs.syncDir(D);
    fs.armMisdirectedWrite({ pathIncludes: '/a', target: 'file' });
    await a.write(Buffer.alloc(4, 2), 8);
    await a.datasync();
    assert.equal(fs.silentFaults[0]!.kind, 'misdirected-file');
    assert.deepEqual(fs.contents(`${D}/b`)!.subarray(8, 12), Buffer.alloc(4, 2), 'the other file changed under the cache');
    const disk = fs.crashNow('lose-unsynced');
    assert.deepEqual(disk.contents(`${D}/a`), Buffer.alloc(16, 1));
    assert.deepEqual(disk.contents(`${D}/b`), Buffer.concat([Buffer.alloc(8, 3), Buffer.alloc(4, 2), Buffer.alloc(4, 3)]));
  });

  it('computes CRC32C (Castagnoli) with the standard check value, and chains', () => {
    const check = Buffer.from('123456789');
    assert.equal(crc32c(check), 0xe3069283);
    assert.equal(crc32c(check.subarray(5), crc32c(check.subarray(0, 5))), 0xe3069283);
    assert.equal(crc32c(Buffer.alloc(32)), 0x8a9136aa);
  });
});
