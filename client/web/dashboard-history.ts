/**
 * What the dashboard remembers about each drone between frames: the latest
 * telemetry, the ground track (trail) for the map, and a minute of altitude
 * and battery samples for the sparklines.
 *
 * Pure bookkeeping: telemetry in, arrays out. No DOM, no clock (times come
 * from the frames), no socket.
 */
import type { TelemetryData } from "../../protocol/index.ts";

/** Sparklines show this much history, milliseconds of server time. */
export const sparklineWindowMs = 60_000;
/** A new trail point is kept only once the drone moved this far from the last one, metres. */
const trailMinStepMetres = 0.25;
/** Longest trail kept, points: about 1.5 km of track at the minimum step. */
const maxTrailPoints = 6000;

export interface TrailPoint {
  x: number;
  y: number;
}

export interface Sample {
  /** Server time, Unix milliseconds. */
  time: number;
  value: number;
  /** The first sample of a new stream (the server restarted or reset the drone): charts do not join it to the one before. */
  breakBefore?: true;
}

/** One drone's recent past. */
export class DroneHistory {
  latest: TelemetryData | null = null;
  readonly trail: TrailPoint[] = [];
  readonly altitude: Sample[] = [];
  readonly battery: Sample[] = [];
  /** Set by a new stream: the next samples start a new segment of each chart. */
  private streamBreak = false;

  /**
   * Records a frame. A seq that goes backwards means a new stream (server
   * restart): the trail starts over and the charts break there.
   */
  add(frame: TelemetryData): void {
    if (this.latest && frame.seq <= this.latest.seq) {
      // An older seq with an older time is a replayed duplicate; with a newer
      // time it is a new stream (the server restarted and counts from 0 again).
      if (frame.time <= this.latest.time) return;
      this.streamReset();
    }
    this.latest = frame;
    this.addTrailPoint(frame);
    const breakBefore = this.streamBreak && this.altitude.length > 0 ? ({ breakBefore: true } as const) : {};
    this.streamBreak = false;
    pushSample(this.altitude, { time: frame.time, value: frame.position.z, ...breakBefore });
    pushSample(this.battery, { time: frame.time, value: frame.battery, ...breakBefore });
  }

  /** The server said the drone's stream started again (`stream_reset`): the trail starts over, the charts break before the next frame. */
  streamReset(): void {
    this.trail.length = 0;
    this.streamBreak = true;
  }

  private addTrailPoint(frame: TelemetryData): void {
    const { x, y } = frame.position;
    const last = this.trail[this.trail.length - 1];
    if (last && Math.hypot(x - last.x, y - last.y) < trailMinStepMetres) return;
    this.trail.push({ x, y });
    if (this.trail.length > maxTrailPoints) this.trail.splice(0, this.trail.length - maxTrailPoints);
  }

  /** Forgets the trail (the pilot asked for a clean map). */
  clearTrail(): void {
    this.trail.length = 0;
  }
}

/** Appends a sample and drops those older than the sparkline window (or from a stream in the future after a clock jump). */
function pushSample(samples: Sample[], sample: Sample): void {
  const last = samples[samples.length - 1];
  if (last && sample.time < last.time) samples.length = 0;
  samples.push(sample);
  const oldest = sample.time - sparklineWindowMs;
  let drop = 0;
  while (drop < samples.length && samples[drop]!.time < oldest) drop++;
  if (drop > 0) samples.splice(0, drop);
}

/** Every drone's history, created on first sight. */
export class FleetHistory {
  private readonly drones = new Map<string, DroneHistory>();

  of(drone: string): DroneHistory {
    let history = this.drones.get(drone);
    if (!history) {
      history = new DroneHistory();
      this.drones.set(drone, history);
    }
    return history;
  }

  add(frame: TelemetryData): DroneHistory {
    const history = this.of(frame.drone);
    history.add(frame);
    return history;
  }

  /** Latest frame of every drone but `except`, for drawing the rest of the fleet faintly. */
  others(except: string): TelemetryData[] {
    const frames: TelemetryData[] = [];
    for (const [id, history] of this.drones) if (id !== except && history.latest) frames.push(history.latest);
    return frames;
  }
}
