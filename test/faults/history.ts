// The history the fault suite records and the checker reads: one entry per operation, its
// invoke and complete times from one monotonic clock (the test process's performance.now,
// relative to the start of the run), its outcome and what Global or the Local answered.
// Plain data: no import from src, so the checker can be tested on hand-written histories.

/**
 * ok: answered. fail: definitely did not take effect (a `set` failed because the key was
 * bound). unknown: no answer (deadline, connection lost): a write may or may not have taken
 * effect, at any time after it was invoked.
 */
export type Outcome = 'ok' | 'fail' | 'unknown';

/** Where a Local read was served from (Local.read's `source`; 'local' = an attached worker's node). */
export type ReadSource = 'cache' | 'global' | 'local';

/** What a found read returned: the unique value, naming the write it saw, and its modRevision. */
export interface Observed {
  readonly value: string;
  readonly modRevision: number;
}

interface OpBase {
  readonly id: number;
  /** The client loop that issued it (e.g. "L1-reader-0"). */
  readonly process: string;
  /** The Local it went through (read-your-writes and monotonic reads are per Local); null: straight to Global. */
  readonly local: string | null;
  readonly key: string;
  readonly invokeMs: number;
  readonly completeMs: number;
  readonly outcome: Outcome;
  /** The error's code when not ok. */
  readonly error?: string;
}

/**
 * A read. Straight to Global (local null): a linearizable get. Through a Local: Local.read
 * (or an attached worker's get). `revision` is the revision the answer reflects.
 */
export interface ReadOp extends OpBase {
  readonly kind: 'read';
  readonly revision?: number;
  /** null: the key was not bound at `revision`. */
  readonly found?: Observed | null;
  /** Local reads only. */
  readonly source?: ReadSource;
}

/**
 * A write with a unique value (none for delete). put overwrites, set is put-if-absent, cas
 * binds only if the key's modRevision is `expectedModRevision` (0: only if absent).
 * When ok: `written` says whether it changed the key (cas succeeded, delete found the key);
 * `revision` is the revision it committed at when written, else the one it was answered at.
 */
export interface WriteOp extends OpBase {
  readonly kind: 'put' | 'set' | 'cas' | 'delete';
  readonly value?: string;
  readonly expectedModRevision?: number;
  readonly revision?: number;
  readonly written?: boolean;
  /** delete, when written: the modRevision of the binding it removed. */
  readonly prevModRevision?: number;
}

export type Op = ReadOp | WriteOp;

/** One line naming an operation, for violation reports. */
export function describeOp(op: Op): string {
  const at = `[${op.invokeMs.toFixed(1)}..${op.completeMs.toFixed(1)} ms]`;
  const via = op.local === null ? 'global' : `via ${op.local}`;
  let what: string;
  if (op.kind === 'read') {
    const answer = op.outcome !== 'ok' ? '' : op.found === null || op.found === undefined ? ' -> not found' : ` -> ${op.found.value}@${op.found.modRevision}`;
    what = `read ${op.key}${answer}${op.source === undefined ? '' : ` (${op.source})`}`;
  } else {
    const arg = op.kind === 'delete' ? '' : ` ${op.value}`;
    const cond = op.kind === 'cas' ? ` if mod=${op.expectedModRevision}` : '';
    const answer = op.outcome !== 'ok' ? '' : op.written === true ? ' -> written' : ' -> not written';
    what = `${op.kind} ${op.key}${arg}${cond}${answer}`;
  }
  const rev = op.revision === undefined ? '' : ` rev=${op.revision}`;
  const outcome = op.outcome === 'ok' ? '' : ` ${op.outcome}${op.error === undefined ? '' : ` (${op.error})`}`;
  return `#${op.id} ${op.process} ${via} ${what}${rev}${outcome} ${at}`;
}
