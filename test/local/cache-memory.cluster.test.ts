// What a cached value holds in memory, against a real Global (one in-process replica): a small
// value decoded from a large received frame must not keep that frame alive (issue 12 fault 10).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Local } from '../../src/local/local.ts';
import { TestCluster } from '../global/cluster-harness.ts';

let cluster: TestCluster;
let local: Local;
before(async () => {
  cluster = await TestCluster.start(1);
  await cluster.waitForLeader();
  local = Local.open({ global: cluster.addresses });
  assert.equal(await local.ready(10_000), true);
});
after(async () => {
  await local.close();
  await cluster.stop();
});

describe('cached values against a real Global', () => {
  it('a small value read in a large frame holds a buffer of about its own size (fault 10)', async () => {
    const writer = cluster.client();
    const big = new Uint8Array(8 * 1024).fill(7);
    const keys = Array.from({ length: 60 }, (_, i) => `pin/big${i}`);
    await writer.txn({ success: keys.map((key) => ({ kind: 'put' as const, key, value: big })) });
    await writer.txn({ success: [{ kind: 'put', key: 'pin/tiny', value: new Uint8Array([1, 2, 3, 4]) }] });
    // Read together, the answers come back in one Session frame of about 480 KB.
    const got = await Promise.all([...keys, 'pin/tiny'].map((key) => local.get(key)));
    assert.equal(got.every((v) => v !== null), true);
    const tiny = local.held('pin/tiny');
    assert.notEqual(tiny, null);
    assert.equal(tiny!.value.byteLength, 4);
    assert.ok(tiny!.value.buffer.byteLength <= 8, `the cached 4-byte value holds a ${tiny!.value.buffer.byteLength}-byte buffer`);
    for (const key of keys) {
      const held = local.held(key)!.value;
      assert.ok(held.buffer.byteLength < 2 * held.byteLength, `${key}: holds ${held.buffer.byteLength} bytes for ${held.byteLength}`);
    }
  });
});
