// Structured logs (issue 7): one line per event on a writer (stderr by default), with a level,
// an event name and flat fields, as JSON or logfmt. Quiet by default: the default level is
// `warn`, so a healthy server prints nothing but its "listening" line.
//
// A Logger is injected wherever something is worth a line: no module keeps
// a global logger, and src/consensus never logs (it stays pure; the driver logs what the core
// decided). Tests pass `NULL_LOGGER` or a logger writing into an array.
//
// Never log secrets: tokens, keys and values do not belong in fields.

import { InvalidArgumentError } from './errors.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'json' | 'logfmt';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
export const LOG_FORMATS: readonly LogFormat[] = ['json', 'logfmt'];
export const LOG_LEVEL_DEFAULT: LogLevel = 'warn';

/** Flat fields of one event; undefined fields are left out. */
export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined>>;

export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  /** True when lines of `level` are written (skip building costly fields otherwise). */
  enabled(level: LogLevel): boolean;
  /** A logger that adds `fields` to every line (e.g. the replica id). */
  child(fields: LogFields): Logger;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Throws InvalidArgumentError naming the allowed levels. */
export function parseLogLevel(text: string): LogLevel {
  const level = LOG_LEVELS.find((l) => l === text);
  if (level === undefined) throw new InvalidArgumentError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(text)}`);
  return level;
}

/** Throws InvalidArgumentError naming the allowed formats. */
export function parseLogFormat(text: string): LogFormat {
  const format = LOG_FORMATS.find((f) => f === text);
  if (format === undefined) throw new InvalidArgumentError(`--log-format must be one of ${LOG_FORMATS.join(', ')}, got ${JSON.stringify(text)}`);
  return format;
}

export interface LoggerOptions {
  readonly level?: LogLevel;
  readonly format?: LogFormat;
  /** Receives each line without its newline. Default: written to stderr. */
  readonly write?: (line: string) => void;
  /** Time of an event. Default: the wall clock. */
  readonly now?: () => Date;
}

/** A logfmt value: bare when it is a simple token, else JSON-quoted. */
function logfmtValue(value: string | number | boolean | null): string {
  if (typeof value !== 'string') return String(value);
  return /^[A-Za-z0-9_.:/@+-]+$/.test(value) ? value : JSON.stringify(value);
}

function format(formatName: LogFormat, ts: string, level: LogLevel, event: string, fields: LogFields): string {
  if (formatName === 'json') {
    const record: Record<string, unknown> = { ts, level, event };
    for (const [k, v] of Object.entries(fields)) if (v !== undefined && !(k in record)) record[k] = v;
    return JSON.stringify(record);
  }
  let line = `ts=${ts} level=${level} event=${logfmtValue(event)}`;
  for (const [k, v] of Object.entries(fields)) if (v !== undefined && k !== 'ts' && k !== 'level' && k !== 'event') line += ` ${k}=${logfmtValue(v)}`;
  return line;
}

class LineLogger implements Logger {
  private readonly rank: number;

  constructor(
    private readonly level: LogLevel,
    private readonly formatName: LogFormat,
    private readonly write: (line: string) => void,
    private readonly now: () => Date,
    private readonly base: LogFields,
  ) {
    this.rank = RANK[level];
  }

  enabled(level: LogLevel): boolean {
    return RANK[level] >= this.rank;
  }

  private emit(level: LogLevel, event: string, fields: LogFields | undefined): void {
    if (RANK[level] < this.rank) return;
    const all = fields === undefined ? this.base : { ...this.base, ...fields };
    this.write(format(this.formatName, this.now().toISOString(), level, event, all));
  }

  debug(event: string, fields?: LogFields): void {
    this.emit('debug', event, fields);
  }

  info(event: string, fields?: LogFields): void {
    this.emit('info', event, fields);
  }

  warn(event: string, fields?: LogFields): void {
    this.emit('warn', event, fields);
  }

  error(event: string, fields?: LogFields): void {
    this.emit('error', event, fields);
  }

  child(fields: LogFields): Logger {
    return new LineLogger(this.level, this.formatName, this.write, this.now, { ...this.base, ...fields });
  }
}

/** A logger writing lines at or above `level` (default warn), JSON by default, to stderr by default. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const write = options.write ?? ((line: string) => void process.stderr.write(`${line}\n`));
  return new LineLogger(options.level ?? LOG_LEVEL_DEFAULT, options.format ?? 'json', write, options.now ?? (() => new Date()), {});
}

/** Writes nothing (tests, embedded use). */
export const NULL_LOGGER: Logger = Object.freeze({
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  enabled: () => false,
  child: () => NULL_LOGGER,
});

/** An error's message and class (and its stack when `withStack`) as log fields. */
export function errorFields(err: unknown, withStack = false): LogFields {
  if (err instanceof Error) return { error: err.message, errorName: err.name, stack: withStack ? err.stack : undefined };
  return { error: String(err) };
}
