// Proves issue 11 item 6: a message over the request limit is refused by grpc-js from its
// length prefix (RESOURCE_EXHAUSTED), so the replica never buffers it: every byte the client
// sends goes through a counting TCP proxy, and far fewer than the message's bytes pass
// before the refusal. A message just over requestBytesMax but under the receive limit still
// gets the request guard's precise INVALID_ARGUMENT. Peer traffic fits the same limit: frames
// are cut by bytes, Accepts and CatchUps split, larger messages fragmented and reassembled
// (unit checks), and a 3-replica cluster replicates a ~12 MiB transaction through them.
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { SERVER_LIMITS_DEFAULTS } from '../../src/global/server/global-server.ts';
import { forwardFrames, framesOf, messageBytesEstimate, PEER_FRAME_BYTES_TARGET, Reassembly } from '../../src/global/peers/peer-frames.ts';
import type { ConsensusMessage } from '../../src/protocol/generated/dstore/v1/ConsensusMessage.ts';
import type { GlobalClient } from '../../src/protocol/generated/dstore/v1/Global.ts';
import type { PeerFrame__Output } from '../../src/protocol/generated/dstore/v1/PeerFrame.ts';
import { dstoreProto } from '../../src/protocol/proto.ts';
import { receiveBytesMax } from '../../src/protocol/receive-limit.ts';
import { eventually, TestCluster } from './cluster-harness.ts';

const MiB = 1024 * 1024;

