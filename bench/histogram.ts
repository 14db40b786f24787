/**
 * A fixed-bucket latency histogram in microseconds: cheap to record on the
 * load generator's hot path (one array increment), small to ship between
 * processes (sparse bucket list), and exact to merge.
 *
 * Buckets: 1 µs wide below 10 ms, 100 µs wide from 10 ms to 1 s, and one
 * overflow bucket above. Percentiles are reported at the bucket's midpoint,
 * so they are exact to ±0.5 µs where echo latencies live.
 */

/** Upper bound of the 1 µs-resolution range. */
const fineLimitMicros = 10_000;
/** Width of the buckets above the fine range. */
const coarseWidthMicros = 100;
/** Upper bound of the coarse range; anything slower lands in the overflow bucket, whose percentiles read as this. */
export const coarseLimitMicros = 1_000_000;
const fineBuckets = fineLimitMicros;
const coarseBuckets = (coarseLimitMicros - fineLimitMicros) / coarseWidthMicros;
const bucketCount = fineBuckets + coarseBuckets + 1;

/** What crosses the process boundary: total, extremes and the non-empty buckets as [index, count]. */
export interface HistogramSnapshot {
  count: number;
  minMicros: number;
  maxMicros: number;
  buckets: Array<[number, number]>;
}

function bucketOf(micros: number): number {
  if (micros < fineLimitMicros) return micros < 0 ? 0 : Math.floor(micros);
  if (micros < coarseLimitMicros) return fineBuckets + Math.floor((micros - fineLimitMicros) / coarseWidthMicros);
  return bucketCount - 1;
}

function midpointOf(bucket: number): number {
  if (bucket < fineBuckets) return bucket + 0.5;
  if (bucket < fineBuckets + coarseBuckets) return fineLimitMicros + (bucket - fineBuckets + 0.5) * coarseWidthMicros;
  return coarseLimitMicros;
}

export class LatencyHistogram {
  private readonly counts = new Uint32Array(bucketCount);
  count = 0;
  minMicros = Infinity;
  maxMicros = 0;

  /** Records `times` samples of the same latency (a batch of echoes that arrived together). */
  record(micros: number, times = 1): void {
    this.counts[bucketOf(micros)]! += times;
    this.count += times;
    if (micros < this.minMicros) this.minMicros = micros;
    if (micros > this.maxMicros) this.maxMicros = micros;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.minMicros = Infinity;
    this.maxMicros = 0;
  }

  snapshot(): HistogramSnapshot {
    const buckets: Array<[number, number]> = [];
    for (let i = 0; i < bucketCount; i++) if (this.counts[i]) buckets.push([i, this.counts[i]!]);
    return { count: this.count, minMicros: this.count ? this.minMicros : 0, maxMicros: this.maxMicros, buckets };
  }
}

/** Sums snapshots from several load generator processes. */
export function mergeSnapshots(snapshots: HistogramSnapshot[]): HistogramSnapshot {
  const byBucket = new Map<number, number>();
  let count = 0;
  let minMicros = Infinity;
  let maxMicros = 0;
  for (const s of snapshots) {
    if (s.count === 0) continue;
    count += s.count;
    minMicros = Math.min(minMicros, s.minMicros);
    maxMicros = Math.max(maxMicros, s.maxMicros);
    for (const [bucket, n] of s.buckets) byBucket.set(bucket, (byBucket.get(bucket) ?? 0) + n);
  }
  const buckets = [...byBucket.entries()].sort((a, b) => a[0] - b[0]);
  return { count, minMicros: count ? minMicros : 0, maxMicros, buckets };
}

/** The latency at quantile `q` (0..1), in microseconds; NaN when there are no samples. */
export function percentile(snapshot: HistogramSnapshot, q: number): number {
  if (snapshot.count === 0) return NaN;
  const rank = Math.max(1, Math.ceil(q * snapshot.count));
  let seen = 0;
  for (const [bucket, n] of snapshot.buckets) {
    seen += n;
    if (seen >= rank) return midpointOf(bucket);
  }
  return snapshot.maxMicros;
}
