// The leader's table of strict holds (docs/coherence.md, `strict`): which Locals may serve
// which key prefixes from their caches without asking, and until when. A write to a held key
// is proposed only after every holder of it dropped the key (acked its invalidation) or its
// hold ran out: Chubby's rule, which makes a cached read of a strict key linearizable.
// Pure: no I/O, no timers; the caller passes the time (ms of the leader's monotonic clock)
// and sends the messages this table asks for.
//
// Leases. A Local counts its hold from the SEND time of its last answered keep-alive, for
// `holderLeaseMs` on its own clock. The leader counts from the RECEIPT of that keep-alive
// (later), for `holderLeaseMs` stretched by the drift bound the consensus lease assumes
// (docs/consensus.md "Time and the lease": two monotonic clocks advance within
// clockDriftBoundPercent of each other). So the leader's view of a hold always ends after the
// Local stopped serving under it.
//
// The table lives in memory on the leader. A new leader does not know the holds granted by
// the old one, so it completes no write until `graceUntilMs` (every such hold has surely run
// out by then); holders re-register with it.

import { checkInteger } from '../../protocol/config-check.ts';
import { InvalidArgumentError, ResourceExhaustedError } from '../../protocol/errors.ts';
import { validateKey } from '../../protocol/keys.ts';

// Every write checks each of its keys against every hold's prefixes, so both counts are
// capped: one registration cannot make every write slow.
/** Holds on one leader's table, live or waited out. */
export const HOLDS_MAX = 1024;
/** Prefixes of one hold. */
export const HOLD_PREFIXES_MAX = 64;
/** A holder id's length in UTF-16 units (a Local sends a short random id). */
export const HOLDER_ID_LENGTH_MAX = 128;

/** One invalidation to send on a holder's stream. */
export interface InvalidateSend {
  readonly holderId: string;
  readonly id: number;
  readonly keys: readonly string[];
}

interface Hold {
  readonly prefixes: readonly string[];
  /** End of the hold on the leader's clock (receipt of the last keep-alive + leaderLeaseMs). */
  untilMs: number;
  /** The stream is gone: nothing can be sent to it; it is waited out. */
  detached: boolean;
}

interface Invalidation {
  readonly keys: readonly string[];
  /** Holders that have not acked yet. */
  readonly waiting: Set<string>;
  /** Holders it was sent to (they are told when it is released). */
  readonly sentTo: Set<string>;
  /** When the write began (its invalidation was sent), on the leader's clock. */
  readonly beganMs: number;
}

export class HolderRegistry {
  /** How long the leader counts a hold after receiving its keep-alive. */
  readonly leaderLeaseMs: number;
  private readonly holds = new Map<string, Hold>();
  private readonly invalidations = new Map<number, Invalidation>();
  private nextId = 1;

  /**
   * `becameLeaderMs`: when this replica became leader; no write completes before
   * `graceUntilMs` = becameLeaderMs + leaderLeaseMs (holds of an earlier leader run out).
   */
  constructor(
    readonly holderLeaseMs: number,
    clockDriftBoundPercent: number,
    becameLeaderMs: number,
  ) {
    checkInteger('holderLeaseMs', holderLeaseMs, 1);
    checkInteger('clockDriftBoundPercent', clockDriftBoundPercent, 0, 100);
    this.leaderLeaseMs = Math.ceil((holderLeaseMs * (100 + clockDriftBoundPercent)) / 100);
    this.graceUntilMs = becameLeaderMs + this.leaderLeaseMs;
  }

  readonly graceUntilMs: number;

  /** Holds live at `nowMs` (detached ones included: they may still serve). */
  liveCount(nowMs: number): number {
    let n = 0;
    for (const hold of this.holds.values()) if (nowMs < hold.untilMs) n++;
    return n;
  }

  /**
   * A Local registered at `nowMs` (its first keep-alive). Returns the invalidations of writes
   * not finished yet that cover its prefixes, to send BEFORE its registration is answered: it
   * may have read such a key before the write and must not cache it (it drops its strict
   * bindings on registering and marks these keys uncacheable until it applied a newer
   * change, so the write need not wait for it). Throws InvalidArgumentError on a holder id in
   * use or a bad prefix.
   */
  register(holderId: string, prefixes: readonly string[], nowMs: number): InvalidateSend[] {
    if (holderId === '') throw new InvalidArgumentError('Hold register: holder_id is empty: send a unique id per registration');
    if (holderId.length > HOLDER_ID_LENGTH_MAX) throw new InvalidArgumentError(`Hold register: holder_id is ${holderId.length} characters, at most ${HOLDER_ID_LENGTH_MAX}: send a short unique id`);
    if (this.holds.has(holderId)) throw new InvalidArgumentError(`Hold register: holder_id ${JSON.stringify(holderId)} is in use: send a new id per registration`);
    if (prefixes.length === 0) throw new InvalidArgumentError('Hold register: no prefixes: name the strict prefixes this Local serves');
    if (prefixes.length > HOLD_PREFIXES_MAX) throw new InvalidArgumentError(`Hold register: ${prefixes.length} prefixes, at most ${HOLD_PREFIXES_MAX}: serve fewer, shorter-shared prefixes in strict mode`);
    for (const prefix of prefixes) validateKey(prefix, 'Hold register prefix');
    this.expire(nowMs);
    if (this.holds.size >= HOLDS_MAX) throw new ResourceExhaustedError(`Hold register: ${HOLDS_MAX} holds are live on this leader: retry once one ran out (every Local with strict prefixes holds one)`);
    this.holds.set(holderId, { prefixes: [...prefixes], untilMs: nowMs + this.leaderLeaseMs, detached: false });
    const sends: InvalidateSend[] = [];
    for (const [id, inv] of this.invalidations) {
      const keys = inv.keys.filter((key) => covers(prefixes, key));
      if (keys.length === 0) continue;
      inv.sentTo.add(holderId);
      sends.push({ holderId, id, keys });
    }
    return sends;
  }

