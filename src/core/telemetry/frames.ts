/**
 * What a telemetry frame says: a vehicle's state and the fleet's view of it
 * (failsafe, pilot) as the frame's data, rounded so frames stay short and
 * stable. Serialising it once and wrapping it (`protocol/messages.ts`
 * templates) is the runtime's job; pure: no sockets, no clock.
 */
import type { VehicleState } from "../vehicle/vehicle.ts";
import type { TelemetryData } from "../../../protocol/index.ts";

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
