// Proves the operating flags of `dstore global` on a real process: a replica started with
// TLS, client tokens, --metrics and --log-level info serves its metrics over HTTPS (mutual
// TLS with its CA), logs JSON
// events on stderr, and `global.ts status` (another process) shows it with --json and as a
// table when given a certificate and a token, and fails without the token. Bad combinations
// of flags exit 2 with a message before anything starts. Certificates and data are in temp
// directories removed afterwards; every process is stopped.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GlobalProcess } from '../global/process-harness.ts';
import { makeTestPki, type TestPki } from './certs.ts';

const TOKEN = 'cli-ops-token-0123456789abcdef';

describe('dstore global operating flags', () => {
  let pki: TestPki;
  let dir: string;
  let replica: GlobalProcess;
  let address: string;
  let tls: string[];
  const processes: GlobalProcess[] = [];

  before(async () => {
    pki = makeTestPki();
    dir = mkdtempSync(join(tmpdir(), 'dstore-cli-ops-'));
    writeFileSync(join(dir, 'tokens'), `# principal token\nops ${TOKEN}\n`);
    writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
    tls = ['--tls-cert', pki.nodeFiles.certPath, '--tls-key', pki.nodeFiles.keyPath, '--tls-ca', pki.nodeFiles.caPath];
    replica = GlobalProcess.start(['--listen', '127.0.0.1:0', '--data', join(dir, 'data'), '--metrics', '127.0.0.1:0', '--log-level', 'info', '--auth-tokens', join(dir, 'tokens'), ...tls]);
    processes.push(replica);
    address = (await replica.waitForLine(/^Dstore server listening on (127\.0\.0\.1:\d+)$/))[1]!;
  });

  after(async () => {
    for (const p of processes) await p.stop();
    rmSync(dir, { recursive: true, force: true });
    pki?.remove();
  });

  const status = async (args: string[]): Promise<{ code: number | null; output: string }> => {
    const p = GlobalProcess.start(['--peers', address, ...args], 'status');
    processes.push(p);
    const exit = await p.exited;
    // Node warns (DEP0123) that TLS servername is an IP when dialling 127.0.0.1: not our output.
    return { code: exit.code, output: p.lines.filter((l) => !/^\((node:\d+|Use `node)/.test(l)).join('\n') };
  };

  it('serves metrics, logs JSON events, and answers status with a certificate and a token', async () => {
    const metricsUrl = (await replica.waitForLine(/^Metrics on (https:\/\/127\.0\.0\.1:\d+\/metrics)$/))[1]!;
    const text = await new Promise<string>((resolve, reject) => {
      httpsGet(metricsUrl, { ca: pki.node.ca, cert: pki.node.cert, key: pki.node.key }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(body));
      }).on('error', reject);
    });
    assert.match(text, /^dstore_applied_revision \d+$/m);
    assert.match(text, /^process_resident_memory_bytes \d+/m, 'process metrics too');
    const started = await replica.waitForLine(/^\{.*"event":"replica\.started".*\}$/);
    const event = JSON.parse(started[0]) as { level: string; tls: boolean; clientAuth: boolean };
    assert.equal(event.level, 'info');
    assert.equal(event.tls, true);
    assert.equal(event.clientAuth, true);
    await replica.waitForLine(/"event":"leader\.changed"/);

    const json = await status([...tls, '--token-file', join(dir, 'token'), '--json']);
    assert.equal(json.code, 0, json.output);
    const parsed = JSON.parse(json.output) as { healthy: boolean; leaderId: number; members: { address: string; status: { isLeader: boolean } | null }[] };
    assert.equal(parsed.healthy, true);
    assert.equal(parsed.leaderId, 1);
    assert.equal(parsed.members[0]?.address, address);
    assert.equal(parsed.members[0]?.status?.isLeader, true);

    const table = await status([...tls, '--token-file', join(dir, 'token')]);
    assert.equal(table.code, 0, table.output);
    assert.match(table.output, /^cluster: 1 member, 1 answering, leader 1: healthy$/m);
    assert.match(table.output, new RegExp(`^1\\s+${address.replace(/\./g, '\\.')}\\s+leader\\s+`, 'm'));
  });

  it('status without the token reports the member down as UNAUTHENTICATED and exits 1', async () => {
    const r = await status([...tls, '--json']);
    assert.equal(r.code, 1);
    const parsed = JSON.parse(r.output) as { healthy: boolean; members: { status: unknown; error: string }[] };
    assert.equal(parsed.healthy, false);
    assert.match(parsed.members[0]?.error ?? '', /needs credentials/);
  });

  it('refuses flag combinations that cannot be secure, before starting', async () => {
    const tokens = join(dir, 'tokens');
    const cases: [string[], RegExp][] = [
      [['--auth-tokens', tokens], /--auth-tokens needs TLS/],
      [['--tls-cert', pki.nodeFiles.certPath], /TLS needs all three of --tls-cert, --tls-key and --tls-ca/],
      [['--tls-cert', pki.nodeFiles.certPath, '--tls-key', join(pki.dir, 'rogue.key'), '--tls-ca', pki.nodeFiles.caPath], /does the key belong to the certificate/],
      [['--id', '1', '--peers', '1=127.0.0.1:1,2=127.0.0.1:2,3=127.0.0.1:3', '--auth-tokens', tokens, ...tls], /needs --peer-token-file too/],
      [['--log-level', 'loud'], /--log-level must be one of debug, info, warn, error/],
      [['--metrics', 'nowhere'], /--metrics "nowhere" is not host:port/],
    ];
    await Promise.all(cases.map(async ([args, message]) => {
      const listen = args.includes('--peers') ? [] : ['--listen', '127.0.0.1:0'];
      const p = GlobalProcess.start([...listen, '--data', join(dir, 'never'), ...args]);
      processes.push(p);
      const exit = await p.exited;
      assert.equal(exit.code, 2, `${args.join(' ')}: ${p.output()}`);
      assert.match(p.output(), message);
    }));
  });
});
