// What a failed connection means, in words a person can act on. grpc-js reports every
// connection failure as UNAVAILABLE with the underlying error's text inside its details
// ("No connection established. Last error: ..."), and a server that is not dstore as some
// other status; this reads those texts once, here, so every caller names the same causes:
// a name that does not resolve, a refused port, the four TLS mismatches, and a port that
// answers but does not speak dstore. The texts are grpc-js's and OpenSSL's (tests pin them
// against real servers: test/local/client-connect-errors.cluster.test.ts).

import type { UnavailableReason } from './errors.ts';

export interface ConnectFailure {
  readonly reason: UnavailableReason;
  /** What happened and what to do, without the address (the caller names it). */
  readonly text: string;
}

/** grpc-js's wrapping, and the OpenSSL source location that follows its error names. */
function lastError(details: string): string {
  const m = /Last error: (?:Error(?: \[\w+\])?: )?([\s\S]*?)(?:\. Resolution note: ?)?$/.exec(details);
  const text = (m?.[1] ?? details).replace(/\.$/, '').replace(/ \(\d{4}-\d\d-\d\dT[\d:.]+Z\)$/, '').trim();
  const ssl = /:error:[0-9A-F]+:SSL routines:\w+:([^:]+):/.exec(text);
  return ssl ? ssl[1]! : text;
}

/**
 * Classifies a failed call's gRPC code and details; null when they say nothing about the
 * connection (an error of dstore's own, passed through as it is).
 */
export function classifyConnectFailure(code: number | undefined, details: string): ConnectFailure | null {
  const http = /Received HTTP status code (\d+)/.exec(details);
  if (http) return notDstore(`HTTP ${http[1]}, not gRPC`);
  const method = /does not implement the method \/(dstore\.v1\.\w+)\/(\w+)/.exec(details);
  if (code === 12 && method) return notDstore(`a gRPC server without ${method[1]}.${method[2]}`);
  if (code !== 14) return null; // UNAVAILABLE: connection failures; anything else is the server's own answer
  const dns = /Name resolution failed for target (?:dns:)?(\S+)/.exec(details);
  if (dns || /ENOTFOUND|EAI_AGAIN/.test(details)) {
    const host = (dns?.[1] ?? '').replace(/:\d+$/, '');
    return { reason: 'name-not-resolved', text: `the host name${host === '' ? '' : ` "${host}"`} does not resolve (DNS): check the address for a typo, or the resolver` };
  }
  if (!/No connection established|Connection dropped|Failed to connect/.test(details) && !/ECONN|EHOST|ENETUNREACH|SSL|certificate|Protocol error/i.test(details)) return null;
  const last = lastError(details);
  if (/ECONNREFUSED/.test(last)) return { reason: 'connection-refused', text: `connection refused (${last}): nothing listens on that port; check that the replica runs and the port is right` };
  if (/EHOSTUNREACH|ENETUNREACH|ETIMEDOUT/.test(last)) return { reason: 'connect-timeout', text: `the host is unreachable (${last}): check the host and the network in between` };
  if (/wrong version number|packet length too long|unknown protocol|http request/i.test(last)) {
    return { reason: 'server-not-tls', text: `this client uses TLS and the server does not (${last}): connect without TLS, or start the server with --tls-cert/--tls-key/--tls-ca` };
  }
  if (/altnames|Hostname\/IP does not match|ERR_TLS_CERT_ALTNAME/.test(last)) {
    return { reason: 'certificate-name-mismatch', text: `the server's certificate does not name the host dialled (${last}): dial a name in its subjectAltName, or reissue the certificate with this name` };
  }
  if (/certificate|self.signed|unable to verify|UNABLE_TO_|CERT_/i.test(last)) {
    return { reason: 'certificate-untrusted', text: `this client does not trust the server's certificate (${last}): it must be signed by the CA in --tls-ca` };
  }
  if (/alert/i.test(last)) {
    return { reason: 'certificate-refused', text: `the server ended the TLS handshake (${last}): it does not accept this client's certificate; use one signed by the CA the server trusts` };
  }
  if (/Protocol error/.test(last)) return notDstore('not HTTP/2: an HTTP/1 server, or another protocol');
  if (/Failed to connect|Connection closed before/.test(last)) {
    return { reason: 'connection-closed', text: 'the server accepted the connection and closed it before HTTP/2 started: it may expect TLS (this client is plaintext), refuse this client\'s certificate, or not speak gRPC' };
  }
  return null; // e.g. "Connection dropped": a broken connection, said well enough by grpc-js
}

function notDstore(what: string): ConnectFailure {
  return { reason: 'not-dstore', text: `the server answered but does not speak dstore (${what}): check that the address points at a dstore Global replica` };
}
