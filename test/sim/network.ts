// The simulated network: per message it may drop, duplicate or delay (and so reorder) it, and
// it blocks the links a partition cuts. Partitions: one replica isolated, a majority/minority
// split, one replica that can only send or only receive, and a ring (a line for three) in which
// every replica sees a majority but no majority sees itself whole.

import type { SplitMix32 } from '../../src/consensus/random.ts';

export type PartitionKind = 'isolate' | 'split' | 'one-way' | 'ring';
export const PARTITION_KINDS: readonly PartitionKind[] = ['isolate', 'split', 'one-way', 'ring'];

export interface LinkFaults {
  /** Per mille of messages lost. */
  readonly dropPermille: number;
  /** Per mille of messages delivered twice. */
  readonly duplicatePermille: number;
  /** Delivery delay range in simulated time units (a tick is about 100). */
  readonly delayMin: number;
  readonly delayMax: number;
  /** Per mille of messages held back much longer (up to longDelayMax): stale messages that cross leader changes. */
  readonly longDelayPermille: number;
  readonly longDelayMax: number;
}

export const CALM: LinkFaults = { dropPermille: 0, duplicatePermille: 0, delayMin: 1, delayMax: 30, longDelayPermille: 0, longDelayMax: 0 };

function shuffled(ids: readonly number[], random: SplitMix32): number[] {
  const out = [...ids];
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.nextInt(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export class SimNetwork {
  private readonly blocked = new Set<number>();
  faults: LinkFaults = CALM;
  description = 'healed';
  sent = 0;
  dropped = 0;
  duplicated = 0;

  constructor(private readonly ids: readonly number[]) {}

  private key(from: number, to: number): number {
    return from * 65536 + to;
  }

  private block(from: number, to: number): void {
    this.blocked.add(this.key(from, to));
  }

  heal(): void {
    this.blocked.clear();
    this.description = 'healed';
  }

  /** Cuts links according to `kind`, chosen at random; returns a description for the trace. */
  partition(kind: PartitionKind, random: SplitMix32): string {
    this.blocked.clear();
    const order = shuffled(this.ids, random);
    const cutBoth = (a: number, b: number): void => { this.block(a, b); this.block(b, a); };
    switch (kind) {
      case 'isolate': {
        const lone = order[0]!;
        for (const other of order.slice(1)) cutBoth(lone, other);
        this.description = `isolate ${lone}`;
        break;
      }
      case 'split': {
        const minority = order.slice(0, 1 + random.nextInt(Math.floor((order.length - 1) / 2)));
        const majority = order.slice(minority.length);
        for (const a of minority) for (const b of majority) cutBoth(a, b);
        this.description = `split ${minority.join(',')} | ${majority.join(',')}`;
        break;
      }
      case 'one-way': {
        const lone = order[0]!;
        const mute = random.nextInt(2) === 0;
        for (const other of order.slice(1)) {
          if (mute) this.block(lone, other);
          else this.block(other, lone);
        }
        this.description = mute ? `one-way: ${lone} cannot send` : `one-way: ${lone} cannot receive`;
        break;
      }
      case 'ring': {
        // Neighbours in `order` (cyclically for 5+, as a line for 3) stay connected.
        const n = order.length;
        const linked = (i: number, j: number): boolean => {
          const d = Math.abs(i - j);
          return n <= 3 ? d <= 1 : d <= 1 || d === n - 1;
        };
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j && !linked(i, j)) this.block(order[i]!, order[j]!);
        this.description = `${n <= 3 ? 'line' : 'ring'} ${order.join('-')}`;
        break;
      }
    }
    return this.description;
  }

  /** Delivery delays for one message: empty when lost, two when duplicated. */
  route(from: number, to: number, random: SplitMix32): number[] {
    this.sent++;
    if (this.blocked.has(this.key(from, to)) || random.nextInt(1000) < this.faults.dropPermille) {
      this.dropped++;
      return [];
    }
    const delay = (): number => {
      const f = this.faults;
      if (random.nextInt(1000) < f.longDelayPermille) return f.delayMax + random.nextInt(f.longDelayMax + 1);
      return f.delayMin + random.nextInt(f.delayMax - f.delayMin + 1);
    };
    if (random.nextInt(1000) < this.faults.duplicatePermille) {
      this.duplicated++;
      return [delay(), delay()];
    }
    return [delay()];
  }
}
