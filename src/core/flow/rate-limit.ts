/**
 * Per-socket message rate limiting: a token bucket, plus the rule that turns
 * sustained abuse into a disconnect.
 *
 * Pure: the caller passes the time in milliseconds. One instance per socket.
 */

/** The verdict for one message. */
export type RateVerdict = "allowed" | "limited" | "abusive";

export interface RateLimitOptions {
  /** Messages per second allowed on average; also the burst size. */
  perSecond: number;
  /** Limited messages continuing for this long make the socket abusive, seconds. */
  abuseSeconds: number;
}

/** Gap in limited messages that ends an abuse streak, milliseconds. */
const abuseStreakGapMilliseconds = 1000;

export class RateLimiter {
  private tokens: number;
  private lastRefill: number | null = null;
  /** When the current streak of limited messages began, or null if none. */
  private abuseSince: number | null = null;
  private lastLimited = 0;

  constructor(private readonly options: RateLimitOptions) {
    if (!(options.perSecond > 0)) throw new RangeError(`'perSecond' must be a positive number: received ${options.perSecond}`);
    if (!(options.abuseSeconds > 0)) throw new RangeError(`'abuseSeconds' must be a positive number: received ${options.abuseSeconds}`);
    this.tokens = options.perSecond;
  }

  /** Takes one token at time `nowMs`. */
  take(nowMs: number): RateVerdict {
    const { perSecond, abuseSeconds } = this.options;
    if (this.lastRefill !== null) {
      this.tokens = Math.min(perSecond, this.tokens + ((nowMs - this.lastRefill) / 1000) * perSecond);
    }
    this.lastRefill = nowMs;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      if (this.abuseSince !== null && nowMs - this.lastLimited > abuseStreakGapMilliseconds) this.abuseSince = null;
      return "allowed";
    }
    if (this.abuseSince === null || nowMs - this.lastLimited > abuseStreakGapMilliseconds) this.abuseSince = nowMs;
    this.lastLimited = nowMs;
    return nowMs - this.abuseSince >= abuseSeconds * 1000 ? "abusive" : "limited";
  }
}