/** A TCP proxy to `target` that counts the bytes clients send through it. */
async function countingProxy(target: string): Promise<{ address: string; sent: () => number; close: () => Promise<void> }> {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  let sent = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(port, host);
    sockets.add(client).add(upstream);
    client.on('data', (b: Buffer) => {
      sent += b.byteLength;
    });
    client.pipe(upstream).pipe(client);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return {
    address: `127.0.0.1:${address.port}`,
    sent: () => sent,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

describe('the receive limit on a replica', () => {
  let cluster: TestCluster;
  let proxy: Awaited<ReturnType<typeof countingProxy>>;
  let wire: GlobalClient;

  before(async () => {
    cluster = await TestCluster.start(1);
    await cluster.waitForLeader();
    proxy = await countingProxy(cluster.addresses[0]!);
    wire = new (dstoreProto().dstore.v1.Global)(proxy.address, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': 256 * MiB });
  });
  after(async () => {
    wire.close();
    await proxy.close();
    await cluster.stop();
  });

  it('refuses a 64 MiB Set from its length prefix, before the bytes arrive', async () => {
    const before = proxy.sent();
    const err = await new Promise<grpc.ServiceError>((resolve, reject) => {
      wire.Set({ key: 'big', value: { inline: Buffer.alloc(64 * MiB, 1) } }, { deadline: Date.now() + 20_000 }, (e) => (e === null ? reject(new Error('accepted')) : resolve(e)));
    });
    assert.equal(err.code, grpc.status.RESOURCE_EXHAUSTED, err.details);
    assert.match(err.details, new RegExp(`larger than max \\(\\d+ vs ${receiveBytesMax(SERVER_LIMITS_DEFAULTS.requestBytesMax)}\\)`));
    const through = proxy.sent() - before;
    assert.ok(through < 16 * MiB, `only ${through} of the 64 MiB reached the replica`);
  });

  it('refuses a PutBlob message of 64 MiB the same way (uploads are not buffered whole either)', async () => {
    const before = proxy.sent();
    const err = await new Promise<grpc.ServiceError>((resolve, reject) => {
      const call = wire.PutBlob({ deadline: Date.now() + 20_000 }, (e) => (e === null ? reject(new Error('accepted')) : resolve(e)));
      call.write({ header: { size: 64 * MiB, hash: Buffer.alloc(0) } });
      call.write({ chunk: { offset: 0, data: Buffer.alloc(64 * MiB, 2) } });
    });
    assert.equal(err.code, grpc.status.RESOURCE_EXHAUSTED, err.details);
    assert.ok(proxy.sent() - before < 16 * MiB, `only ${proxy.sent() - before} bytes reached the replica`);
  });

  it('still answers a message just over requestBytesMax with the precise INVALID_ARGUMENT', async () => {
    const err = await new Promise<grpc.ServiceError>((resolve, reject) => {
      wire.Set({ key: 'big', value: { inline: Buffer.alloc(SERVER_LIMITS_DEFAULTS.requestBytesMax, 1) } }, { deadline: Date.now() + 20_000 }, (e) => (e === null ? reject(new Error('accepted')) : resolve(e)));
    });
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT, err.details);
    assert.match(err.details, /over the request limit of 16777216 bytes \(limits.request_bytes_max\)/);
  });
});

describe('peer frames fit the receive limit', () => {
  const command = (bytes: number, fill: number): Buffer => Buffer.alloc(bytes, fill);
  const accept = (values: Buffer[][]): ConsensusMessage => ({
    from: 1,
    to: 2,
    accept: { ballot: { round: 3, replicaId: 1 }, firstInstance: 10, values: values.map((commands) => ({ noop: false, commands })), decidedThrough: 20 },
  });
  const decode = (frame: object): PeerFrame__Output => {
    const exchange = dstoreProto().dstore.v1.Replica.service.Exchange as unknown as { requestSerialize: (f: object) => Buffer; requestDeserialize: (b: Buffer) => PeerFrame__Output };
    const bytes = exchange.requestSerialize(frame);
    assert.ok(bytes.byteLength <= receiveBytesMax(64 * 1024), `a frame of ${bytes.byteLength} bytes fits the smallest receive limit`);
    return exchange.requestDeserialize(bytes);
  };

  it('splits a large Accept into consecutive Accepts, lowering the decided prefix of all but the last', () => {
    const frames = framesOf([accept([[command(600_000, 1)], [command(600_000, 2)], [command(600_000, 3)]])]).map(decode);
    const parts = frames.flatMap((f) => f.messages).map((m) => m.accept!);
    assert.deepEqual(parts.map((a) => [Number(a.firstInstance), a.values.length, Number(a.decidedThrough)]), [[10, 1, 10], [11, 1, 11], [12, 1, 20]]);
    assert.ok(frames.every((f) => f.messages.every((m) => messageBytesEstimate(m) <= PEER_FRAME_BYTES_TARGET)));
  });

  it('fragments a message too large to split and reassembles it exactly', () => {
    const big = accept([[command(3 * MiB + 5, 7)]]);
    const frames = framesOf([{ from: 1, to: 2, heartbeat: { ballot: { round: 3, replicaId: 1 }, decidedThrough: 1, seq: 4 } }, big]).map(decode);
    assert.equal(frames[0]!.messages[0]!.kind, 'heartbeat');
    const fragments = frames.slice(1);
    assert.equal(fragments.length, 4);
    const reassembly = new Reassembly();
    const results = fragments.map((f) => reassembly.add(f));
    assert.deepEqual(results.slice(0, 3), [null, null, null]);
    const whole = results[3]!;
    assert.equal(whole.messages.length, 1);
    assert.ok(Buffer.from(whole.messages[0]!.accept!.values[0]!.commands[0]!).equals(command(3 * MiB + 5, 7)));
  });

  it('sends a forwarded request over 1 MiB as fragments, a small one as one frame', () => {
    const small = forwardFrames({ request: { id: 1, set: { key: 'k', value: { inline: Buffer.alloc(10) } } }, timeoutMs: 5 }).map(decode);
    assert.equal(small.length, 1);
    assert.equal(small[0]!.forwarded[0]!.request!.set!.key, 'k');
    const ops = Array.from({ length: 40 }, (_, i) => ({ put: { key: `k${i}`, value: { inline: Buffer.alloc(60_000, i) } } }));
    const frames = forwardFrames({ request: { id: 2, txn: { success: ops } }, timeoutMs: 5 }).map(decode);
    assert.equal(frames.length, 3);
    const reassembly = new Reassembly();
    const whole = frames.map((f) => reassembly.add(f))[2]!;
    assert.equal(whole.forwarded[0]!.request!.txn!.success.length, 40);
    assert.ok(Buffer.from(whole.forwarded[0]!.request!.txn!.success[39]!.put!.value!.inline!).equals(Buffer.alloc(60_000, 39)));
  });

  it('forwards a ~2.4 MiB transaction sent to a follower, through fragments', async () => {
    const cluster = await TestCluster.start(3);
    try {
      const leader = await cluster.waitForLeader();
      const follower = [1, 2, 3].find((id) => id !== leader)!;
      const ops = Array.from({ length: 40 }, (_, i) => ({ put: { key: `g${i}`, value: { inline: Buffer.alloc(60_000, i) } } }));
      const revision = await new Promise<number>((resolve, reject) => {
        cluster.raw(follower).Txn({ success: ops }, { deadline: Date.now() + 10_000 }, (err, res) => (err === null ? resolve(Number(res!.header!.revision)) : reject(err)));
      });
      assert.ok(revision > 0);
      assert.ok(cluster.server(leader).node.stateMachine.keyspace.get('g39') !== undefined, 'the leader applied it before answering');
    } finally {
      await cluster.stop();
    }
  });

  it('replicates a ~12 MiB transaction on a 3-replica cluster through fragments', async () => {
    const cluster = await TestCluster.start(3);
    try {
      await cluster.waitForLeader();
      const client = cluster.client();
      const ops = Array.from({ length: 200 }, (_, i) => ({ kind: 'put' as const, key: `f${i}`, value: Buffer.alloc(60_000, i) }));
      await client.txn({ compares: [], success: ops, failure: [] });
      for (const id of [1, 2, 3]) {
        await eventually(`replica ${id} to apply the transaction`, () => cluster.server(id).node.stateMachine.keyspace.get('f199') !== undefined);
      }
    } finally {
      await cluster.stop();
    }
  });
});
