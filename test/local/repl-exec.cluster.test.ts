// Proves the REPL executor row by row against real Locals and a fake Global that streams
// invalidations: every output of the README's REPL table (occupied here vs. only on Global, a
// cached read vs. one from Global, a missing key), a DEL on one Local reaching another,
// STATS, usage hints, and a clear one-line message while Global is down.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { Local } from '../../src/local/local.ts';
import { execute, formatStats, OUTPUT } from '../../src/local/repl/repl-exec.ts';
import type { LocalStats } from '../../src/local/local.ts';
import { parse } from '../../src/local/repl/repl-parse.ts';
import { waitUntil } from './fake-global.ts';
import { StreamingFake } from './fake-stream.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function openLocal(addresses: string[], wait = true): Promise<{ local: Local; run: (line: string) => Promise<string> }> {
  const local = Local.open({ global: addresses, client: { deadlineMs: 500, backoffInitialMs: 5, backoffMaxMs: 50 } });
  cleanups.push(() => local.close());
  if (wait) await waitUntil(() => local.leaseHeld, 'the lease');
  return { local, run: async (line) => (await execute(parse(line), local, addresses.join(',')))?.text ?? '' };
}

describe('REPL executor', () => {
  it('answers every row of the table', async () => {
    const fake = await StreamingFake.start();
    cleanups.push(() => fake.stop());
    const a = await openLocal([fake.address]);
    const b = await openLocal([fake.address]);
    assert.equal(await a.run('SET k hello world'), OUTPUT.updated);
    assert.equal(await a.run('PUT k other'), OUTPUT.occupied, 'a key this Local holds');
    assert.equal(await b.run('set k other'), OUTPUT.occupiedUpdatedLocal, 'a key only Global holds');
    assert.equal(b.local.holds('k'), true, 'the Local now holds it');
    assert.equal(await b.run('SET k again'), OUTPUT.occupied);
    assert.equal(await a.run('GET k'), 'db: k -> hello world');
    assert.equal(await b.run('out k'), 'db: k -> hello world');
    assert.equal(await a.run('SET j "quoted  value"'), OUTPUT.updated);
    assert.equal(await b.run('GET j'), 'global: j -> quoted  value (Updating Local)');
    assert.equal(await b.run('GET j'), 'db: j -> quoted  value');
    assert.equal(await a.run('GET nothing'), OUTPUT.missing);
    assert.equal(await a.run('DEL k'), OUTPUT.updated);
    await waitUntil(() => !b.local.holds('k'), "the DEL to reach the other Local's cache");
    assert.equal(await b.run('GET k'), OUTPUT.missing);
    assert.equal(await b.run('REM k'), OUTPUT.missing);
    assert.match(await a.run('STATS'), /^hits \d+, misses \d+/);
    assert.match(await a.run('GET'), /^usage: GET <key>/);
    assert.match(await a.run('FLY away'), /^unknown command "FLY"/);
    assert.equal(await a.run(''), '');
  });

  it('shows binary values escaped, marks failures, and says the same in JSON', async () => {
    const fake = await StreamingFake.start();
    cleanups.push(() => fake.stop());
    const { local } = await openLocal([fake.address]);
    const run = (line: string) => execute(parse(line), local, fake.address);
    const set = await run('SET bin "\\x00\\xff\\x1b[2J"');
    assert.deepEqual([set?.ok, set?.json.command, set?.json.ok, typeof set?.json.revision], [true, 'set', true, 'number']);
    const got = await run('GET bin');
    assert.equal(got?.text, 'db: bin -> "\\x00\\xff\\x1b[2J"', 'no raw control byte reaches the terminal');
    assert.deepEqual([got?.json.found, got?.json.valueBase64, got?.json.value], [true, Buffer.from([0, 0xff, 0x1b, 0x5b, 0x32, 0x4a]).toString('base64'), undefined]);
    const occupied = await run('SET bin other');
    assert.deepEqual([occupied?.ok, occupied?.text, occupied?.json.error, occupied?.json.heldBy], [false, OUTPUT.occupied, 'KEY_OCCUPIED', 'local']);
    const missing = await run('GET nothing');
    assert.deepEqual([missing?.ok, missing?.json.found], [true, false], 'a missing key is an answer, not a failure');
    const usage = await run('GET');
    assert.deepEqual([usage?.ok, usage?.json.error], [false, 'USAGE']);
    assert.equal(await run(''), null);
    assert.equal(await run('.exit'), null);
  });

  it('prints one clear line when Global is down and keeps working', async () => {
    const fake = await StreamingFake.start();
    const address = fake.address;
    await fake.stop();
    const { run } = await openLocal([address], false);
    const out = await run('GET k');
    assert.match(out, /^Global is unavailable \(127\.0\.0\.1:\d+\): .*The REPL keeps running/);
    assert.equal(out.includes('\n'), false);
    assert.match(await run('SET k v'), /^Global is unavailable/);
    assert.match(await run('STATS'), /lease not held/);
  });

  it('says counts in words that agree with them (1 key, resubscribed once)', () => {
    const stats: LocalStats = {
      hits: 3, misses: 1, bytes: 10, cacheBytesMax: 1024, entries: 1, blobs: 1, bindings: 1, evictions: 0, invalidations: 0,
      revision: 7, lagRevisions: 0, leaseValid: true, leaseLeftMs: 900, leaseMs: 1000, coherence: 'bounded', coherenceByPrefix: {},
      stream: { state: 'streaming', address: '127.0.0.1:1', reason: 'caught up' }, resubscribes: 1, compactions: 1, lagDrops: 1, strictHold: null,
    };
    const shown = formatStats(stats);
    assert.match(shown, /^cached 1 key and 1 blob, /m);
    assert.match(shown, /Resubscribed once\. 1 compaction\. Left 1 lagging replica\.$/m);
    assert.match(formatStats({ ...stats, bindings: 2, resubscribes: 3 }), /cached 2 keys and 1 blob.*Resubscribed 3 times\./s);
  });
});
