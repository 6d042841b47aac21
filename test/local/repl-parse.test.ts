// Proves the REPL parser line by line, as a table of input -> Statement: command words in any
// case and their aliases, values as the rest of the line or quoted (with escapes), quoted
// keys, and the one-line usage hint for a missing argument, an extra one, or an unknown word.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse, USAGE, type Statement } from '../../src/local/repl-parse.ts';

const cases: [string, Statement][] = [
  ['SET k v', { kind: 'set', key: 'k', value: 'v' }],
  ['put k v', { kind: 'set', key: 'k', value: 'v' }],
  ['Set greeting hello there, world  ', { kind: 'set', key: 'greeting', value: 'hello there, world' }],
  ['SET k "quoted  value"', { kind: 'set', key: 'k', value: 'quoted  value' }],
  ["SET k 'it''s'", { kind: 'set', key: 'k', value: "'it''s'" }],
  ['SET k "a \\"b\\" c\\n"', { kind: 'set', key: 'k', value: 'a "b" c\n' }],
  ['SET k "two" "strings"', { kind: 'set', key: 'k', value: '"two" "strings"' }],
  ['SET "my key" v', { kind: 'set', key: 'my key', value: 'v' }],
  ['  get   k  ', { kind: 'get', key: 'k' }],
  ['OUT k', { kind: 'get', key: 'k' }],
  ['gEt "a b"', { kind: 'get', key: 'a b' }],
  ['DEL k', { kind: 'del', key: 'k' }],
  ['rem k', { kind: 'del', key: 'k' }],
  ['STATS', { kind: 'stats' }],
  ['stats', { kind: 'stats' }],
  ['help', { kind: 'help' }],
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
