// A Subscribe closed in the same turn it was opened, right after another subscription on the
// same channel was read and closed, is cancelled on the replica too (call-reader.ts): grpc-js
// lost that first cancel, and each such call kept one of the connection's Subscribe slots
// until the client closed (20 alternating subscriptions left 10 open on the replica).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, TestCluster } from '../global/cluster-harness.ts';

let cluster: TestCluster;
before(async () => {
  cluster = await TestCluster.start(1);
  await cluster.waitForLeader();
});
after(async () => {
  await cluster.stop();
});

describe('Subscribe cancel', () => {
  it('frees every stream slot on the replica, however soon a subscription is closed', async () => {
    const client = cluster.client();
    for (let i = 0; i < 20; i++) {
      const s = client.subscribe({ fromRevision: 0, prefix: '' });
      if (i % 2 === 0) assert.notEqual(await s.next(), null);
      s.close();
    }
    const hub = cluster.server(1).subscriptions;
    await eventually('every Subscribe to end on the replica', () => hub.subscriberCount === 0 || undefined, 5000).catch(() => {});
    assert.equal(hub.subscriberCount, 0, 'Subscribes still open on the replica');
  });
});
