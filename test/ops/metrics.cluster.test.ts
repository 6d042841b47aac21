// Proves the metrics endpoints and the structured logs (issue 7): a three-replica cluster with
// a registry per replica is scraped over HTTP before and after some writes, reads and a blob,
// and the figures that must move do (request counts by operation, applied revision, fsyncs,
// WAL bytes), the ones that describe the cluster are right (one leader, peers connected, a
// leader change counted), and every line parses as the exposition format. A Local's metrics
// count its hits and misses. Each replica's logger writes JSON lines into an array: the
// start and the leader change are there, one event per line.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { Local } from '../../src/local/local.ts';
import { registerLocalMetrics } from '../../src/local/metrics.ts';
import { createLogger } from '../../src/protocol/log.ts';
import { serveMetrics, type MetricsEndpoint } from '../../src/protocol/metrics-kit.ts';
import { eventually, TestCluster } from '../global/cluster-harness.ts';

/** Parses exposition text into `name{labels}` -> value; asserts every sample line is well formed. */
function parse(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (-?[0-9.e+-]+|NaN|[+-]Inf)$/.exec(line);
    assert.ok(m !== null, `not an exposition line: ${JSON.stringify(line)}`);
    samples.set(m[1]!, Number(m[2]));
  }
  return samples;
}

