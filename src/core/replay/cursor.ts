/**
 * The replay cursor: where in a recorded flight a replay is, as the clock
 * runs, at a speed, paused or not, after seeks.
 *
 * Owns only that arithmetic: the position is an anchor (a position and the
 * clock reading it was true at) moved forward by elapsed time times speed,
 * never past the flight's end. Pure: the clock comes in as `nowMs` on every
 * call (any monotonic milliseconds), nothing is read, nothing is scheduled.
 */

/** What a cursor starts with. */
export interface CursorStart {
  /** The flight's length from its first frame to its last, ms. */
  durationMs: number;
  /** A multiple of real time (checked by the protocol: 0.5 to 16). */
  speed: number;
  /** Where to start, ms from the flight's first frame (clamped into the flight). */
  positionMs: number;
  /** The clock now. */
  nowMs: number;
}

/** Where a recorded flight is being played, at any clock reading. */
export class ReplayCursor {
  readonly durationMs: number;
  private speedValue: number;
  private pausedValue = false;
  /** The position at `anchorNowMs`; the cursor moves from there. */
  private anchorPositionMs: number;
  private anchorNowMs: number;

  constructor(start: CursorStart) {
    if (!(start.durationMs >= 0)) throw new RangeError(`a replay's duration must be >= 0 ms: received ${start.durationMs}`);
    if (!(start.speed > 0)) throw new RangeError(`a replay's speed must be > 0: received ${start.speed}`);
    this.durationMs = start.durationMs;
    this.speedValue = start.speed;
    this.anchorPositionMs = this.clamp(start.positionMs);
    this.anchorNowMs = start.nowMs;
  }

  get speed(): number {
    return this.speedValue;
  }

  get paused(): boolean {
    return this.pausedValue;
  }

  /** Ms from the flight's first frame at `nowMs`: the anchor plus elapsed time times speed, held while paused, never past the end. */
  positionMs(nowMs: number): number {
    if (this.pausedValue) return this.anchorPositionMs;
    return this.clamp(this.anchorPositionMs + Math.max(0, nowMs - this.anchorNowMs) * this.speedValue);
  }

  /** Whether the cursor stands at the flight's end. */
  ended(nowMs: number): boolean {
    return this.positionMs(nowMs) >= this.durationMs;
  }

  /** From `nowMs` on, time runs `speed` times as fast; the position so far is kept. */
  setSpeed(speed: number, nowMs: number): void {
    if (!(speed > 0)) throw new RangeError(`a replay's speed must be > 0: received ${speed}`);
    this.reanchor(nowMs);
    this.speedValue = speed;
  }

  /** Holds (true) or runs on (false) from where the cursor is at `nowMs`. */
  setPaused(paused: boolean, nowMs: number): void {
    this.reanchor(nowMs);
    this.pausedValue = paused;
  }

  /** Jumps to `positionMs` (clamped into the flight) at `nowMs`; paused or not stays as it was. */
  seek(positionMs: number, nowMs: number): void {
    this.anchorPositionMs = this.clamp(positionMs);
    this.anchorNowMs = nowMs;
  }

  private reanchor(nowMs: number): void {
    this.anchorPositionMs = this.positionMs(nowMs);
    this.anchorNowMs = nowMs;
  }

  private clamp(positionMs: number): number {
    return Math.min(this.durationMs, Math.max(0, positionMs));
  }
}
