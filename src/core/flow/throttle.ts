/**
 * The per-subscription rate limit (`subscribe` `maxHz`), as a pure decision:
 * frames are offered as they are published, with the time they carry, and
 * the throttle says which to send. It keeps no frame: whatever is offered
 * when one is due is the latest, so a throttled viewer never gets a backlog.
 *
 * Owns the schedule only; time comes in as arguments (no clock, no timer)
 * and the sending is the caller's.
 */

/**
 * How early a frame may come and still be taken, at most, as a fraction of
 * the interval: a tick's jitter (a frame 1 ms before its due time) must not
 * cost a whole tick. It is also never more than half the time since the
 * previous frame offered, so only a frame nearer its due time than the next
 * one will be is taken early. The schedule advances by whole intervals from
 * where it was due, so the average rate stays `maxHz` exactly; two frames are
 * never closer than `1 - earlyToleranceFraction` of the interval.
 */
export const earlyToleranceFraction = 0.1;

/**
 * At most `maxHz` frames a second, on a schedule of whole intervals: the
 * first frame offered is taken; after it, the first frame at or after each
 * due time. A stream that paused for a whole interval or more (or a clock
 * that stepped back) starts the schedule again from the frame taken.
 */
export class FrameThrottle {
  /** Milliseconds between frames sent: 1000 / maxHz. */
  readonly intervalMs: number;
  /** The most a frame may be early: `earlyToleranceFraction` of the interval. */
  private readonly maxToleranceMs: number;
  /** When the next frame is due (ms, in the offered times' clock), or null before the first. */
  private dueMs: number | null = null;
  /** When the previous frame was offered, taken or not, or null before the first. */
  private lastOfferedMs: number | null = null;

  /** @param maxHz frames per second at most; validated by the protocol (`maxHzRange`), checked again here. */
  constructor(readonly maxHz: number) {
    if (!(Number.isFinite(maxHz) && maxHz > 0)) throw new RangeError(`maxHz must be a positive number of frames per second: received ${maxHz}`);
    this.intervalMs = 1000 / maxHz;
    this.maxToleranceMs = this.intervalMs * earlyToleranceFraction;
  }

  /** Whether the frame published at `nowMs` is sent; if so the schedule moves on. */
  offer(nowMs: number): boolean {
    const due = this.dueMs;
    const previous = this.lastOfferedMs;
    this.lastOfferedMs = nowMs;
    if (due === null) {
      this.dueMs = nowMs + this.intervalMs;
      return true;
    }
    const toleranceMs = previous === null ? 0 : Math.max(0, Math.min(this.maxToleranceMs, (nowMs - previous) / 2));
    // Further ahead than a whole interval (plus the tolerance a frame taken early adds) is a clock that stepped back.
    const steppedBack = due - nowMs > this.intervalMs + this.maxToleranceMs;
    if (nowMs < due - toleranceMs && !steppedBack) return false;
    const onSchedule = nowMs >= due - toleranceMs && nowMs < due + this.intervalMs;
    this.dueMs = onSchedule ? due + this.intervalMs : nowMs + this.intervalMs;
    return true;
  }

  /** A frame was sent outside `offer` at `nowMs` (a resume's latest frame): the next is due an interval later. */
  sent(nowMs: number): void {
    this.dueMs = nowMs + this.intervalMs;
  }
}
