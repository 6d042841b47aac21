// Refusing oversized and undecodable request messages with a precise INVALID_ARGUMENT, on
// every method of every service a process serves.
//
// grpc-js decodes a request before any handler runs: a message that does not decode ends the
// call with INTERNAL "Error deserializing request", and one over the server's receive limit
// with RESOURCE_EXHAUSTED; neither says what was wrong. `guardRequests` wraps every request
// deserializer of a service so that such a message becomes a `RefusedMessage` instead, and
// the server interceptor `refuseGuardedMessages` ends that call with the refusal's status
// before any handler sees it (a stream is closed, the connection and its other calls are
// not). The limit is read at each message, so a server can bind before its limits are known.

import * as grpc from '@grpc/grpc-js';
import { DstoreError, InvalidArgumentError, TooLargeError } from './errors.ts';
import { toGrpcStatus } from './grpc-status.ts';

/** Stands in for a request message that was refused before decoding finished. */
export class RefusedMessage {
  constructor(readonly error: DstoreError) {}
}

/** True when grpc-js decoded a refusal instead of a message. */
export function isRefused(message: unknown): message is RefusedMessage {
  return message instanceof RefusedMessage;
}

/**
 * A copy of `service` whose every method turns a message over `bytesMax()` bytes
 * (TooLargeError) or one that does not decode (InvalidArgumentError) into a RefusedMessage.
 * Serve it with `refuseGuardedMessages` among the server's interceptors. Does not modify
 * `service`.
 */
/**
 * Checks a message's bytes before decoding (src/global/server/request-prescan.ts): throws a
 * DstoreError to refuse it. `method` is the method's name ("Txn", "Session").
 */
export type Prescan = (method: string, bytes: Buffer) => void;

/** The size on the wire of each message the guard decoded, for the budgets of what is held (global-service.ts). */
const wireBytes = new WeakMap<object, number>();

/** How many bytes `message` took on the wire, when a guarded decoder decoded it; else undefined. */
export function wireBytesOf(message: object): number | undefined {
  return wireBytes.get(message);
}

export function guardRequests(service: grpc.ServiceDefinition, bytesMax: () => number, prescan?: Prescan): grpc.ServiceDefinition {
  const guarded: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(service)) {
    const decode = method.requestDeserialize;
    const what = method.path.split('/').pop() ?? name;
    guarded[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer): unknown => {
        const max = bytesMax();
        if (bytes.byteLength > max) {
          return new RefusedMessage(new TooLargeError(`${what} message of ${bytes.byteLength} bytes is over the request limit of ${max} bytes (limits.request_bytes_max): send less per message`));
        }
        try {
          prescan?.(what, bytes);
          const message: unknown = decode(bytes);
          if (typeof message === 'object' && message !== null) wireBytes.set(message, bytes.byteLength);
          return message;
        } catch (err) {
          if (err instanceof DstoreError) return new RefusedMessage(err);
          return new RefusedMessage(new InvalidArgumentError(`${what} message of ${bytes.byteLength} bytes does not decode as its protobuf type: ${err instanceof Error ? err.message : String(err)}`));
        }
      },
    };
  }
  return guarded;
}

/**
 * A server that guards (`guardRequests`) every service added through it: for services that
 * libraries add themselves (health, reflection).
 */
export function guardingServer(server: grpc.Server, bytesMax: () => number): Pick<grpc.Server, 'addService'> {
  return {
    addService: (service, implementation) => server.addService(guardRequests(service, bytesMax), implementation),
  };
}

/**
 * Server interceptor: a RefusedMessage ends its call with the refusal's status
 * (INVALID_ARGUMENT, naming what was wrong); handlers only ever see decoded messages.
 */
export const refuseGuardedMessages: grpc.ServerInterceptor = (_method, call) =>
  new grpc.ServerInterceptingCall(call, {
    start: (next) => {
      next(new grpc.ServerListenerBuilder().withOnReceiveMessage((message: unknown, messageNext) => {
        if (!isRefused(message)) return messageNext(message);
        const s = toGrpcStatus(message.error);
        call.sendStatus({ code: s.code, details: s.details, metadata: s.metadata });
      }).build());
    },
  });
