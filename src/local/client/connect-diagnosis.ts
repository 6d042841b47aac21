// Why a channel to a replica failed to connect. grpc-js only says TRANSIENT_FAILURE; the cause
// is in the status of a call made on that channel, which fails at once in that state. When the
// server closed the connection before HTTP/2 started (grpc-js: "Failed to connect"), a plaintext
// client dials once more with TLS to learn whether the server expects it.

import { connect as tlsConnect } from 'node:tls';
import { isIP } from 'node:net';
import { UnavailableError } from '../../protocol/errors.ts';
import type { GlobalClient as WireGlobalClient } from '../../protocol/generated/dstore/v1/Global.ts';
import { fromGrpcError, type GrpcErrorLike } from '../../protocol/grpc-status.ts';

/** The failure of `client`'s channel to `address`, which is in TRANSIENT_FAILURE, as a typed error naming its cause. */
export async function diagnoseConnectFailure(client: WireGlobalClient, address: string, tls: boolean, timeoutMs: number): Promise<UnavailableError> {
  const status = await new Promise<GrpcErrorLike | null>((resolve) => {
    client.Status({}, { deadline: Date.now() + timeoutMs }, (err) => resolve(err ?? null));
  });
  const error = status === null ? null : fromGrpcError(status);
  const prefix = `cannot reach Global replica ${address}`;
  if (!(error instanceof UnavailableError)) {
    // The channel came back meanwhile, or the answer was not about the connection.
    return new UnavailableError(`${prefix}: the connection failed and then ${error === null ? 'worked' : `answered ${error.code}: ${error.message}`}; retrying`, { cause: error ?? undefined });
  }
  if (error.reason !== 'connection-closed') return new UnavailableError(`${prefix}: ${error.message}`, { cause: error, reason: error.reason });
  if (tls) {
    return new UnavailableError(
      `${prefix}: the server closed the connection after the TLS handshake: it does not accept this client's certificate (mutual TLS): use one signed by the CA the server trusts`,
      { cause: error, reason: 'certificate-refused' },
    );
  }
  if (await speaksTls(address, timeoutMs)) {
    return new UnavailableError(
      `${prefix}: the server speaks TLS and this client is plaintext: pass --tls-cert/--tls-key/--tls-ca (ClientSecurity.tls)`,
      { cause: error, reason: 'server-needs-tls' },
    );
  }
  return new UnavailableError(`${prefix}: ${error.message}`, { cause: error, reason: error.reason });
}

/** Whether a TLS handshake with `address` ("host:port") completes (the server's certificate unchecked: only the protocol matters). */
export function speaksTls(address: string, timeoutMs: number): Promise<boolean> {
  const match = /^\[?(.*?)\]?:(\d+)$/.exec(address);
  if (match === null) return Promise.resolve(false);
  const host = match[1]!;
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host, port: Number(match[2]), rejectUnauthorized: false, ALPNProtocols: ['h2'],
      ...(isIP(host) === 0 ? { servername: host } : {}),
    });
    const done = (answer: boolean): void => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('secureConnect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}
