// One `Global.Session` bidirectional stream to one replica: the requests in flight on it (by
// wire id) and whether a frame is being written. A thin shell: the connection (connection.ts)
// decides what to send and what a response means; this only moves frames.

import * as grpc from '@grpc/grpc-js';
import { assert } from '../../protocol/assert.ts';
import type { ClientFrame } from '../../protocol/generated/dstore/v1/ClientFrame.ts';
import type { ClientRequest } from '../../protocol/generated/dstore/v1/ClientRequest.ts';
import type { GlobalClient as WireGlobalClient } from '../../protocol/generated/dstore/v1/Global.ts';
import type { ServerFrame__Output } from '../../protocol/generated/dstore/v1/ServerFrame.ts';
import { dstoreProto } from '../../protocol/proto.ts';
import { clientChannel, PLAINTEXT, type ClientSecurity } from '../../protocol/tls.ts';
import { UnavailableError } from '../../protocol/errors.ts';
import { diagnoseConnectFailure } from './connect-diagnosis.ts';

export type SessionCall = grpc.ClientDuplexStream<ClientFrame, ServerFrame__Output>;

/** Interval of the client's HTTP/2 PINGs while calls are open (channelOptions). */
export const KEEPALIVE_MS = 1000;
/** A PING unanswered this long ends the connection. */
export const KEEPALIVE_TIMEOUT_MS = 1000;

/** Channel options for every channel the client opens. `messageBytesMax` bounds both directions. */
export function channelOptions(messageBytesMax: number, backoffInitialMs: number, backoffMaxMs: number): grpc.ChannelOptions {
  return {
    'grpc.max_receive_message_length': messageBytesMax,
    'grpc.max_send_message_length': messageBytesMax,
    // A private subchannel per channel: a fresh channel really dials, instead of inheriting
    // another channel's reconnect backoff to the same address.
    'grpc.use_local_subchannel_pool': 1,
    'grpc.initial_reconnect_backoff_ms': backoffInitialMs,
    'grpc.max_reconnect_backoff_ms': backoffMaxMs,
    // The client retries itself, with WriteIds; grpc-js must not replay anything on its own.
    'grpc.enable_retries': 0,
    // Liveness of the replica, not of a request: an HTTP/2 PING every KEEPALIVE_MS on a
    // connection with calls open, unanswered for KEEPALIVE_TIMEOUT_MS, ends the connection, and
    // its calls go to another replica. A paused (SIGSTOP) or cut-off replica is left within
    // about 2 s, while a request that is slow on a live replica (a read waiting for its
    // revision, a write waiting for strict holders) is not cut short, as a per-attempt timer
    // would (docs/operations.md "What a client sees").
    'grpc.keepalive_time_ms': KEEPALIVE_MS,
    'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
  };
}

/** A channel to `address`: plaintext, or TLS and a bearer token on every call per `security`. */
export function newWireClient(address: string, options: grpc.ChannelOptions, security: ClientSecurity = PLAINTEXT): WireGlobalClient {
  const Global = dstoreProto().dstore.v1.Global;
  const channel = clientChannel(security);
  return new Global(address, channel.credentials, { ...options, ...channel.options });
}

/**
 * Calls `callback(null)` once the channel to `address` is READY, or `callback(error)` when it
 * fails to connect (TRANSIENT_FAILURE: the error names the cause, connect-diagnosis.ts), is
 * shut down, or `timeoutMs` passes. Unlike grpc-js `waitForReady`, a refused connection fails
 * at once, so failover is fast.
 */
export function waitForChannelReady(client: WireGlobalClient, address: string, tls: boolean, timeoutMs: number, callback: (error: UnavailableError | null) => void): void {
  const channel = client.getChannel();
  const deadline = Date.now() + timeoutMs;
  const closed = (): void => callback(new UnavailableError(`cannot reach Global replica ${address}: the channel was closed`));
  const check = (): void => {
    let state: grpc.connectivityState;
    try {
      state = channel.getConnectivityState(true);
    } catch {
      closed();
      return;
    }
    switch (state) {
      case grpc.connectivityState.READY:
        callback(null);
        return;
      case grpc.connectivityState.TRANSIENT_FAILURE:
        void diagnoseConnectFailure(client, address, tls, timeoutMs).then(callback);
        return;
      case grpc.connectivityState.SHUTDOWN:
        closed();
        return;
      case grpc.connectivityState.IDLE:
      case grpc.connectivityState.CONNECTING:
        break;
      default:
        callback(new UnavailableError(`cannot reach Global replica ${address}: unexpected channel state ${String(state)}`));
        return;
    }
    try {
      channel.watchConnectivityState(state, deadline, (err) => {
        if (err) {
          callback(new UnavailableError(
            `cannot reach Global replica ${address}: no connection within ${timeoutMs} ms: the host may be down, or a firewall drops the packets`,
            { reason: 'connect-timeout' },
          ));
        } else {
          check();
        }
      });
    } catch {
      closed();
    }
  };
  check();
}

export class Session<T> {
  /** Requests sent on this stream and not answered yet, by wire id. */
  readonly inFlight = new Map<number, T>();
  // Invariant: `writing` is true exactly while a frame handed to grpc-js has not been flushed.
  private writingFrame = false;
  /** No new requests go here; the stream ends once `inFlight` is empty (leader switch). */
  draining = false;
  private endedFlag = false;

  /** Owns `client` (its channel is dedicated to this stream) and `call`. */
  constructor(
    readonly address: string,
    private readonly client: WireGlobalClient,
    readonly call: SessionCall,
    /** Opened because another replica's status named this one leader (followed at most once in a row). */
    readonly openedByStatusHint: boolean,
  ) {}

  get writing(): boolean {
    return this.writingFrame;
  }

  get ended(): boolean {
    return this.endedFlag;
  }

  /**
   * Writes one frame. `onWritten` runs once grpc-js has flushed it to the connection (not if
   * the stream breaks first). The caller keeps `requests` unchanged until then.
   */
  writeFrame(requests: ClientRequest[], onWritten: () => void): void {
    assert(!this.writingFrame, 'session: writeFrame while a frame is being written');
    assert(!this.endedFlag, 'session: writeFrame on an ended session');
    assert(requests.length > 0, 'session: empty frame');
    this.writingFrame = true;
    this.call.write({ requests }, () => {
      this.writingFrame = false;
      onWritten();
    });
  }

  /** Cancels the stream and closes its channel. Idempotent. Later stream events must be ignored (see `ended`). */
  end(): void {
    if (this.endedFlag) return;
    this.endedFlag = true;
    this.call.cancel();
    this.client.close();
  }
}