async function scrape(endpoint: MetricsEndpoint): Promise<Map<string, number>> {
  const res = await fetch(`http://${endpoint.address}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parse(await res.text());
}

const value = (samples: Map<string, number>, name: string): number => {
  const v = samples.get(name);
  assert.ok(v !== undefined, `${name} is exported`);
  return v;
};

describe('metrics and logs', () => {
  let cluster: TestCluster;
  const registries = new Map<number, Registry>();
  const logs = new Map<number, string[]>();
  const endpoints = new Map<number, MetricsEndpoint>();

  before(async () => {
    cluster = await TestCluster.start(3, {
      listen: (id) => {
        const registry = new Registry();
        registries.set(id, registry);
        const lines: string[] = [];
        logs.set(id, lines);
        return { metrics: registry, logger: createLogger({ level: 'info', write: (line) => lines.push(line) }) };
      },
    });
    for (const [id, registry] of registries) endpoints.set(id, await serveMetrics(registry, '127.0.0.1:0'));
  });

  after(async () => {
    for (const e of endpoints.values()) await e.close();
    await cluster?.stop();
  });

  it('scrapes every replica, with figures that move with activity', async () => {
    const leaderId = await cluster.waitForLeader();
    const leader = endpoints.get(leaderId)!;
    const first = await scrape(leader);
    assert.equal(value(first, 'dstore_is_leader'), 1);
    assert.equal(value(first, 'dstore_leader_id'), leaderId);
    assert.ok(value(first, 'dstore_leader_changes_total') >= 1, 'the election counted');
    const client = cluster.client();
    for (let i = 0; i < 20; i++) await client.set(`m/${i}`, new TextEncoder().encode(`v${i}`));
    await client.get('m/0');
    await client.putBlob(new Uint8Array(100_000).fill(7));
    const second = await scrape(leader);
    const count = (s: Map<string, number>, op: string): number => value(s, `dstore_request_duration_seconds_count{op="${op}"}`);
    assert.ok(count(second, 'set') - count(first, 'set') >= 20, 'sets counted');
    assert.ok(count(second, 'get') > count(first, 'get'), 'gets counted');
    assert.equal(count(second, 'put_blob') - count(first, 'put_blob'), 1, 'one blob upload');
    assert.equal(value(second, 'dstore_request_duration_seconds_bucket{op="set",le="+Inf"}'), count(second, 'set'));
    assert.ok(value(second, 'dstore_applied_revision') >= value(first, 'dstore_applied_revision') + 20);
    assert.ok(value(second, 'dstore_decided_instance') > value(first, 'dstore_decided_instance'));
    assert.ok(value(second, 'dstore_fsync_duration_seconds_count') > value(first, 'dstore_fsync_duration_seconds_count'), 'fsyncs timed');
    assert.ok(value(second, 'dstore_wal_bytes') > 0);
    assert.ok(value(second, 'dstore_blob_bytes') >= 100_000);
    assert.equal(value(second, 'dstore_keys'), 20);
    assert.equal(value(second, 'dstore_snapshot_age_seconds'), -1, 'no snapshot yet');
    assert.equal(value(second, 'dstore_proposals_in_flight'), 0, 'nothing in flight once answered');
    for (const peer of [1, 2, 3].filter((id) => id !== leaderId)) {
      assert.equal(value(second, `dstore_peer_connected{peer="${peer}"}`), 1);
      assert.ok(value(second, `dstore_peer_lag_instances{peer="${peer}"}`) >= 0, 'the peer was heard');
    }
    // A follower's scrape reports it follows the leader and applied the same revision.
    const followerId = [1, 2, 3].find((id) => id !== leaderId)!;
    const follower = await eventually('the follower to apply', async () => {
      const s = await scrape(endpoints.get(followerId)!);
      return value(s, 'dstore_applied_revision') === value(second, 'dstore_applied_revision') ? s : undefined;
    });
    assert.equal(value(follower, 'dstore_is_leader'), 0);
    assert.equal(value(follower, 'dstore_leader_id'), leaderId);
    assert.equal(value(follower, 'dstore_forwards_in_flight'), 0, 'nothing forwarded waits');
    // A snapshot shows up with its age.
    await cluster.server(leaderId).node.snapshotNow();
    const third = await scrape(leader);
    assert.ok(value(third, 'dstore_snapshot_age_seconds') >= 0 && value(third, 'dstore_snapshot_age_seconds') < 60);
    assert.ok(value(third, 'dstore_snapshot_through_instance') > 0);
  });

  it('serves 404 off /metrics', async () => {
    const res = await fetch(`http://${endpoints.get(1)!.address}/other`);
    assert.equal(res.status, 404);
    await res.text();
  });

  it('logs one JSON event per line: start, leader changes, peers', async () => {
    const leaderId = await cluster.waitForLeader();
    for (const [id, lines] of logs) {
      const events = lines.map((l) => JSON.parse(l) as { level: string; event: string; replica: number; leader?: number });
      assert.ok(events.every((e) => e.replica === id && typeof e.level === 'string'), 'every line names the replica and a level');
      assert.ok(events.some((e) => e.event === 'replica.started'), `replica ${id} logged its start`);
      assert.ok(events.some((e) => e.event === 'leader.changed' && e.leader === leaderId), `replica ${id} logged the leader`);
      assert.ok(events.some((e) => e.event === 'peer.connected'), `replica ${id} logged a peer connection`);
    }
  });

  it('counts a Local\'s hits and misses', async () => {
    const local = Local.open({ global: cluster.addresses });
    const registry = new Registry();
    const detach = registerLocalMetrics(registry, local);
    try {
      await local.set('m/local', new TextEncoder().encode('x'));
      await local.ready(5000);
      const read = async (): Promise<Map<string, number>> => parse(await registry.metrics());
      const before = await read();
      await local.get('m/0'); // a miss, then cached
      await eventually('a cached hit', async () => (await local.get('m/0'))?.source === 'cache');
      const after = await read();
      assert.ok(value(after, 'dstore_local_misses_total') > value(before, 'dstore_local_misses_total'));
      assert.ok(value(after, 'dstore_local_hits_total') > value(before, 'dstore_local_hits_total'));
      assert.ok(value(after, 'dstore_local_cached_bytes') > 0);
      // The Local's own write (revision 21) reaches it on its stream a little after the answer
      // (the replica it streams from may be a follower that learns the decision a moment later).
      await eventually('the Local applied its own write from the stream', async () => value(await read(), 'dstore_local_applied_revision') >= 21);
      assert.equal(value(after, 'dstore_local_lease_valid'), 1);
      assert.equal(value(after, 'dstore_local_stream_state{state="streaming"}'), 1);
    } finally {
      detach();
      await local.close();
    }
  });
});
