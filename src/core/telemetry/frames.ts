/**
 * What a telemetry frame says: a vehicle's state and the fleet's view of it
 * (failsafe, pilot) as the frame's data, rounded so frames stay short and
 * stable. Serialising it once and wrapping it (`protocol/messages.ts`
 * templates) is the runtime's job; pure: no sockets, no clock (the caller
 * says what time it is on both its clocks).
 */
import type { VehicleState } from "../vehicle/vehicle.ts";
import type { TelemetryData } from "../../../protocol/index.ts";

/** Rounds to centimetres (positions) or hundredths, keeping frames short and stable. */
function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Rounds degrees of latitude or longitude to 1e-7 (about a centimetre), MAVLink's own resolution. */
function roundDegrees(value: number): number {
  return Math.round(value * 1e7) / 1e7;
}

/** When a frame is made: Unix milliseconds for the frame, and seconds on the monotonic clock the vehicle's times are on. */
export interface FrameTime {
  wallMs: number;
  nowSeconds: number;
}

/** Builds a frame's content from a vehicle's state and the fleet's view of it (failsafe, pilot). */
export function telemetryData(id: string, vehicle: VehicleState, failsafe: boolean, seq: number, at: FrameTime, pilot: string | null): TelemetryData {
  const { position, velocity, flags, target, geo, link } = vehicle;
  const lastHeard = link.heardAt === null ? null : Math.round(at.wallMs - Math.max(0, at.nowSeconds - link.heardAt) * 1000);
  return {
    drone: id,
    seq,
    time: Math.round(at.wallMs),
    state: vehicle.state,
    lat: geo === null ? null : roundDegrees(geo.lat),
    lon: geo === null ? null : roundDegrees(geo.lon),
    altitudeMsl: geo === null ? null : round2(geo.altitudeMsl),
    position: { x: round2(position.x), y: round2(position.y), z: round2(position.z) },
    velocity: { x: round2(velocity.x), y: round2(velocity.y), z: round2(velocity.z) },
    heading: round2(vehicle.heading),
    speed: round2(Math.hypot(velocity.x, velocity.y)),
    battery: round2(vehicle.battery),
    voltage: vehicle.voltage === null ? null : round2(vehicle.voltage),
    armed: vehicle.armed,
    mode: vehicle.mode,
    gps: { fix: vehicle.gps.fix, satellites: vehicle.gps.satellites },
    link: { status: link.up ? "up" : "lost", lastHeard },
    flags: { lowBattery: flags.lowBattery, criticalBattery: flags.criticalBattery, emergencyStopped: flags.emergencyStopped, failsafe },
    target: target ? { x: round2(target.x), y: round2(target.y), z: round2(target.z), heading: round2(target.heading) } : null,
    pilot,
  };
}
