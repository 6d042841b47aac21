// A Local whose replica answers COMPACTED (its history no longer reaches the Local's position:
// a replica that just restarted from a snapshot keeps less than the others) tries the other
// replicas before dropping every binding (issue 12, item 10). Real 3-replica Global; one
// Subscribe answer is replaced by COMPACTED, which is the point of the stand-in.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GlobalClient, type SubscribeOptions, type Subscription } from '../../src/local/client/client.ts';
import { Local } from '../../src/local/local.ts';
import { CompactedError } from '../../src/protocol/errors.ts';
import { eventually, TestCluster } from '../global/cluster-harness.ts';

/** A real client; while `compactedLeft` > 0, a new Subscribe answers COMPACTED instead. */
class CompactingClient extends GlobalClient {
  compactedLeft = 0;
  readonly subscribedAt: string[] = [];
  latest: Subscription | null = null;

  override subscribe(options: SubscribeOptions): Subscription {
    const subscription = super.subscribe(options);
    this.subscribedAt.push(subscription.address);
    this.latest = subscription;
    if (this.compactedLeft > 0) {
      this.compactedLeft--;
      const oldest = options.fromRevision + 5;
      subscription.next = () => Promise.reject(new CompactedError(`revision ${options.fromRevision} is older than the history replica ${subscription.address} keeps (stand-in)`, oldest));
    }
    return subscription;
  }
}

let cluster: TestCluster;
before(async () => {
  cluster = await TestCluster.start(3);
  await cluster.waitForLeader();
});
after(async () => {
  await cluster.stop();
});

describe('Local stream and compaction', () => {
  it('tries another replica when one answers COMPACTED, and keeps its bindings', async () => {
    const client = new CompactingClient({ addresses: cluster.addresses });
    const local = Local.open({ global: cluster.addresses, globalClient: client });
    try {
      assert.equal(await local.ready(10_000), true);
      const writer = cluster.client();
      await writer.set('cmp/k', new TextEncoder().encode('v'));
      await local.get('cmp/k');
      assert.notEqual(local.getCached('cmp/k'), undefined);
      const before = client.subscribedAt.length;
      client.compactedLeft = 1;
      client.latest?.close(); // the stream resumes at the same replica, which answers COMPACTED
      await eventually('the stream to stream again', () => client.subscribedAt.length >= before + 2 && local.streamStatus.state === 'streaming');
      const [compactedAt, nextAt] = client.subscribedAt.slice(before, before + 2);
      assert.notEqual(nextAt, compactedAt, 'the next Subscribe goes to another replica');
      assert.equal(local.stats().compactions, 0, 'no binding was dropped');
      assert.notEqual(local.getCached('cmp/k'), undefined, 'the binding is still cached');
    } finally {
      await local.close();
    }
  });

  it('drops its bindings when every replica answers COMPACTED', async () => {
    const client = new CompactingClient({ addresses: cluster.addresses });
    const local = Local.open({ global: cluster.addresses, globalClient: client });
    try {
      assert.equal(await local.ready(10_000), true);
      await cluster.client().set('cmp/j', new TextEncoder().encode('v'));
      await local.get('cmp/j');
      client.compactedLeft = 3;
      client.latest?.close();
      await eventually('the compaction to be taken', () => local.stats().compactions === 1);
      assert.equal(local.getCached('cmp/j'), undefined, 'bindings are dropped');
      assert.equal(new Set(client.subscribedAt.slice(-4, -1)).size, 3, 'each replica was asked once');
    } finally {
      await local.close();
    }
  });
});
