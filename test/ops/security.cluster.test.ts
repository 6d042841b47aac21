// Proves TLS and authentication end to end (issue 7): a three-replica cluster with mutual TLS,
// client tokens and a peer token elects a leader and replicates (so peers authenticated each
// other), serves a client holding a certificate and a token, and refuses: a plaintext client,
// a certificate from another CA, a call without a token or with an unknown one (UNAUTHENTICATED,
// and nothing changed), a client token on the replica-to-replica service. A Local serving its
// node refuses a worker of another principal, even one Global accepts. A certificate from the
// cluster's CA that names another host cannot speak as a replica, even with the peer token
// (issue 11), and a call naming another cluster is not told this one's id. Certificates are
// made with openssl at test time and deleted afterwards.
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { attach } from '../../src/local/node/attach.ts';
import { GlobalClient } from '../../src/local/client/client.ts';
import { Local } from '../../src/local/local.ts';
import { LocalServer } from '../../src/local/node/local-server.ts';
import { CLUSTER_ID_METADATA, CLUSTER_MISMATCH, PROTOCOL_VERSION } from '../../src/global/peers/peer-transport.ts';
import { TokenTable } from '../../src/protocol/auth.ts';
import { UnauthenticatedError, UnavailableError } from '../../src/protocol/errors.ts';
import type { GlobalClient as WireGlobal } from '../../src/protocol/generated/dstore/v1/Global.ts';
import type { ReplicaClient } from '../../src/protocol/generated/dstore/v1/Replica.ts';
import { NULL_LOGGER } from '../../src/protocol/log.ts';
import { dstoreProto } from '../../src/protocol/proto.ts';
import { channelCredentials, clientChannel, type ClientSecurity, type TlsMaterial } from '../../src/protocol/tls.ts';
import { TestCluster, within } from '../global/cluster-harness.ts';
import { byName, makeTestPki, type TestPki } from './certs.ts';

const ALICE = 'alice-token-0123456789abcdef';
const BOB = 'bob-token-0123456789abcdef00';
const PEER = 'peer-token-0123456789abcdef0';
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

function rawGlobal(address: string, tls: TlsMaterial | null, token: string | null): WireGlobal {
  const channel = clientChannel({ tls, token });
  return new (dstoreProto().dstore.v1.Global)(address, channel.credentials, { ...channel.options, 'grpc.enable_retries': 0 });
}

/** The gRPC status code of a unary Status call (0 when it succeeds). */
function statusCode(client: WireGlobal): Promise<number> {
  return new Promise((resolve) => {
    client.Status({}, { deadline: Date.now() + 3000 }, (err) => resolve(err === null ? 0 : err.code));
  });
}

/** How a server-streaming call ended: its error, or null when it ended well. */
function serverStreamEnd(call: grpc.ClientReadableStream<unknown>): Promise<grpc.ServiceError | null> {
  return new Promise((resolve) => {
    call.on('data', () => {});
    call.on('error', resolve);
    call.on('end', () => resolve(null));
  });
}

function setCode(client: WireGlobal, key: string): Promise<{ code: number; metadata: grpc.Metadata | undefined }> {
  return new Promise((resolve) => {
    client.Set({ key, value: { inline: Buffer.from('x') } }, { deadline: Date.now() + 3000 }, (err) => resolve({ code: err === null ? 0 : err.code, metadata: err?.metadata }));
  });
}

