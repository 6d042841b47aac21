// TLS for every gRPC connection (issue 7): client to replica, replica to replica, worker to
// the node's Local. One set of files per process: its certificate and key (served to callers,
// and presented as its client certificate when it dials) and the CA that signs everyone's.
//
// A server with TLS speaks only TLS (a plaintext client's handshake fails: it never reaches a
// handler) and requires a client certificate signed by the CA (mutual TLS), so a replica knows
// a peer is one of the cluster's before anything else. A client checks the server's
// certificate against the CA and the name it dialled (put every address clients and peers
// use, DNS names or IPs, in the certificate's subjectAltName).

import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { InvalidArgumentError } from './errors.ts';
import { tokenInterceptor } from './auth.ts';

export interface TlsFiles {
  readonly certPath: string;
  readonly keyPath: string;
  readonly caPath: string;
}

/** PEM bytes of a certificate chain, its private key and the CA bundle. */
export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer;
  /** The certificate's subject and validity, for logs. */
  readonly subject: string;
  readonly validTo: string;
}

function readPem(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new InvalidArgumentError(`${flag} ${path}: cannot read it (${(err as Error).message})`);
  }
}

/**
 * Reads and checks the three files: each readable, the certificate and the CA parse, the key
 * matches the certificate, and the certificate is within its validity period. Throws
 * InvalidArgumentError naming the flag and the problem.
 */
export function loadTls(files: TlsFiles, nowMs: number = Date.now()): TlsMaterial {
  const cert = readPem(files.certPath, '--tls-cert');
  const key = readPem(files.keyPath, '--tls-key');
  const ca = readPem(files.caPath, '--tls-ca');
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new InvalidArgumentError(`--tls-cert ${files.certPath}: not a PEM certificate (${(err as Error).message})`);
  }
  try {
    new X509Certificate(ca);
  } catch (err) {
    throw new InvalidArgumentError(`--tls-ca ${files.caPath}: not a PEM certificate (${(err as Error).message})`);
  }
  const options: SecureContextOptions = { cert, key, ca };
  try {
    createSecureContext(options);
  } catch (err) {
    throw new InvalidArgumentError(`--tls-cert/--tls-key: ${(err as Error).message} (does the key belong to the certificate?)`);
  }
  if (Date.parse(x509.validTo) < nowMs) throw new InvalidArgumentError(`--tls-cert ${files.certPath}: expired on ${x509.validTo}`);
  if (Date.parse(x509.validFrom) > nowMs) throw new InvalidArgumentError(`--tls-cert ${files.certPath}: not valid before ${x509.validFrom}`);
  return { cert, key, ca, subject: x509.subject.replace(/\n/g, ', '), validTo: x509.validTo };
}

/** Server credentials: plaintext without TLS; with it, TLS requiring a client certificate from the CA. */
export function serverCredentials(tls: TlsMaterial | null): grpc.ServerCredentials {
  if (tls === null) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(tls.ca, [{ cert_chain: tls.cert, private_key: tls.key }], true);
}

/** Channel credentials: plaintext without TLS; with it, TLS presenting our certificate and checking the server's against the CA. */
export function channelCredentials(tls: TlsMaterial | null): grpc.ChannelCredentials {
  if (tls === null) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(tls.ca, tls.key, tls.cert);
}

/**
 * How a client reaches a server: TLS material (null: plaintext) and the bearer token to send
 * on every call (null: none).
 */
export interface ClientSecurity {
  readonly tls: TlsMaterial | null;
  readonly token: string | null;
}

export const PLAINTEXT: ClientSecurity = Object.freeze({ tls: null, token: null });

/** Channel credentials and client options (the token interceptor) for `security`. */
export function clientChannel(security: ClientSecurity): { credentials: grpc.ChannelCredentials; options: grpc.ClientOptions } {
  return {
    credentials: channelCredentials(security.tls),
    options: security.token === null ? {} : { interceptors: [tokenInterceptor(security.token)] },
  };
}

/**
 * Channel credentials that also send `token` on every call (call credentials; gRPC sends them
 * only over TLS). For channels whose options the caller cannot extend (the peer transport).
 */
export function channelCredentialsWithToken(tls: TlsMaterial, token: string | null): grpc.ChannelCredentials {
  const base = channelCredentials(tls);
  if (token === null) return base;
  const value = `Bearer ${token}`;
  const call = grpc.credentials.createFromMetadataGenerator((_params, callback) => {
    const metadata = new grpc.Metadata();
    metadata.set('authorization', value);
    callback(null, metadata);
  });
  return grpc.credentials.combineChannelCredentials(base, call);
}
