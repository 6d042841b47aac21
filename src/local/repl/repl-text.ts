// Bytes as the REPL reads and shows them. Inside quotes, escapes name any byte: \xNN one byte,
// \u{H...} a code point (as UTF-8), \n \r \t \0 \\ \" \'. On output a value (or key) is shown
// as is when it is printable UTF-8 text that reads back the same; otherwise as a double-quoted
// string with those escapes, so control characters, ANSI escape sequences and bytes that are
// not UTF-8 never reach the terminal raw, and what is shown can be typed back to get the
// same bytes.

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = { n: 0x0a, r: 0x0d, t: 0x09, '0': 0x00, '\\': 0x5c, '"': 0x22, "'": 0x27 };

/** Characters never printed raw: controls (C0, DEL, C1: ANSI escapes start with one), format characters (bidi overrides, zero-width), line and paragraph separators, and U+FFFD. */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\uFFFD]/u;

/** The body of a quoted string (between the quotes) as bytes, or a one-line error. */
export function unescapeQuoted(body: string): { readonly bytes: Uint8Array } | { readonly error: string } {
  const out: number[] = [];
  const pushText = (text: string): void => {
    for (const b of encoder.encode(text)) out.push(b);
  };
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\' || i + 1 >= body.length) {
      // Whole code points, so a surrogate pair is encoded as one character.
      const cp = body.codePointAt(i)!;
      pushText(String.fromCodePoint(cp));
      if (cp > 0xffff) i++;
      continue;
    }
    const next = body[++i]!;
    const simple = SIMPLE_ESCAPES[next];
    if (simple !== undefined) {
      out.push(simple);
    } else if (next === 'x') {
      const hex = body.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) return { error: `\\x needs two hex digits (\\x00..\\xff), got "\\x${hex}"` };
      out.push(parseInt(hex, 16));
      i += 2;
    } else if (next === 'u') {
      const m = /^\{([0-9a-fA-F]{1,6})\}/.exec(body.slice(i + 1));
      const cp = m === null ? NaN : parseInt(m[1]!, 16);
      if (m === null || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return { error: '\\u needs a code point in braces, e.g. \\u{e9} or \\u{1F600}' };
      pushText(String.fromCodePoint(cp));
      i += m[0].length;
    } else {
      // Not an escape: the backslash stays (C:\dir reads as typed).
      out.push(0x5c);
      pushText(next);
    }
  }
  return { bytes: Uint8Array.from(out) };
}

/** `bytes` as UTF-8 text, or null when they are not UTF-8. */
export function utf8OrNull(bytes: Uint8Array): string | null {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    return null;
  }
}

/** Length of the valid UTF-8 sequence at `bytes[i]`, or 0 when the byte there starts none. */
function sequenceLength(bytes: Uint8Array, i: number): number {
  const b = bytes[i]!;
  const n = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
  if (n === 0 || i + n > bytes.length) return 0;
  return utf8OrNull(bytes.subarray(i, i + n)) === null ? 0 : n;
}

function escapeChar(ch: string): string {
  switch (ch) {
    case '\\': return '\\\\';
    case '"': return '\\"';
    case '\n': return '\\n';
    case '\r': return '\\r';
    case '\t': return '\\t';
  }
  if (!UNPRINTABLE.test(ch)) return ch;
  const cp = ch.codePointAt(0)!;
  return cp < 0x80 ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u{${cp.toString(16)}}`;
}

/** `bytes` as a double-quoted string with escapes (reads back as the same bytes). */
export function quoteBytes(bytes: Uint8Array): string {
  let out = '"';
  for (let i = 0; i < bytes.length; ) {
    const n = sequenceLength(bytes, i);
    if (n === 0) {
      out += `\\x${bytes[i]!.toString(16).padStart(2, '0')}`;
      i++;
    } else {
      out += escapeChar(strictDecoder.decode(bytes.subarray(i, i + n)));
      i += n;
    }
  }
  return `${out}"`;
}

/** Whether `text` reads back the same when printed bare as a value (rest of the line, ends trimmed). */
function bareValue(text: string): boolean {
  return text !== '' && !UNPRINTABLE.test(text) && text.trim() === text && text[0] !== '"' && text[0] !== "'";
}

/** A value as the REPL prints it: bare text when that is unambiguous, else quoted with escapes. */
export function showValue(bytes: Uint8Array): string {
  const text = utf8OrNull(bytes);
  return text !== null && bareValue(text) ? text : quoteBytes(bytes);
}

/** A key as the REPL prints it: bare when it is one printable word, else quoted with escapes. */
export function showKey(key: string): string {
  return bareValue(key) && !/\s/.test(key) ? key : quoteBytes(encoder.encode(key));
}
