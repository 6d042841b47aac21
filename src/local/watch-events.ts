// `watch` as an async iterable that resumes from a revision (Local.watchEvents and
// AttachedLocal.watchEvents): the callback form's events queued for a `for await` loop.
// A loop that falls more than `bufferMax` events behind ends with ResourceExhaustedError
// naming the revision to resume from, rather than holding an unbounded backlog; `signal`
// ends the loop (it returns). Events before the live watch began (fromRevision older than
// what the watch starts at) come first, from Global's history.

import { checkInteger } from '../protocol/config-check.ts';
import { ResourceExhaustedError } from '../protocol/errors.ts';
import type { SubscribeMessage } from './client/client-types.ts';
import type { WatchEvent } from './watch-listener.ts';

export interface WatchEventsOptions {
  /** The first revision wanted (a revision seen before + 1 resumes after it). Default: from now on. */
  readonly fromRevision?: number;
  /** Ends the iteration (the loop returns). */
  readonly signal?: AbortSignal;
  /** Events held for a loop that has not taken them yet, at most. Default 10000. */
  readonly bufferMax?: number;
}

export const WATCH_EVENTS_BUFFER_DEFAULT = 10_000;

/** The revision an event is at. */
export function eventRevision(event: WatchEvent): number {
  return event.type === 'put' ? event.kv.modRevision : event.revision;
}

/** A live watch: its listener gets every event from `liveFrom` on; `stop` ends it. */
export interface LiveWatch {
  readonly liveFrom: number;
  readonly stop: () => void;
}

/**
 * The events of `start`'s live watch as an async iterable, preceded by `history(from)`'s
 * (Global's Subscribe) for revisions in [fromRevision, liveFrom) when the caller asked for
 * older ones. `start` gets the listener and the function that ends the loop with an error.
 */
export async function* watchEvents(
  prefix: string,
  options: WatchEventsOptions,
  start: (listener: (event: WatchEvent) => void, fail: (err: unknown) => void) => LiveWatch,
  history: (fromRevision: number) => AsyncIterable<SubscribeMessage> & { close(): void },
): AsyncGenerator<WatchEvent, void, undefined> {
  const fromRevision = options.fromRevision ?? 0;
  const bufferMax = options.bufferMax ?? WATCH_EVENTS_BUFFER_DEFAULT;
  checkInteger('fromRevision', fromRevision, 0);
  checkInteger('bufferMax', bufferMax, 1, 10_000_000);
  const signal = options.signal;
  const aborted = (): boolean => signal?.aborted === true;
  if (aborted()) return;
  let queue: WatchEvent[] = [];
  /** queue[head] is the oldest event not yet handed to the loop. */
  let head = 0;
  let failure: { err: unknown } | null = null;
  let wake: (() => void) | null = null;
  const notify = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  const live = start(
    (event) => {
      if (failure !== null) return;
      if (queue.length - head >= bufferMax) {
        // Resume from the oldest event not handed over (its revision's earlier events repeat).
        const resumeAt = Math.max(fromRevision, eventRevision(queue[head] ?? event));
        failure = { err: new ResourceExhaustedError(`watchEvents(${JSON.stringify(prefix)}): the loop fell ${bufferMax} events behind (bufferMax); watch again with fromRevision ${resumeAt} to resume (events of that revision already seen repeat)`) };
        live.stop();
      } else {
        queue.push(event);
      }
      notify();
    },
    (err) => {
      failure ??= { err };
      notify();
    },
  );
  signal?.addEventListener('abort', notify, { once: true });
  try {
    if (fromRevision > 0 && fromRevision < live.liveFrom) {
      const past = history(fromRevision);
      try {
        for await (const message of past) {
          if (aborted()) return;
          if (message.kind === 'events') {
            for (const event of message.events) {
              const at = eventRevision(event);
              if (at < fromRevision) continue;
              if (at >= live.liveFrom) break; // the live watch has it
              yield event;
            }
          }
          if (message.revision >= live.liveFrom - 1) break;
        }
      } finally {
        past.close();
      }
    }
    for (;;) {
      while (head < queue.length) {
        const event = queue[head++]!;
        if (head === queue.length) {
          queue = [];
          head = 0;
        }
        if (event.type !== 'reset' && eventRevision(event) < fromRevision) continue;
        yield event;
        if (aborted()) return;
      }
      if (failure !== null) throw (failure as { err: unknown }).err;
      if (aborted()) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    signal?.removeEventListener('abort', notify);
    live.stop();
  }
}
