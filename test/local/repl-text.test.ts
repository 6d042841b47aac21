// Proves how the REPL shows values and keys: plain printable text as is; control characters,
// ANSI escape sequences, bidi overrides and bytes that are not UTF-8 quoted with escapes, never
// raw; and what is shown reads back (through the parser) as the same bytes, for every byte.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from '../../src/local/repl/repl-parse.ts';
import { quoteBytes, showKey, showValue } from '../../src/local/repl/repl-text.ts';

const v = (text: string): Uint8Array => new TextEncoder().encode(text);

/** The bytes a shown value stands for, read back through `SET k <shown>`. */
function readBack(shown: string): Uint8Array {
  const statement = parse(`SET k ${shown}`);
  assert.equal(statement.kind, 'set', shown);
  return statement.kind === 'set' ? statement.value : new Uint8Array();
}

describe('REPL text', () => {
  it('shows printable text as is', () => {
    assert.equal(showValue(v('hello world')), 'hello world');
    assert.equal(showValue(v('été 😀')), 'été 😀');
    assert.equal(showKey('job/42'), 'job/42');
  });

  it('quotes with escapes what is not plain printable text', () => {
    assert.equal(showValue(v('\x1b[31mred\x1b[0m')), '"\\x1b[31mred\\x1b[0m"');
    assert.equal(showValue(Uint8Array.of(0x00, 0xff, 0x41)), '"\\x00\\xffA"');
    assert.equal(showValue(v('a\nb\tc\r')), '"a\\nb\\tc\\r"');
    assert.equal(showValue(v('evil\u202Etxt')), '"evil\\u{202e}txt"');
    assert.equal(showValue(v('\u0085')), '"\\u{85}"', 'a C1 control');
    assert.equal(showValue(v(' padded ')), '" padded "', 'ends that the line reader would trim');
    assert.equal(showValue(v('"quoted"')), '"\\"quoted\\""');
    assert.equal(showValue(v('')), '""');
    assert.equal(showKey('two words'), '"two words"');
    assert.equal(showKey('k\x07'), '"k\\x07"');
  });

  it('shows a truncated or overlong UTF-8 sequence byte by byte', () => {
    assert.equal(quoteBytes(Uint8Array.of(0xe2, 0x82)), '"\\xe2\\x82"');
    assert.equal(quoteBytes(Uint8Array.of(0xc0, 0xaf)), '"\\xc0\\xaf"');
    assert.equal(quoteBytes(Uint8Array.of(0xed, 0xa0, 0x80)), '"\\xed\\xa0\\x80"', 'a surrogate');
  });

  it('reads back what it shows, for every byte and for mixed text', () => {
    for (let b = 0; b < 256; b++) assert.deepEqual(readBack(showValue(Uint8Array.of(b, 0x61))), Uint8Array.of(b, 0x61), `byte ${b}`);
    for (const text of ['plain', 'x "y" z', "it's", 'back\\slash', 'tab\tand\nnewline', ' lead', 'é\u200bzero-width', '\\x41 literal']) {
      assert.deepEqual(readBack(showValue(v(text))), v(text), text);
    }
  });
});
