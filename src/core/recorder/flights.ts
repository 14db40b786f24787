/**
 * Flight segmentation: which frames of a vehicle make a flight, and what the
 * flight's summary says (start, end and why, highest altitude, distance
 * flown, battery used, who piloted).
 *
 * A flight opens at the first frame that is not `landed` and closes at the
 * first `landed` frame after it (reason `landed`, or `emergency` when the
 * motors were cut on the way down), or at once when the vehicle's link is
 * lost (`link_lost`; a vehicle still airborne when the link comes back opens
 * a new flight). Pure: frames and times in, summaries out; no clock, no I/O.
 */
import type { FlightState, Vector3 } from "../drone/types.ts";

/** What segmentation reads of a frame. */
export interface FlightSample {
  /** Wall-clock milliseconds. */
  time: number;
  state: FlightState;
  /** Metres from home, z up. */
  position: Vector3;
  /** Percent. */
  battery: number;
  pilot: string | null;
  /** The pilot's signed-in user (a JWT's `sub`), or null. */
  pilotUser: string | null;
  emergencyStopped: boolean;
}

/** Why a flight ended. */
export type FlightEndReason = "landed" | "emergency" | "link_lost";

/** A flight's summary, open (`endedAt` null) or closed. */
export interface FlightSummary {
  id: string;
  drone: string;
  startedAt: number;
  endedAt: number | null;
  endReason: FlightEndReason | null;
  /** Highest z seen, metres. */
  maxAltitude: number;
  /** Horizontal path length, metres. */
  distance: number;
  batteryStart: number;
  batteryEnd: number;
  /** The first pilot seen during the flight, or null. */
  pilot: string | null;
  /** That pilot's signed-in user, when it had one. */
  pilotUser: string | null;
  /** Frames observed during the flight. */
  frames: number;
}

/** What one observation changed: the flight it belongs to (null on the ground) and the one it closed, if any. */
export interface SegmentStep {
  flight: FlightSummary | null;
  ended: FlightSummary | null;
}

/** A flight id: the vehicle and the start in milliseconds, e.g. `alpha-1767225600000`. */
export function flightId(drone: string, startedAt: number): string {
  return `${drone}-${Math.round(startedAt)}`;
}

/** Segments one vehicle's frames into flights. */
export class FlightSegmenter {
  private open: FlightSummary | null = null;
  private last: Vector3 | null = null;
  private emergency = false;

  constructor(readonly drone: string) {}

  /** The flight in progress, or null on the ground. */
  get current(): FlightSummary | null {
    return this.open;
  }

  /** Carries on a flight recorded before a restart (its summary as stored). */
  resume(flight: FlightSummary, position: Vector3): void {
    this.open = { ...flight, endedAt: null, endReason: null };
    this.last = { ...position };
  }

  /** One frame: opens, updates or closes the flight. */
  observe(sample: FlightSample): SegmentStep {
    const airborne = sample.state !== "landed";
    let ended: FlightSummary | null = null;
    if (this.open === null && airborne) this.start(sample);
    const flight = this.open;
    if (flight === null) return { flight: null, ended: null };
    this.update(flight, sample);
    if (!airborne) ended = this.close(sample.time, this.emergency ? "emergency" : "landed");
    return { flight: this.open, ended };
  }

  /** The link was lost at `time`: the flight in progress, if any, closes. */
  linkLost(time: number): FlightSummary | null {
    return this.open === null ? null : this.close(time, "link_lost");
  }

  private start(sample: FlightSample): void {
    this.open = {
      id: flightId(this.drone, sample.time),
      drone: this.drone,
      startedAt: sample.time,
      endedAt: null,
      endReason: null,
      maxAltitude: sample.position.z,
      distance: 0,
      batteryStart: sample.battery,
      batteryEnd: sample.battery,
      pilot: sample.pilot,
      pilotUser: sample.pilot === null ? null : sample.pilotUser,
      frames: 0,
    };
    this.last = null;
    this.emergency = false;
  }

  private update(flight: FlightSummary, sample: FlightSample): void {
    const { position } = sample;
    if (this.last !== null) flight.distance += Math.hypot(position.x - this.last.x, position.y - this.last.y);
    this.last = { ...position };
    flight.maxAltitude = Math.max(flight.maxAltitude, position.z);
    flight.batteryEnd = sample.battery;
    if (flight.pilot === null && sample.pilot !== null) {
      flight.pilot = sample.pilot;
      flight.pilotUser = sample.pilotUser;
    }
    flight.frames++;
    if (sample.emergencyStopped) this.emergency = true;
  }

  private close(time: number, reason: FlightEndReason): FlightSummary {
    const flight = { ...this.open!, endedAt: time, endReason: reason };
    this.open = null;
    this.last = null;
    this.emergency = false;
    return flight;
  }
}
