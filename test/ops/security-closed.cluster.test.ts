// Proves that once a token is configured every service a port serves asks for a credential
// (issue 11): a single replica with client tokens and no peer token refuses every
// dstore.v1.Replica call (FetchSnapshot, FetchBlob, StoreBlob, Exchange) from a caller with a
// good certificate, the right cluster id and even a client token, and its health and
// reflection services want a token too; a Local's node server with a token refuses every
// call without it, also to a service it does not name (one added later is not open). On the code before, the Replica calls were served (the whole
// snapshot, a secret blob, a stored blob) because only the cluster id guarded them.
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HealthImplementation } from 'grpc-health-check';
import { CLUSTER_ID_METADATA } from '../../src/global/peers/peer-transport.ts';
import { Local } from '../../src/local/local.ts';
import { LocalServer } from '../../src/local/node/local-server.ts';
import { localServerSide } from '../../src/local/node/local-security.ts';
import { TokenTable } from '../../src/protocol/auth.ts';
import type { ReplicaClient } from '../../src/protocol/generated/dstore/v1/Replica.ts';
import { hashOf, hashToBytes } from '../../src/protocol/hash.ts';
import { NULL_LOGGER } from '../../src/protocol/log.ts';
import { dstoreProto } from '../../src/protocol/proto.ts';
import { clientChannel, type ClientSecurity } from '../../src/protocol/tls.ts';
import { TestCluster } from '../global/cluster-harness.ts';
import { byName, makeTestPki, type TestPki } from './certs.ts';

const ALICE = 'alice-token-0123456789abcdef';
const SECRET = new TextEncoder().encode('the secret blob '.repeat(1000));

interface Outcome {
  readonly code: number;
  readonly details: string;
  readonly data: number;
}

function replicaClient(address: string, security: ClientSecurity): ReplicaClient {
  const channel = clientChannel(security);
  return new (dstoreProto().dstore.v1.Replica)(address, channel.credentials, { ...channel.options, 'grpc.enable_retries': 0 });
}

/** Metadata naming the replica's cluster, as a peer's call carries it. */
function clusterMetadata(): grpc.Metadata {
  const m = new grpc.Metadata();
  m.set(CLUSTER_ID_METADATA, 'test');
  return m;
}

/** How a server-streaming call ended, and how many bytes of data it delivered before. */
function streamOutcome(call: grpc.ClientReadableStream<{ data?: Buffer }>): Promise<Outcome> {
  return new Promise((resolve) => {
    let data = 0;
    call.on('data', (m: { data?: Buffer }) => (data += m.data?.byteLength ?? 0));
    call.on('error', (err: grpc.ServiceError) => resolve({ code: err.code, details: err.details, data }));
    call.on('end', () => resolve({ code: grpc.status.OK, details: '', data }));
  });
}

/** The status of a call to any method, with raw bytes in and out (health, reflection). */
function rawCall(address: string, security: ClientSecurity, path: string, streaming: boolean): Promise<Outcome> {
  const channel = clientChannel(security);
  const client = new grpc.Client(address, channel.credentials, { ...channel.options, 'grpc.enable_retries': 0 });
  const identity = (b: Buffer): Buffer => b;
  const done = (resolve: (o: Outcome) => void) => (o: Outcome): void => {
    client.close();
    resolve(o);
  };
  return new Promise((resolve) => {
    const finish = done(resolve);
    const options = { deadline: Date.now() + 3000 };
    if (!streaming) {
      client.makeUnaryRequest(path, identity, identity, Buffer.alloc(0), options, (err, res) => finish({ code: err?.code ?? 0, details: err?.details ?? '', data: res?.byteLength ?? 0 }));
      return;
    }
    const call = client.makeBidiStreamRequest(path, identity, identity, options);
    let data = 0;
    call.on('data', (b: Buffer) => (data += b.byteLength));
    call.on('error', (err: grpc.ServiceError) => finish({ code: err.code, details: err.details, data }));
    call.on('end', () => finish({ code: 0, details: '', data }));
    // ServerReflectionRequest { list_services: "" } (field 7, empty string)
    call.write(Buffer.from([0x3a, 0x00]));
    call.end();
  });
}

const HEALTH_CHECK = '/grpc.health.v1.Health/Check';
const REFLECTION = '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo';
const REFLECTION_ALPHA = '/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo';

