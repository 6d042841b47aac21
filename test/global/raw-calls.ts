// Calls any method of any service with raw bytes (a grpc.Client with identity serializers), for
// tests that send what a well-behaved client never would: undecodable, truncated or hostile
// messages. Each call resolves with the status the server ended it with and the responses
// received before; it never rejects.
import * as grpc from '@grpc/grpc-js';

export interface RawOutcome {
  readonly code: grpc.status;
  readonly details: string;
  readonly responses: Buffer[];
}

export interface RawCallOptions {
  readonly metadata?: grpc.Metadata;
  /** Deadline of the call (default 5 s): a call still open then ends DEADLINE_EXCEEDED. */
  readonly deadlineMs?: number;
  /**
   * For streams that never end on their own (Subscribe, health Watch): once this many
   * responses arrived the test cancels the call, and the outcome is OK with them.
   */
  readonly responsesEnough?: number;
}

/** What rawCall needs of a method (a grpc.MethodDefinition has it). */
export interface RawMethod {
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
}

const identity = (b: Buffer): Buffer => b;

/**
 * Sends `messages` on one call of `method` (a unary or server-streaming method gets the first
 * only; a client-streaming or bidi one gets all, then a half-close).
 */
export function rawCall(client: grpc.Client, method: RawMethod, messages: readonly Buffer[], options: RawCallOptions = {}): Promise<RawOutcome> {
  const metadata = options.metadata ?? new grpc.Metadata();
  const callOptions: grpc.CallOptions = { deadline: Date.now() + (options.deadlineMs ?? 5_000) };
  const first = messages[0] ?? Buffer.alloc(0);
  return new Promise((resolve) => {
    const responses: Buffer[] = [];
    let settled = false;
    const settle = (code: grpc.status, details: string): void => {
      if (settled) return;
      settled = true;
      resolve({ code, details, responses });
    };
    const onStatus = (err: grpc.ServiceError | null): void => settle(err === null ? grpc.status.OK : err.code, err === null ? '' : err.details);
    if (!method.requestStream && !method.responseStream) {
      client.makeUnaryRequest(method.path, identity, identity, first, metadata, callOptions, (err, res) => {
        if (res !== undefined) responses.push(res);
        onStatus(err);
      });
      return;
    }
    if (method.requestStream && !method.responseStream) {
      const call = client.makeClientStreamRequest(method.path, identity, identity, metadata, callOptions, (err, res) => {
        if (res !== undefined) responses.push(res);
        onStatus(err);
      });
      for (const m of messages) call.write(m);
      call.end();
      return;
    }
    const watch = (call: grpc.ClientReadableStream<Buffer>): void => {
      call.on('data', (b: Buffer) => {
        responses.push(b);
        if (options.responsesEnough !== undefined && responses.length >= options.responsesEnough) {
          settle(grpc.status.OK, '');
          call.cancel();
        }
      });
      call.on('error', (err: grpc.ServiceError) => onStatus(err));
      call.on('status', (s: grpc.StatusObject) => settle(s.code, s.details));
    };
    if (!method.requestStream) {
      watch(client.makeServerStreamRequest(method.path, identity, identity, first, metadata, callOptions));
      return;
    }
    const call = client.makeBidiStreamRequest(method.path, identity, identity, metadata, callOptions);
    watch(call);
    for (const m of messages) call.write(m);
    call.end();
  });
}
