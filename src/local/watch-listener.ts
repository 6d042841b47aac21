// What happens when a watch listener throws (Local.watch and AttachedLocal.watch): the
// throw is the listener's own bug and must not reach the stream that feeds every watcher and
// the cache. The watcher that threw is removed (it has missed the event it failed on, and
// calling it again would hand it later changes as if nothing were missed), and its error is
// reported to its own `onError`, else as a process warning. The stream and the other
// watchers go on.

import type { ChangeEvent } from './client/client-types.ts';

/** What a watcher sees: changes under its prefix in revision order, or a reset after compaction. */
export type WatchEvent = ChangeEvent | { readonly type: 'reset'; readonly revision: number };

export interface WatchOptions {
  /**
   * Called once if the listener throws: the watcher has been removed by then (watch again to
   * resume, e.g. from a read of what was missed). Default: a process warning.
   */
  readonly onError?: (err: unknown) => void;
}

/**
 * `listener` guarded: a throw calls `remove()` (the watcher is not called again) and reports
 * the error as WatchOptions.onError says. Never throws.
 */
export function guardListener(prefix: string, listener: (event: WatchEvent) => void, options: WatchOptions, remove: () => void): (event: WatchEvent) => void {
  let removed = false;
  return (event) => {
    if (removed) return;
    try {
      listener(event);
    } catch (err) {
      removed = true;
      remove();
      report(prefix, err, options);
    }
  };
}

function report(prefix: string, err: unknown, options: WatchOptions): void {
  if (options.onError !== undefined) {
    try {
      options.onError(err);
    } catch {
      // The handler of the handler failed: nothing left to tell, and the stream must go on.
    }
    return;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.emitWarning(`a watch listener on prefix ${JSON.stringify(prefix)} threw and was removed: ${message} (pass watch(..., {onError}) to handle it)`, 'DstoreWatchWarning');
}
