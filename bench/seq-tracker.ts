/**
 * Loss accounting for one subscriber: the last seq it saw of each stream
 * (drone), and the frames missing in between.
 *
 * A stream's seq grows by exactly one per frame, so a jump from 41 to 44
 * means frames 42 and 43 never arrived. A gap only shows once a later frame
 * arrives; a subscriber that stops receiving altogether is caught by
 * `framesBehind`, which compares its last seq with the newest seq any
 * subscriber saw.
 *
 * Pure bookkeeping over small integer stream slots (see DroneSlots); no
 * sockets, no clock.
 */

/** Marks a stream this subscriber has not seen yet. */
const unseen = -1;

export class SeqTracker {
  private last = new Float64Array(4).fill(unseen);
  /** Frames that never arrived, summed over every gap. */
  lost = 0;
  /** Frames that arrived with a seq at or below one already seen (should be 0: streams are ordered). */
  repeated = 0;
  /** Frames recorded. */
  received = 0;

  /** Records frame `seq` of stream `slot`. */
  record(slot: number, seq: number): void {
    if (slot >= this.last.length) this.grow(slot);
    const previous = this.last[slot]!;
    this.received++;
    if (previous === unseen) {
      this.last[slot] = seq;
    } else if (seq > previous) {
      this.lost += seq - previous - 1;
      this.last[slot] = seq;
    } else {
      this.repeated++;
    }
  }

  /** Last seq seen of stream `slot`, or -1 if none. */
  lastSeq(slot: number): number {
    return slot < this.last.length ? this.last[slot]! : unseen;
  }

  /** True once any frame of any stream arrived. */
  get seenAny(): boolean {
    return this.received > 0;
  }

  /**
   * Frames this subscriber is missing at the end: for every stream it has
   * seen, how far its last seq is behind `heads[slot]`.
   */
  framesBehind(heads: Float64Array): number {
    let behind = 0;
    const n = Math.min(heads.length, this.last.length);
    for (let slot = 0; slot < n; slot++) {
      const last = this.last[slot]!;
      if (last !== unseen && heads[slot]! > last) behind += heads[slot]! - last;
    }
    return behind;
  }

  /** Raises `heads[slot]` to this subscriber's last seq of each stream (the newest any subscriber saw). */
  raiseHeads(heads: Float64Array): void {
    const n = Math.min(heads.length, this.last.length);
    for (let slot = 0; slot < n; slot++) if (this.last[slot]! > heads[slot]!) heads[slot] = this.last[slot]!;
  }

  private grow(slot: number): void {
    const grown = new Float64Array(Math.max(slot + 1, this.last.length * 2)).fill(unseen);
    grown.set(this.last);
    this.last = grown;
  }
}

/** The newest seq of each of `streams` streams across `trackers`, -1 where none saw it. */
export function streamHeads(trackers: Iterable<SeqTracker>, streams: number): Float64Array {
  const heads = new Float64Array(streams).fill(unseen);
  for (const tracker of trackers) tracker.raiseHeads(heads);
  return heads;
}
