// Proves that a peer's bad Exchange stream cannot crash a replica (issue 5, item 12): a
// missing or wrong hello (other cluster, other replica, non-member, other protocol
// version) ends the stream with FAILED_PRECONDITION; garbage bytes, and consensus messages
// that are malformed (misaddressed, a ballot that is not the sender's, rounds or counts out
// of range, entries out of order, undecided catch-up entries, unknown enum values) end it
// with INVALID_ARGUMENT naming the problem, before anything reaches the consensus core.
// Each case uses its own stream, posing as replica 2 towards replica 1 of a live 3-replica
// cluster, which afterwards still takes writes with every replica agreeing.
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BALLOT_ROUND_MAX, PEER_MESSAGE_ENTRIES_MAX } from '../../src/global/peers/peer-codec.ts';
import { CLUSTER_MISMATCH, PROTOCOL_VERSION } from '../../src/global/peers/peer-transport.ts';
import type { ConsensusMessage } from '../../src/protocol/generated/dstore/v1/ConsensusMessage.ts';
import type { PeerFrame } from '../../src/protocol/generated/dstore/v1/PeerFrame.ts';
import type { ReplicaClient } from '../../src/protocol/generated/dstore/v1/Replica.ts';
import { dstoreProto } from '../../src/protocol/proto.ts';
import { TestCluster } from './cluster-harness.ts';

const CLUSTER_ID = 'test';

let cluster: TestCluster;
let replica: ReplicaClient;
let raw: grpc.Client;

before(async () => {
  cluster = await TestCluster.start(3);
  await cluster.waitForLeader();
  replica = new (dstoreProto().dstore.v1.Replica)(cluster.members.get(1)!, grpc.credentials.createInsecure());
  raw = new grpc.Client(cluster.members.get(1)!, grpc.credentials.createInsecure());
});

after(async () => {
  replica.close();
  raw.close();
  await cluster.stop();
});

interface Ending {
  readonly code: grpc.status;
  readonly details: string;
}

/** Resolves with the status that ends `call`; fails if it is still open after `timeoutMs`. */
function ending<Req, Res>(call: grpc.ClientDuplexStream<Req, Res>, timeoutMs = 5_000): Promise<Ending> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      call.cancel();
      reject(new Error(`stream still open after ${timeoutMs} ms`));
    }, timeoutMs);
    call.on('data', () => undefined);
    call.on('error', () => undefined);
    call.on('status', (s: grpc.StatusObject) => {
      clearTimeout(timer);
      resolve({ code: s.code, details: s.details });
    });
  });
}

/** Opens an Exchange stream to replica 1, writes `frames`, and resolves with how it ended. */
function exchange(frames: PeerFrame[]): Promise<Ending> {
  const call = replica.Exchange();
  const ended = ending(call);
  for (const f of frames) call.write(f);
  return ended;
}

const hello = (over: Partial<NonNullable<PeerFrame['hello']>> = {}): PeerFrame => ({
  hello: { clusterId: CLUSTER_ID, fromReplicaId: 2, toReplicaId: 1, protocolVersion: PROTOCOL_VERSION, ...over },
  messages: [],
});
const ballot = (round: number, replicaId: number): { round: number; replicaId: number } => ({ round, replicaId });

/** A hello as replica 2, then one frame carrying `message` (from 2 to 1 unless it says otherwise). */
function afterHello(message: ConsensusMessage): Promise<Ending> {
  return exchange([hello(), { messages: [{ from: 2, to: 1, ...message }] }]);
}

const malformed = (what: string): Ending => ({ code: grpc.status.INVALID_ARGUMENT, details: `malformed consensus message from peer: ${what}` });

describe('Exchange: the hello', () => {
  it('is required, and must name this cluster, this replica, a member and our protocol version', async () => {
    const pre = grpc.status.FAILED_PRECONDITION;
    assert.deepEqual(await exchange([{ messages: [] }]), { code: pre, details: 'the first PeerFrame must carry a hello' });
    assert.deepEqual(await exchange([hello({ clusterId: 'other' })]), { code: pre, details: CLUSTER_MISMATCH });
    assert.deepEqual(await exchange([hello({ toReplicaId: 7 })]), { code: pre, details: 'this is replica 1, not 7: check the --peers list' });
    assert.deepEqual(await exchange([hello({ fromReplicaId: 9 })]), { code: pre, details: 'replica 9 is not a member of this cluster (members besides this one: 2, 3)' });
    assert.deepEqual(await exchange([hello({ fromReplicaId: 1 })]), { code: pre, details: 'replica 1 is not a member of this cluster (members besides this one: 2, 3)' });
    assert.deepEqual(await exchange([hello({ protocolVersion: 99 })]), { code: pre, details: `protocol version 99 is not supported (this replica speaks ${PROTOCOL_VERSION})` });
    assert.deepEqual(await exchange([hello(), hello({ fromReplicaId: 3 })]), { code: pre, details: 'replica 2 sent a second hello as replica 3' });
  });

  it('a good hello is answered with ours and the stream stays open', async () => {
    const call = replica.Exchange();
    const first = new Promise<PeerFrame>((resolve) => call.once('data', resolve));
    call.on('error', () => undefined);
    call.write(hello());
    const answer = await first;
    assert.deepEqual(answer.hello, { clusterId: CLUSTER_ID, fromReplicaId: 1, toReplicaId: 2, protocolVersion: PROTOCOL_VERSION });
    call.end();
    assert.equal((await ending(call)).code, grpc.status.OK);
  });
});

