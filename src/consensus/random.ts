// Randomness for the consensus core, injected. The core draws election
// timeouts and backoff from a `Random`; it never calls Math.random, so a replica's behaviour is a
// pure function of its inputs and its seed.

/** A source of uniformly distributed integers. */
export interface Random {
  /** An integer in [0, maxExclusive). `maxExclusive` is a positive safe integer <= 2^32. */
  nextInt(maxExclusive: number): number;
}

/**
 * SplitMix32: a small, fast, well-mixed 32-bit generator (one add and three xor-shift-multiply
 * rounds per draw). Deterministic from its seed, so the simulator and the transcripts replay
 * exactly; the node driver seeds it from a real entropy source.
 */
export class SplitMix32 implements Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** The next raw 32-bit unsigned value. */
  nextUint32(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  }

  nextInt(maxExclusive: number): number {
    if (!(Number.isInteger(maxExclusive) && maxExclusive > 0 && maxExclusive <= 2 ** 32)) {
      throw new RangeError(`nextInt: maxExclusive must be an integer in [1, 2^32], got ${maxExclusive}`);
    }
    // Multiply-shift maps 32 random bits onto [0, max) with a bias below 2^-32 * max: fine for
    // timeouts and fault injection.
    return Math.floor((this.nextUint32() / 2 ** 32) * maxExclusive);
  }
}
