// The REPL's executor: runs one parsed Statement against a Local and returns what it did, as
// text to print (the README's REPL table fixes the outputs) and as JSON for scripts. Never
// throws: an operating error becomes one line saying what went wrong; a bug (not a DstoreError)
// becomes one line too, never a stack.

import { DstoreError, KeyOccupiedError, UnavailableError } from '../../protocol/errors.ts';
import type { DeleteResult } from '../client/client-types.ts';
import type { LocalStats, LocalValue, WriteResult } from '../local.ts';
import type { Statement } from './repl-parse.ts';
import { showKey, showValue, utf8OrNull } from './repl-text.ts';
import type { StrictHoldStatus } from '../cache/strict-hold.ts';

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
  /** SET of a key this Local did not hold but Global did: it is now cached here (GET shows it). */
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
  'Command words are case-insensitive. Inside quotes \\xNN is any byte, \\u{H..} a character, and \\n \\r \\t \\0 \\\\ \\" as usual;',
  'a value that is not plain printable text is shown the same way, quoted.',
  'SET answers "Key occupied!" when this Local already holds the key, and "(Updated local) Key occupied!" when',
  'only Global had it (another Local or client bound it first): this Local has now cached that value.',
].join('\n');

/** What one statement did: the text a person reads, and the same as one JSON object for scripts. */
export interface Outcome {
  /** False when the statement failed: a usage error, an operating error, or a SET that did not bind. */
  readonly ok: boolean;
  readonly text: string;
  readonly json: Readonly<Record<string, unknown>>;
}

/** Runs one statement; resolves to what it did (null for an empty line or .exit: nothing to say). */
export async function execute(statement: Statement, local: ReplTarget, globalAddresses: string): Promise<Outcome | null> {
  try {
    return await run(statement, local);
  } catch (err) {
    return describeError(statement, err, globalAddresses);
  }
}

/** A value in JSON: its text when it is UTF-8, else base64. */
function jsonValue(bytes: Uint8Array): Record<string, string> {
  const text = utf8OrNull(bytes);
  return text === null ? { valueBase64: Buffer.from(bytes).toString('base64') } : { value: text };
}

async function run(statement: Statement, local: ReplTarget): Promise<Outcome | null> {
  switch (statement.kind) {
    case 'empty':
    case 'exit':
      return null;
    case 'usage':
      return { ok: false, text: statement.message, json: { ok: false, error: 'USAGE', message: statement.message } };
    case 'help':
      return { ok: true, text: HELP_TEXT, json: { command: 'help', ok: true, text: HELP_TEXT } };
    case 'stats': {
      const stats = local.stats();
      return { ok: true, text: formatStats(stats), json: { command: 'stats', ok: true, stats } };
    }
    case 'get': {
      const key = statement.key;
      const got = await local.get(key);
      if (got === null) return { ok: true, text: OUTPUT.missing, json: { command: 'get', key, ok: true, found: false } };
      const shown = `${showKey(key)} -> ${showValue(got.value)}`;
      const fromCache = got.source === 'cache';
      return {
        ok: true,
        text: fromCache ? `db: ${shown}` : `global: ${shown} (Updating Local)`,
        json: { command: 'get', key, ok: true, found: true, source: got.source, revision: got.revision, ...jsonValue(got.value) },
      };
    }
    case 'set':
      return set(statement.key, statement.value, local);
    case 'del': {
      const key = statement.key;
      const result = await local.del(key);
      return { ok: true, text: result.deleted ? OUTPUT.updated : OUTPUT.missing, json: { command: 'del', key, ok: true, deleted: result.deleted, revision: result.revision } };
    }
  }
}

async function set(key: string, value: Uint8Array, local: ReplTarget): Promise<Outcome> {
  const occupied = (text: string, heldBy: string): Outcome => ({ ok: false, text, json: { command: 'set', key, ok: false, error: 'KEY_OCCUPIED', heldBy, message: text } });
  if (local.holds(key)) return occupied(OUTPUT.occupied, 'local');
  try {
    const written = await local.set(key, value);
    return { ok: true, text: OUTPUT.updated, json: { command: 'set', key, ok: true, revision: written.revision } };
  } catch (err) {
    if (!(err instanceof KeyOccupiedError)) throw err;
    await local.get(key); // the Local now holds the binding Global has
    return occupied(OUTPUT.occupiedUpdatedLocal, 'global');
  }
}

function describeError(statement: Statement, err: unknown, globalAddresses: string): Outcome {
  const command = 'key' in statement ? { command: statement.kind, key: statement.key } : { command: statement.kind };
  if (err instanceof UnavailableError) {
    const text = `Global is unavailable (${globalAddresses}): ${firstLine(err.message)} The REPL keeps running; try again once Global is up.`;
    return { ok: false, text, json: { ...command, ok: false, error: err.code, message: text } };
  }
  if (err instanceof DstoreError) {
    const message = firstLine(err.message);
    return { ok: false, text: `error: ${message}`, json: { ...command, ok: false, error: err.code, message } };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { ok: false, text: `internal error: ${message}`, json: { ...command, ok: false, error: 'INTERNAL', message } };
}

function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? '';
  return /[.!?]$/.test(line) ? line : `${line}.`;
}

/** `1 thing`, `2 things`. */
function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
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
    `cached ${count(s.bindings, 'key')} and ${count(s.blobs, 'blob')}, ${formatBytes(s.bytes)} of ${formatBytes(s.cacheBytesMax)}; ${s.evictions} evicted, ${s.invalidations} invalidated`,
    `revision ${s.revision} (lag ${s.lagRevisions}), lease ${s.leaseValid ? `held (${Math.round(s.leaseLeftMs)} ms left of ${s.leaseMs})` : 'not held: bounded keys are read from Global'}`,
    `coherence ${s.coherence}${Object.entries(s.coherenceByPrefix).map(([prefix, mode]) => `, ${mode} for ${JSON.stringify(prefix)}`).join('')}`,
    ...(s.strictHold === null ? [] : [formatHold(s.strictHold)]),
    `stream ${s.stream.state} at ${s.stream.address}: ${firstLine(s.stream.reason)}${s.resubscribes > 0 ? ` Resubscribed ${s.resubscribes === 1 ? 'once' : `${s.resubscribes} times`}.` : ''}${s.compactions > 0 ? ` ${count(s.compactions, 'compaction')}.` : ''}${s.lagDrops > 0 ? ` Left ${count(s.lagDrops, 'lagging replica')}.` : ''}`,
  ].join('\n');
}

function formatHold(h: StrictHoldStatus): string {
  const state = h.state === 'holding'
    ? `holding at ${h.address} for ${Math.round(h.holdingForMs ?? 0)} ms (${Math.round(h.holdLeftMs)} ms left)`
    : `${h.state} at ${h.address}: ${firstLine(h.reason)} Strict keys are read from Global`;
  return `strict hold ${state}; ${count(h.registrations, 'registration')}, ${count(h.invalidationsAcked, 'invalidation')} acked, ${count(h.uncachedKeys, 'key')} uncached until their write is applied`;
}