  /**
   * A keep-alive arrived at `nowMs`. False when the hold is unknown, detached or already ran
   * out on this clock: writes may have gone ahead without it, so the caller ends its stream
   * and the Local registers anew (dropping its strict bindings).
   */
  keepAlive(holderId: string, nowMs: number): boolean {
    const hold = this.holds.get(holderId);
    if (hold === undefined || hold.detached || nowMs >= hold.untilMs || this.overdue(holderId, nowMs)) {
      this.detach(holderId);
      return false;
    }
    hold.untilMs = nowMs + this.leaderLeaseMs;
    return true;
  }

  /**
   * Whether `holderId` left an invalidation unacknowledged for a whole holderLeaseMs: it keeps
   * its hold alive but does not drop keys (a bug, or a hostile client), so its hold is not
   * renewed and the write goes ahead once it runs out, instead of waiting for good.
   */
  private overdue(holderId: string, nowMs: number): boolean {
    for (const inv of this.invalidations.values()) {
      if (inv.waiting.has(holderId) && nowMs - inv.beganMs >= this.holderLeaseMs) return true;
    }
    return false;
  }

  /** The holder's stream ended: it gets nothing more, and is waited out until its hold ends. */
  detach(holderId: string): void {
    const hold = this.holds.get(holderId);
    if (hold !== undefined) hold.detached = true;
  }

  /** Holder `holderId` dropped the keys of invalidation `id`. */
  acked(holderId: string, id: number): void {
    this.invalidations.get(id)?.waiting.delete(holderId);
  }

  /**
   * A write to `keys` is about to be proposed at `nowMs`: its invalidation id, and what to
   * send (one message per live attached holder of some key). Every write is recorded, held or
   * not, until `finish`: a Local that registers meanwhile is told about it (`register`).
   */
  begin(keys: readonly string[], nowMs: number): { id: number; sends: InvalidateSend[] } {
    const id = this.nextId++;
    const waiting = new Set<string>();
    const sentTo = new Set<string>();
    const sends: InvalidateSend[] = [];
    for (const [holderId, hold] of this.holds) {
      if (nowMs >= hold.untilMs) continue;
      const held = keys.filter((key) => covers(hold.prefixes, key));
      if (held.length === 0) continue;
      waiting.add(holderId);
      if (hold.detached) continue;
      sentTo.add(holderId);
      sends.push({ holderId, id, keys: held });
    }
    this.invalidations.set(id, { keys: [...keys], waiting, sentTo, beganMs: nowMs });
    return { id, sends };
  }

  /**
   * Null when the write of invalidation `id` may be proposed at `nowMs` (every holder waited
   * on acked or its hold ran out); else the time to ask again (the latest end of a hold still
   * waited on).
   */
  waitUntilMs(id: number, nowMs: number): number | null {
    const inv = this.invalidations.get(id);
    if (inv === undefined) return null;
    let until: number | null = null;
    for (const holderId of inv.waiting) {
      const hold = this.holds.get(holderId);
      if (hold === undefined || nowMs >= hold.untilMs) {
        inv.waiting.delete(holderId);
        continue;
      }
      until = until === null ? hold.untilMs : Math.max(until, hold.untilMs);
    }
    return until;
  }

  /**
   * The write of invalidation `id` was applied, failed or given up: forget it. Returns the
   * holders it was sent to that are still attached (to tell them, when it was applied).
   */
  finish(id: number): string[] {
    const inv = this.invalidations.get(id);
    this.invalidations.delete(id);
    if (inv === undefined) return [];
    return [...inv.sentTo].filter((holderId) => this.holds.get(holderId)?.detached === false);
  }

  /** Writes begun and not finished. */
  get writesInFlight(): number {
    return this.invalidations.size;
  }

  /** Forgets holds that ran out before `nowMs`. */
  expire(nowMs: number): void {
    for (const [holderId, hold] of this.holds) if (nowMs >= hold.untilMs) this.holds.delete(holderId);
  }
}

function covers(prefixes: readonly string[], key: string): boolean {
  for (const prefix of prefixes) if (key.startsWith(prefix)) return true;
  return false;
}
