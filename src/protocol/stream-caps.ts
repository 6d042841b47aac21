// Caps on long-lived calls (Session and Subscribe streams, blob transfers) per connection and
// in all, so that one client cannot take every slot a server has and the total memory those
// calls may hold stays bounded (docs/limits.md, "Worst-case memory at the defaults").
//
// A connection is what grpc-js `call.getPeer()` names (the remote "ip:port" of the HTTP/2
// connection): every call a client channel makes shares it.

import { checkInteger } from './config-check.ts';
import { ResourceExhaustedError } from './errors.ts';
import { toGrpcStatus, type GrpcStatus } from './grpc-status.ts';

export interface StreamCapsLimits {
  /** Calls open at once in all; the name (with its unit) is what an error cites. */
  readonly totalMax: number;
  readonly totalName: string;
  /** Calls open at once on one connection. */
  readonly perConnectionMax: number;
  readonly perConnectionName: string;
}

export class StreamCaps {
  private total = 0;
  private readonly byConnection = new Map<string, number>();

  /** `what` names the calls in errors ("Session streams"); `where` the server ("replica 2"). */
  constructor(
    private readonly what: string,
    private readonly where: string,
    private readonly limits: StreamCapsLimits,
  ) {
    checkInteger(limits.totalName, limits.totalMax, 1);
    checkInteger(limits.perConnectionName, limits.perConnectionMax, 1);
  }

  /**
   * Takes a slot for a call on `connection`, or throws ResourceExhaustedError naming the cap
   * that is full. Returns the release, which is idempotent: call it when the call ends.
   */
  admit(connection: string): () => void {
    const { totalMax, totalName, perConnectionMax, perConnectionName } = this.limits;
    const onConnection = this.byConnection.get(connection) ?? 0;
    if (onConnection >= perConnectionMax) {
      throw new ResourceExhaustedError(`this connection already has ${onConnection} ${this.what} open on ${this.where}, the limit (${perConnectionName} = ${perConnectionMax}): end one first, or spread the work over connections`);
    }
    if (this.total >= totalMax) {
      throw new ResourceExhaustedError(`${this.where} already has ${this.total} ${this.what} open, its limit (${totalName} = ${totalMax}): retry shortly, or use another server`);
    }
    this.total++;
    this.byConnection.set(connection, onConnection + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.byConnection.get(connection) ?? 1) - 1;
      if (left === 0) this.byConnection.delete(connection);
      else this.byConnection.set(connection, left);
    };
  }

  /** Calls open now, in all. */
  get open(): number {
    return this.total;
  }
}

/** The part of a grpc-js server call that `serveAdmitted` uses. */
export interface AdmittedCall {
  getPeer(): string;
  once(event: string, listener: () => void): unknown;
  emit(event: 'error', status: GrpcStatus): boolean;
}

/**
 * Serves a streaming `call` when `caps` admit its connection, else ends it with the refusal
 * (RESOURCE_EXHAUSTED naming the cap). The slot is freed when the call ends, however it ends.
 */
export function serveAdmitted(caps: StreamCaps, call: AdmittedCall, serve: () => void): void {
  let release: () => void;
  try {
    release = caps.admit(call.getPeer());
  } catch (err) {
    call.emit('error', toGrpcStatus(err));
    return;
  }
  for (const event of ['close', 'finish', 'cancelled', 'error']) call.once(event, release);
  serve();
}
