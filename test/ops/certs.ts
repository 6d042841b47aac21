// Test certificates, made at test time with openssl (EC P-256, valid one day) in a temp
// directory that `remove()` deletes: a cluster CA, one certificate for replicas and clients
// (subjectAltName 127.0.0.1 and localhost, usable as server and client certificate), a
// "stranger" certificate from the same CA naming only another host (elsewhere.invalid: good
// for TLS, but it names no replica's host), and a "rogue" CA with a certificate of the same
// names as node's that the cluster must refuse.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTls, type TlsMaterial } from '../../src/protocol/tls.ts';

export interface TestPki {
  readonly dir: string;
  /** Signed by the cluster CA; files: node.crt, node.key, ca.crt. */
  readonly node: TlsMaterial;
  readonly nodeFiles: { readonly certPath: string; readonly keyPath: string; readonly caPath: string };
  /** Signed by the cluster CA, naming only DNS:elsewhere.invalid (no host a test replica has). */
  readonly stranger: TlsMaterial;
  /** Signed by another CA (but trusting the cluster CA, so only the server's check refuses it). */
  readonly rogue: TlsMaterial;
  remove(): void;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(dir: string, name: string): void {
  openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '1', '-subj', `/CN=${name}`]);
}

function makeLeaf(dir: string, name: string, ca: string, ext = 'leaf.ext'): void {
  openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', '-extfile', ext]);
}

/**
 * `address` (127.0.0.1:port) dialled by name: grpc-js sends the host it dials as the TLS
 * server name, and Node deprecates an IP address there (DEP0123; grpc/grpc-node#1919).
 * The node certificate names localhost too.
 */
export function byName(address: string): string {
  return address.replace(/^127\.0\.0\.1:/, 'localhost:');
}

/** Makes the certificates (about 100 ms). The caller must call `remove()`. */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'dstore-pki-'));
  try {
    writeFileSync(join(dir, 'leaf.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=digitalSignature\n');
    writeFileSync(join(dir, 'stranger.ext'), 'subjectAltName=DNS:elsewhere.invalid\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=digitalSignature\n');
    makeCa(dir, 'ca');
    makeCa(dir, 'rogue-ca');
    makeLeaf(dir, 'node', 'ca');
    makeLeaf(dir, 'rogue', 'rogue-ca');
    makeLeaf(dir, 'stranger', 'ca', 'stranger.ext');
    const nodeFiles = { certPath: join(dir, 'node.crt'), keyPath: join(dir, 'node.key'), caPath: join(dir, 'ca.crt') };
    return {
      dir,
      node: loadTls(nodeFiles),
      nodeFiles,
      stranger: loadTls({ certPath: join(dir, 'stranger.crt'), keyPath: join(dir, 'stranger.key'), caPath: join(dir, 'ca.crt') }),
      rogue: loadTls({ certPath: join(dir, 'rogue.crt'), keyPath: join(dir, 'rogue.key'), caPath: join(dir, 'ca.crt') }),
      remove: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
