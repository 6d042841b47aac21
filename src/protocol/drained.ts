// Waiting for a gRPC stream to take writes again: the one helper every streaming writer uses.

/** Resolves when `stream` may be written again, or when it closed, failed or was cancelled (callers check). */
export function drained(stream: NodeJS.EventEmitter): Promise<void> {
  return new Promise<void>((resolve) => {
    const events = ['drain', 'close', 'error', 'finish', 'cancelled'];
    const done = (): void => {
      for (const e of events) stream.off(e, done);
      resolve();
    };
    for (const e of events) stream.on(e, done);
  });
}
