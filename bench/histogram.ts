/**
 * A latency histogram in whole microseconds. Below 128 µs every value has its own bucket; above,
 * each power of two is cut into 128 buckets, so a value is kept within 1% of its true size in a
 * few KB however many calls are timed. Loaders send it sparse; histograms from loaders add up.
 */
const SUB_BUCKET_BITS = 7;
const SUB_BUCKETS = 1 << SUB_BUCKET_BITS;
/** 2^31 µs is about 36 minutes: far beyond any call deadline the bench sets. */
const MAX_VALUE = 2 ** 31 - 1;
const BUCKET_COUNT = SUB_BUCKETS + (31 - SUB_BUCKET_BITS) * SUB_BUCKETS;

export interface SparseHistogram {
  readonly buckets: readonly (readonly [index: number, count: number])[];
  readonly maxMicros: number;
}

function indexOf(micros: number): number {
  const value = Math.max(0, Math.min(Math.round(micros), MAX_VALUE));
  if (value < SUB_BUCKETS) return value;
  const shift = 31 - Math.clz32(value) - SUB_BUCKET_BITS;
  return SUB_BUCKETS + shift * SUB_BUCKETS + ((value >>> shift) - SUB_BUCKETS);
}

/** The largest value a bucket holds, so a reported percentile never flatters. */
function upperBoundOf(index: number): number {
  if (index < SUB_BUCKETS) return index;
  const shift = Math.floor((index - SUB_BUCKETS) / SUB_BUCKETS);
  const mantissa = ((index - SUB_BUCKETS) % SUB_BUCKETS) + SUB_BUCKETS;
  return (mantissa + 1) * 2 ** shift - 1;
}

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKET_COUNT);
  private total = 0;
  private maxMicros = 0;

  record(micros: number): void {
    const index = indexOf(micros);
    this.counts[index] = (this.counts[index] ?? 0) + 1;
    this.total++;
    if (micros > this.maxMicros) this.maxMicros = micros;
  }

  get count(): number {
    return this.total;
  }

  get max(): number {
    return this.maxMicros;
  }

  /** The latency under which `fraction` of the recorded calls completed, in microseconds. */
  percentile(fraction: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil(fraction * this.total));
    let seen = 0;
    for (let index = 0; index < BUCKET_COUNT; index++) {
      seen += this.counts[index] ?? 0;
      if (seen >= rank) return Math.min(upperBoundOf(index), this.maxMicros);
    }
    return this.maxMicros;
  }

  toSparse(): SparseHistogram {
    const buckets: [number, number][] = [];
    this.counts.forEach((count, index) => {
      if (count > 0) buckets.push([index, count]);
    });
    return { buckets, maxMicros: this.maxMicros };
  }

  add(sparse: SparseHistogram): void {
    for (const [index, count] of sparse.buckets) {
      this.counts[index] = (this.counts[index] ?? 0) + count;
      this.total += count;
    }
    if (sparse.maxMicros > this.maxMicros) this.maxMicros = sparse.maxMicros;
  }
}
