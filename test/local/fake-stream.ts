// A FakeGlobal (fake-global.ts) that also serves Subscribe the way the protocol says: every
// committed set, delete and txn put becomes an event at its revision, kept in a history; a
// subscriber gets the history from its from_revision on, then live events, and a progress
// notice at once and every `progressEveryMs`. Lease probes are answered at the current
// revision, so a Local whose stream keeps up holds its lease. Tests can break every stream,
// refuse new ones, go silent (no progress, no events, probes held: the lease runs out), and
// compact the history.

import * as grpc from '@grpc/grpc-js';
import type { ClientRequest__Output } from '../../src/protocol/generated/dstore/v1/ClientRequest.ts';
import type { Event } from '../../src/protocol/generated/dstore/v1/Event.ts';
import type { SubscribeRequest__Output } from '../../src/protocol/generated/dstore/v1/SubscribeRequest.ts';
import type { SubscribeResponse } from '../../src/protocol/generated/dstore/v1/SubscribeResponse.ts';
import type { ServerResponse } from '../../src/protocol/generated/dstore/v1/ServerResponse.ts';
import { CompactedError, UnavailableError } from '../../src/protocol/errors.ts';
import { toGrpcStatus } from '../../src/protocol/grpc-status.ts';
import { LEASE_PROBE_KEY } from '../../src/local/cache/invalidation-stream.ts';
import { FakeGlobal } from './fake-global.ts';

export type SubscribeCall = grpc.ServerWritableStream<SubscribeRequest__Output, SubscribeResponse>;

interface RevisionEvents {
  readonly revision: number;
  readonly events: Event[];
}

export class StreamingFake {
  readonly history: RevisionEvents[] = [];
  readonly calls = new Set<SubscribeCall>();
  /** from_revision of every Subscribe call, in order. */
  readonly subscribeRequests: number[] = [];
  /** Get requests that reached the fake (reads the Local did not serve itself; lease probes aside). */
  gets = 0;
  /** Lease probes (Gets of LEASE_PROBE_KEY) that reached the fake. */
  probes = 0;
  /** New Subscribe calls fail with UNAVAILABLE while set. */
  refuseSubscribes = false;
  /**
   * No events or progress notices go out, and lease probes are held unanswered, while set: a
   * Local cut off from Global (what a silent stream missed is never delivered).
   */
  silent = false;
  /** Subscribes from below this fail with "history compacted". */
  compactedBelow = 0;
  private readonly timer: NodeJS.Timeout;

  private constructor(readonly fake: FakeGlobal, progressEveryMs: number) {
    fake.onRequest = (request) => (this.silent && isProbe(request) ? 'hold' : this.answer(request));
    fake.onSubscribe = (call) => this.subscribe(call);
    this.timer = setInterval(() => this.progress(), progressEveryMs);
  }

  static async start(progressEveryMs = 50): Promise<StreamingFake> {
    return new StreamingFake(await FakeGlobal.start(), progressEveryMs);
  }

  get address(): string {
    return this.fake.address;
  }

  /** Sends a progress notice at the current revision to every subscriber (unless silent). */
  progress(): void {
    if (this.silent) return;
    for (const call of this.calls) call.write({ revision: this.fake.revision, progress: { revision: this.fake.revision } });
  }

  /** Ends every Subscribe stream with UNAVAILABLE, as a crashed replica would. */
  breakStreams(): void {
    for (const call of [...this.calls]) {
      this.calls.delete(call);
      call.emit('error', toGrpcStatus(new UnavailableError('fake: stream broken')));
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    for (const call of this.calls) call.end();
    this.calls.clear();
    await this.fake.stop();
  }

  private answer(request: ClientRequest__Output): ServerResponse {
    if (isProbe(request)) this.probes++;
    else if (request.body === 'get') this.gets++;
    const before = this.fake.revision;
    const response = this.fake.answer(request);
    if (this.fake.revision === before || response.error) return response;
    const revision = this.fake.revision;
    const events: Event[] = [];
    if (request.body === 'set' && response.set?.kv) events.push({ type: 'TYPE_PUT', kv: response.set.kv });
    if (request.body === 'delete') events.push({ type: 'TYPE_DELETE', kv: { key: request.delete!.key, modRevision: revision } });
    if (request.body === 'txn' && response.txn) {
      // The branch that ran, in order: its puts' bindings and its deletes of bound keys.
      for (const result of response.txn.results ?? []) {
        if (result.written) events.push({ type: 'TYPE_PUT', kv: result.written });
        else if (result.delete?.deleted) events.push({ type: 'TYPE_DELETE', kv: { key: result.delete.prevKv!.key ?? '', modRevision: revision } });
      }
    }
    this.publish({ revision, events });
    return response;
  }

  private publish(entry: RevisionEvents): void {
    this.history.push(entry);
    if (this.silent) return;
    for (const call of this.calls) call.write({ revision: entry.revision, events: { events: entry.events } });
  }

  private subscribe(call: SubscribeCall): void {
    const from = call.request.fromRevision === 0 ? this.fake.revision + 1 : call.request.fromRevision;
    this.subscribeRequests.push(call.request.fromRevision);
    if (this.refuseSubscribes) {
      call.emit('error', toGrpcStatus(new UnavailableError('fake: not serving subscriptions')));
      return;
    }
    if (from < this.compactedBelow) {
      call.emit('error', toGrpcStatus(new CompactedError(`fake: revision ${from} is compacted`, this.compactedBelow)));
      return;
    }
    this.calls.add(call);
    const drop = (): void => {
      this.calls.delete(call);
    };
    call.on('cancelled', drop);
    call.on('error', drop);
    if (this.silent) return;
    for (const entry of this.history) if (entry.revision >= from) call.write({ revision: entry.revision, events: { events: entry.events } });
    call.write({ revision: this.fake.revision, progress: { revision: this.fake.revision } });
  }
}

function isProbe(request: ClientRequest__Output): boolean {
  return request.body === 'get' && request.get?.key === LEASE_PROBE_KEY;
}
