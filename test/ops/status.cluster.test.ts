// Proves the status command's core against a live three-replica cluster: asked at one address
// it finds every member, names the leader, reports positions, lag and disk use, and calls the
// cluster healthy; with a replica stopped it shows that member DOWN and the cluster DEGRADED;
// a wiped replica restarted while another member is down shows as recovering (not voting)
// until that member is back, then the cluster is healthy again.
// The table is checked line by line; the JSON carries the same facts for scripts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fetchClusterStatus, formatBytes, formatJson, formatTable, summarize, type ClusterStatus } from '../../src/global/cluster/cluster-status.ts';
import { NULL_LOGGER } from '../../src/protocol/log.ts';
import { PLAINTEXT } from '../../src/protocol/tls.ts';
import { eventually, TestCluster } from '../global/cluster-harness.ts';

describe('cluster status', () => {
  let cluster: TestCluster;

  before(async () => {
    cluster = await TestCluster.start(3, { listen: () => ({ logger: NULL_LOGGER }) });
    await cluster.waitForLeader();
    const client = cluster.client();
    for (let i = 0; i < 5; i++) await client.set(`s/${i}`, new TextEncoder().encode('value'));
  });

  after(async () => {
    await cluster?.stop();
  });

  it('finds every member from one address and shows a healthy cluster', async () => {
    const leaderId = await cluster.waitForLeader();
    // Followers apply asynchronously: wait until the three agree, then read the status.
    const status: ClusterStatus = await eventually('three members in step', async () => {
      const s = summarize(await fetchClusterStatus([cluster.addresses[0]!], PLAINTEXT));
      return s.members.every((m) => m.lagInstances === 0) ? s : undefined;
    });
    assert.equal(status.members.length, 3);
    assert.equal(status.answering, 3);
    assert.equal(status.leaderId, leaderId);
    assert.equal(status.healthy, true);
    assert.deepEqual(status.members.map((m) => m.id), [1, 2, 3]);
    for (const m of status.members) {
      assert.equal(m.address, cluster.members.get(m.id));
      assert.equal(m.status?.isLeader, m.id === leaderId);
      assert.equal(m.status?.appliedRevision, 5);
      assert.equal(m.status?.keyCount, 5);
      assert.ok((m.status?.walBytes ?? 0) > 0, 'disk use reported');
      assert.equal(m.status?.peersConnected, 2);
    }
    const table = formatTable(status).split('\n');
    assert.equal(table[0], `cluster: 3 members, 3 answering, leader ${leaderId}: healthy`);
    assert.match(table[1]!, /^ID\s+ADDRESS\s+ROLE\s+DECIDED\s+APPLIED\s+REVISION\s+LAG\s+KEYS\s+WAL\s+BLOBS\s+PEERS\s+RESTARTS\s+VERSION$/);
    const leaderRow = table.find((l) => l.startsWith(`${leaderId} `))!;
    assert.match(leaderRow, new RegExp(`^${leaderId}\\s+127\\.0\\.0\\.1:\\d+\\s+leader\\s+\\d+\\s+\\d+\\s+5\\s+0\\s+5\\s+[\\d.]+ (B|KiB|MiB)\\s+0 B\\s+2/2\\s+0\\s+0\\.1\\.0$`));
    const parsed = JSON.parse(formatJson(status)) as ClusterStatus;
    assert.equal(parsed.leaderId, leaderId);
    assert.equal(parsed.members[0]?.status?.appliedRevision, 5);
  });

  it('shows a stopped member DOWN and the cluster DEGRADED', async () => {
    const leaderId = await cluster.waitForLeader();
    const victim = [1, 2, 3].find((id) => id !== leaderId)!;
    const asked = cluster.members.get(leaderId)!;
    await cluster.stopReplica(victim);
    try {
      const status = summarize(await fetchClusterStatus([asked], PLAINTEXT, 1000));
      assert.equal(status.members.length, 3, 'the stopped member is still listed (from the others\' member lists)');
      assert.equal(status.answering, 2);
      assert.equal(status.healthy, false);
      const down = status.members.find((m) => m.id === victim)!;
      assert.equal(down.status, null);
      assert.ok(down.error !== null && down.error.length > 0);
      const table = formatTable(status);
      assert.match(table, /^cluster: 3 members, 2 answering, leader \d+: DEGRADED$/m);
      assert.match(table, new RegExp(`^${victim}\\s+127\\.0\\.0\\.1:\\d+\\s+DOWN`, 'm'));
    } finally {
      await cluster.restartReplica(victim);
    }
  });

  it('shows a wiped member recovering, and the cluster DEGRADED, until every other member has answered it', async () => {
    const leaderId = await cluster.waitForLeader();
    const [wiped, down] = [1, 2, 3].filter((id) => id !== leaderId) as [number, number];
    await cluster.stopReplica(down);
    await cluster.stopReplica(wiped);
    cluster.wipeReplica(wiped);
    await cluster.restartReplica(wiped);
    try {
      // It cannot hear from the stopped member, so it stays a non-voting learner.
      const status = await eventually('the wiped member to report recovering', async () => {
        const s = summarize(await fetchClusterStatus([cluster.members.get(leaderId)!], PLAINTEXT, 1000));
        return s.members.find((m) => m.id === wiped)?.status?.recovering === true ? s : undefined;
      });
      assert.equal(status.healthy, false);
      // The leader answers; the stopped member cannot, so the recovery waits.
      await eventually('the leader to answer the wiped member', () => cluster.server(wiped).node.status().recovery?.peersAnswered === 1);
      assert.deepEqual(cluster.server(wiped).node.status().recovery, { peersAnswered: 1, peersTotal: 2, decidedTarget: cluster.server(leaderId).node.status().decidedThrough });
      const table = formatTable(status);
      assert.match(table, new RegExp(`^${wiped}\\s+127\\.0\\.0\\.1:\\d+\\s+recovering\\s`, 'm'));
      assert.match(table, new RegExp(`^${down}\\s+127\\.0\\.0\\.1:\\d+\\s+DOWN`, 'm'));
    } finally {
      await cluster.restartReplica(down);
    }
    // With every member back it recovers, catches up and the cluster is healthy again.
    const healed = await eventually('the cluster to be healthy again', async () => {
      const s = summarize(await fetchClusterStatus([cluster.members.get(wiped)!], PLAINTEXT, 1000));
      return s.healthy && s.members.every((m) => m.lagInstances === 0) ? s : undefined;
    }, 15_000);
    assert.ok(healed.members.every((m) => m.status?.recovering === false && m.status.appliedRevision === 5));
  });

  it('formats byte counts for people', () => {
    assert.equal(formatBytes(0), '0 B');
    assert.equal(formatBytes(1023), '1023 B');
    assert.equal(formatBytes(1536), '1.5 KiB');
    assert.equal(formatBytes(5 * 1024 * 1024 * 1024), '5.0 GiB');
  });
});
