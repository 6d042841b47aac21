// Messages produced since the last Ready. Consecutive Accepts from the leader to one peer merge
// into one message carrying a range of instances, and so do the Accepted replies to them: with a
// window of proposals made between two Readies, each peer gets one Accept and sends one reply.

import { ballotEquals } from './ballot.ts';
import type { Message, MsgAccept, MsgAccepted, MsgDecided, MsgHeartbeat } from './messages.ts';
import type { Ballot, Value, VoteStamp } from './types.ts';

type Draft<T> = { -readonly [K in keyof T]: T[K] };
type AcceptDraft = Draft<MsgAccept> & { values: Value[] };
/** A message to one peer that carries the leader's decided prefix and may still be updated. */
type DecidedCarrier = Draft<MsgAccept> | Draft<MsgHeartbeat> | Draft<MsgDecided>;

export class Outbox {
  private messages: Message[] = [];
  private readonly openAcceptByPeer = new Map<number, AcceptDraft>();
  private readonly openAcceptedByPeer = new Map<number, Draft<MsgAccepted>>();
  private readonly carrierByPeer = new Map<number, DecidedCarrier>();

  constructor(private readonly entriesMax: number) {}

  get isEmpty(): boolean {
    return this.messages.length === 0;
  }

  send(message: Message): void {
    this.messages.push(message);
    if (message.type === 'heartbeat' || message.type === 'decided') this.carrierByPeer.set(message.to, message);
  }

  /** Queues `value` for `instance` to `to`, extending the open Accept when it is the next instance. */
  accept(from: number, to: number, ballot: Ballot, instance: number, value: Value, decidedThrough: number): void {
    const open = this.openAcceptByPeer.get(to);
    if (open !== undefined && ballotEquals(open.ballot, ballot) && open.firstInstance + open.values.length === instance && open.values.length < this.entriesMax) {
      open.values.push(value);
      open.decidedThrough = decidedThrough;
      return;
    }
    const draft: AcceptDraft = { type: 'accept', from, to, ballot, firstInstance: instance, values: [value], decidedThrough };
    this.openAcceptByPeer.set(to, draft);
    this.carrierByPeer.set(to, draft);
    this.messages.push(draft);
  }

  /** Queues an acknowledgement, merging it into the open one when the ranges touch. */
  accepted(from: number, to: number, ballot: Ballot, firstInstance: number, count: number, decidedThrough: number, stamp: VoteStamp): void {
    const open = this.openAcceptedByPeer.get(to);
    if (open !== undefined && ballotEquals(open.ballot, ballot) && open.firstInstance + open.count === firstInstance) {
      open.count += count;
      open.decidedThrough = decidedThrough;
      open.stamp = stamp; // stamps only grow
      return;
    }
    const draft: Draft<MsgAccepted> = { type: 'accepted', from, to, ballot, firstInstance, count, decidedThrough, stamp };
    this.openAcceptedByPeer.set(to, draft);
    this.messages.push(draft);
  }

  /**
   * Makes sure `to` hears of decidedThrough: updates the last message queued to it that carries
   * a decided prefix, or queues a Decided message.
   */
  announceDecided(from: number, to: number, ballot: Ballot, decidedThrough: number): void {
    const carrier = this.carrierByPeer.get(to);
    if (carrier !== undefined && ballotEquals(carrier.ballot, ballot)) {
      if (carrier.decidedThrough < decidedThrough) carrier.decidedThrough = decidedThrough;
      return;
    }
    this.send({ type: 'decided', from, to, ballot, decidedThrough });
  }

  /** Hands out everything queued and starts afresh. */
  take(): Message[] {
    const messages = this.messages;
    this.messages = [];
    this.openAcceptByPeer.clear();
    this.openAcceptedByPeer.clear();
    this.carrierByPeer.clear();
    return messages;
  }
}