describe('Exchange: malformed frames end that stream with INVALID_ARGUMENT', () => {
  it('garbage bytes in place of a PeerFrame', async () => {
    const call = raw.makeBidiStreamRequest('/dstore.v1.Replica/Exchange', (b: Buffer) => b, (b: Buffer) => b);
    const ended = ending(call);
    call.write(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]));
    const e = await ended;
    assert.equal(e.code, grpc.status.INVALID_ARGUMENT);
    assert.match(e.details, /^Exchange message of 6 bytes does not decode as its protobuf type: /);
  });

  it('misaddressed messages and messages without a kind', async () => {
    assert.deepEqual(await afterHello({ from: 3, heartbeatReply: { ballot: ballot(1, 1), seq: 1, decidedThrough: 0 } }), malformed('addressed 3->1 on the stream 2->1'));
    assert.deepEqual(await afterHello({ to: 3, heartbeatReply: { ballot: ballot(1, 1), seq: 1, decidedThrough: 0 } }), malformed('addressed 2->3 on the stream 2->1'));
    assert.deepEqual(await afterHello({}), malformed('no kind set'));
  });

  it('ballots: a leader or candidate message must carry its sender\'s ballot; rounds stay in range', async () => {
    assert.deepEqual(await afterHello({ heartbeat: { ballot: ballot(5, 3), decidedThrough: 0, seq: 1 } }), malformed('heartbeat from replica 2 carries the ballot of replica 3'));
    assert.deepEqual(await afterHello({ prepare: { ballot: ballot(5, 1), fromInstance: 1 } }), malformed('prepare from replica 2 carries the ballot of replica 1'));
    assert.deepEqual(await afterHello({ preVote: { ballot: ballot(5, 3) } }), malformed('preVote from replica 2 carries the ballot of replica 3'));
    assert.deepEqual(await afterHello({ decided: { ballot: ballot(5, 3), decidedThrough: 1 } }), malformed('decided from replica 2 carries the ballot of replica 3'));
    assert.deepEqual(await afterHello({ heartbeat: { ballot: ballot(BALLOT_ROUND_MAX + 1, 2), decidedThrough: 0, seq: 1 } }), malformed(`heartbeat has ballot round ${BALLOT_ROUND_MAX + 1}, outside 0..${BALLOT_ROUND_MAX}`));
    assert.deepEqual(await afterHello({ heartbeat: { decidedThrough: 0, seq: 1 } }), malformed('heartbeat has no ballot'));
  });

  it('accept, accepted and entry lists: counts, instance ranges and order', async () => {
    const value = { noop: true, commands: [] };
    assert.deepEqual(await afterHello({ accept: { ballot: ballot(5, 2), firstInstance: 1, values: [], decidedThrough: 0 } }), malformed('accept without values'));
    assert.deepEqual(await afterHello({ accept: { ballot: ballot(5, 2), firstInstance: 0, values: [value], decidedThrough: 0 } }), malformed('accept starts at instance 0'));
    assert.deepEqual(await afterHello({ accepted: { ballot: ballot(5, 1), firstInstance: 1, count: PEER_MESSAGE_ENTRIES_MAX + 1, decidedThrough: 0 } }), malformed(`accepted.count: ${PEER_MESSAGE_ENTRIES_MAX + 1}, over the limit of ${PEER_MESSAGE_ENTRIES_MAX}`));
    assert.deepEqual(await afterHello({ accept: { ballot: ballot(5, 2), firstInstance: 1, values: [{ noop: true, commands: [Buffer.from('x')] }], decidedThrough: 0 } }), malformed('accept value is a no-op with commands'));
    const entry = (instance: number, decided: boolean): object => ({ instance, ballot: ballot(1, 2), value, decided });
    assert.deepEqual(await afterHello({ catchUp: { entries: [entry(1, false)], decidedThrough: 1 } }), malformed('catchUp entry 1 is not decided'));
    assert.deepEqual(await afterHello({ catchUp: { entries: [entry(2, true), entry(1, true)], decidedThrough: 2 } }), malformed('catchUp entries do not ascend (1 after 2)'));
    assert.deepEqual(await afterHello({ promise: { ballot: ballot(5, 1), decidedThrough: 0, entries: [entry(0, false)] } }), malformed('promise entry has instance 0'));
    assert.deepEqual(await afterHello({ nack: { ballot: ballot(5, 1), promised: ballot(6, 3), reason: 7 as never } }), malformed('nack has unknown reason 7'));
  });

  it('afterwards the cluster still takes writes, and every replica agrees', async () => {
    const client = cluster.client();
    const w = await client.set('after-bad-peers', new TextEncoder().encode('v'));
    assert.ok(w.revision >= 1);
    const sums = await cluster.convergedChecksums();
    assert.equal(sums.size, 3);
    assert.equal(new Set(sums.values()).size, 1);
  });
});
