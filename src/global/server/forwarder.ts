// A follower's client requests forwarded to the leader (docs/architecture.md, "Any replica
// serves any call"): each waits for the leader's answer until its deadline, the link to the
// leader breaks, or another leader takes over; a bounded number wait at once. Transport-free:
// the peer transport (or the simulation's network) sends and hands answers back, so the same
// rules run in production and in the whole-system simulation.
//
// What a caller learns when no answer comes: UnavailableError or DeadlineExceededError, each
// with `outcomeUnknown` set for a write that was sent (it may still be decided: the client
// retries with the same WriteId, which runs at most once). A request that was never sent (cap
// reached, no link, no time left, replica stopping) fails with `outcomeUnknown` false.

import type { Clock, Timer } from '../../protocol/backoff.ts';
import { checkInteger } from '../../protocol/config-check.ts';
import { ClosedError, DeadlineExceededError, NotLeaderError, ResourceExhaustedError, UnavailableError } from '../../protocol/errors.ts';

export interface ForwarderConfig {
  /** Forwarded requests waiting for the leader's answer at most; beyond it RESOURCE_EXHAUSTED. */
  readonly inFlightMax: number;
  /** Longest a forwarded request waits when its call has no earlier deadline (Session requests have none). */
  readonly timeoutMsMax: number;
}

export const FORWARDER_DEFAULTS: ForwarderConfig = { inFlightMax: 4096, timeoutMsMax: 10_000 };

/** Throws InvalidArgumentError naming the first bad field. */
export function checkForwarderConfig(c: ForwarderConfig): void {
  checkInteger('forwarding.inFlightMax', c.inFlightMax, 1, 1_000_000);
  checkInteger('forwarding.timeoutMsMax', c.timeoutMsMax, 1, 600_000);
}

/** How forwarded requests leave: the peer transport, or the simulation's network. */
export interface ForwardLink<Req> {
  /** Sends request `id` to `leaderId` with `timeoutMs` left; false when no link to it is up (nothing sent). */
  send(leaderId: number, id: number, request: Req, timeoutMs: number): boolean;
}

export type ForwardOutcome<Res> = { readonly ok: Res } | { readonly error: Error };

interface Pending<Res> {
  readonly leaderId: number;
  readonly write: boolean;
  readonly resolve: (res: Res) => void;
  readonly reject: (err: Error) => void;
  readonly timer: Timer;
}

export class Forwarder<Req, Res> {
  private readonly pending = new Map<number, Pending<Res>>();
  private nextId = 1;
  private closed = false;

  /** Throws InvalidArgumentError for a bad config. */
  constructor(
    readonly selfId: number,
    private readonly config: ForwarderConfig,
    private readonly clock: Clock,
    private readonly link: ForwardLink<Req>,
  ) {
    checkForwarderConfig(config);
  }

  /** Requests sent and not yet answered. */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Sends `request` to `leaderId` and resolves with its answer. `timeoutMs` is what is left of
   * the call's deadline (Infinity: none); the wait is also cut at `timeoutMsMax`. `write` says
   * whether the request may change state (then an answer that never comes leaves the outcome
   * unknown). A NOT_LEADER answer means the leader did not run it.
   */
  forward(leaderId: number, request: Req, write: boolean, callTimeoutMs: number): Promise<Res> {
    if (this.closed) return Promise.reject(new UnavailableError(`replica ${this.selfId} is shutting down: not forwarded to the leader; retry at another replica`));
    if (this.pending.size >= this.config.inFlightMax) {
      return Promise.reject(new ResourceExhaustedError(
        `replica ${this.selfId} already has ${this.config.inFlightMax} requests forwarded to the leader (replica ${leaderId}) unanswered (forwarding.inFlightMax): not run; retry after a backoff, or send it to the leader directly`,
      ));
    }
    const timeoutMs = Math.floor(Math.min(callTimeoutMs, this.config.timeoutMsMax));
    if (!(timeoutMs >= 1)) return Promise.reject(new DeadlineExceededError(`the call's deadline passed before replica ${this.selfId} could forward it to the leader: not run`));
    const id = this.nextId++;
    return new Promise<Res>((resolve, reject) => {
      const timer = this.clock.setTimer(() => {
        const late = write ? 'the write may or may not have run: retry with the same write id (it runs at most once) or read the key' : 'retry';
        this.settle(id, { error: new DeadlineExceededError(`no answer from the leader (replica ${leaderId}) within the call's deadline (${timeoutMs} ms) to the request replica ${this.selfId} forwarded: ${late}`, { outcomeUnknown: write }) });
      }, timeoutMs, true);
      this.pending.set(id, { leaderId, write, resolve, reject, timer });
      if (!this.link.send(leaderId, id, request, timeoutMs)) {
        this.settle(id, { error: new UnavailableError(`replica ${this.selfId} has no working link to the leader (replica ${leaderId}) to forward the request: not run; retry (here or at another replica)`) });
      }
    });
  }

