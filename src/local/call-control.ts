// Per-call deadline and cancellation of the Local API, linked and attached (docs/local.md):
// the one place that turns a call's `deadlineMs` and `signal` into a typed rejection. The
// Global client gets the same deadline, so it stops retrying when the caller stops waiting;
// work already shared with other callers (a fill) goes on for them.

import { checkInteger } from '../protocol/config-check.ts';
import { CancelledError, DeadlineExceededError, DstoreError } from '../protocol/errors.ts';

export interface CallControl {
  /** This call's deadline, from the call to its answer. Default: the client's deadlineMs. */
  readonly deadlineMs?: number;
  /** Cancels the call: it rejects with CancelledError. */
  readonly signal?: AbortSignal;
}

/**
 * Runs `run(deadlineMs)` and rejects with DeadlineExceededError once `deadlineMs` passed, or
 * CancelledError once `signal` fired, whichever comes first. For a write (`write`), the error
 * says `outcomeUnknown` when the write was already started: it may still be applied.
 */
export function controlled<T>(what: string, control: CallControl, write: boolean, run: (deadlineMs: number | undefined) => Promise<T>): Promise<T> {
  const { deadlineMs, signal } = control;
  if (deadlineMs !== undefined) checkInteger('deadlineMs', deadlineMs, 1, 3_600_000);
  if (signal?.aborted === true) return Promise.reject(new CancelledError(`${what}: cancelled before it was sent (its AbortSignal had fired); nothing was written`, { cause: signal.reason }));
  if (deadlineMs === undefined && signal === undefined) return run(undefined);
  const startedMs = performance.now();
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const done = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const unknown = write ? ' The write may or may not be applied (outcomeUnknown): read the key to learn which.' : '';
    const onAbort = (): void => {
      done();
      reject(new CancelledError(`${what}: cancelled by its AbortSignal before the answer came.${unknown}`, { cause: signal?.reason, outcomeUnknown: write }));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    if (deadlineMs !== undefined) {
      timer = setTimeout(() => {
        done();
        reject(new DeadlineExceededError(`${what}: no answer within its ${deadlineMs} ms deadline.${unknown} Raise deadlineMs, or check that Global is reachable`, { outcomeUnknown: write }));
      }, deadlineMs);
    }
    run(deadlineMs).then(
      (value) => {
        done();
        resolve(value);
      },
      (err: Error) => {
        done();
        // The Global client has the same deadline and may give up first, as UNAVAILABLE: it is
        // this call's deadline all the same (the client's error says whether a write was sent).
        if (deadlineMs !== undefined && err instanceof DstoreError && err.code === 'UNAVAILABLE' && performance.now() - startedMs >= deadlineMs - 1) {
          reject(new DeadlineExceededError(`${what}: no answer within its ${deadlineMs} ms deadline. ${err.message}`, { cause: err, outcomeUnknown: err.outcomeUnknown }));
          return;
        }
        reject(err);
      },
    );
  });
}
