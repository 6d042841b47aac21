// Any replica serves any call (issue 14): a client that knows nothing of leaders (the
// generated gRPC client, as a Python or Go client would use it) sends writes and linearizable
// reads to followers, which forward them to the leader over their peer stream. Checks:
// - Set, Txn, Delete and a linearizable Get/Range sent to a follower succeed, answered by the
//   leader (header.replica_id), and a write through one follower is read through another;
// - a Session stream to a follower is forwarded request by request;
// - a write retried with the same WriteId through another follower runs once;
// - a caller that asks not to be forwarded (`dstore-forward: never`) gets NOT_LEADER and a hint;
// - a follower that knows no leader answers NOT_LEADER;
// - forwarding stops at the call's deadline (unary) or at forwarding.timeoutMsMax (Session),
//   and the follower keeps nothing waiting afterwards; it fails at once when the leader stops.
// Without forwarding every call to a follower here fails NOT_LEADER.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { FORWARD_METADATA, FORWARD_NEVER } from '../../src/protocol/forwarding.ts';
import { ERROR_CODE_METADATA, LEADER_HINT_METADATA, OUTCOME_UNKNOWN_METADATA } from '../../src/protocol/grpc-status.ts';
import type { GlobalClient } from '../../src/protocol/generated/dstore/v1/Global.ts';
import type { ServerFrame__Output } from '../../src/protocol/generated/dstore/v1/ServerFrame.ts';
import { eventually, TestCluster, within } from './cluster-harness.ts';

type Callback<Res> = (err: grpc.ServiceError | null, res?: Res) => void;
type UnaryMethod<Req, Res> = (req: Req, metadata: grpc.Metadata, options: grpc.CallOptions, callback: Callback<Res>) => unknown;

/** Calls a unary method of the generated client; resolves with the response or the ServiceError. */
function call<Req, Res>(client: GlobalClient, method: 'Get' | 'Set' | 'Delete' | 'Txn' | 'Range', req: Req, options: { deadlineMs?: number; metadata?: grpc.Metadata } = {}): Promise<{ res: Res } | { err: grpc.ServiceError }> {
  const fn = (client[method] as unknown as UnaryMethod<Req, Res>).bind(client);
  return new Promise((resolve) => {
    fn(req, options.metadata ?? new grpc.Metadata(), { deadline: Date.now() + (options.deadlineMs ?? 5_000) }, (err, res) => resolve(err === null ? { res: res! } : { err }));
  });
}

async function ok<Res>(p: Promise<{ res: Res } | { err: grpc.ServiceError }>): Promise<Res> {
  const o = await p;
  if ('err' in o) throw new Error(`call failed: ${o.err.code} ${o.err.details} (${String(o.err.metadata.get(ERROR_CODE_METADATA)[0])})`);
  return o.res;
}

async function failed(p: Promise<{ res: unknown } | { err: grpc.ServiceError }>): Promise<grpc.ServiceError> {
  const o = await p;
  if (!('err' in o)) throw new Error(`call succeeded: ${JSON.stringify(o.res)}`);
  return o.err;
}

/** Room for a loaded machine; every wait it bounds would otherwise last readWaitMsMax or a deadline, 30 s. */
const SOON_MS = 10_000;
const inline = (s: string): { inline: Buffer } => ({ inline: Buffer.from(s) });

