// The replicated state machine: applies decided log instances, in order, to the key space.
//
// Applying is deterministic: the same instances give the same state (and checksum) on
// every replica. Each command is a mini-transaction; one that writes commits at the next
// revision, records its change events for subscribers, and (with a WriteId) its result
// for exactly-once retries. Reads outside the log (linearizable or serializable gets and
// ranges) are served from here by the driver once the right instance is applied.

import { assert } from '../../protocol/assert.ts';
import { checkInteger } from '../../protocol/config-check.ts';
import { DstoreError } from '../../protocol/errors.ts';
import type { Hash } from '../../protocol/hash.ts';
import { validateKey } from '../../protocol/keys.ts';
import { History, type RevisionEvents } from './history.ts';
import { Keyspace } from './keyspace.ts';
import { Sessions } from './sessions.ts';
import { TxnAbort, TxnExecution, type TxnLimits } from './txn.ts';
import type { Command, InvalidCommand, KeyValue, OpResult, RangeSpec, Txn, TxnResult } from './types.ts';

export interface StateMachineConfig extends TxnLimits {
  /** Revisions of change events kept for subscribers to resume from. */
  readonly historyRevisionsMax: number;
  readonly sessionClientsMax: number;
  readonly sessionResultsPerClientMax: number;
}

export const STATE_MACHINE_DEFAULTS: StateMachineConfig = Object.freeze({
  valueInlineBytesMax: 64 * 1024,
  rangeKeysMax: 10_000,
  historyRevisionsMax: 100_000,
  sessionClientsMax: 4096,
  // A backstop: clients that say which answers they have (WriteId.firstIncomplete) keep
  // about as many results as they have writes in flight.
  sessionResultsPerClientMax: 16_384,
});

export function checkStateMachineConfig(config: StateMachineConfig): void {
  checkInteger('valueInlineBytesMax', config.valueInlineBytesMax, 0, 16 * 1024 * 1024);
  checkInteger('rangeKeysMax', config.rangeKeysMax, 1);
  checkInteger('historyRevisionsMax', config.historyRevisionsMax, 1);
  checkInteger('sessionClientsMax', config.sessionClientsMax, 1);
  checkInteger('sessionResultsPerClientMax', config.sessionResultsPerClientMax, 1);
}

export class StateMachine {
  /** @internal for snapshot.ts */
  readonly keyspace = new Keyspace();
  /** @internal for snapshot.ts */
  readonly sessions: Sessions;
  private readonly changes: History;
  private revisionNow = 0;
  private appliedThrough = 0;

  /** Throws InvalidArgumentError for a config field out of range, naming it. */
  constructor(readonly config: StateMachineConfig = STATE_MACHINE_DEFAULTS) {
    checkStateMachineConfig(config);
    this.sessions = new Sessions(config.sessionClientsMax, config.sessionResultsPerClientMax);
    this.changes = new History(config.historyRevisionsMax, 0);
  }

  /** The revision of the last transaction that changed a key; 0 before any. */
  get revision(): number {
    return this.revisionNow;
  }

  /** The last log instance applied (including no-ops); 0 before any. */
  get appliedInstance(): number {
    return this.appliedThrough;
  }

  get keyCount(): number {
    return this.keyspace.keyCount;
  }

  /** Oldest revision a subscriber can resume from. */
  get oldestRevision(): number {
    return this.changes.oldestRevision;
  }

  /**
   * Applies the commands of `instance`, which must be the next instance. A no-op instance
   * has no commands. Returns one result per command, in order. Never throws for a bad
   * command (that is a failed transaction); throws AssertionError for an out-of-order
   * instance, which is a bug in the caller.
   */
  applyInstance(instance: number, commands: readonly (Command | InvalidCommand)[]): TxnResult[] {
    assert(instance === this.appliedThrough + 1, `apply instance ${instance} after ${this.appliedThrough}`);
    const results = commands.map((command) => this.applyCommand(command));
    this.appliedThrough = instance;
    return results;
  }

