// Proves that the fault-injecting file system models what the crash tests rely on: unsynced
// data and names are lost on a crash, synced ones survive, a torn crash keeps a prefix of the
// pending writes plus part of the next, ENOSPC writes what fits, injected EIO fails the
// chosen call once, bit flips reach both reads and the surviving disk, and an armed crash
// kills the instance at the chosen operation. Also checks CRC32C against its standard vector.
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

  it('computes CRC32C (Castagnoli) with the standard check value, and chains', () => {
    const check = Buffer.from('123456789');
    assert.equal(crc32c(check), 0xe3069283);
    assert.equal(crc32c(check.subarray(5), crc32c(check.subarray(0, 5))), 0xe3069283);
    assert.equal(crc32c(Buffer.alloc(32)), 0x8a9136aa);
  });
});
