// The fault suite's history checker: pure code over a recorded history (history.ts), no
// import from src. It checks the clauses below and returns every violation it finds, each
// with the operations that show it. docs/faults.md states the same clauses for users.
//
// How (a) is decided: Global numbers every write that changes a key with the next revision
// (one write per revision, the suite's clients being the only writers of a fresh cluster), and
// answers every call with the revision it reflects. Those revisions order the operations:
// a write at r is at position 2r, an operation that only observed the state at R (a read, a
// cas that did not succeed, a delete of an unbound key) at 2R+1. The checker verifies that
// this order is a linearization: consistent with real time (an operation that completed
// before another began is ordered first) and legal for a register per key (every read sees
// the last write before it, every condition held). A write of unknown outcome takes the
// revision a read saw it at; one never seen may have taken effect (it is used, once, to
// explain a state change nothing else explains) or not.

import { describeOp, type Op, type ReadOp, type WriteOp } from './history.ts';

export type Clause = 'a' | 'b' | 'c' | 'd' | 'e';

/** The clauses, as the checker states them (docs/faults.md repeats them). */
export const CLAUSES: Readonly<Record<Clause, string>> = {
  a: 'Global operations (writes and linearizable reads) are linearizable per key, in the order of the revisions Global reported',
  b: 'a read served by a Local from its cache reflects every write to the key acknowledged before it began minus leaseMs + slackMs, and every Local read returns a value that was written, by a write invoked before the read completed',
  c: 'read-your-writes: a read through a Local reflects every write to the key acknowledged through that Local before the read began',
  d: 'monotonic reads: reads of a key through one Local never go back to an older state than a read that completed before they began',
  e: 'exactly once: no write is applied twice or applied after being reported as not applied, and no two writes share a revision',
};

export interface CheckConfig {
  /** The Locals' lease. */
  readonly leaseMs: number;
  /** Allowance on top of the lease for the Local's clock-word lag. */
  readonly slackMs: number;
  /**
   * When true, a write of unknown outcome no read saw may explain any number of failed
   * put-if-absents (its binding may have lasted through all of them), not just one change.
   * Off in the fault suite; the system simulation (test/sim/system) turns it on, where one
   * lost answer to a put is often followed by several failed sets of the same key.
   */
  readonly unknownWriteExplainsFailedSets?: boolean;
}

export interface Violation {
  readonly clause: Clause;
  readonly message: string;
  readonly ops: readonly Op[];
}

const INF = Number.POSITIVE_INFINITY;

type Write = WriteOp;
type State = { readonly kind: 'absent' } | { readonly kind: 'bound'; readonly value: string; readonly modRevision: number } | { readonly kind: 'unknown' };

/** An operation of Global's order: at `pos`, in effect from its invocation to `completeMs` (INF: outcome unknown). */
interface Ordered {
  readonly op: Op;
  readonly pos: number;
  readonly revision: number;
  readonly completeMs: number;
}

const isWrite = (op: Op): op is Write => op.kind !== 'read';
/** A write that took effect and was acknowledged. */
const okWritten = (op: Op): op is Write => isWrite(op) && op.outcome === 'ok' && op.written === true;
const isGlobalRead = (op: Op): op is ReadOp => op.kind === 'read' && op.local === null && op.outcome === 'ok';
const isLocalRead = (op: Op): op is ReadOp => op.kind === 'read' && op.local !== null && op.outcome === 'ok';

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = keyOf(item);
    const group = groups.get(k);
    if (group === undefined) groups.set(k, [item]);
    else group.push(item);
  }
  return groups;
}

