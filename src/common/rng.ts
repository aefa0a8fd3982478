// Seeded randomness, so that a simulation or a scheduler test replays exactly.
// mulberry32: fast and small, not cryptographic.

export interface Rng {
  /** A whole number in [0, bound). */
  below(bound: number): number;
  /** A float in [0, 1). */
  next(): number;
}

export class SeededRng implements Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** mulberry32: a 32-bit state, period 2^32, good enough for tests and tie-breaks. */
  nextU32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  next(): number {
    return this.nextU32() / 4294967296;
  }

  below(bound: number): number {
    return Math.floor(this.next() * bound);
  }
}

/** Math.random behind the Rng interface, for production use where replay does not matter. */
export const systemRng: Rng = {
  below: (bound) => Math.floor(Math.random() * bound),
  next: () => Math.random(),
};
