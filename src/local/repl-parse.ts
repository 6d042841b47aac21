// The REPL's parser (the README's REPL table): one input line -> one Statement. Pure: no I/O, no
// state; the executor (repl-exec.ts) runs statements.
//
// Grammar: a command word (case-insensitive), then arguments separated by spaces. A key is
// one word or a quoted string. A value is the rest of the line after the key (inner spaces
// kept, the ends trimmed) or one quoted string ("..." or '...', with \" \' \\ \n \t escapes).

import { assertNever } from '../protocol/assert.ts';

export type Statement =
  | { readonly kind: 'set'; readonly key: string; readonly value: string }
  | { readonly kind: 'get'; readonly key: string }
  | { readonly kind: 'del'; readonly key: string }
  | { readonly kind: 'stats' }
  | { readonly kind: 'help' }
  | { readonly kind: 'empty' }
  /** A line that is not a statement: `message` is the one-line hint to print. */
  | { readonly kind: 'usage'; readonly message: string };

export const USAGE = {
  set: 'usage: SET <key> <value>   (alias PUT; the value is the rest of the line, or "quoted")',
  get: 'usage: GET <key>   (alias OUT)',
  del: 'usage: DEL <key>   (alias REM)',
  stats: 'usage: STATS   (no arguments)',
  unknown: 'commands: SET/PUT <key> <value>, GET/OUT <key>, DEL/REM <key>, STATS, .help, .exit',
} as const;

const COMMANDS: Readonly<Record<string, 'set' | 'get' | 'del' | 'stats'>> = {
  SET: 'set',
  PUT: 'set',
  GET: 'get',
  OUT: 'get',
  DEL: 'del',
  REM: 'del',
  STATS: 'stats',
};

const ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t', '\\': '\\', '"': '"', "'": "'" };

/** A word or quoted string at the start of `text` (leading spaces skipped), and what follows. */
type Token = { readonly value: string; readonly rest: string } | { readonly error: string } | null;

function readQuoted(text: string): Token {
  const quote = text[0]!;
  let value = '';
  for (let i = 1; i < text.length; i++) {
    const c = text[i]!;
    if (c === quote) return { value, rest: text.slice(i + 1) };
    if (c === '\\' && i + 1 < text.length) {
      const next = text[++i]!;
      value += ESCAPES[next] ?? `\\${next}`;
    } else {
      value += c;
    }
  }
  return { error: `unterminated ${quote === '"' ? 'double' : 'single'} quote` };
}

function readToken(text: string): Token {
  const trimmed = text.trimStart();
  if (trimmed === '') return null;
  if (trimmed[0] === '"' || trimmed[0] === "'") return readQuoted(trimmed);
  const end = trimmed.search(/\s/);
  return end === -1 ? { value: trimmed, rest: '' } : { value: trimmed.slice(0, end), rest: trimmed.slice(end) };
}

function parseKeyOnly(kind: 'get' | 'del', args: string): Statement {
  const key = readToken(args);
  if (key === null) return { kind: 'usage', message: USAGE[kind] };
  if ('error' in key) return { kind: 'usage', message: `${key.error}; ${USAGE[kind]}` };
  if (key.value === '') return { kind: 'usage', message: `the key is empty; ${USAGE[kind]}` };
  if (key.rest.trim() !== '') return { kind: 'usage', message: `${kind.toUpperCase()} takes one key; ${USAGE[kind]}` };
  return { kind, key: key.value };
}

function parseSet(args: string): Statement {
  const key = readToken(args);
  if (key === null) return { kind: 'usage', message: USAGE.set };
  if ('error' in key) return { kind: 'usage', message: `${key.error}; ${USAGE.set}` };
  if (key.value === '') return { kind: 'usage', message: `the key is empty; ${USAGE.set}` };
  const rest = key.rest.trim();
  if (rest === '') return { kind: 'usage', message: `missing value; ${USAGE.set}` };
  if (rest[0] === '"' || rest[0] === "'") {
    const quoted = readQuoted(rest);
    if (quoted !== null && 'value' in quoted && quoted.rest.trim() === '') return { kind: 'set', key: key.value, value: quoted.value };
    if (quoted !== null && 'error' in quoted) return { kind: 'usage', message: `${quoted.error}; ${USAGE.set}` };
  }
  return { kind: 'set', key: key.value, value: rest };
}

/** Parses one line of REPL input. Never throws. */
export function parse(line: string): Statement {
  const head = readToken(line);
  if (head === null) return { kind: 'empty' };
  if ('error' in head) return { kind: 'usage', message: USAGE.unknown };
  const word = head.value.toUpperCase();
  const command = COMMANDS[word];
  switch (command) {
    case 'set':
      return parseSet(head.rest);
    case 'get':
    case 'del':
      return parseKeyOnly(command, head.rest);
    case 'stats':
      return head.rest.trim() === '' ? { kind: 'stats' } : { kind: 'usage', message: USAGE.stats };
    case undefined:
      if (word === 'HELP' || word === '?') return { kind: 'help' };
      return { kind: 'usage', message: `unknown command ${JSON.stringify(head.value)}; ${USAGE.unknown}` };
    default:
      return assertNever(command, 'command');
  }
}