describe('every service asks for a credential once one is configured', () => {
  let pki: TestPki;
  let single: TestCluster;
  let address: string;
  let withToken: ClientSecurity;
  let certOnly: ClientSecurity;
  const closers: (() => Promise<void> | void)[] = [];

  before(async () => {
    pki = makeTestPki();
    withToken = { tls: pki.node, token: ALICE };
    certOnly = { tls: pki.node, token: null };
    single = await TestCluster.start(1, {
      listen: () => ({ security: { tls: pki.node, clientTokens: TokenTable.of([['alice', ALICE]]), peerToken: null }, logger: NULL_LOGGER }),
      clientSecurity: withToken,
      dialHost: 'localhost',
    });
    await single.waitForLeader();
    address = single.addresses[0]!;
    // A secret value and a secret blob, and a snapshot holding them.
    const client = single.client({ deadlineMs: 5000 });
    await client.set('secret/value', new TextEncoder().encode('hunter2'));
    await client.putBlob(SECRET);
    await single.server(1).node.snapshotNow();
  });

  after(async () => {
    for (const close of closers.reverse()) await close();
    await single?.stop();
    pki?.remove();
  });

  it('a single replica with client tokens and no peer token refuses FetchSnapshot, FetchBlob, StoreBlob and Exchange', async () => {
    // With the right cluster id and a certificate from the CA; with and without a client token.
    for (const security of [certOnly, withToken]) {
      const replica = replicaClient(address, security);
      closers.push(() => replica.close());
      const deadline = (): grpc.CallOptions => ({ deadline: Date.now() + 3000 });

      const snapshot = await streamOutcome(replica.FetchSnapshot({ minThroughInstance: 0 }, clusterMetadata(), deadline()));
      assert.equal(snapshot.code, grpc.status.UNAUTHENTICATED, `FetchSnapshot: ${snapshot.details}`);
      assert.equal(snapshot.data, 0, 'no snapshot bytes');
      assert.match(snapshot.details, /accepts no peer calls without --peer-token-file/);

      const blob = await streamOutcome(replica.FetchBlob({ hash: hashToBytes(hashOf(SECRET)) }, clusterMetadata(), deadline()));
      assert.equal(blob.code, grpc.status.UNAUTHENTICATED, `FetchBlob: ${blob.details}`);
      assert.equal(blob.data, 0, 'no blob bytes');

      const planted = new TextEncoder().encode(`planted by ${security.token ?? 'a certificate'}`);
      const stored = await new Promise<Outcome>((resolve) => {
        const call = replica.StoreBlob(clusterMetadata(), deadline(), (err) => resolve({ code: err?.code ?? 0, details: err?.details ?? '', data: 0 }));
        call.write({ header: { size: planted.byteLength, hash: hashToBytes(hashOf(planted)) } });
        call.write({ chunk: { offset: 0, data: planted } });
        call.end();
      });
      assert.equal(stored.code, grpc.status.UNAUTHENTICATED, `StoreBlob: ${stored.details}`);
      assert.equal(single.server(1).blobs.store.has(hashOf(planted)), false, 'nothing stored');

      const exchange = await new Promise<Outcome>((resolve) => {
        const call = replica.Exchange(clusterMetadata(), deadline());
        call.on('data', () => {});
        call.on('error', (err: grpc.ServiceError) => resolve({ code: err.code, details: err.details, data: 0 }));
        call.on('end', () => resolve({ code: 0, details: '', data: 0 }));
        call.write({ hello: { clusterId: 'test', fromReplicaId: 2, toReplicaId: 1, protocolVersion: 1 }, messages: [] });
      });
      assert.equal(exchange.code, grpc.status.UNAUTHENTICATED, `Exchange: ${exchange.details}`);
    }
  });

  it('health and reflection want a client token when client tokens are configured', async () => {
    for (const [path, streaming] of [[HEALTH_CHECK, false], [REFLECTION, true], [REFLECTION_ALPHA, true]] as const) {
      const anonymous = await rawCall(address, certOnly, path, streaming);
      assert.equal(anonymous.code, grpc.status.UNAUTHENTICATED, `${path} without a token: ${anonymous.details}`);
      const alice = await rawCall(address, withToken, path, streaming);
      assert.equal(alice.code, grpc.status.OK, `${path} with a client token: ${alice.details}`);
      assert.ok(alice.data > 0, `${path} answered`);
    }
  });

  it("a Local's node server with a token refuses calls without it, also to a service added to it later", async () => {
    const local = Local.open({ global: [address], client: { deadlineMs: 5000, security: withToken } });
    closers.push(() => local.close());
    const server = await LocalServer.listen(local, '127.0.0.1:0', withToken);
    closers.push(() => server.stop());
    const status = await rawCall(byName(server.address), certOnly, '/dstore.v1.Global/Status', false);
    assert.equal(status.code, grpc.status.UNAUTHENTICATED);
    const own = await rawCall(byName(server.address), withToken, '/dstore.v1.Global/Status', false);
    // Past the token check, the Local's own answer (it serves Status on the Session stream).
    assert.equal(own.code, grpc.status.UNIMPLEMENTED, own.details);
    // A server with the Local's interceptors and one more service (health, standing in for any
    // service added later): it is not open, it wants the token too.
    const side = localServerSide(withToken);
    const extended = new grpc.Server({ interceptors: side.interceptors });
    new HealthImplementation({ '': 'SERVING' }).addToServer(extended);
    const port = await new Promise<number>((resolve, reject) => extended.bindAsync('127.0.0.1:0', side.credentials, (err, p) => (err === null ? resolve(p) : reject(err))));
    closers.push(() => new Promise<void>((resolve) => extended.tryShutdown(() => resolve())));
    const anonymous = await rawCall(`localhost:${port}`, certOnly, HEALTH_CHECK, false);
    assert.equal(anonymous.code, grpc.status.UNAUTHENTICATED, anonymous.details);
    const holder = await rawCall(`localhost:${port}`, withToken, HEALTH_CHECK, false);
    assert.equal(holder.code, grpc.status.UNAUTHENTICATED, 'the Local names no other service, so none is served to anyone');
  });
});
