// Strict holds against a real in-process cluster (global.proto Hold, hold-service.ts): a write
// to a held key takes effect only after the holder dropped it (and the holder learns the
// revision it took effect at), or once its hold ran out when it
// never answers; after a failover, a write completes only once every hold the old leader
// granted has run out on the holder's own clock.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type * as grpc from '@grpc/grpc-js';
import type { HoldRequest } from '../../src/protocol/generated/dstore/v1/HoldRequest.ts';
import type { HoldResponse__Output } from '../../src/protocol/generated/dstore/v1/HoldResponse.ts';
import { eventually, TestCluster } from './cluster-harness.ts';

/** A test's side of one Hold stream: what arrived, and waits for the next of a kind. */
class HoldStream {
  readonly received: HoldResponse__Output[] = [];
  ended: grpc.ServiceError | null = null;
  private wake: (() => void) | null = null;
  /** Send time of each keep-alive (by seq), and of the last one answered. */
  private readonly sentMs = new Map<number, number>();
  lastKeptSentMs = -Infinity;
  private seq = 0;
  private keepTimer: NodeJS.Timeout | null = null;

  constructor(private readonly call: grpc.ClientDuplexStream<HoldRequest, HoldResponse__Output>) {
    call.on('data', (msg: HoldResponse__Output) => {
      if (msg.kept) this.lastKeptSentMs = Math.max(this.lastKeptSentMs, this.sentMs.get(Number(msg.kept.seq)) ?? -Infinity);
      this.received.push(msg);
      this.wake?.();
    });
    call.on('error', (err: grpc.ServiceError) => {
      this.ended = err;
      this.wake?.();
    });
  }

  register(holderId: string, prefixes: string[]): void {
    this.sentMs.set(++this.seq, performance.now());
    this.call.write({ register: { holderId, prefixes, seq: this.seq } });
  }

  keepAlive(): void {
    this.sentMs.set(++this.seq, performance.now());
    this.call.write({ keepAlive: { seq: this.seq } });
  }

  /** Keeps the hold alive every `everyMs` until `stop`. */
  keepAliveEvery(everyMs: number): void {
    this.keepTimer = setInterval(() => this.keepAlive(), everyMs);
  }

  ack(id: number): void {
    this.call.write({ invalidated: { id } });
  }

  /** The first message received (from index `from` on) that `match` accepts. */
  async next(match: (m: HoldResponse__Output) => boolean, from = 0, timeoutMs = 10_000): Promise<HoldResponse__Output> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const found = this.received.slice(from).find(match);
      if (found !== undefined) return found;
      if (this.ended !== null) throw new Error(`Hold stream ended: ${this.ended.details}`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error('timed out waiting for a Hold message');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  stop(): void {
    if (this.keepTimer !== null) clearInterval(this.keepTimer);
    this.keepTimer = null;
    this.call.cancel();
  }
}

function openHold(cluster: TestCluster, id: number): HoldStream {
  return new HoldStream(cluster.raw(id).Hold());
}

describe('strict holds on a real cluster', () => {
  const HOLDER_LEASE_MS = 1000;
  let cluster: TestCluster;
  const streams: HoldStream[] = [];
  before(async () => {
    cluster = await TestCluster.start(3, { holderLeaseMs: HOLDER_LEASE_MS });
  });
  after(async () => {
    for (const s of streams) s.stop();
    await cluster.stop();
  });
  // A leader grants holds only while it leads under a valid lease; until it does (just elected,
  // or its lease lapsed on a loaded machine) it ends the stream naming the leader: try again.
  const hold = (holderId: string, prefixes: string[]): Promise<HoldStream> =>
    eventually(`a hold granted to ${holderId}`, async () => {
      const s = openHold(cluster, await cluster.waitForLeader());
      streams.push(s);
      s.register(holderId, prefixes);
      await s.next((m) => m.kind === 'kept');
      return s;
    }, 30_000);

  it('a write to a held key takes effect only after the holder acked', async () => {
    const client = cluster.client();
    const h = await hold('acker', ['s/']);
    h.keepAliveEvery(HOLDER_LEASE_MS / 4); // the hold never runs out: only the ack can release the write
    let done = false;
    const write = client.set('s/a', new TextEncoder().encode('v1')).then((r) => {
      done = true;
      return r;
    });
    const inv = await h.next((m) => m.kind === 'invalidate');
    assert.deepEqual(inv.invalidate!.keys, ['s/a']);
    assert.equal(done, false);
    const read = await client.get('s/a');
    assert.equal(read.kv, null, 'the write took effect before the holder dropped the key');
    assert.equal(done, false, 'the write completed before the holder acked');
    h.ack(Number(inv.invalidate!.id));
    const result = await write;
    assert.ok(result.kv !== null);
    const released = await h.next((m) => m.kind === 'released');
    assert.deepEqual([Number(released.released!.id), Number(released.released!.revision)], [Number(inv.invalidate!.id), result.revision], 'the holder learns the revision at which it may cache the key again');
    // Unheld keys are not invalidated at this holder.
    const before = h.received.length;
    await client.set('t/a', new TextEncoder().encode('v'));
    assert.equal(h.received.slice(before).some((m) => m.kind === 'invalidate'), false);
  });

  it('a write to a held key completes once a silent holder\'s hold ran out, not before', async () => {
    const client = cluster.client();
    const h = await hold('silent', ['q/']);
    const write = client.set('q/a', new TextEncoder().encode('v1'));
    await h.next((m) => m.kind === 'invalidate');
    await write;
    const completedMs = performance.now();
    assert.ok(completedMs - h.lastKeptSentMs >= HOLDER_LEASE_MS, `the write completed ${completedMs - h.lastKeptSentMs} ms after the hold's last keep-alive was sent, within its lease of ${HOLDER_LEASE_MS} ms`);
  });

  it('refuses a keep-alive once the hold ran out (writes went ahead without it)', async () => {
    const h = await hold('late', ['r/']);
    const client = cluster.client();
    await client.set('r/a', new TextEncoder().encode('v1')); // waits the hold out: it never acks
    h.keepAlive();
    await assert.rejects(h.next(() => false), /ran out/);
  });

  it('after a failover, a write completes only once the old leader\'s holds ran out', async () => {
    const client = cluster.client();
    const h = await hold('failover', ['f/']);
    h.keepAliveEvery(HOLDER_LEASE_MS / 4);
    await client.set('g/warm', new TextEncoder().encode('x')); // the client knows the leader
    const old = await cluster.waitForLeader();
    // The last keep-alive answered before the leader goes is the one the holder counts from.
    const seen = h.received.length;
    await h.next((m) => m.kind === 'kept', seen);
    await cluster.stopReplica(old);
    h.stop();
    await client.set('f/a', new TextEncoder().encode('v1'));
    const completedMs = performance.now();
    assert.ok(completedMs - h.lastKeptSentMs >= HOLDER_LEASE_MS, `a write to a held key completed ${completedMs - h.lastKeptSentMs} ms after the old leader's last answered keep-alive was sent, within the hold's lease of ${HOLDER_LEASE_MS} ms`);
    await cluster.restartReplica(old);
  });
});
