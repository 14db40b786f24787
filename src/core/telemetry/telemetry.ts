/**
 * Telemetry frames: their pub/sub topic, their content, their one-time
 * serialisation, and the per-drone replay buffer that lets a reconnecting
 * client resume without a gap.
 *
 * Pure: no sockets and no clock (the caller passes the time). Publishing is
 * the server's job; this module decides what a frame says and what to replay.
 */
import type { VehicleState } from "../vehicle/vehicle.ts";
import { allDrones, telemetryFrame, type TelemetryData } from "../../../protocol/index.ts";

/** The Bun pub/sub topic that carries one drone's telemetry, leases and events. */
export function telemetryTopic(droneId: string): string {
  return droneId === allDrones ? fleetTopic : `drone:${droneId}`;
}

/**
 * The topic of the all-drones subscription: one `telemetry_batch` per tick
 * with every drone's frame, plus every drone's leases and events.
 */
export const fleetTopic = "fleet";

/** Rounds to centimetres (positions) or hundredths, keeping frames short and stable. */
function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Builds a frame's content from a vehicle's state and the fleet's view of it (failsafe, pilot). */
export function telemetryData(id: string, vehicle: VehicleState, failsafe: boolean, seq: number, timeMs: number, pilot: string | null): TelemetryData {
  const { position, velocity, flags, target } = vehicle;
  return {
    drone: id,
    seq,
    time: Math.round(timeMs),
    state: vehicle.state,
    position: { x: round2(position.x), y: round2(position.y), z: round2(position.z) },
    velocity: { x: round2(velocity.x), y: round2(velocity.y), z: round2(velocity.z) },
    heading: round2(vehicle.heading),
    speed: round2(Math.hypot(velocity.x, velocity.y)),
    battery: round2(vehicle.battery),
    flags: { lowBattery: flags.lowBattery, criticalBattery: flags.criticalBattery, emergencyStopped: flags.emergencyStopped, failsafe },
    target: target ? { x: round2(target.x), y: round2(target.y), z: round2(target.z), heading: round2(target.heading) } : null,
    pilot,
  };
}

/** Serialises a frame once; the same string goes to every subscriber and into the replay buffer. */
export function encodeTelemetry(data: TelemetryData): string {
  return telemetryFrame(JSON.stringify(data));
}

/** The frame templates are wire encoders and live with the protocol's; re-exported for this module's importers. */
export { telemetryBatch, telemetryFrame } from "../../../protocol/index.ts";

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
