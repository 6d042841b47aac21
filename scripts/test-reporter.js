// A node:test reporter (plain JavaScript: Node loads reporters before any --import loader) for people, not machines (scripts/run-tests.ts passes it): failures in
// full as they happen (name path, file:line, error, diagnostics, the file's output), passes only
// counted, skipped tests with their reasons, the slowest files, and one last line
// `tests N, pass N, fail N, skipped N, duration S s`. `--reporter tap` on run-tests gives TAP.
// A test file's stderr is shown when the file fails; Node's own warnings always, so they get fixed.
import { relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { inspect } from 'node:util';



const SLOWEST_SHOWN = 5;
/** Node's process warnings: `(node:123) [DEP0123] DeprecationWarning: ...` and the hint line after one. */
const NODE_WARNING = /^\(node:\d+\) (\[\w+\] )?\w*Warning:|^\(Use `node --trace-/;

/** The file only: node:test's line and column are of tsx's output, not the source (the stack has those). */
function at(data) {
  return data.file === undefined ? '(no file)' : relative(process.cwd(), data.file);
}

function indent(text, prefix = '    ') {
  return text.split('\n').map((l) => prefix + l).join('\n');
}

/** The test's own error: node:test wraps it (failureType testCodeFailure, hookFailed, ...) with the thrown value as cause. */
function errorText(error) {
  const e = error;
  const shown = e?.cause ?? error;
  const kind = e?.failureType !== undefined && e.failureType !== 'testCodeFailure' ? `(${e.failureType}) ` : '';
  return kind + (typeof shown === 'string' ? shown : inspect(shown, { depth: 4 }));
}

/** @param {AsyncIterable<{ type: string, data: any }>} source */
export default async function* humanReporter(source) {
  const startedMs = performance.now();
  /** @type {Map<string, { durationMs: number, path: string[], pending: { lines: string[], after: string[] } | null, output: string[], failed: boolean }>} */
  const files = new Map();
  /** @type {string[]} */
  const skipped = [];
  let tests = 0;
  let pass = 0;
  let fail = 0;
  let todo = 0;
  const fileOf = (data) => {
    const key = data.file ?? '(no file)';
    let state = files.get(key);
    if (state === undefined) {
      state = { durationMs: 0, path: [], pending: null, output: [], failed: false };
      files.set(key, state);
    }
    return state;
  };
  // node:test reports a test's diagnostics after its result: a failure is held until the file's next event.
  const flush = (file) => {
    const pending = file.pending;
    file.pending = null;
    return pending === null ? '' : [...pending.lines, ...pending.after].join('\n') + '\n';
  };

  for await (const { type, data } of source) {
    switch (type) {
      case 'test:complete': {
        if (data.nesting === 0 && data.name === data.file) fileOf(data).durationMs = data.details?.duration_ms ?? 0;
        break;
      }
      case 'test:start': {
        const file = fileOf(data);
        if (file.pending !== null) yield flush(file);
        file.path.length = data.nesting;
        file.path[data.nesting] = data.name;
        break;
      }
      case 'test:diagnostic': {
        // Diagnostics without a file are node:test's own totals.
        if (data.file === undefined) break;
        const file = fileOf(data);
        if (file.pending !== null) file.pending.lines.push(indent(`diagnostic: ${data.message ?? ''}`));
        break;
      }
      case 'test:stderr':
      case 'test:stdout': {
        const file = fileOf(data);
        const message = data.message ?? '';
        if (type === 'test:stderr' && message.split('\n').some((l) => NODE_WARNING.test(l))) {
          yield `warning from ${at(data)}:\n${indent(message.trimEnd())}\n`;
        } else {
          file.output.push(message);
          if (file.failed) yield flush(file) + indent(message.trimEnd(), '  | ') + '\n';
        }
        break;
      }
      case 'test:pass':
      case 'test:fail': {
        const file = fileOf(data);
        const isSuite = data.details?.type === 'suite';
        const error = data.details?.error;
        if (file.pending !== null) yield flush(file);
        if (type === 'test:pass') {
          if (isSuite) break;
          tests++;
          if (data.skip !== undefined && data.skip !== false) {
            skipped.push(`${at(data)} ${data.name}${typeof data.skip === 'string' ? `: ${data.skip}` : ''}`);
          } else if (data.todo !== undefined && data.todo !== false) todo++;
          else pass++;
          break;
        }
        // A suite fails when a test in it fails (already shown); show it only for its own failure (a hook).
        if (isSuite && error?.failureType === 'subtestsFailed') break;
        if (!isSuite) {
          tests++;
          fail++;
        }
        // A file that fails outside any test (an import that throws) is reported under its path.
        const name = data.name === data.file ? at(data) : [...file.path.slice(0, data.nesting), data.name].join(' > ');
        const lines = [`\nFAIL ${name}`, `  at ${at(data)}`, indent(errorText(data.details?.error))];
        const after = !file.failed && file.output.length > 0 ? ['  output of the file so far:', indent(file.output.join('').trimEnd(), '  | ')] : [];
        file.failed = true;
        file.pending = { lines, after };
        break;
      }
      default:
        break;
    }
  }

  for (const file of files.values()) if (file.pending !== null) yield flush(file);
  const seconds = (ms) => (ms / 1000).toFixed(1);
  const out = [];
  if (skipped.length > 0) out.push(`\nskipped (${skipped.length}):`, ...skipped.map((s) => `  ${s}`));
  const slowest = [...files.entries()]
    .filter(([name]) => name !== '(no file)')
    .map(([name, f]) => ({ name: relative(process.cwd(), name), ms: f.durationMs }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, SLOWEST_SHOWN);
  if (slowest.length > 1) out.push(`\nslowest files:`, ...slowest.map((s) => `  ${seconds(s.ms).padStart(6)} s  ${s.name}`));
  out.push(`\ntests ${tests}, pass ${pass}, fail ${fail}, skipped ${skipped.length}${todo > 0 ? `, todo ${todo}` : ''}, duration ${seconds(performance.now() - startedMs)} s\n`);
  yield out.join('\n');
}
