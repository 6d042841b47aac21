// The REPL's executor: runs one parsed Statement against a Local and returns the text to
// print (the README's REPL table fixes the outputs). Never throws: an operating error becomes one
// line saying what went wrong; a bug (not a DstoreError) becomes one line too, never a stack.

import { DstoreError, KeyOccupiedError, UnavailableError } from '../protocol/errors.ts';
import type { DeleteResult } from './client-types.ts';
import type { LocalStats, LocalValue, WriteResult } from './local.ts';
import type { Statement } from './repl-parse.ts';
import type { StrictHoldStatus } from './strict-hold.ts';

/** What the executor needs of a Local (the REPL passes a Local; tests may pass a double). */
export interface ReplTarget {
  /** Whether the Local may serve `key` from its cache now. */
  holds(key: string): boolean;
  get(key: string): Promise<LocalValue | null>;
  set(key: string, value: Uint8Array): Promise<WriteResult>;
  del(key: string): Promise<DeleteResult>;
  stats(): LocalStats;
}

export const OUTPUT = {
  updated: 'Database updated',
  occupied: 'Key occupied!',
  occupiedUpdatedLocal: '(Updated local) Key occupied!',
  missing: "Key-Value mapping doesn't exist",
} as const;

export const HELP_TEXT = [
  'SET <key> <value>   bind key to value if it is free (alias PUT); the value is the rest of the line or "quoted"',
  'GET <key>           read a key: "db:" when this Local had it, "global:" when it came from Global (alias OUT)',
  'DEL <key>           remove a key from Global; every Local drops its copy (alias REM)',
  'STATS               cache hits, misses, bytes, revision and stream state',
  '.help               this text',
  '.exit               leave (Ctrl-D too)',
  'Command words are case-insensitive.',
].join('\n');

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Runs one statement; resolves to the text to print ('' for nothing). */
export async function execute(statement: Statement, local: ReplTarget, globalAddresses: string): Promise<string> {
  try {
    return await run(statement, local);
  } catch (err) {
    return describeError(err, globalAddresses);
  }
}

async function run(statement: Statement, local: ReplTarget): Promise<string> {
  switch (statement.kind) {
    case 'empty':
      return '';
    case 'usage':
      return statement.message;
    case 'help':
      return HELP_TEXT;
    case 'stats':
      return formatStats(local.stats());
    case 'get': {
      const got = await local.get(statement.key);
      if (got === null) return OUTPUT.missing;
      const value = decoder.decode(got.value);
      return got.source === 'cache' ? `db: ${statement.key} -> ${value}` : `global: ${statement.key} -> ${value} (Updating Local)`;
    }
    case 'set':
      return set(statement.key, statement.value, local);
    case 'del': {
      const result = await local.del(statement.key);
      return result.deleted ? OUTPUT.updated : OUTPUT.missing;
    }
  }
}

async function set(key: string, value: string, local: ReplTarget): Promise<string> {
  if (local.holds(key)) return OUTPUT.occupied;
  try {
    await local.set(key, encoder.encode(value));
    return OUTPUT.updated;
  } catch (err) {
    if (!(err instanceof KeyOccupiedError)) throw err;
    await local.get(key); // the Local now holds the binding Global has
    return OUTPUT.occupiedUpdatedLocal;
  }
}

function describeError(err: unknown, globalAddresses: string): string {
  if (err instanceof UnavailableError) {
    return `Global is unavailable (${globalAddresses}): ${firstLine(err.message)} The REPL keeps running; try again once Global is up.`;
  }
  if (err instanceof DstoreError) return `error: ${firstLine(err.message)}`;
  return `internal error: ${err instanceof Error ? err.message : String(err)}`;
}

function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? '';
  return /[.!?]$/.test(line) ? line : `${line}.`;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export function formatStats(s: LocalStats): string {
  const ratio = s.hits + s.misses === 0 ? 0 : (100 * s.hits) / (s.hits + s.misses);
  return [
    `hits ${s.hits}, misses ${s.misses} (hit ratio ${ratio.toFixed(1)}%)`,
    `cached ${s.bindings} keys and ${s.blobs} blobs, ${formatBytes(s.bytes)} of ${formatBytes(s.cacheBytesMax)}; ${s.evictions} evicted, ${s.invalidations} invalidated`,
    `revision ${s.revision} (lag ${s.lagRevisions}), lease ${s.leaseValid ? `held (${Math.round(s.leaseLeftMs)} ms left of ${s.leaseMs})` : 'not held: bounded keys are read from Global'}`,
    `coherence ${s.coherence}${Object.entries(s.coherenceByPrefix).map(([prefix, mode]) => `, ${mode} for ${JSON.stringify(prefix)}`).join('')}`,
    ...(s.strictHold === null ? [] : [formatHold(s.strictHold)]),
    `stream ${s.stream.state} at ${s.stream.address}: ${firstLine(s.stream.reason)}${s.resubscribes > 0 ? ` Resubscribed ${s.resubscribes} times.` : ''}${s.compactions > 0 ? ` ${s.compactions} compactions.` : ''}${s.lagDrops > 0 ? ` Left ${s.lagDrops} lagging replicas.` : ''}`,
  ].join('\n');
}

function formatHold(h: StrictHoldStatus): string {
  const state = h.state === 'holding'
    ? `holding at ${h.address} for ${Math.round(h.holdingForMs ?? 0)} ms (${Math.round(h.holdLeftMs)} ms left)`
    : `${h.state} at ${h.address}: ${firstLine(h.reason)} Strict keys are read from Global`;
  return `strict hold ${state}; ${h.registrations} registrations, ${h.invalidationsAcked} invalidations acked, ${h.uncachedKeys} keys uncached until their write is applied`;
}