describe('a follower forwards what only the leader serves', () => {
  let cluster: TestCluster;
  let leader: number;
  let followers: number[];
  before(async () => {
    // A read waits for its revision up to readWaitMsMax, far beyond SOON_MS: a wait that ends
    // within SOON_MS was ended by what the test is about, not by the leader giving up.
    cluster = await TestCluster.start(3, { node: { readWaitMsMax: 30_000 }, forwarding: { timeoutMsMax: 400 } });
    leader = await cluster.waitForLeader();
    followers = [1, 2, 3].filter((id) => id !== leader);
  });
  after(async () => {
    await cluster.stop();
  });

  it('serves Set, Txn, Delete and linearizable Get/Range sent to followers; a write through one is read through the other', async () => {
    const [a, b] = followers.map((id) => cluster.raw(id)) as [GlobalClient, GlobalClient];
    const set = await ok<{ header: { revision: number; replicaId: number } }>(call(a, 'Set', { key: 'fw/set', value: inline('one') }));
    assert.equal(set.header.replicaId, leader, 'the leader ran the write');
    const txn = await ok<{ succeeded: boolean; header: { revision: number } }>(call(a, 'Txn', { success: [{ put: { key: 'fw/txn', value: inline('two') } }] }));
    assert.equal(txn.succeeded, true);
    // Read-your-write through the other follower: linearizable, so no revision is needed.
    const got = await ok<{ found: boolean; kv: { value: Buffer }; header: { revision: number; replicaId: number } }>(call(b, 'Get', { key: 'fw/txn', withValue: true }));
    assert.equal(got.found, true);
    assert.equal(got.kv.value.toString(), 'two');
    assert.ok(got.header.revision >= txn.header.revision, `read at ${got.header.revision} misses the write at ${txn.header.revision}`);
    assert.equal(got.header.replicaId, leader);
    const range = await ok<{ kvs: { key: string }[] }>(call(b, 'Range', { prefix: 'fw/' }));
    assert.deepEqual(range.kvs.map((kv) => kv.key), ['fw/set', 'fw/txn']);
    const del = await ok<{ deleted: boolean }>(call(b, 'Delete', { key: 'fw/set' }));
    assert.equal(del.deleted, true);
    const gone = await ok<{ found: boolean }>(call(a, 'Get', { key: 'fw/set' }));
    assert.equal(gone.found, false);
    // A second Set of a bound key is refused as the leader would refuse it.
    const again = await failed(call(a, 'Set', { key: 'fw/txn', value: inline('three') }));
    assert.equal(again.code, grpc.status.ALREADY_EXISTS);
    assert.equal(cluster.server(followers[0]!).forwardsInFlight, 0);
  });

  it('forwards the requests of a Session stream to a follower, each answered in band', async () => {
    const stream = cluster.raw(followers[0]!).Session();
    const answers = new Map<number, ServerFrame__Output['responses'][number]>();
    const done = new Promise<void>((resolve, reject) => {
      stream.on('data', (frame: ServerFrame__Output) => {
        for (const r of frame.responses) answers.set(r.id, r);
        if (answers.size === 3) resolve();
      });
      stream.on('error', reject);
    });
    stream.write({ requests: [
      { id: 1, set: { key: 'fw/session', value: inline('s') } },
      { id: 2, get: { key: 'fw/txn', consistency: 'READ_CONSISTENCY_SERIALIZABLE' } },
    ] });
    await eventually('the session write', () => answers.has(1));
    stream.write({ requests: [{ id: 3, get: { key: 'fw/session', withValue: true } }] });
    await done;
    stream.end();
    assert.equal(answers.get(1)!.body, 'set', JSON.stringify(answers.get(1)));
    assert.equal(answers.get(1)!.set!.header!.replicaId, leader);
    assert.equal(answers.get(2)!.get!.header!.replicaId, followers[0], 'a serializable read is served where it arrived');
    assert.equal(answers.get(3)!.get!.kv!.value.toString(), 's');
  });

  it('runs a write retried with the same WriteId through another follower once', async () => {
    const [a, b] = followers.map((id) => cluster.raw(id)) as [GlobalClient, GlobalClient];
    const clientId = `forward-test-${Date.now()}-0123456789abcdef`;
    await ok(call(a, 'Txn', { writeId: { clientId, requestId: 1 } }));
    const add = { success: [{ add: { key: 'fw/counter', delta: 5 } }], writeId: { clientId, requestId: 2, firstIncomplete: 2 } };
    const first = await ok<{ results: { number: string }[]; header: { revision: number } }>(call(a, 'Txn', add));
    const retry = await ok<{ results: { number: string }[]; header: { revision: number } }>(call(b, 'Txn', add));
    assert.equal(first.results[0]!.number, '5');
    assert.equal(retry.results[0]!.number, '5', 'the retry got the first run\'s result');
    assert.equal(retry.header.revision, first.header.revision);
    const got = await ok<{ kv: { value: Buffer } }>(call(b, 'Get', { key: 'fw/counter', withValue: true }));
    assert.equal(got.kv.value.toString(), '5', 'the add ran once');
  });

  it('answers NOT_LEADER with a hint to a caller that asks not to be forwarded', async () => {
    const metadata = new grpc.Metadata();
    metadata.set(FORWARD_METADATA, FORWARD_NEVER);
    const err = await failed(call(cluster.raw(followers[0]!), 'Set', { key: 'fw/direct', value: inline('x') }, { metadata }));
    assert.equal(err.code, grpc.status.UNAVAILABLE);
    assert.equal(err.metadata.get(ERROR_CODE_METADATA)[0], 'NOT_LEADER');
    assert.equal(err.metadata.get(LEADER_HINT_METADATA)[0], cluster.members.get(leader));
  });

  it('stops forwarding at the call\'s deadline, and a Session request at forwarding.timeoutMsMax', async () => {
    const follower = followers[0]!;
    // The leader waits for a revision nobody writes (up to readWaitMsMax): only the follower's
    // deadline can end the call.
    const err = await within('the call to end at its deadline', failed(call(cluster.raw(follower), 'Get', { key: 'fw/txn', minRevision: 1_000_000 }, { deadlineMs: 300 })), SOON_MS);
    assert.equal(err.code, grpc.status.DEADLINE_EXCEEDED);
    await eventually('the follower to drop the forwarded read', () => cluster.server(follower).forwardsInFlight === 0, SOON_MS);
    // A Session request has no deadline of its own: the follower ends its wait after
    // timeoutMsMax (400 ms here) with an in-band DEADLINE_EXCEEDED, and the stream goes on.
    const stream = cluster.raw(follower).Session();
    const answer = new Promise<ServerFrame__Output['responses'][number]>((resolve, reject) => {
      stream.on('data', (frame: ServerFrame__Output) => resolve(frame.responses[0]!));
      stream.on('error', reject);
    });
    stream.write({ requests: [{ id: 7, get: { key: 'fw/txn', minRevision: 1_000_000 } }] });
    const r = await within('the in-band answer at timeoutMsMax', answer, SOON_MS);
    stream.end();
    assert.equal(r.body, 'error');
    assert.equal(r.error!.code, 'DEADLINE_EXCEEDED', r.error!.message);
    assert.equal(r.error!.retryable, true);
    assert.equal(r.error!.outcomeUnknown, false, 'a read has no outcome to doubt');
    assert.equal(cluster.server(follower).forwardsInFlight, 0);
  });

  it('fails a forwarded request at once when the leader goes away, then answers NOT_LEADER while it knows no leader', async () => {
    const last = followers[1]!;
    // A read the leader holds (it waits for a revision nobody writes) when the leader stops.
    const pending = failed(call(cluster.raw(last), 'Get', { key: 'fw/txn', minRevision: 1_000_000 }, { deadlineMs: 30_000 }));
    await eventually('the read to be forwarded', () => cluster.server(last).forwardsInFlight === 1);
    await cluster.stopReplica(leader);
    // Well before the leader's own wait (readWaitMsMax) or the deadline would end it.
    const lost = await within('the forwarded read to fail once the leader stopped', pending, SOON_MS);
    assert.equal(lost.code, grpc.status.UNAVAILABLE, lost.details);
    assert.equal(lost.metadata.get(ERROR_CODE_METADATA)[0], 'UNAVAILABLE');
    assert.equal(lost.metadata.get(OUTCOME_UNKNOWN_METADATA).length, 0, 'a read has no outcome to doubt');
    await cluster.stopReplica(followers[0]!);
    await eventually('the last replica to know no leader', async () => (await cluster.status(last)).leaderId === 0);
    const err = await failed(call(cluster.raw(last), 'Set', { key: 'fw/alone', value: inline('x') }));
    assert.equal(err.code, grpc.status.UNAVAILABLE);
    assert.equal(err.metadata.get(ERROR_CODE_METADATA)[0], 'NOT_LEADER', err.details);
    assert.equal(err.metadata.get(LEADER_HINT_METADATA)[0], '');
  });
});
