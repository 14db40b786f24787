/**
 * Telemetry delivery rules for one client across reconnections: each frame
 * at most once and in seq order per drone, frames held back while a resume's
 * replay is on its way, and a fresh count after a `stream_reset`.
 *
 * Pure bookkeeping: frames and acks in, "deliver this frame" decisions out.
 * Owns no socket, no clock and no listeners; the client emits what it says.
 */

/** What the rules read of a telemetry frame (the protocol's `TelemetryData` has these and more). */
export interface SequencedFrame {
  drone: string;
  /** Strictly increasing per drone, until the stream restarts. */
  seq: number;
}

/** A resumed subscription: the drone and the last seq the client had seen of it. */
export type ResumePoint = readonly [drone: string, since: number];

export class TelemetryStreams<Frame extends SequencedFrame> {
  /** The seq of the last frame delivered, per drone. */
  private readonly lastSeqs = new Map<string, number>();
  /** Live frames held back while a resume's replay is on its way (the replay contains them). */
  private readonly held = new Map<string, Frame[]>();

  /** Seq of the last frame delivered for a drone, or undefined if none yet (or since a stream reset). */
  lastSeq(drone: string): number | undefined {
    return this.lastSeqs.get(drone);
  }

  /** The `since` that resumes the all-drones subscription: every drone's last seq, or undefined if none yet. */
  lastSeqsOfAll(): Record<string, number> | undefined {
    return this.lastSeqs.size === 0 ? undefined : Object.fromEntries(this.lastSeqs);
  }

  /**
   * Decides what to do with a frame from the server: true to deliver it now.
   * A frame is held while its drone is resuming, and dropped when its seq is
   * not above the last one delivered.
   */
  accept(frame: Frame): boolean {
    const held = this.held.get(frame.drone);
    if (held) {
      held.push(frame);
      return false;
    }
    const last = this.lastSeqs.get(frame.drone);
    if (last !== undefined && frame.seq <= last) return false;
    this.lastSeqs.set(frame.drone, frame.seq);
    return true;
  }

  /**
   * A subscription with `since` is about to go out: hold these drones' live
   * frames until its ack, because frames that arrive before it were
   * published before the server replays, so the replay contains them.
   */
  holdForResume(resumed: readonly ResumePoint[]): void {
    for (const [drone] of resumed) this.held.set(drone, this.held.get(drone) ?? []);
  }

  /** The resuming subscription failed: deliver live frames again. */
  cancelResume(resumed: readonly ResumePoint[]): void {
    for (const [drone] of resumed) this.held.delete(drone);
  }

  /**
   * The resuming subscription's ack arrived with the server's `latestSeq`
   * (a number, or one per drone for `*`). Where `since` is within the
   * stream, the replay follows and the held frames are part of it: drop
   * them. A `since` beyond the stream means it restarted: keep holding, as
   * the `stream_reset` event that follows at once releases them.
   */
  resumed(resumed: readonly ResumePoint[], latestSeq: number | null | Readonly<Record<string, number | null>>): void {
    for (const [drone, since] of resumed) {
      const latest = typeof latestSeq === "object" && latestSeq !== null ? latestSeq[drone] : latestSeq;
      const reset = typeof latest !== "number" || since > latest;
      if (!reset) this.held.delete(drone);
    }
  }

  /**
   * The server restarted the drone's stream and seq began again: count from
   * scratch. Returns the frames held back during the resume, in seq order,
   * to pass through `accept` (they are the new stream's).
   */
  reset(drone: string): Frame[] {
    this.lastSeqs.delete(drone);
    const held = this.held.get(drone) ?? [];
    this.held.delete(drone);
    return held.sort((a, b) => a.seq - b.seq);
  }

  /** The client stopped watching a drone: nothing is held for it any more. */
  unwatched(drone: string): void {
    this.held.delete(drone);
  }

  /** The socket is gone: frames held for its resumes will be replayed to the next one. */
  socketLost(): void {
    this.held.clear();
  }

  /** A fresh start (`connect()` after `close()`): forget every seq. */
  clear(): void {
    this.lastSeqs.clear();
  }
}
