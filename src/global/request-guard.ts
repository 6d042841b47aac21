// Refusing oversized and undecodable request messages with a precise INVALID_ARGUMENT.
//
// grpc-js decodes a request before any handler runs: a message that does not decode ends the
// call with INTERNAL "Error deserializing request", and one over the server's receive limit
// with RESOURCE_EXHAUSTED; neither says what was wrong. `guardRequests` wraps the request
// deserializers of chosen methods so that such a message is delivered to the handler as a
// `RefusedMessage` instead, and the handler answers it (a unary call with the error, a
// stream by closing that stream only). The limit is read at each message, so a server can
// bind before its limits are known.

import type * as grpc from '@grpc/grpc-js';
import { DstoreError, InvalidArgumentError, TooLargeError } from '../protocol/errors.ts';

/** Stands in for a request message that was refused before decoding finished. */
export class RefusedMessage {
  constructor(readonly error: DstoreError) {}
}

/** True when grpc-js handed the handler a refusal instead of a decoded message. */
export function isRefused(message: unknown): message is RefusedMessage {
  return message instanceof RefusedMessage;
}

/**
 * Checks a message's bytes before decoding (request-prescan.ts): throws a DstoreError to
 * refuse it. `method` is the method's name ("Txn", "Session").
 */
export type Prescan = (method: string, bytes: Buffer) => void;

/**
 * A copy of `service` whose methods named in `methods` refuse messages over `bytesMax()`
 * bytes (TooLargeError), that `prescan` refuses, or that do not decode
 * (InvalidArgumentError) by delivering a RefusedMessage. Handlers of those methods must check
 * `isRefused`. Does not modify `service`.
 */
export function guardRequests(service: grpc.ServiceDefinition, methods: readonly string[], bytesMax: () => number, prescan?: Prescan): grpc.ServiceDefinition {
  const guarded: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(service)) {
    if (!methods.includes(name)) {
      guarded[name] = method;
      continue;
    }
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
          return decode(bytes);
        } catch (err) {
          if (err instanceof DstoreError) return new RefusedMessage(err);
          return new RefusedMessage(new InvalidArgumentError(`${what} message of ${bytes.byteLength} bytes does not decode as its protobuf type: ${err instanceof Error ? err.message : String(err)}`));
        }
      },
    };
  }
  return guarded;
}