  private applyCommand(command: Command | InvalidCommand): TxnResult {
    if ('invalid' in command) return this.failed('INVALID_ARGUMENT', command.invalid);
    const id = command.writeId;
    if (id !== null) {
      const { compares, success, failure } = command.txn;
      const seen = this.sessions.lookup(id, compares.length === 0 && success.length === 0 && failure.length === 0);
      if (seen.kind === 'duplicate') return seen.result;
      if (seen.kind === 'expired') {
        const refusal = this.failed('SESSION_EXPIRED', `client ${id.clientId} has no session for request ${id.requestId}: its session expired (the ${this.config.sessionClientsMax} most recently active clients keep theirs). The write did not run now; it, and any write this client sent before this answer, may have run before the session expired, and will not run again. Check the state it would have changed before writing it anew; this client's later writes run exactly once`);
        this.sessions.expire(id, refusal);
        return refusal;
      }
      if (seen.kind === 'tooOld') {
        return this.failed('INVALID_ARGUMENT', `request ${id.requestId} of client ${id.clientId} is older than the ${this.config.sessionResultsPerClientMax} results kept for exactly-once retries (kept from ${seen.forgottenThrough + 1}); it may or may not have run`);
      }
    }
    const result = this.execute(command);
    if (id !== null) this.sessions.record(id, result);
    return result;
  }

  private execute(command: Command): TxnResult {
    const exec = new TxnExecution(this.keyspace, this.config, this.revisionNow + 1);
    let succeeded: boolean;
    let results: OpResult[];
    try {
      succeeded = command.txn.compares.every((c) => exec.compare(c));
      results = (succeeded ? command.txn.success : command.txn.failure).map((op) => exec.execute(op));
    } catch (err) {
      if (err instanceof TxnAbort) return { revision: this.revisionNow, succeeded: false, results: [], failure: err.failure, duplicate: false };
      // A check that throws an operating error instead of aborting still fails only this
      // transaction, the same way on every replica and at every replay: never the replica.
      if (err instanceof DstoreError) return this.failed('INVALID_ARGUMENT', err.message);
      throw err;
    }
    if (exec.wrote) this.commit(exec);
    return { revision: this.revisionNow, succeeded, results, failure: null, duplicate: false };
  }

  private commit(exec: TxnExecution): void {
    const events = exec.events();
    for (const [key, write] of exec.writes) {
      if (write.binding !== null) this.keyspace.bind(key, write.binding, write.bytes);
      else if (this.keyspace.get(key) !== undefined) this.keyspace.unbind(key);
    }
    this.revisionNow = exec.revision;
    this.changes.append(exec.revision, events);
  }

  private failed(code: 'INVALID_ARGUMENT' | 'SESSION_EXPIRED', message: string): TxnResult {
    return { revision: this.revisionNow, succeeded: false, results: [], failure: { code, message }, duplicate: false };
  }

  /** Reads one key from the applied state. Throws InvalidArgumentError for a bad key. */
  get(key: string, withValue: boolean): KeyValue | null {
    validateKey(key);
    const b = this.keyspace.get(key);
    if (b === undefined) return null;
    return { key, ...b, value: withValue ? (this.keyspace.value(b.hash)?.bytes ?? null) : null };
  }

  /** Reads a range from the applied state (same semantics as a range op in a txn). */
  range(spec: RangeSpec): { kvs: readonly KeyValue[]; more: boolean } {
    if (spec.prefix !== '') validateKey(spec.prefix, 'range prefix');
    else if (spec.start !== '') validateKey(spec.start, 'range start');
    const result = new TxnExecution(this.keyspace, this.config, this.revisionNow).execute({ kind: 'range', range: spec });
    assert(result.kind === 'range', 'range op returns a range result');
    return result;
  }

  /**
   * Runs a transaction that only reads (compares, gets, ranges) against the applied state,
   * without the log: the driver calls it after the read barrier a linearizable get needs.
   * Its result is what applying it at this point would have returned. Never throws for a bad
   * transaction (that is a failed result); throws AssertionError if an op would write.
   */
  readTxn(txn: Txn): TxnResult {
    assert([...txn.success, ...txn.failure].every((op) => op.kind === 'get' || op.kind === 'range'), 'readTxn: a transaction that writes must go through the log');
    return this.execute({ writeId: null, txn });
  }

  /** True while some key is bound to the value; the blob store keeps it. */
  isReferenced(hash: Hash): boolean {
    return this.keyspace.isReferenced(hash);
  }

  /** Change events from `fromRevision` on (at most `revisionsMax`), or null if compacted. */
  changesSince(fromRevision: number, revisionsMax: number): readonly RevisionEvents[] | null {
    return this.changes.since(fromRevision, revisionsMax);
  }

  /** @internal for snapshot.ts: replaces the counters after a restore. */
  restoreCounters(appliedInstance: number, revision: number): void {
    this.appliedThrough = appliedInstance;
    this.revisionNow = revision;
    this.changes.reset(revision);
  }
}
