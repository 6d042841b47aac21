// A small seeded PRNG (SplitMix32-style mixing over a 32-bit state) for the fault-injecting
// file system and the crash tests: the same seed gives the same faults, so a failing seed can
// be replayed. Not for anything that needs unpredictability.

export class SeededRandom {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  }

  /** Uniform integer in [0, bound). `bound` must be a positive integer <= 2^32. */
  below(bound: number): number {
    return Math.floor((this.nextU32() / 0x1_0000_0000) * bound);
  }

  /** Uniform integer in [min, max]. */
  between(min: number, max: number): number {
    return min + this.below(max - min + 1);
  }

  chance(probability: number): boolean {
    return this.nextU32() / 0x1_0000_0000 < probability;
  }

  fill(bytes: Uint8Array): Uint8Array {
    for (let i = 0; i < bytes.byteLength; i++) bytes[i] = this.nextU32() & 0xff;
    return bytes;
  }
}
