// Lifeguard's local health multiplier (docs/spec/memberlist-wire.md §9.5). A node that misses acks may itself be the slow
// one; rather than accusing healthy peers it stretches its own probe interval.

export class Awareness {
  private score = 0;

  /** @param max the multiplier limit; the score stays within [0, max − 1]. */
  constructor(private readonly max: number) {}

  /** Adds `delta` (may be negative), clamped to [0, max − 1]. Returns the new score. */
  apply(delta: number): number {
    this.score = Math.min(this.max - 1, Math.max(0, this.score + delta));
    return this.score;
  }

  /** The health score: 0 is healthy, higher means "probably me". */
  get healthScore(): number {
    return this.score;
  }

  /** `base` multiplied by (score + 1): the probe interval actually used. */
  scaleTimeout(baseMs: number): number {
    return baseMs * (this.score + 1);
  }
}
