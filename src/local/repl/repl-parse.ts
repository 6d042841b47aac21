// The REPL's parser (the README's REPL table): one input line -> one Statement. Pure: no I/O, no
// state; the executor (repl-exec.ts) runs statements.
//
// Grammar: a command word (case-insensitive, `.help` and `.exit` too), then arguments separated
// by spaces. A key is one word or a quoted string. A value is the rest of the line after the
// key (inner spaces kept, the ends trimmed) or one quoted string ("..." or '...'), in which
// escapes name any byte (repl-text.ts: \xNN, \u{H...}, \n \r \t \0 \\ \" \').

import { assertNever } from '../../protocol/assert.ts';
import { unescapeQuoted, utf8OrNull } from './repl-text.ts';

export type Statement =
  | { readonly kind: 'set'; readonly key: string; readonly value: Uint8Array }
  | { readonly kind: 'get'; readonly key: string }
  | { readonly kind: 'del'; readonly key: string }
  | { readonly kind: 'stats' }
  | { readonly kind: 'help' }
  | { readonly kind: 'exit' }
  | { readonly kind: 'empty' }
  /** A line that is not a statement: `message` is the one-line hint to print. */
  | { readonly kind: 'usage'; readonly message: string };

export const USAGE = {
  set: 'usage: SET <key> <value>   (alias PUT; the value is the rest of the line, or "quoted" with \\xNN escapes)',
  get: 'usage: GET <key>   (alias OUT)',
  del: 'usage: DEL <key>   (alias REM)',
  stats: 'usage: STATS   (no arguments)',
  unknown: 'commands: SET/PUT <key> <value>, GET/OUT <key>, DEL/REM <key>, STATS, .help, .exit',
  notUtf8: 'the line is not valid UTF-8 (it holds U+FFFD, which stands in for bytes that are not): type other bytes as \\xNN inside double quotes, e.g. SET k "\\xff\\x00"',
} as const;

const COMMANDS: Readonly<Record<string, 'set' | 'get' | 'del' | 'stats' | 'help' | 'exit'>> = {
  SET: 'set',
  PUT: 'set',
  GET: 'get',
  OUT: 'get',
  DEL: 'del',
  REM: 'del',
  STATS: 'stats',
  HELP: 'help',
  '?': 'help',
  '.HELP': 'help',
  '.EXIT': 'exit',
};

/** A word or quoted string at the start of `text` (leading spaces skipped), and what follows. */
type Token = { readonly bytes: Uint8Array; readonly rest: string } | { readonly error: string } | null;

function readQuoted(text: string): Token {
  const quote = text[0]!;
  for (let i = 1; i < text.length; i++) {
    if (text[i] === '\\') {
      i++;
    } else if (text[i] === quote) {
      const body = unescapeQuoted(text.slice(1, i));
      return 'error' in body ? body : { bytes: body.bytes, rest: text.slice(i + 1) };
    }
  }
  return { error: `unterminated ${quote === '"' ? 'double' : 'single'} quote` };
}

const encoder = new TextEncoder();

function readToken(text: string): Token {
  const trimmed = text.trimStart();
  if (trimmed === '') return null;
  if (trimmed[0] === '"' || trimmed[0] === "'") return readQuoted(trimmed);
  const end = trimmed.search(/\s/);
  const word = end === -1 ? trimmed : trimmed.slice(0, end);
  return { bytes: encoder.encode(word), rest: end === -1 ? '' : trimmed.slice(end) };
}

/** The key of a statement (text: keys are UTF-8), or the usage hint. */
function readKey(kind: 'set' | 'get' | 'del', args: string): { readonly key: string; readonly rest: string } | { readonly message: string } {
  const token = readToken(args);
  if (token === null) return { message: USAGE[kind] };
  if ('error' in token) return { message: `${token.error}; ${USAGE[kind]}` };
  const key = utf8OrNull(token.bytes);
  if (key === null) return { message: `the key is not valid UTF-8 (keys are text; \\xNN escapes in a key must spell UTF-8); ${USAGE[kind]}` };
  if (key === '') return { message: `the key is empty; ${USAGE[kind]}` };
  return { key, rest: token.rest };
}

function parseKeyOnly(kind: 'get' | 'del', args: string): Statement {
  const key = readKey(kind, args);
  if ('message' in key) return { kind: 'usage', message: key.message };
  if (key.rest.trim() !== '') return { kind: 'usage', message: `${kind.toUpperCase()} takes one key; ${USAGE[kind]}` };
  return { kind, key: key.key };
}

function parseSet(args: string): Statement {
  const key = readKey('set', args);
  if ('message' in key) return { kind: 'usage', message: key.message };
  const rest = key.rest.trim();
  if (rest === '') return { kind: 'usage', message: `missing value; ${USAGE.set}` };
  if (rest[0] === '"' || rest[0] === "'") {
    const quoted = readQuoted(rest);
    if (quoted !== null && 'bytes' in quoted && quoted.rest.trim() === '') return { kind: 'set', key: key.key, value: quoted.bytes };
    if (quoted !== null && 'error' in quoted) return { kind: 'usage', message: `${quoted.error}; ${USAGE.set}` };
  }
  return { kind: 'set', key: key.key, value: encoder.encode(rest) };
}

/** Parses one line of REPL input. Never throws. */
export function parse(line: string): Statement {
  if (line.includes('\uFFFD')) return { kind: 'usage', message: USAGE.notUtf8 };
  const trimmed = line.trimStart();
  if (trimmed === '') return { kind: 'empty' };
  const end = trimmed.search(/\s/);
  const word = end === -1 ? trimmed : trimmed.slice(0, end);
  const rest = end === -1 ? '' : trimmed.slice(end);
  const command = COMMANDS[word.toUpperCase()];
  switch (command) {
    case 'set':
      return parseSet(rest);
    case 'get':
    case 'del':
      return parseKeyOnly(command, rest);
    case 'stats':
      return rest.trim() === '' ? { kind: 'stats' } : { kind: 'usage', message: USAGE.stats };
    case 'help':
    case 'exit':
      return { kind: command };
    case undefined:
      return { kind: 'usage', message: `unknown command ${JSON.stringify(word)}; ${USAGE.unknown}` };
    default:
      return assertNever(command, 'command');
  }
}
