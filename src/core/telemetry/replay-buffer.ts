/**
 * The replay buffer: each vehicle's most recent frames, so a reconnecting
 * client resumes without a gap (`subscribe` with `since`), and what a resume
 * yields. Pure: frames in, plans out; no sockets, no clock.
 */

/** What a resume from `since` yields: the frames to replay, and how many were lost before them. */
export interface ReplayPlan {
  frames: string[];
  /** Frames after `since` that are no longer buffered (0 when nothing was lost). */
  lost: number;
  /** True when `since` is ahead of the stream: the server restarted and seq began again. */
  reset: boolean;
}

/**
 * The most recent frames of one drone, in seq order, in a fixed-size ring.
 * Invariant: the buffered seqs are consecutive, `oldest()..latest()`.
 */
export class ReplayBuffer {
  private readonly frames: string[];
  private start = 0;
  private count = 0;
  private firstSeq = 0;

  /** @param capacity frames kept, e.g. telemetry Hz x seconds of history. */
  constructor(readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`'capacity' must be a whole number >= 1: received ${capacity}`);
    }
    this.frames = new Array<string>(capacity);
  }

  /** Appends the frame with the next seq; seqs must arrive consecutively. */
  push(seq: number, frame: string): void {
    if (this.count > 0 && seq !== this.firstSeq + this.count) {
      throw new RangeError(`frames must arrive in seq order: expected ${this.firstSeq + this.count}, received ${seq}`);
    }
    if (this.count === 0) this.firstSeq = seq;
    if (this.count < this.capacity) {
      this.frames[(this.start + this.count) % this.capacity] = frame;
      this.count++;
    } else {
      this.frames[this.start] = frame;
      this.start = (this.start + 1) % this.capacity;
      this.firstSeq++;
    }
  }

  /** Forgets every frame: the next push may start at any seq (a stream that jumped). */
  clear(): void {
    this.start = 0;
    this.count = 0;
    this.firstSeq = 0;
  }

  /**
   * Adds frames older than the oldest buffered one (read back from shared
   * storage after a restart), as far as they are consecutive with it; on an
   * empty buffer, takes them all. Keeps the newest `capacity` frames.
   */
  backfill(older: ReadonlyArray<{ seq: number; frame: string }>): void {
    const oldest = this.oldest();
    const existing = oldest === null ? [] : this.since(oldest - 1).frames.map((frame, i) => ({ seq: oldest + i, frame }));
    const before = oldest === null ? older : older.filter((entry) => entry.seq < oldest);
    const merged = [...before, ...existing];
    // Only the consecutive run that ends at the newest frame is kept.
    let from = merged.length - 1;
    while (from > 0 && merged[from - 1]!.seq === merged[from]!.seq - 1) from--;
    this.clear();
    for (const entry of merged.slice(Math.max(from, merged.length - this.capacity))) this.push(entry.seq, entry.frame);
  }

  get size(): number {
    return this.count;
  }

  /** Seq of the newest buffered frame, or null when empty. */
  latest(): number | null {
    return this.count === 0 ? null : this.firstSeq + this.count - 1;
  }

  /** Seq of the oldest buffered frame, or null when empty. */
  oldest(): number | null {
    return this.count === 0 ? null : this.firstSeq;
  }

  /** The frames a subscriber who last saw `since` has missed. */
  since(since: number): ReplayPlan {
    const latest = this.latest();
    // A client that saw a seq this stream never published saw an earlier
    // stream: the server restarted and seq began again.
    if (latest === null || since > latest) return { frames: [], lost: 0, reset: true };
    const from = Math.max(since + 1, this.firstSeq);
    const lost = from - (since + 1);
    const frames: string[] = [];
    for (let seq = from; seq <= latest; seq++) frames.push(this.frames[(this.start + (seq - this.firstSeq)) % this.capacity]!);
    return { frames, lost, reset: false };
  }
}
