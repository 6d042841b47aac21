// The leader's own proposals: client transactions encoded as log commands, batched into
// proposals (proposal-batcher.ts), and settled when their instances are decided or covered by
// a snapshot. Applying its own proposals the leader skips decoding the log bytes again.

import type { TxnRequest__Output } from '../../protocol/generated/dstore/v1/TxnRequest.ts';
import type { LogEntry } from '../../consensus/index.ts';
import { decodeCommand, encodeCommand, txnOf } from './codec.ts';
import { ProposalBatcher, type BatcherConfig, type ProposeOutcome } from './proposal-batcher.ts';
import type { StateMachine } from '../state/state-machine.ts';
import type { Command, InvalidCommand, TxnResult, WriteId } from '../state/types.ts';

export class Proposals {
  private readonly batcher: ProposalBatcher<TxnResult>;
  /**
   * Commands this replica proposed, by the identity of their encoded bytes, as `decodeCommand`
   * would return them. The log hands back the very same arrays; entries leave with them.
   */
  private readonly proposedHere = new WeakMap<Uint8Array, Command>();

  /** `propose` hands a batch to consensus synchronously. */
  constructor(propose: (commands: readonly Uint8Array[]) => ProposeOutcome, config: BatcherConfig) {
    this.batcher = new ProposalBatcher<TxnResult>(propose, config);
  }

  /** Resolves with the transaction's result once decided and applied here. */
  submit(writeId: WriteId | null, txn: TxnRequest__Output): Promise<TxnResult> {
    // Converted from the very object encoded, so it is what a follower decodes (codec.test.ts).
    const bytes = encodeCommand(writeId, txn);
    this.proposedHere.set(bytes, { writeId, txn: txnOf(txn) });
    return this.batcher.submit(bytes);
  }

  /** The commands of a decided entry: this replica's own as it proposed them, others decoded. */
  commandsOf(entry: LogEntry): (Command | InvalidCommand)[] {
    const raw = entry.value.kind === 'noop' ? [] : entry.value.commands;
    return raw.map((bytes): Command | InvalidCommand => {
      const mine = this.proposedHere.get(bytes);
      if (mine !== undefined) return mine;
      try {
        return decodeCommand(bytes);
      } catch (err) {
        return { invalid: (err as Error).message };
      }
    });
  }

  /** Settles the commands proposed at `entry`'s instance with what was applied there. */
  decided(entry: LogEntry, results: readonly TxnResult[]): void {
    this.batcher.decided(entry.instance, entry.value.kind === 'noop' ? [] : entry.value.commands, results);
  }

  /**
   * Settles the proposals a snapshot installed from a peer covers: with the result `sm`
   * recorded for them when their WriteId's session holds one, else with a retryable error.
   */
  coveredBySnapshot(through: number, sm: StateMachine, unknown: (instance: number) => Error): void {
    this.batcher.coveredBySnapshot(through, (bytes) => this.resultInState(bytes, sm), unknown);
  }

  failAllPending(err: Error): void {
    this.batcher.failAllPending(err);
  }

  /**
   * The result the state machine recorded for a command this replica proposed, when its
   * WriteId's session holds one (the command ran); undefined when that is not known.
   */
  private resultInState(bytes: Uint8Array, sm: StateMachine): TxnResult | undefined {
    const writeId = this.proposedHere.get(bytes)?.writeId ?? null;
    if (writeId === null) return undefined;
    const seen = sm.sessions.lookup(writeId);
    return seen.kind === 'duplicate' ? seen.result : undefined;
  }
}
