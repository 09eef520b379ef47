/**
 * A seeded generator (mulberry32), so a run's choices can be replayed from the seed its summary
 * prints. Interleavings still differ between runs: they belong to the machine, not the seed.
 */
export class Rng {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /**
   * An independent generator for one actor (a client, the nemesis), derived from this seed and a
   * label: what one actor draws no longer depends on how the others' draws interleaved with it.
   */
  fork(label: string): Rng {
    // FNV-1a over seed and label.
    let hash = 0x811c9dc5;
    for (const char of `${this.seed}:${label}`) hash = Math.imul(hash ^ char.charCodeAt(0), 0x01000193);
    return new Rng(hash >>> 0);
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** Uniform integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** Uniform minor-unit amount in [min, max]; the ranges used are far below 2^53. */
  amount(min: bigint, max: bigint): bigint {
    return BigInt(this.int(Number(min), Number(max)));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.int(0, items.length - 1)];
    if (item === undefined) throw new Error('cannot pick from an empty list');
    return item;
  }

  weighted<T extends { readonly weight: number }>(items: readonly T[]): T {
    const total = items.reduce((sum, item) => sum + item.weight, 0);
    let roll = this.next() * total;
    for (const item of items) {
      roll -= item.weight;
      if (roll < 0) return item;
    }
    return this.pick(items);
  }

  shuffle<T>(items: readonly T[]): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
    }
    return copy;
  }
}
