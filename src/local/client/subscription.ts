// A thin typed wrapper over one `Global.Subscribe` server stream. It does not resume: the
// Local's invalidation subscriber (which knows its last applied revision) opens a new one.
//
// Outcomes of iterating:
// - messages (events of whole revisions, or progress notices) in the server's order;
// - CompactedError (with oldestRevision) when fromRevision is older than the history kept;
// - UnavailableError when the stream breaks or the server ends it (resume from
//   `lastRevision + 1`), other DstoreErrors as the server sent them;
// - InternalError when the server sends a malformed message (the stream is cancelled);
// - ClosedError when the client was closed; a normal end when `close()` was called on it.

import { ClosedError, UnavailableError, type DstoreError } from '../../protocol/errors.ts';
import type { SubscribeResponse__Output } from '../../protocol/generated/dstore/v1/SubscribeResponse.ts';
import type { CallReader } from './call-reader.ts';
import { decodeSubscribeMessage } from './client-codec.ts';
import type { SubscribeMessage } from './client-types.ts';
import { asDstoreError } from './retry.ts';

export class Subscription implements AsyncIterableIterator<SubscribeMessage> {
  private closedByOwner = false;
  private clientClosed = false;
  private finished = false;
  private last = 0;

  /** Owns `reader`. `untrack` is called once the stream is over (so the client forgets it). */
  constructor(
    private readonly reader: CallReader<SubscribeResponse__Output>,
    /** The replica serving this subscription. */
    readonly address: string,
    readonly fromRevision: number,
    private readonly untrack: () => void,
  ) {}

  /** The highest revision covered by a message received so far (0 before the first). */
  get lastRevision(): number {
    return this.last;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<SubscribeMessage, undefined>> {
    if (this.finished) return this.end();
    let raw: SubscribeResponse__Output | null;
    try {
      raw = await this.reader.next();
    } catch (err) {
      if (this.closedByOwner) return this.end();
      throw this.finish(this.mapError(err));
    }
    if (raw === null) {
      if (this.closedByOwner) return this.end();
      throw this.finish(new UnavailableError(
        `the subscription on ${this.address} was ended by the server after revision ${this.last}; subscribe again from ${this.last + 1}`,
      ));
    }
    let message: SubscribeMessage;
    try {
      message = decodeSubscribeMessage(raw, `Subscribe on ${this.address}`);
    } catch (err) {
      throw this.finish(asDstoreError(err));
    }
    this.last = Math.max(this.last, message.revision);
    return { done: false, value: message };
  }

  /** Ends the iteration (a `for await` that breaks calls this). */
  return(): Promise<IteratorResult<SubscribeMessage, undefined>> {
    this.close();
    return Promise.resolve(this.end());
  }

  /** Cancels the stream; a pending next() then ends normally. Idempotent. */
  close(): void {
    if (this.finished) return;
    this.closedByOwner = true;
    this.finish(null);
  }

  /** The client is closing: a pending or later next() throws ClosedError. */
  closeByClient(): void {
    if (this.finished) return;
    this.clientClosed = true;
    this.finish(null);
  }

  private mapError(err: unknown): DstoreError {
    if (this.clientClosed) return new ClosedError(`the Global client was closed; the subscription on ${this.address} ended`);
    return asDstoreError(err);
  }

  private finish<E extends DstoreError | null>(error: E): E {
    if (!this.finished) {
      this.finished = true;
      this.reader.cancel();
      this.untrack();
    }
    return error;
  }

  private end(): IteratorResult<SubscribeMessage, undefined> {
    if (this.clientClosed) throw new ClosedError(`the Global client was closed; the subscription on ${this.address} ended`);
    return { done: true, value: undefined };
  }
}
