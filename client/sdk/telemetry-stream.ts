/**
 * Telemetry delivery rules for one client across reconnections: each frame
 * at most once and in seq order per drone, frames held back while a resume's
 * replay is on its way, and a fresh count after a `stream_reset`. Each
 * drone's seqs count in a stream epoch (from `welcome`, the subscribe ack or
 * `stream_reset`), sent with `since` on a resume so the server never splices
 * two streams; a frame whose seq is not the last + 1 is a gap, to be fetched
 * with a resume, unless the server said those frames are lost, or the
 * subscription carrying the drone is throttled (`maxHz`): its seqs skip on
 * purpose, and a frame above the last one is simply the latest.
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

/** A resumed subscription: the drone, the last seq the client had seen of it, and that seq's stream epoch if known. */
export type ResumePoint = readonly [drone: string, since: number, epoch?: string];

export class TelemetryStreams<Frame extends SequencedFrame> {
  /** The seq of the last frame delivered, per drone. */
  private readonly lastSeqs = new Map<string, number>();
  /** Live frames held back while a resume's replay is on its way (the replay contains them). */
  private readonly held = new Map<string, Frame[]>();
  /** The stream epoch of each drone's `lastSeqs` (or of the frames to come, before the first). */
  private readonly epochs = new Map<string, string>();
  /** Subscriptions (a drone, or `*` for every drone) throttled with `maxHz`: their skipped seqs are no gap. */
  private readonly throttled = new Set<string>();

  /**
   * A subscription's rate: `throttled` (it asked for `maxHz` below the
   * telemetry rate, so its seqs skip) or not. `drone` may be `*`.
   */
  throttle(drone: string, throttled: boolean): void {
    if (throttled) this.throttled.add(drone);
    else this.throttled.delete(drone);
  }

  /** The stream epoch a drone's last seq counts in, or undefined if unknown. */
  epoch(drone: string): string | undefined {
    return this.epochs.get(drone);
  }

  /** The epochs of every drone with a last seq, for the all-drones resume; undefined if none is known. */
  epochsOfAll(): Record<string, string> | undefined {
    const known = [...this.lastSeqs.keys()].filter((drone) => this.epochs.has(drone)).map((drone) => [drone, this.epochs.get(drone)!] as const);
    return known.length === 0 ? undefined : Object.fromEntries(known);
  }

  /**
   * A welcome listed each drone's current epoch: the frames to come count in
   * it. A drone with a last seq keeps the epoch of that seq, for its resume.
   */
  welcomed(drones: ReadonlyArray<{ id: string; epoch?: string }>): void {
    for (const { id, epoch } of drones) if (epoch !== undefined && !this.lastSeqs.has(id)) this.epochs.set(id, epoch);
  }

  /**
   * The last seq delivered when `frame` skips seqs after it (a gap the
   * client must fetch with a resume), else undefined. No gap is reported
   * while the drone is resuming (its frames are held), nor for a drone
   * watched through a throttled subscription (its own, or `*`'s).
   */
  gapBefore(frame: Frame): number | undefined {
    if (this.held.has(frame.drone)) return undefined;
    if (this.throttled.size > 0 && (this.throttled.has(frame.drone) || this.throttled.has("*"))) return undefined;
    const last = this.lastSeqs.get(frame.drone);
    return last !== undefined && frame.seq > last + 1 ? last : undefined;
  }

  /**
   * The server says a drone's frames up to `to` will never come (a live or
   * resumed `frames_lost`): count on from there, so the next frame is no gap.
   */
  lost(drone: string, to: number): void {
    const last = this.lastSeqs.get(drone);
    if (last !== undefined && to > last) this.lastSeqs.set(drone, to);
  }

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

  /** Stops holding a drone's frames and returns them in seq order, to pass through `accept` (a gap that could not be fetched). */
  release(drone: string): Frame[] {
    const held = this.held.get(drone) ?? [];
    this.held.delete(drone);
    return held.sort((a, b) => a.seq - b.seq);
  }

  /**
   * The resuming subscription's ack arrived with the server's `latestSeq`
   * and `epoch` (one per drone for `*`). Where `since` is within the
   * stream, the replay follows and the held frames are part of it: drop
   * them. A `since` of another epoch, or beyond the stream, means the
   * stream started again: keep holding, as the `stream_reset` event that
   * follows at once releases them. The frames that follow count in the ack's epoch.
   */
  resumed(
    resumed: readonly ResumePoint[],
    latestSeq: number | null | Readonly<Record<string, number | null>>,
    epoch?: string | Readonly<Record<string, string>>,
  ): void {
    for (const [drone, since, sentEpoch] of resumed) {
      const latest = typeof latestSeq === "object" && latestSeq !== null ? latestSeq[drone] : latestSeq;
      const current = typeof epoch === "object" ? epoch[drone] : epoch;
      const otherStream = sentEpoch !== undefined && current !== undefined && sentEpoch !== current;
      const reset = otherStream || typeof latest !== "number" || since > latest;
      if (!reset) this.held.delete(drone);
      if (current !== undefined) this.epochs.set(drone, current);
    }
  }

  /**
   * The server restarted the drone's stream and seq began again: count from
   * scratch. Returns the frames held back during the resume, in seq order,
   * to pass through `accept` (they are the new stream's).
   */
  reset(drone: string, epoch?: string): Frame[] {
    this.lastSeqs.delete(drone);
    if (epoch !== undefined) this.epochs.set(drone, epoch);
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

  /** A fresh start (`connect()` after `close()`): forget every seq and epoch. */
  clear(): void {
    this.lastSeqs.clear();
    this.epochs.clear();
  }
}
