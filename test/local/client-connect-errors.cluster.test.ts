// What the Global client says when it cannot use an address, against real local servers:
// a refused port, a name that does not resolve (RFC 6761 .invalid, no network needed), an
// HTTP/1 server, an HTTP/2 server that is not gRPC, a gRPC server of another service, and the
// TLS mismatches (plaintext client to a TLS server and the reverse, a certificate the client
// does not trust, one that names another host, a client certificate the server refuses). Each
// is UnavailableError with its own `reason` and a message naming what to do. Then `failFast`:
// while Global is unreachable calls fail at once with that reason, and work again once it is
// back, on the same client.
import assert from 'node:assert/strict';
import { createServer as createHttp1, type Server as Http1Server } from 'node:http';
import { createServer as createHttp2, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { GlobalClient } from '../../src/local/client/client.ts';
import { UnavailableError, type UnavailableReason } from '../../src/protocol/errors.ts';
import { serverCredentials, type TlsMaterial } from '../../src/protocol/tls.ts';
import { TestCluster, within } from '../global/cluster-harness.ts';
import { makeTestPki, type TestPki, byName } from '../ops/certs.ts';

let pki: TestPki;
let http1: Http1Server;
let http2: Http2Server;
const grpcServers: grpc.Server[] = [];
const clients: GlobalClient[] = [];

async function grpcServer(tls: TlsMaterial | null): Promise<string> {
  const server = new grpc.Server();
  grpcServers.push(server);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', serverCredentials(tls), (err, p) => (err ? reject(err) : resolve(p)));
  });
  return `127.0.0.1:${port}`;
}

function addressOf(server: Http1Server | Http2Server): string {
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function client(address: string, tls: TlsMaterial | null = null): GlobalClient {
  // A TLS client dials by name: grpc-js sends the host as the TLS server name, and Node warns
  // (DEP0123) when that is an IP address (test/ops/certs.ts, byName).
  const c = new GlobalClient({ addresses: [tls === null ? address : byName(address)], deadlineMs: 3000, connectTimeoutMs: 2000, failFast: true, security: { tls, token: null } });
  clients.push(c);
  return c;
}

/** The error of one status call, which must be UnavailableError. */
async function failure(c: GlobalClient): Promise<UnavailableError> {
  const err = await c.status().then(() => null, (e: unknown) => e);
  assert.ok(err instanceof UnavailableError, `expected UnavailableError, got ${String(err)}`);
  return err;
}

async function expectReason(c: GlobalClient, reason: UnavailableReason, message: RegExp): Promise<void> {
  const err = await failure(c);
  assert.equal(err.reason, reason, err.message);
  assert.match(err.message, message);
}

before(async () => {
  pki = makeTestPki();
  http1 = createHttp1((_req, res) => res.writeHead(404).end('not here'));
  http2 = createHttp2((_req, res) => res.writeHead(404).end('not here'));
  await new Promise<void>((resolve) => http1.listen(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => http2.listen(0, '127.0.0.1', resolve));
});

after(async () => {
  for (const c of clients) await c.close();
  for (const s of grpcServers) s.forceShutdown();
  http1.closeAllConnections();
  await new Promise((resolve) => http1.close(resolve));
  await new Promise((resolve) => http2.close(resolve));
  pki.remove();
});

describe('Global client: why an address cannot be used', () => {
  it('a port nothing listens on: refused', async () => {
    const closed = await grpcServer(null);
    grpcServers.pop()!.forceShutdown();
    await expectReason(client(closed), 'connection-refused', new RegExp(`cannot reach Global replica ${closed}: connection refused .*nothing listens on that port`));
  });

  it('a name that does not resolve: DNS', async () => {
    await expectReason(client('nonexistent.invalid:50051'), 'name-not-resolved', /the host name "nonexistent\.invalid" does not resolve \(DNS\)/);
  });

  it('an HTTP/1 server, an HTTP/2 server and a gRPC server of another service: not dstore', async () => {
    await expectReason(client(addressOf(http1)), 'not-dstore', /does not speak dstore \(not HTTP\/2.*check that the address points at a dstore Global replica/);
    await expectReason(client(addressOf(http2)), 'not-dstore', /does not speak dstore \(HTTP 404, not gRPC\)/);
    await expectReason(client(await grpcServer(null)), 'not-dstore', /does not speak dstore \(a gRPC server without dstore\.v1\.Global\.Session\)/);
  });

  it('TLS on one side only: named from either side', async () => {
    await expectReason(client(await grpcServer(pki.node)), 'server-needs-tls', /the server speaks TLS and this client is plaintext: pass --tls-cert/);
    await expectReason(client(await grpcServer(null), pki.node), 'server-not-tls', /this client uses TLS and the server does not \(wrong version number\)/);
  });

  it('certificates: not trusted, naming another host, refused by the server', async () => {
    await expectReason(client(await grpcServer(pki.rogue), pki.node), 'certificate-untrusted', /does not trust the server's certificate \(unable to verify .*--tls-ca/);
    await expectReason(client(await grpcServer(pki.stranger), pki.node), 'certificate-name-mismatch', /certificate does not name the host dialled \(.*localhost/);
    // The rogue certificate comes from another CA: the server (mutual TLS) refuses it.
    await expectReason(client(await grpcServer(pki.node), { ...pki.rogue, ca: pki.node.ca }), 'certificate-refused', /does not accept this client's certificate/);
  });
});

describe('Global client with failFast', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await TestCluster.start(1);
    await cluster.waitForLeader();
  });
  after(async () => cluster.stop());

  it('fails at once with the reason while Global is down, and works again once it is back', async () => {
    // The deadline is far beyond each wait below: a call answered within it failed at once.
    const c = cluster.client({ failFast: true, deadlineMs: 120_000, connectTimeoutMs: 2000 });
    clients.push(c);
    await c.set('ff', new TextEncoder().encode('1'));
    await cluster.stopReplica(1);
    const first = await failure(c);
    assert.equal(first.reason, 'connection-refused', first.message);
    for (let i = 0; i < 5; i++) {
      const again = await within('a call while Global is down to fail', c.get('ff').then(() => null, (e: unknown) => e), 20_000);
      assert.ok(again instanceof UnavailableError && again.reason === 'connection-refused', String(again));
      assert.match(again.message, /no Global replica is reachable: .*connection refused.*keeps trying to connect in the background/);
    }
    await cluster.restartReplica(1);
    await cluster.waitForLeader();
    const deadline = Date.now() + 10_000;
    for (;;) {
      const got = await c.get('ff').then((r) => r, () => null);
      if (got !== null) {
        assert.equal(new TextDecoder().decode(got.kv?.value ?? new Uint8Array()), '1');
        break;
      }
      assert.ok(Date.now() < deadline, 'the same client did not reach Global within 10 s of its restart');
      await new Promise((resolve) => setImmediate(resolve)); // a failed call rejects at once: let the reconnect run
    }
  });
});
