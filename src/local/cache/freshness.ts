// Whether this Local may serve a key binding from its cache: the one rule behind the clauses
// of docs/coherence.md. Pure: no I/O, no timers, no clock of its own (the caller passes the
// time, in ms of one monotonic clock).
//
// The lease is earned with proofs, never with mere contact. The Local regularly asks Global
// for a read index (a linearizable read's revision, `ProbeAnswer`): every write acknowledged
// before the probe was *sent* is at or below that revision. Once the Local has applied its
// invalidation stream through that revision, every such write is reflected in its cache, so
// it may serve bindings until `sentMs + leaseMs`. Hence the contract's bound: a cached read
// reflects every write acknowledged more than `leaseMs` before the read began (plus the time
// word's lag, lease-clock.ts). The proof does not depend on which replica streams to the
// Local: a replica that lags, is cut off, or recovers streams revisions below the proofs, and
// the lease runs out (then `behindSinceMs` tells the driver to move to another replica).
//
// Modes per key prefix (longest prefix wins, else the Local's default):
// - 'bounded': served while the lease holds (the rule above);
// - 'eventual': served whatever the lease says: push-only, no staleness bound;
// - 'strict': served while the lease holds AND the strict hold does: Global's leader has this
//   Local in its holder table (src/global/server/holders.ts) and makes every write to a strict key
//   wait until this Local dropped the key or the hold ran out. The hold runs from the SEND time
//   of the last answered keep-alive for the lease the leader named (`held`); strict-hold.ts
//   drives the hold. Chosen per prefix only.

import { InvalidArgumentError } from '../../protocol/errors.ts';
import { validateKey } from '../../protocol/keys.ts';

export type CoherenceMode = 'bounded' | 'eventual' | 'strict';
export const COHERENCE_MODES: readonly CoherenceMode[] = ['bounded', 'eventual', 'strict'];

/** A probe's answer: every write acknowledged before `sentMs` is at or below `revision`. */
export interface ProbeAnswer {
  readonly revision: number;
  /** When the probe was sent (the lease counts from here, not from the answer). */
  readonly sentMs: number;
  /** When the answer arrived. */
  readonly receivedMs: number;
}

export class Freshness {
  // Invariant: `pending` holds answers not yet met by `appliedRevision`, revisions ascending.
  private pending: ProbeAnswer[] = [];
  private appliedRevision = -1;
  private untilMs = -Infinity;
  /** End of the strict hold (ms on the caller's clock); -Infinity while none is held. */
  private holdUntilMs = -Infinity;
  private readonly prefixModes: readonly (readonly [string, CoherenceMode])[];
  readonly modesByPrefix: Readonly<Record<string, CoherenceMode>>;

  /** Throws InvalidArgumentError on an unknown mode or an invalid prefix. */
  constructor(
    readonly leaseMs: number,
    readonly defaultMode: CoherenceMode = 'bounded',
    modesByPrefix: Readonly<Record<string, CoherenceMode>> = {},
  ) {
    checkMode(defaultMode, 'coherence');
    if (defaultMode === 'strict') {
      throw new InvalidArgumentError('coherence: "strict" is chosen per key prefix (coherenceByPrefix: {\'orders/\': \'strict\'}), so that Global invalidates only those keys at this Local');
    }
    for (const [prefix, mode] of Object.entries(modesByPrefix)) {
      validateKey(prefix, 'coherenceByPrefix key');
      checkMode(mode, `coherenceByPrefix[${JSON.stringify(prefix)}]`);
    }
    this.modesByPrefix = Object.freeze({ ...modesByPrefix });
    // Longest first, so the first match is the longest prefix.
    this.prefixModes = Object.entries(modesByPrefix).sort((a, b) => b[0].length - a[0].length);
  }

  /** The end of the lease (ms on the caller's clock); -Infinity before the first proof is met. */
  get leaseUntilMs(): number {
    return this.untilMs;
  }

  validAt(nowMs: number): boolean {
    return nowMs < this.untilMs;
  }

  /** The mode that governs `key`. */
  modeOf(key: string): CoherenceMode {
    for (const [prefix, mode] of this.prefixModes) if (key.startsWith(prefix)) return mode;
    return this.defaultMode;
  }

  /** Whether a binding of `key` held in the cache may be served at `nowMs`. */
  mayServe(key: string, nowMs: number): boolean {
    switch (this.modeOf(key)) {
      case 'bounded': return nowMs < this.untilMs;
      case 'eventual': return true;
      case 'strict': return nowMs < this.untilMs && nowMs < this.holdUntilMs;
    }
  }

  /** The prefixes served in 'strict' mode (what the hold registers with the leader). */
  get strictPrefixes(): string[] {
    return this.prefixModes.filter(([, mode]) => mode === 'strict').map(([prefix]) => prefix);
  }

  /** The end of the strict hold (ms on the caller's clock); -Infinity while none is held. */
  get strictHoldUntilMs(): number {
    return this.holdUntilMs;
  }

  /**
   * The leader answered a keep-alive (or the registration) sent at `sentMs`, naming a hold of
   * `leaseMs`. Returns true when the hold was extended.
   */
  held(sentMs: number, leaseMs: number): boolean {
    const until = sentMs + leaseMs;
    if (until <= this.holdUntilMs) return false;
    this.holdUntilMs = until;
    return true;
  }

  /** The hold is gone (its stream broke, or it is registered anew): strict keys are not served. */
  dropHold(): void {
    this.holdUntilMs = -Infinity;
  }

  /** Whether some key may be served without the lease (the hot path must then ask modeOf). */
  get hasEventual(): boolean {
    return this.defaultMode === 'eventual' || this.prefixModes.some(([, mode]) => mode === 'eventual');
  }

  /** A probe was answered. Returns true when the lease was extended. */
  proved(answer: ProbeAnswer): boolean {
    if (answer.revision <= this.appliedRevision) return this.extend(answer.sentMs);
    let at = this.pending.length;
    while (at > 0 && this.pending[at - 1]!.revision > answer.revision) at--;
    this.pending.splice(at, 0, answer);
    return false;
  }

  /** The Local has applied its stream through `revision`. Returns true when the lease was extended. */
  applied(revision: number): boolean {
    if (revision <= this.appliedRevision) return false;
    this.appliedRevision = revision;
    let met = 0;
    let extended = false;
    for (const answer of this.pending) {
      if (answer.revision > revision) break;
      extended = this.extend(answer.sentMs) || extended;
      met++;
    }
    if (met > 0) this.pending = this.pending.slice(met);
    return extended;
  }

  /**
   * Since when (the receipt of the oldest answer not yet met) the stream has been behind a
   * revision Global had committed; null when it is not behind.
   */
  behindSinceMs(): number | null {
    let oldest: number | null = null;
    for (const answer of this.pending) if (oldest === null || answer.receivedMs < oldest) oldest = answer.receivedMs;
    return oldest;
  }

  /** Forgets every proof and ends the lease (closing). */
  revoke(): void {
    this.pending = [];
    this.untilMs = -Infinity;
    this.holdUntilMs = -Infinity;
  }

  private extend(sentMs: number): boolean {
    const until = sentMs + this.leaseMs;
    if (until <= this.untilMs) return false;
    this.untilMs = until;
    return true;
  }
}

function checkMode(mode: string, what: string): void {
  if (!(COHERENCE_MODES as readonly string[]).includes(mode)) {
    throw new InvalidArgumentError(`${what}: unknown coherence mode ${JSON.stringify(mode)}: use one of ${COHERENCE_MODES.join(', ')}`);
  }
}
