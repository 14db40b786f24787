/**
 * Message rate limiting: a token bucket; the per-socket limiter built on it
 * (which limited messages to answer, and the rules that turn sustained
 * excess into a disconnect); and buckets shared by every socket of one
 * address.
 *
 * Pure: the caller passes the time in milliseconds. Nothing here reads a
 * message: the verdict comes before any parsing, so a flood costs one
 * bucket update per frame.
 */

/**
 * The verdict for one message:
 * - `allowed`: read it;
 * - `limited`: over the rate (answer it only if `answerLimited` says so);
 * - `abusive`: over the rate for `abuseSeconds` in a row: close the socket;
 * - `flooding`: `maxExcess` messages over the rate in one streak: close the socket now.
 */
export type RateVerdict = "allowed" | "limited" | "abusive" | "flooding";

export interface RateLimitOptions {
  /** Messages per second allowed on average; also the burst size. */
  perSecond: number;
  /** Limited messages continuing for this long make the socket abusive, seconds. */
  abuseSeconds: number;
  /** Messages over the rate in one streak that make the socket flooding (default: no such rule). */
  maxExcess?: number;
}

/** Gap in limited messages that ends an abuse streak, milliseconds. */
const abuseStreakGapMilliseconds = 1000;
/** At most one `rate_limited` answer per this long, milliseconds: answering every limited frame is what let a flood starve everyone. */
const limitedAnswerIntervalMilliseconds = 1000;

/** A token bucket of `perSecond` tokens refilled continuously; the burst is one second's worth. */
export class TokenBucket {
  private tokens: number;
  private lastRefill: number | null = null;

  constructor(readonly perSecond: number) {
    if (!(perSecond > 0)) throw new RangeError(`'perSecond' must be a positive number: received ${perSecond}`);
    this.tokens = perSecond;
  }

  /** Takes `count` tokens (default one) at time `nowMs`: true if there were that many, else takes none. */
  take(nowMs: number, count = 1): boolean {
    const perSecond = this.perSecond;
    if (this.lastRefill !== null) {
      const refilled = this.tokens + ((nowMs - this.lastRefill) / 1000) * perSecond;
      this.tokens = refilled < perSecond ? refilled : perSecond;
    }
    this.lastRefill = nowMs;
    if (this.tokens < count) return false;
    this.tokens -= count;
    return true;
  }

  /** Whether the bucket is full again at `nowMs`: a fresh bucket would decide the same from now on. */
  fullAt(nowMs: number): boolean {
    return this.lastRefill === null || this.tokens + ((nowMs - this.lastRefill) / 1000) * this.perSecond >= this.perSecond;
  }
}

/** One socket's limiter. */
export class RateLimiter {
  private readonly bucket: TokenBucket;
  private readonly maxExcess: number;
  /** When the current streak of limited messages began, or null if none. */
  private abuseSince: number | null = null;
  private lastLimited = 0;
  /** Messages over the rate in the current streak. */
  private excess = 0;
  /** When a limited message was last answered, or null if never. */
  private lastAnswered: number | null = null;

  constructor(private readonly options: RateLimitOptions) {
    if (!(options.abuseSeconds > 0)) throw new RangeError(`'abuseSeconds' must be a positive number: received ${options.abuseSeconds}`);
    this.bucket = new TokenBucket(options.perSecond);
    this.maxExcess = options.maxExcess ?? Infinity;
    if (!(this.maxExcess >= 1)) throw new RangeError(`'maxExcess' must be at least 1: received ${options.maxExcess}`);
  }

  /** Takes one token at time `nowMs`. */
  take(nowMs: number): RateVerdict {
    const streakOver = this.abuseSince !== null && nowMs - this.lastLimited > abuseStreakGapMilliseconds;
    if (this.bucket.take(nowMs)) {
      if (streakOver) this.abuseSince = null;
      return "allowed";
    }
    if (this.abuseSince === null || streakOver) {
      this.abuseSince = nowMs;
      this.excess = 0;
    }
    this.lastLimited = nowMs;
    this.excess++;
    if (this.excess >= this.maxExcess) return "flooding";
    return nowMs - this.abuseSince >= this.options.abuseSeconds * 1000 ? "abusive" : "limited";
  }

  /**
   * Whether the limiter is at rest at `nowMs`: its bucket full, no streak of
   * limited messages still running, no `rate_limited` answer within the
   * last interval. A limiter at rest decides every later message exactly as
   * a fresh one would, so its owner may drop it and make a new one when the
   * next message comes.
   */
  atRest(nowMs: number): boolean {
    const streakRunning = this.abuseSince !== null && nowMs - this.lastLimited <= abuseStreakGapMilliseconds;
    const answeredRecently = this.lastAnswered !== null && nowMs - this.lastAnswered < limitedAnswerIntervalMilliseconds;
    return !streakRunning && !answeredRecently && this.bucket.fullAt(nowMs);
  }

  /**
   * Whether a `limited` message at `nowMs` is answered with `rate_limited`:
   * the first in any second is, the rest are dropped unread and unanswered.
   */
  answerLimited(nowMs: number): boolean {
    if (this.lastAnswered !== null && nowMs - this.lastAnswered < limitedAnswerIntervalMilliseconds) return false;
    this.lastAnswered = nowMs;
    return true;
  }
}

/**
 * Token buckets shared by every socket of one key (an address, or its /64):
 * a budget for the address, not the socket, so opening more sockets buys no
 * more. A key's bucket lives while it has sockets open.
 */
export class SharedBuckets {
  private readonly buckets = new Map<string, { bucket: TokenBucket; sockets: number }>();

  constructor(private readonly perSecond: number) {}

  /** A socket of `key` opened: its shared bucket. */
  open(key: string): TokenBucket {
    let entry = this.buckets.get(key);
    if (!entry) this.buckets.set(key, (entry = { bucket: new TokenBucket(this.perSecond), sockets: 0 }));
    entry.sockets++;
    return entry.bucket;
  }

  /** A socket of `key` closed: the bucket goes with its last socket. */
  close(key: string): void {
    const entry = this.buckets.get(key);
    if (!entry) return;
    if (--entry.sockets <= 0) this.buckets.delete(key);
  }

  /** Keys with a bucket, for tests. */
  get size(): number {
    return this.buckets.size;
  }
}
