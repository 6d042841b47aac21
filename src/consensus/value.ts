// Log values: a batch of opaque commands, or a no-op that fills a gap left by a failed leader.

import type { Value } from './types.ts';

export const NOOP: Value = Object.freeze({ kind: 'noop' });

/** Wraps a batch of commands. The core keeps the array and its buffers: the caller must not mutate them. */
export function commandsValue(commands: readonly Uint8Array[]): Value {
  return { kind: 'commands', commands };
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Deep equality: same kind and byte-identical commands. Fast when both sides are one object. */
export function valuesEqual(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (a.kind === 'noop' || b.kind === 'noop') return a.kind === b.kind;
  if (a.commands.length !== b.commands.length) return false;
  for (let i = 0; i < a.commands.length; i++) {
    if (!bytesEqual(a.commands[i]!, b.commands[i]!)) return false;
  }
  return true;
}

/** Total payload bytes, for limits and benches. */
export function valueBytes(v: Value): number {
  if (v.kind === 'noop') return 0;
  let bytes = 0;
  for (const c of v.commands) bytes += c.length;
  return bytes;
}
