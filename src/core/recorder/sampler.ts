/**
 * Frame decimation for the recorder: which frames of a vehicle are kept, at
 * most `recordHz` a second while it flies and one a second on the ground;
 * the first frame after taking off or landing is always kept.
 *
 * Pure: frame times in, keep-or-drop out; no clock.
 */

/** Frames kept per second on the ground. */
export const groundSampleHz = 1;

export class FrameSampler {
  /** Wall ms from which the next frame is due, or null before the first. */
  private due: number | null = null;
  private airborne: boolean | null = null;

  /** @param recordHz frames kept per second while airborne (the telemetry rate keeps every frame). */
  constructor(private readonly recordHz: number) {
    if (!(recordHz > 0)) throw new RangeError(`'recordHz' must be a positive number: received ${recordHz}`);
  }

  /** Whether the frame at `time` (wall ms) is kept. */
  keep(time: number, airborne: boolean): boolean {
    const interval = 1000 / (airborne ? this.recordHz : groundSampleHz);
    const changed = this.airborne !== airborne;
    this.airborne = airborne;
    // A twentieth of an interval of slack: a frame a little early still counts; `due` keeps the average on the rate.
    if (!changed && this.due !== null && time < this.due - interval / 20) return false;
    const next = (this.due ?? time) + interval;
    this.due = changed || next <= time ? time + interval : next;
    return true;
  }
}