  /** The leader's answer to request `id` from `fromId` (ignored when it no longer waits, or came from another replica). */
  answer(fromId: number, id: number, outcome: ForwardOutcome<Res>): void {
    const p = this.pending.get(id);
    if (p === undefined || p.leaderId !== fromId) return;
    if ('error' in outcome && outcome.error instanceof NotLeaderError) {
      // The replica asked no longer leads and ran nothing: this replica's view was stale.
      this.settle(id, { error: new UnavailableError(`replica ${fromId} no longer leads (${outcome.error.message}); replica ${this.selfId} had forwarded the request there: not run; retry`) });
      return;
    }
    if ('error' in outcome && outcome.error instanceof ClosedError) {
      // The leader is shutting down: for the client that is a replica going away (retryable),
      // not its own call being closed; a write it was running may or may not be decided.
      const what = p.write ? 'the write may or may not have run: retry with the same write id (it runs at most once) or read the key' : 'retry';
      this.settle(id, { error: new UnavailableError(`the leader (replica ${fromId}) shut down before it answered the request replica ${this.selfId} forwarded (${outcome.error.message}): ${what}`, { outcomeUnknown: p.write }) });
      return;
    }
    this.settle(id, outcome);
  }

  /** The link to `peerId` broke: its requests will never be answered. */
  linkDown(peerId: number): void {
    this.failWhere((p) => p.leaderId === peerId, () => `the link from replica ${this.selfId} to the leader (replica ${peerId}) broke before it answered`);
  }

  /** Another leader (0: none known) took over: requests sent to the old one are answered by nobody. */
  leaderChanged(leaderId: number): void {
    this.failWhere((p) => p.leaderId !== leaderId, (p) => `replica ${p.leaderId} stopped leading (${leaderId === 0 ? 'no leader known' : `replica ${leaderId} leads now`}) before it answered the request replica ${this.selfId} forwarded`);
  }

  /** Fails everything waiting (the replica stops); later forwards fail too (UNAVAILABLE: retry elsewhere). */
  close(): void {
    this.closed = true;
    this.failWhere(() => true, (p) => `replica ${this.selfId} is shutting down while the request it forwarded to replica ${p.leaderId} waited for an answer`);
  }

  private failWhere(which: (p: Pending<Res>) => boolean, why: (p: Pending<Res>) => string): void {
    for (const [id, p] of [...this.pending]) {
      if (!which(p)) continue;
      const outcome = p.write ? 'the write may or may not have run: retry with the same write id (it runs at most once) or read the key' : 'retry';
      this.settle(id, { error: new UnavailableError(`${why(p)}: ${outcome}`, { outcomeUnknown: p.write }) });
    }
  }

  private settle(id: number, outcome: ForwardOutcome<Res>): void {
    const p = this.pending.get(id);
    if (p === undefined) return;
    this.pending.delete(id);
    p.timer.cancel();
    if ('ok' in outcome) p.resolve(outcome.ok);
    else p.reject(outcome.error);
  }
}

/** What routing needs to know of this replica. */
export interface LeaderView {
  isLeader(): boolean;
  /** The leader this replica follows, 0 when none is known. */
  leaderId(): number;
}

/**
 * Runs a request only the leader serves: `here` when this replica leads, or knows no leader
 * (`here` then answers NOT_LEADER), or may not forward (`forwarder` null); otherwise forwarded
 * to the leader it follows, with what is left of the call's deadline.
 */
export function viaLeader<Req, Res>(view: LeaderView, forwarder: Forwarder<Req, Res> | null, request: Req, write: boolean, timeoutMs: number, here: () => Promise<Res>): Promise<Res> {
  if (forwarder === null || view.isLeader()) return here();
  const leaderId = view.leaderId();
  if (leaderId === 0 || leaderId === forwarder.selfId) return here();
  return forwarder.forward(leaderId, request, write, timeoutMs);
}
