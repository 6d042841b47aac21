// Pulls the messages of a grpc-js server-streaming call one at a time, with backpressure,
// and with stream events turned into plain outcomes: a message, a clean end (null), or the
// call's error (thrown as grpc-js gave it; the caller maps it with fromGrpcError).
//
// Why not the Readable's own async iterator: grpc-js emits 'error' right after pushing the end
// of the stream, and a cancelled call emits 'error' after the iterator is gone, which with no
// listener attached would crash the process. Here an error listener stays attached for the
// call's whole life.

import type * as grpc from '@grpc/grpc-js';

export class CallReader<T> {
  private readonly buffer: T[] = [];
  private bufferHead = 0;
  private ended = false;
  private error: Error | null = null;
  private paused = false;
  private wake: (() => void) | null = null;

  /** Takes over `call`'s events. `bufferedMax` messages are read ahead before the call is paused. */
  constructor(
    private readonly call: grpc.ClientReadableStream<T>,
    private readonly bufferedMax: number,
  ) {
    call.on('data', (message: T) => {
      this.buffer.push(message);
      if (this.buffer.length - this.bufferHead >= this.bufferedMax && !this.paused) {
        this.paused = true;
        call.pause();
      }
      this.notify();
    });
    call.on('error', (err: Error) => {
      if (this.error === null) this.error = err;
      this.notify();
    });
    call.on('end', () => {
      this.ended = true;
      this.notify();
    });
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  /** The next message; null after a clean end; throws the call's error. One caller at a time. */
  async next(): Promise<T | null> {
    for (;;) {
      if (this.bufferHead < this.buffer.length) return this.take();
      if (this.error !== null) throw this.error;
      if (this.ended) return null;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  private take(): T {
    const message = this.buffer[this.bufferHead]!;
    this.bufferHead++;
    if (this.bufferHead === this.buffer.length) {
      this.buffer.length = 0;
      this.bufferHead = 0;
    }
    if (this.paused && this.buffer.length - this.bufferHead < this.bufferedMax / 2) {
      this.paused = false;
      this.call.resume();
    }
    return message;
  }

  /** Cancels the call (idempotent); a pending or later next() throws the CANCELLED error. */
  cancel(): void {
    this.call.cancel();
    // grpc-js loses a cancel that comes in the same turn as the call's creation right after
    // another call on the channel ended: the call starts anyway and the server keeps it (and
    // its stream slot) until the channel closes. A second cancel a turn later reaches it.
    setImmediate(() => this.call.cancel());
  }
}
