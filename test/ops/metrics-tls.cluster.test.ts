// Proves the metrics endpoint's stance (issue 11): with the process's TLS material it serves
// HTTPS and wants a client certificate from the same CA (one from another CA, none, or plain
// HTTP get nothing); without TLS it serves plain HTTP, silently on loopback and with a
// metrics.plaintext warning when bound to any other address.
import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { Counter, Registry } from 'prom-client';
import { createLogger } from '../../src/protocol/log.ts';
import { isLoopbackHost, serveMetrics, type MetricsEndpoint } from '../../src/protocol/metrics-kit.ts';
import type { TlsMaterial } from '../../src/protocol/tls.ts';
import { makeTestPki, type TestPki } from './certs.ts';

/** GET over HTTPS with `client` as the client certificate (null: none); the body, or the error's message. */
function scrapeHttps(url: string, ca: Buffer, client: TlsMaterial | null): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = httpsRequest(url, { ca, ...(client === null ? {} : { cert: client.cert, key: client.key }), timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', (err) => resolve({ error: err.message }));
    });
    req.on('error', (err) => resolve({ error: err.message }));
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.end();
  });
}

describe('metrics endpoint stance', () => {
  let pki: TestPki;
  const registry = new Registry();
  const endpoints: MetricsEndpoint[] = [];

  before(() => {
    pki = makeTestPki();
    new Counter({ name: 'stance_probe_total', help: 'a probe', registers: [registry] }).inc();
  });

  after(async () => {
    for (const e of endpoints) await e.close();
    pki?.remove();
  });

  it('with TLS material: HTTPS, and only for a client certificate from the same CA', async () => {
    const endpoint = await serveMetrics(registry, '127.0.0.1:0', { tls: pki.node });
    endpoints.push(endpoint);
    assert.equal(endpoint.scheme, 'https');
    assert.match(endpoint.url, /^https:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const ok = await scrapeHttps(endpoint.url, pki.node.ca, pki.node);
    assert.ok('status' in ok && ok.status === 200 && /^stance_probe_total 1$/m.test(ok.body), JSON.stringify(ok));
    const anonymous = await scrapeHttps(endpoint.url, pki.node.ca, null);
    assert.ok('error' in anonymous || anonymous.status !== 200, `no client certificate: ${JSON.stringify(anonymous)}`);
    const rogue = await scrapeHttps(endpoint.url, pki.node.ca, pki.rogue);
    assert.ok('error' in rogue || rogue.status !== 200, `another CA's certificate: ${JSON.stringify(rogue)}`);
    await assert.rejects(fetch(`http://${endpoint.address}/metrics`), 'plain HTTP gets no answer');
  });

  it('without TLS: plain HTTP, with a warning when bound beyond loopback', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', write: (line) => lines.push(line) });
    const loopback = await serveMetrics(registry, '127.0.0.1:0', { logger });
    endpoints.push(loopback);
    assert.equal(loopback.scheme, 'http');
    assert.match(await (await fetch(loopback.url)).text(), /^stance_probe_total 1$/m);
    assert.deepEqual(lines, [], 'loopback: no warning');
    const open = await serveMetrics(registry, '0.0.0.0:0', { logger });
    endpoints.push(open);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /metrics\.plaintext/);
    assert.match(lines[0]!, /0\.0\.0\.0:\d+/);
    assert.match(lines[0]!, /bind --metrics to 127\.0\.0\.1 or give the process TLS/);
  });

  it('knows loopback hosts', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) assert.equal(isLoopbackHost(h), true, h);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', 'db1.example', '128.0.0.1']) assert.equal(isLoopbackHost(h), false, h);
  });
});