describe('TLS and authentication', () => {
  let pki: TestPki;
  let cluster: TestCluster;
  const registries = new Map<number, Registry>();
  let alice: ClientSecurity;
  const closers: (() => Promise<void> | void)[] = [];

  before(async () => {
    pki = makeTestPki();
    alice = { tls: pki.node, token: ALICE };
    const clientTokens = TokenTable.of([['alice', ALICE], ['bob', BOB]]);
    cluster = await TestCluster.start(3, {
      listen: (id) => {
        const registry = registries.get(id) ?? new Registry();
        registries.set(id, registry);
        return { security: { tls: pki.node, clientTokens, peerToken: PEER }, logger: NULL_LOGGER, metrics: registry };
      },
      clientSecurity: alice,
      dialHost: 'localhost',
    });
    await cluster.waitForLeader();
  });

  after(async () => {
    for (const close of closers.reverse()) await close();
    await cluster?.stop();
    pki?.remove();
  });

  it('runs a cluster whose replicas authenticate each other, and serves a client with a certificate and a token', async () => {
    const client = cluster.client({ deadlineMs: 5000 });
    const { revision } = await client.set('tls/greeting', bytes('hello'));
    const got = await client.get('tls/greeting');
    assert.equal(new TextDecoder().decode(got.kv?.value ?? new Uint8Array()), 'hello');
    // Every replica applied it: replication ran over mutual TLS with the peer token.
    for (const id of [1, 2, 3]) {
      const s = await cluster.status(id);
      assert.ok(s.appliedRevision >= revision, `replica ${id} applied ${s.appliedRevision} < ${revision}`);
      assert.equal(s.members.filter((m) => m.connected).length, 3, `replica ${id} is connected to both peers`);
    }
  });

  it('refuses a plaintext client', async () => {
    const raw = rawGlobal(cluster.addresses[0]!, null, ALICE);
    closers.push(() => raw.close());
    assert.equal(await statusCode(raw), grpc.status.UNAVAILABLE);
    const client = new GlobalClient({ addresses: cluster.addresses, deadlineMs: 1500, retriesMax: 1, connectTimeoutMs: 500, security: { tls: null, token: ALICE } });
    closers.push(() => client.close());
    await assert.rejects(client.status(), UnavailableError);
  });

  it('refuses a client certificate signed by another CA', async () => {
    const raw = rawGlobal(cluster.addresses[0]!, pki.rogue, ALICE);
    closers.push(() => raw.close());
    assert.equal(await statusCode(raw), grpc.status.UNAVAILABLE);
    // and the right certificate on the same terms works, so the CA made the difference
    const good = rawGlobal(cluster.addresses[0]!, pki.node, ALICE);
    closers.push(() => good.close());
    assert.equal(await statusCode(good), grpc.status.OK);
  });

  it('answers UNAUTHENTICATED to a call without a token or with an unknown one, and changes nothing', async () => {
    const leaderId = await cluster.waitForLeader();
    const before = await cluster.status(leaderId);
    const address = cluster.members.get(leaderId)!;
    const none = rawGlobal(address, pki.node, null);
    const wrong = rawGlobal(address, pki.node, 'not-a-known-token-at-all');
    closers.push(() => none.close(), () => wrong.close());
    for (const raw of [none, wrong]) {
      const r = await setCode(raw, 'tls/intruder');
      assert.equal(r.code, grpc.status.UNAUTHENTICATED);
      assert.equal(r.metadata?.get('dstore-error')[0], 'UNAUTHENTICATED');
    }
    // The Session stream (what GlobalClient uses) is refused too, as a typed error, at once.
    // Its deadline is far beyond the wait: refused within the wait, it was not retried until the deadline.
    const anonymous = new GlobalClient({ addresses: [address], deadlineMs: 120_000, security: { tls: pki.node, token: null } });
    closers.push(() => anonymous.close());
    await within('the refusal', assert.rejects(anonymous.set('tls/intruder', bytes('x')), UnauthenticatedError), 20_000);
    const after = await cluster.status(leaderId);
    assert.equal(after.appliedRevision, before.appliedRevision, 'no write happened');
    assert.equal((await cluster.client().get('tls/intruder')).kv, null);
    const text = await registries.get(leaderId)!.metrics();
    const refused = /dstore_auth_refused_total\{service="dstore\.v1\.Global"\} (\d+)/.exec(text);
    assert.ok(refused !== null && Number(refused[1]) >= 3, `refusals counted: ${refused?.[0]}`);
  });

  it('forwards a follower\'s write over the authenticated peer stream, and only an authenticated client\'s', async () => {
    const leaderId = await cluster.waitForLeader();
    const followerId = [1, 2, 3].find((id) => id !== leaderId)!;
    const address = cluster.members.get(followerId)!;
    const withToken = rawGlobal(address, pki.node, ALICE);
    const without = rawGlobal(address, pki.node, null);
    closers.push(() => withToken.close(), () => without.close());
    assert.equal((await setCode(without, 'tls/forwarded')).code, grpc.status.UNAUTHENTICATED);
    // OK, not ALREADY_EXISTS: the refused Set ran nowhere.
    assert.equal((await setCode(withToken, 'tls/forwarded')).code, grpc.status.OK, 'the follower forwarded it to the leader over mutual TLS');
    const got = await cluster.client().get('tls/forwarded');
    assert.equal(new TextDecoder().decode(got.kv?.value ?? new Uint8Array()), 'x');
  });

  it('refuses a client token on the replica-to-replica service', async () => {
    const channel = clientChannel(alice);
    const replica = new (dstoreProto().dstore.v1.Replica)(cluster.addresses[0]!, channel.credentials, channel.options);
    closers.push(() => replica.close());
    const code = await new Promise<number>((resolve) => {
      const call = replica.FetchBlob({ hash: Buffer.alloc(32) }, { deadline: Date.now() + 3000 });
      call.on('data', () => {});
      call.on('error', (err: grpc.ServiceError) => resolve(err.code));
      call.on('end', () => resolve(0));
    });
    assert.equal(code, grpc.status.UNAUTHENTICATED);
  });

  it("ties a peer to its certificate: one from the CA naming another host is refused, even with the peer token", async () => {
    const peerCall = (tls: TlsMaterial, clusterId = 'test'): { replica: ReplicaClient; metadata: grpc.Metadata } => {
      const channel = clientChannel({ tls, token: PEER });
      const replica = new (dstoreProto().dstore.v1.Replica)(cluster.addresses[0]!, channel.credentials, { ...channel.options, 'grpc.enable_retries': 0 });
      closers.push(() => replica.close());
      const metadata = new grpc.Metadata();
      metadata.set(CLUSTER_ID_METADATA, clusterId);
      return { replica, metadata };
    };
    const stranger = peerCall(pki.stranger);
    const hello = await new Promise<grpc.ServiceError | null>((resolve) => {
      const call = stranger.replica.Exchange(stranger.metadata, { deadline: Date.now() + 3000 });
      call.on('data', () => resolve(null)); // answered with its hello: accepted as replica 2
      call.on('error', resolve);
      call.write({ hello: { clusterId: 'test', fromReplicaId: 2, toReplicaId: 1, protocolVersion: PROTOCOL_VERSION }, messages: [] });
    });
    assert.equal(hello?.code, grpc.status.UNAUTHENTICATED, 'the hello as replica 2 is refused');
    assert.match(hello.details, /the client certificate \(DNS:elsewhere\.invalid\) does not name localhost, the host of replica 2 in --peers/);
    for (const [name, ended] of [
      ['FetchBlob', serverStreamEnd(stranger.replica.FetchBlob({ hash: Buffer.alloc(32) }, stranger.metadata, { deadline: Date.now() + 3000 }))],
      ['FetchSnapshot', serverStreamEnd(stranger.replica.FetchSnapshot({ minThroughInstance: 0 }, stranger.metadata, { deadline: Date.now() + 3000 }))],
      ['StoreBlob', new Promise<grpc.ServiceError | null>((resolve) => {
        const call = stranger.replica.StoreBlob(stranger.metadata, { deadline: Date.now() + 3000 }, (err) => resolve(err));
        call.write({ header: { size: 1 } });
        call.write({ chunk: { offset: 0, data: Buffer.from('x') } });
        call.end();
      })],
    ] as const) {
      const err = await ended;
      assert.equal(err?.code, grpc.status.UNAUTHENTICATED, `${name}: ${err?.details}`);
      assert.match(err.details, /names the host of no member in --peers/);
    }
    // The cluster's own certificate with the same token gets past both checks: the blob is not there.
    const member = peerCall(pki.node);
    const found = await serverStreamEnd(member.replica.FetchBlob({ hash: Buffer.alloc(32) }, member.metadata, { deadline: Date.now() + 3000 }));
    assert.equal(found?.code, grpc.status.NOT_FOUND, found?.details);
    // A call naming another cluster is refused without being told this one's id.
    const other = peerCall(pki.node, 'guess');
    const wrongCluster = await serverStreamEnd(other.replica.FetchBlob({ hash: Buffer.alloc(32) }, other.metadata, { deadline: Date.now() + 3000 }));
    assert.equal(wrongCluster?.details, `blob call: ${CLUSTER_MISMATCH}`);
    assert.doesNotMatch(wrongCluster.details, /"test"/);
  });

  it('a Local serves its node only to its own principal', async () => {
    const local = Local.open({ global: cluster.addresses, client: { deadlineMs: 5000, security: alice } });
    closers.push(() => local.close());
    const server = await LocalServer.listen(local, '127.0.0.1:0', alice);
    closers.push(() => server.stop());
    await local.set('tls/local', bytes('cached for alice'));
    const worker = await attach(byName(server.address), { client: { deadlineMs: 5000, security: alice } });
    closers.push(() => worker.close());
    assert.equal(new TextDecoder().decode((await worker.get('tls/local'))!.value), 'cached for alice');
    // Bob's token is good on Global, but this Local holds Alice's data: refused.
    await assert.rejects(attach(byName(server.address), { client: { deadlineMs: 3000, security: { tls: pki.node, token: BOB } } }), UnauthenticatedError);
    await assert.rejects(attach(byName(server.address), { client: { deadlineMs: 3000, security: { tls: pki.node, token: null } } }), UnauthenticatedError);
    // and its port speaks only TLS
    const plain = new (dstoreProto().dstore.v1.Global)(server.address, channelCredentials(null), { 'grpc.enable_retries': 0 });
    closers.push(() => plain.close());
    assert.equal(await statusCode(plain), grpc.status.UNAVAILABLE);
  });
});
