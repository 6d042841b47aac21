// Proves the REPL parser line by line, as a table of input -> Statement: command words in any
// case and their aliases (.help and .exit too), values as the rest of the line or quoted (with
// escapes, \xNN naming any byte), quoted keys, and the one-line usage hint for a missing
// argument, an extra one, an unknown word, a bad escape, or input that was not UTF-8.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse, USAGE, type Statement } from '../../src/local/repl/repl-parse.ts';

const v = (text: string): Uint8Array => new TextEncoder().encode(text);

const cases: [string, Statement][] = [
  ['SET k v', { kind: 'set', key: 'k', value: v('v') }],
  ['put k v', { kind: 'set', key: 'k', value: v('v') }],
  ['Set greeting hello there, world  ', { kind: 'set', key: 'greeting', value: v('hello there, world') }],
  ['SET k "quoted  value"', { kind: 'set', key: 'k', value: v('quoted  value') }],
  ["SET k 'it''s'", { kind: 'set', key: 'k', value: v("'it''s'") }],
  ['SET k "a \\"b\\" c\\n"', { kind: 'set', key: 'k', value: v('a "b" c\n') }],
  ['SET k "two" "strings"', { kind: 'set', key: 'k', value: v('"two" "strings"') }],
  ['SET "my key" v', { kind: 'set', key: 'my key', value: v('v') }],
  ['  get   k  ', { kind: 'get', key: 'k' }],
  ['OUT k', { kind: 'get', key: 'k' }],
  ['gEt "a b"', { kind: 'get', key: 'a b' }],
  ['DEL k', { kind: 'del', key: 'k' }],
  ['rem k', { kind: 'del', key: 'k' }],
  ['STATS', { kind: 'stats' }],
  ['stats', { kind: 'stats' }],
  ['help', { kind: 'help' }],
  ['.help', { kind: 'help' }],
  ['.HELP', { kind: 'help' }],
  ['.Exit', { kind: 'exit' }],
  ['SET k "\\x00\\xff\\x1b[0m"', { kind: 'set', key: 'k', value: Uint8Array.of(0x00, 0xff, 0x1b, 0x5b, 0x30, 0x6d) }],
  ["SET k '\\xC3\\xA9\\u{1F600}\\r\\0'", { kind: 'set', key: 'k', value: v('\u00e9\u{1F600}\r\0') }],
  ['SET k "C:\\dir"', { kind: 'set', key: 'k', value: v('C:\\dir') }],
  ['SET k \\x41', { kind: 'set', key: 'k', value: v('\\x41') }],
  ['GET "\\xc3\\xa9"', { kind: 'get', key: '\u00e9' }],
  ['GET "\\xff"', { kind: 'usage', message: `the key is not valid UTF-8 (keys are text; \\xNN escapes in a key must spell UTF-8); ${USAGE.get}` }],
  ['SET k "\\xZ1"', { kind: 'usage', message: `\\x needs two hex digits (\\x00..\\xff), got "\\xZ1"; ${USAGE.set}` }],
  ['SET k "\\u{110000}"', { kind: 'usage', message: `\\u needs a code point in braces, e.g. \\u{e9} or \\u{1F600}; ${USAGE.set}` }],
  ['SET k caf\uFFFD', { kind: 'usage', message: USAGE.notUtf8 }],
  ['.save file', { kind: 'usage', message: `unknown command ".save"; ${USAGE.unknown}` }],
  ['', { kind: 'empty' }],
  ['   ', { kind: 'empty' }],
  ['SET', { kind: 'usage', message: USAGE.set }],
  ['SET k', { kind: 'usage', message: `missing value; ${USAGE.set}` }],
  ['SET k   ', { kind: 'usage', message: `missing value; ${USAGE.set}` }],
  ['SET "" v', { kind: 'usage', message: `the key is empty; ${USAGE.set}` }],
  ['SET k "open', { kind: 'usage', message: `unterminated double quote; ${USAGE.set}` }],
  ['GET', { kind: 'usage', message: USAGE.get }],
  ['GET a b', { kind: 'usage', message: `GET takes one key; ${USAGE.get}` }],
  ['DEL', { kind: 'usage', message: USAGE.del }],
  ['STATS now', { kind: 'usage', message: USAGE.stats }],
  ['FROB k', { kind: 'usage', message: `unknown command "FROB"; ${USAGE.unknown}` }],
];

describe('REPL parse', () => {
  for (const [line, expected] of cases) {
    it(JSON.stringify(line), () => assert.deepEqual(parse(line), expected));
  }

  it('keeps every usage hint to one line', () => {
    for (const [line] of cases) {
      const s = parse(line);
      if (s.kind === 'usage') assert.equal(s.message.includes('\n'), false, line);
    }
  });
});
