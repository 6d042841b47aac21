// Proves that the Global client's frames stay within what a real replica takes (issue 11
// deliver 2): at most limits.request_bytes_max bytes and REQUEST_ELEMENTS_MAX elements per
// Session frame. Before, frames were capped by request count only, so a client batching many
// large transactions sent a frame the replica refused, which closed the Session and failed
// every request on it (TOO_LARGE). A request that can never fit is failed alone, at once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { GlobalClient, Op } from '../../src/local/client/client.ts';
import { REQUEST_ELEMENTS_MAX } from '../../src/protocol/frame-budget.ts';
import { TooLargeError } from '../../src/protocol/errors.ts';
import { TestCluster } from '../global/cluster-harness.ts';

const KIB = 1024;
const REQUEST_BYTES_MAX = 256 * KIB;

describe('client frames within the server limits', () => {
  let cluster: TestCluster;
  let client: GlobalClient;
  before(async () => {
    cluster = await TestCluster.start(1, { limits: { requestBytesMax: REQUEST_BYTES_MAX } });
    await cluster.waitForLeader();
    client = cluster.client({ deadlineMs: 10_000 });
    await client.status(); // the server's limits are known
  });
  after(async () => {
    await cluster.stop();
  });

  it('splits a batch of large transactions by bytes: every one commits', async () => {
    const value = new Uint8Array(30 * KIB).fill(7);
    // 24 transactions of two 30 KiB values: about 1.4 MiB issued at once, 256 KiB per frame at most.
    const txns = Array.from({ length: 24 }, (_, i) => client.txn({ success: [{ kind: 'put', key: `big/${i}/a`, value }, { kind: 'put', key: `big/${i}/b`, value }] }));
    const results = await Promise.all(txns);
    assert.ok(results.every((r) => r.succeeded));
    assert.equal((await client.get('big/23/b')).kv?.value?.byteLength, value.byteLength);
  });

  it('fails a request that can never fit in a frame alone, at once, and serves the rest', async () => {
    const value = new Uint8Array(60 * KIB).fill(1);
    const tooBig = client.txn({ success: Array.from({ length: 5 }, (_, i): Op => ({ kind: 'put', key: `huge/${i}`, value })) });
    const fine = client.txn({ success: [{ kind: 'put', key: 'fine', value }] });
    await assert.rejects(tooBig, (err: unknown) => err instanceof TooLargeError && /limits\.request_bytes_max/.test(err.message) && err.message.includes(String(REQUEST_BYTES_MAX)));
    assert.equal((await fine).succeeded, true);
    const items = Array.from({ length: 4096 }, () => new Uint8Array(1));
    const manyElements = client.txn({ success: Array.from({ length: 16 }, (_, i): Op => ({ kind: 'listAppend', key: `l${i}`, items })) });
    // 16 x 4,096 items + 16 ops + the request: within every per-op limit, over the frame's.
    await assert.rejects(manyElements, (err: unknown) => err instanceof TooLargeError && err.message.includes(String(REQUEST_ELEMENTS_MAX)));
  });
});

describe('client frames within the element limit (a replica at the default request_bytes_max)', () => {
  let cluster: TestCluster;
  let client: GlobalClient;
  before(async () => {
    cluster = await TestCluster.start(1);
    await cluster.waitForLeader();
    client = cluster.client({ deadlineMs: 10_000 });
    await client.status();
  });
  after(async () => {
    await cluster.stop();
  });

  it('splits a batch of transactions by elements: every one is answered', async () => {
    // 80 read-only transactions of 1,000 gets: 80,080 elements issued at once, in under 1 MiB.
    const gets: Op[] = Array.from({ length: 1000 }, (_, i) => ({ kind: 'get', key: `g${i % 10}` }));
    const results = await Promise.all(Array.from({ length: 80 }, () => client.txn({ success: gets })));
    assert.equal(results.length, 80);
    assert.ok(results.every((r) => r.succeeded && r.results.length === 1000));
  });
});