/** The number of items of `sorted` (ascending by `at`) with at < x, or with at <= x when `inclusive`. */
function countBelow<T>(sorted: readonly T[], at: (item: T) => number, x: number, inclusive = false): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const v = at(sorted[mid]!);
    if (v < x || (inclusive && v === x)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The write with the highest revision among `writes` acknowledged before a time (writes sorted by completeMs). */
class LatestAcked {
  private readonly sorted: Write[];
  private readonly best: Write[] = [];

  constructor(writes: readonly Write[]) {
    this.sorted = [...writes].sort((x, y) => x.completeMs - y.completeMs);
    let best: Write | null = null;
    for (const w of this.sorted) {
      if (best === null || w.revision! > best.revision!) best = w;
      this.best.push(best);
    }
  }

  before(ms: number): Write | null {
    const n = countBelow(this.sorted, (w) => w.completeMs, ms);
    return n === 0 ? null : this.best[n - 1]!;
  }
}

class Checker {
  readonly violations: Violation[] = [];
  private readonly writesByValue = new Map<string, Write>();
  /** Writes that took effect, at their revision: ok and written, or of unknown outcome and seen by a read. */
  private readonly placed = new Map<Write, number>();
  /** Writes of unknown outcome no read saw, per key: each may explain one change (then it is used). */
  private readonly unseen = new Map<string, Write[]>();
  private readonly used = new Set<Write>();
  private readonly ordered: Ordered[] = [];
  private byComplete: Ordered[] = [];
  private maxPosCompleted: number[] = [];
  private byInvoke: Ordered[] = [];
  private minPosInvoked: number[] = [];
  /** Per key: the state from each position on (positions ascending). */
  private readonly timelines = new Map<string, { pos: number; state: State }[]>();
  /** Per key: revisions of acknowledged deletes (ascending), and the first invocation of a delete of unknown outcome. */
  private deletes = new Map<string, { revisions: number[]; unknownFromMs: number }>();

  constructor(
    private readonly history: readonly Op[],
    private readonly config: CheckConfig,
  ) {}

  run(): Violation[] {
    this.indexWrites();
    this.placeWrites();
    this.orderGlobal();
    this.checkRealTime();
    for (const [key, ops] of groupBy(this.ordered, (o) => o.op.key)) this.walkKey(key, ops);
    this.checkOccupied();
    this.checkRevisionGaps();
    this.checkLocalReads();
    return this.violations;
  }

  private report(clause: Clause, message: string, ops: readonly Op[]): void {
    this.violations.push({ clause, message, ops });
  }

  private indexWrites(): void {
    for (const op of this.history) {
      if (!isWrite(op) || op.kind === 'delete') continue;
      if (op.value === undefined) throw new Error(`history: ${describeOp(op)} has no value`);
      if (this.writesByValue.has(op.value)) throw new Error(`history: value ${op.value} written twice by the workload; values must be unique`);
      this.writesByValue.set(op.value, op);
    }
  }

  /** (e), and (a)/(b) for reads of values never written: where each write took effect. */
  private placeWrites(): void {
    const seenAt = new Map<Write, { revision: number; read: ReadOp }>();
    for (const op of this.history) {
      if (op.kind !== 'read' || op.outcome !== 'ok' || op.found === null || op.found === undefined) continue;
      const clause = op.local === null ? 'a' : 'b';
      const { value, modRevision } = op.found;
      const w = this.writesByValue.get(value);
      if (w === undefined) {
        this.report(clause, `read returned ${value}, a value no write wrote`, [op]);
        continue;
      }
      if (w.invokeMs > op.completeMs) {
        this.report(clause, `read returned ${value}, written by a write invoked only after the read completed`, [op, w]);
        continue;
      }
      if (op.revision !== undefined && op.revision < modRevision) {
        this.report(clause, `read says it reflects revision ${op.revision} but returned a binding of revision ${modRevision}`, [op]);
      }
      if (w.outcome === 'fail' || (w.outcome === 'ok' && w.written !== true)) {
        this.report('e', `write of ${value} was reported as not applied, but a read saw it at revision ${modRevision}`, [w, op]);
        continue;
      }
      if (w.outcome === 'ok' && w.revision !== modRevision) {
        this.report('e', `write of ${value} was acknowledged at revision ${w.revision}, but a read saw it at revision ${modRevision}: applied twice, or a wrong revision reported`, [w, op]);
        continue;
      }
      const prior = seenAt.get(w);
      if (prior !== undefined && prior.revision !== modRevision) {
        this.report('e', `value ${value} was seen at revisions ${prior.revision} and ${modRevision}: applied twice`, [w, prior.read, op]);
        continue;
      }
      seenAt.set(w, { revision: modRevision, read: op });
    }
    const atRevision = new Map<number, Write>();
    const place = (w: Write, revision: number): void => {
      const other = atRevision.get(revision);
      if (other !== undefined) {
        this.report('e', `two writes took effect at revision ${revision}`, [other, w]);
        return;
      }
      atRevision.set(revision, w);
      this.placed.set(w, revision);
    };
    for (const op of this.history) {
      if (!isWrite(op)) continue;
      if (op.outcome === 'ok' && op.written === true) place(op, op.revision!);
      else if (op.outcome === 'unknown') {
        const seen = seenAt.get(op);
        if (seen !== undefined) place(op, seen.revision);
        else {
          const list = this.unseen.get(op.key) ?? [];
          list.push(op);
          this.unseen.set(op.key, list);
        }
      }
    }
    for (const list of this.unseen.values()) list.sort((x, y) => x.invokeMs - y.invokeMs);
  }

  /** Global's operations at their positions, with the lookups real time needs. */
  private orderGlobal(): void {
    for (const [w, revision] of this.placed) this.ordered.push({ op: w, pos: 2 * revision, revision, completeMs: w.outcome === 'ok' ? w.completeMs : INF });
    for (const op of this.history) {
      const observedOnly = (isWrite(op) && op.outcome === 'ok' && op.written !== true) || isGlobalRead(op);
      if (observedOnly) this.ordered.push({ op, pos: 2 * op.revision! + 1, revision: op.revision!, completeMs: op.completeMs });
    }
    this.byComplete = [...this.ordered].sort((x, y) => x.completeMs - y.completeMs);
    let max = -1;
    this.maxPosCompleted = this.byComplete.map((o) => (max = Math.max(max, o.pos)));
    this.byInvoke = [...this.ordered].sort((x, y) => x.op.invokeMs - y.op.invokeMs);
    let min = INF;
    this.minPosInvoked = new Array<number>(this.byInvoke.length);
    for (let i = this.byInvoke.length - 1; i >= 0; i--) this.minPosInvoked[i] = min = Math.min(min, this.byInvoke[i]!.pos);
  }

  /** The highest position of an operation acknowledged before `ms` (-1: none). */
  private floorAt(ms: number): number {
    const n = countBelow(this.byComplete, (o) => o.completeMs, ms);
    return n === 0 ? -1 : this.maxPosCompleted[n - 1]!;
  }

  /** The lowest position of an operation invoked after `ms` (INF: none). */
  private ceilingAfter(ms: number): number {
    return this.minPosInvoked[countBelow(this.byInvoke, (o) => o.op.invokeMs, ms, true)] ?? INF;
  }

  /** (a) real time: an operation acknowledged before another was invoked is ordered before it. */
  private checkRealTime(): void {
    let j = 0;
    let latest: Ordered | null = null;
    for (const b of this.byInvoke) {
      while (j < this.byComplete.length && this.byComplete[j]!.completeMs < b.op.invokeMs) {
        const a = this.byComplete[j++]!;
        if (latest === null || a.pos > latest.pos) latest = a;
      }
      if (latest !== null && latest.pos > b.pos) {
        this.report('a', `acknowledged at ${latest.op.completeMs.toFixed(1)} ms at revision ${latest.revision}, before an operation invoked at ${b.op.invokeMs.toFixed(1)} ms that Global ordered earlier (revision ${b.revision})`, [latest.op, b.op]);
      }
    }
  }

  /** Uses an unseen write of unknown outcome to `key` (of `kinds`), invoked before `beforeMs`, to explain a change. */
  private explain(key: string, kinds: readonly Write['kind'][], beforeMs: number, consume = true): Write | null {
    for (const w of this.unseen.get(key) ?? []) {
      if (w.invokeMs >= beforeMs) break;
      if ((consume && this.used.has(w)) || !kinds.includes(w.kind)) continue;
      if (consume) this.used.add(w);
      return w;
    }
    return null;
  }

  /** (a) per key: in Global's order every read sees the last write before it and every condition held. */
  private walkKey(key: string, ops: Ordered[]): void {
    ops.sort((x, y) => x.pos - y.pos);
    let state = { kind: 'absent' } as State; // (widened: `set` below reassigns it)
    let last: Ordered | null = null;
    const timeline: { pos: number; state: State }[] = [{ pos: -1, state }];
    const show = (s: State): string => (s.kind === 'bound' ? `${s.value}@${s.modRevision}` : s.kind === 'absent' ? 'unbound' : 'unknown');
    const set = (pos: number, next: State): void => {
      state = next;
      timeline.push({ pos, state });
    };
    const ANY: Write['kind'][] = ['put', 'set', 'cas', 'delete'];
    for (const o of ops) {
      const op = o.op;
      const context = last === null ? [op] : [last.op, op];
      const tookEffect = o.pos % 2 === 0;
      if (op.kind === 'read' || (op.kind === 'delete' && !tookEffect)) {
        // A read or a delete of an unbound key: observed the state at o.revision.
        const found = op.kind === 'read' ? (op.found ?? null) : null;
        if (state.kind === 'bound' && found === null) {
          if (this.explain(key, ['delete'], op.completeMs) === null) {
            this.report('a', `${op.kind === 'read' ? 'read' : 'delete'} found ${key} unbound at revision ${o.revision}, but it was ${show(state)} then`, context);
          }
        } else if (found !== null && !(state.kind === 'bound' && state.value === found.value && state.modRevision === found.modRevision) && state.kind !== 'unknown') {
          this.report('a', `read returned ${found.value}@${found.modRevision} at revision ${o.revision}, but ${key} was ${show(state)} then`, context);
        }
        set(o.pos, found === null ? { kind: 'absent' } : { kind: 'bound', ...found });
        continue;
      }
      if (op.kind === 'cas' && !tookEffect) {
        // A cas that did not succeed: the key was not at the modRevision it compared.
        const held = state.kind === 'absent' ? op.expectedModRevision === 0 : state.kind === 'bound' && state.modRevision === op.expectedModRevision;
        if (held) {
          if (this.explain(key, ANY, op.completeMs) === null) this.report('a', `cas did not succeed at revision ${o.revision}, but ${key} was ${show(state)} then, as it expected`, context);
          set(o.pos, { kind: 'unknown' });
        }
        continue;
      }
      // A write that took effect at o.revision.
      let held = true;
      if (state.kind !== 'unknown') {
        if (op.kind === 'set') held = state.kind === 'absent';
        else if (op.kind === 'cas') held = state.kind === 'absent' ? op.expectedModRevision === 0 : state.modRevision === op.expectedModRevision;
        else if (op.kind === 'delete') held = state.kind === 'bound' && (op.prevModRevision === undefined || state.modRevision === op.prevModRevision);
      }
      if (!held && this.explain(key, ANY, o.completeMs) === null) {
        const removed = op.kind === 'delete' ? ` (it removed a binding of revision ${op.prevModRevision})` : '';
        this.report('a', `${op.kind} took effect at revision ${o.revision}${removed}, but ${key} was ${show(state)} before it`, context);
      }
      set(o.pos, op.kind === 'delete' ? { kind: 'absent' } : { kind: 'bound', value: op.value!, modRevision: o.revision });
      last = o;
    }
    this.timelines.set(key, timeline);
  }

  /** (a) a set that failed because the key was bound: it was bound at some point while the set was in flight. */
  private checkOccupied(): void {
    for (const op of this.history) {
      if (op.kind !== 'set' || op.outcome !== 'fail') continue;
      const from = this.floorAt(op.invokeMs);
      const to = this.ceilingAfter(op.completeMs);
      const timeline = this.timelines.get(op.key) ?? [{ pos: -1, state: { kind: 'absent' } }];
      const first = countBelow(timeline, (t) => t.pos, from, true) - 1;
      const bound = timeline.slice(first).some((t) => t.pos <= to && t.state.kind !== 'absent');
      if (!bound && this.explain(op.key, ['put', 'set', 'cas'], op.completeMs, this.config.unknownWriteExplainsFailedSets !== true) === null) {
        const at = (pos: number): string => (pos < 0 ? 'the start' : pos === INF ? 'the end' : `revision ${Math.floor(pos / 2)}`);
        this.report('a', `set failed because ${op.key} was bound, but it was unbound from ${at(from)} to ${at(to)} (all the time the set was in flight)`, [op]);
      }
    }
  }

  /**
   * (e) Every revision up to the highest one reported was taken by a write that took effect:
   * one no answer accounts for was a write applied twice (or by no one), unless a write of
   * unknown outcome, invoked late enough, may have taken it.
   */
  private checkRevisionGaps(): void {
    const maxRevision = this.ordered.reduce((m, o) => Math.max(m, o.revision), 0);
    const taken = new Set(this.placed.values());
    const candidates = [...this.unseen.values()].flat().map((w) => this.floorAt(w.invokeMs)).sort((x, y) => x - y);
    let available = 0;
    let next = 0;
    for (let r = 1; r <= maxRevision; r++) {
      if (taken.has(r)) continue;
      while (next < candidates.length && candidates[next]! < 2 * r) {
        available++;
        next++;
      }
      if (available === 0) {
        const around = this.ordered.filter((o) => Math.abs(o.revision - r) <= 1).map((o) => o.op);
        this.report('e', `revision ${r} was taken by no acknowledged write, and no write of unknown outcome could have taken it: a write was applied twice`, around);
      } else available--;
    }
  }

  /** (b), (c), (d): reads through Locals. */
  private checkLocalReads(): void {
    const reads = this.history.filter(isLocalRead);
    for (const [key, ds] of groupBy(this.history.filter((op): op is Write => op.kind === 'delete'), (d) => d.key)) {
      const revisions = ds.filter(okWritten).map((d) => d.revision!).sort((x, y) => x - y);
      const unknownFromMs = Math.min(...ds.filter((d) => d.outcome === 'unknown').map((d) => d.invokeMs));
      this.deletes.set(key, { revisions, unknownFromMs });
    }
    const acked = groupBy(this.history.filter(okWritten), (w) => w.key);
    const latestAcked = new Map([...acked].map(([k, ws]) => [k, new LatestAcked(ws)]));
    const own = new Map([...groupBy(this.history.filter((op): op is Write => okWritten(op) && op.local !== null), (w) => `${w.local}\n${w.key}`)].map(([k, ws]) => [k, new LatestAcked(ws)]));
    const boundMs = this.config.leaseMs + this.config.slackMs;
    for (const r of reads) {
      if (r.source === 'cache' || r.source === 'local') {
        const w = latestAcked.get(r.key)?.before(r.invokeMs - boundMs) ?? null;
        if (w !== null && !this.reflects(r, w)) {
          const ageMs = r.invokeMs - w.completeMs;
          this.report('b', `read through ${r.local} began ${ageMs.toFixed(0)} ms after a write to ${r.key} was acknowledged at revision ${w.revision} (bound: ${boundMs} ms) and did not reflect it`, [w, r]);
        }
      }
      const mine = own.get(`${r.local}\n${r.key}`)?.before(r.invokeMs) ?? null;
      if (mine !== null && !this.reflects(r, mine)) {
        this.report('c', `read through ${r.local} did not reflect a write to ${r.key} acknowledged through the same Local before it began (revision ${mine.revision})`, [mine, r]);
      }
    }
    for (const group of groupBy(reads, (r) => `${r.local}\n${r.key}`).values()) this.checkMonotonic(group);
  }

  /** Whether read `r` reflects the acknowledged write `w` to its key (sees it or a later state). */
  private reflects(r: ReadOp, w: Write): boolean {
    const revision = w.revision!;
    if (r.found !== null && r.found !== undefined) return r.found.modRevision >= revision;
    if (r.revision === undefined || r.revision < revision) return false;
    if (w.kind === 'delete') return true;
    // Unbound after a put: a delete of the key must have come after it.
    const deletes = this.deletes.get(r.key);
    if (deletes === undefined) return false;
    const after = countBelow(deletes.revisions, (d) => d, revision, true);
    return (after < deletes.revisions.length && deletes.revisions[after]! <= r.revision) || deletes.unknownFromMs < r.completeMs;
  }

  /** (d) within one Local and key, reads in real-time order never see an older state. */
  private checkMonotonic(reads: ReadOp[]): void {
    const byInvoke = [...reads].sort((x, y) => x.invokeMs - y.invokeMs);
    const byComplete = [...reads].sort((x, y) => x.completeMs - y.completeMs);
    let j = 0;
    let newestFound: ReadOp | null = null;
    let newestUnbound: ReadOp | null = null;
    for (const b of byInvoke) {
      while (j < byComplete.length && byComplete[j]!.completeMs < b.invokeMs) {
        const a = byComplete[j++]!;
        if (a.found !== null && a.found !== undefined) {
          if (newestFound === null || a.found.modRevision > newestFound.found!.modRevision) newestFound = a;
        } else if (a.revision !== undefined && (newestUnbound === null || a.revision > newestUnbound.revision!)) newestUnbound = a;
      }
      const found = b.found ?? null;
      if (newestFound !== null) {
        const m = newestFound.found!.modRevision;
        const older = found !== null ? found.modRevision < m : b.revision !== undefined && b.revision < m;
        if (older) this.report('d', `read through ${b.local} went back to an older state of ${b.key} than an earlier read through it saw (revision ${m})`, [newestFound, b]);
      }
      if (newestUnbound !== null && found !== null && found.modRevision <= newestUnbound.revision!) {
        this.report('d', `read through ${b.local} returned a binding of ${b.key} from revision ${found.modRevision}, but an earlier read through it found the key unbound at revision ${newestUnbound.revision}`, [newestUnbound, b]);
      }
    }
  }
}

/** Checks `history` against clauses (a)-(e); returns every violation found (none: the history is consistent). */
export function check(history: readonly Op[], config: CheckConfig): Violation[] {
  return new Checker(history, config).run();
}

/** A violation as printed: the clause, what was wrong, and the operations that show it. */
export function formatViolation(v: Violation): string {
  return [`(${v.clause}) ${v.message}`, ...v.ops.map((op) => `    ${describeOp(op)}`)].join('\n');
}
