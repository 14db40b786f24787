/**
 * The drone flight simulator's public face: create a drone, give it commands,
 * advance time.
 *
 * Pure throughout: state in, command or dt in, new state and events out. It
 * never reads the clock, never does I/O and never uses randomness, which is
 * what makes it testable and lets another node take a drone over from its
 * last state. The server, the protocol and the tests import from here; the
 * rules live in the modules re-exported below.
 */
import { boundaryProblem, insideBoundary, type Point2 } from "./boundary.ts";
import { applyCommand } from "./commands.ts";
import { horizontalDistanceFromHome } from "./geometry.ts";
import { resolveLimits } from "./limits.ts";
import type { DroneFlags, DroneLimits, DroneState, FlightState, Vector3 } from "./types.ts";

export { applyCommand, type CommandOutcome } from "./commands.ts";
export { emergencyFallMetresPerSecond, tick } from "./flight.ts";
export { defaultLimits } from "./limits.ts";
export { minimumMoveAltitudeMetres } from "./geofence.ts";
export {
  chargePercentPerSecond,
  chargingPadRadiusMetres,
  climbDrainPercentPerSecond,
  horizontalDrainPercentPerSecondPerMetrePerSecond,
  hoverDrainPercentPerSecond,
} from "./battery.ts";

/**
 * A new drone: landed at home, heading north, full battery, default speed.
 *
 * @param boundary the geofence polygon in metres from home, or null for the circle alone; it must hold home.
 * @param limits overrides for defaultLimits; each must be a positive finite
 *   number, default speed at most max speed, takeoff altitude at most the
 *   ceiling, critical battery below low battery.
 * @throws {RangeError} naming the field, the rule and the value received.
 * @example
 * const drone = createDrone("alpha", { maxAltitudeMetres: 60 });
 */
export function createDrone(id: string, limits: Partial<DroneLimits> = {}, boundary: readonly Point2[] | null = null): DroneState {
  if (typeof id !== "string" || id.length === 0) {
    throw new RangeError(`'id' must be a non-empty string: received ${JSON.stringify(id)}`);
  }
  const resolved = resolveLimits(limits);
  const problem = boundary === null ? null : boundaryProblem(boundary);
  if (problem !== null) throw new RangeError(`'boundary': ${problem}`);
  if (boundary !== null && !insideBoundary(boundary, { x: 0, y: 0 })) throw new RangeError("'boundary' must hold home (0, 0): a drone must be able to take off and come back inside its geofence polygon");
  return {
    id,
    state: "landed",
    position: { x: 0, y: 0, z: 0 },
    velocity: { x: 0, y: 0, z: 0 },
    heading: 0,
    battery: 100,
    speedLimit: resolved.defaultSpeedMetresPerSecond,
    flags: { lowBattery: false, criticalBattery: false, emergencyStopped: false, failsafe: false },
    task: null,
    limits: resolved,
    boundary,
    flightSeconds: 0,
  };
}

/** True unless the drone is on the ground (an emergency fall counts as airborne). */
export function isAirborne(drone: DroneState): boolean {
  return drone.state !== "landed";
}

/** Horizontal distance from home, metres: what the geofence radius limits. */
export function distanceFromHome(drone: DroneState): number {
  return horizontalDistanceFromHome(drone.position);
}

/**
 * The drone with its failsafe flag set or cleared. The lease manager decides
 * when a pilot has gone quiet; the model only carries the flag for telemetry.
 */
export function setFailsafe(drone: DroneState, on: boolean): DroneState {
  if (drone.flags.failsafe === on) return drone;
  return { ...drone, flags: { ...drone.flags, failsafe: on } };
}

/** What another node saw of a drone last: the flight-relevant part of a telemetry frame. */
export interface DroneSnapshot {
  state: FlightState;
  position: Vector3;
  velocity: Vector3;
  heading: number;
  battery: number;
  flags: DroneFlags;
}

/**
 * A drone taken over from its last snapshot (another node simulated it and
 * stopped). Position, battery and flags carry on. The command in progress
 * is not in a snapshot, so the drone does the safe thing for its state: one
 * landing or returning home keeps doing that, one in an emergency keeps
 * falling, and one taking off, hovering or moving holds position.
 */
export function resumeDrone(id: string, snapshot: DroneSnapshot, limits: Partial<DroneLimits> = {}): DroneState {
  const fresh = createDrone(id, limits);
  const drone: DroneState = {
    ...fresh,
    state: snapshot.state,
    position: { ...snapshot.position },
    velocity: { ...snapshot.velocity },
    heading: snapshot.heading,
    battery: snapshot.battery,
    flags: { ...snapshot.flags },
  };
  switch (snapshot.state) {
    case "landed":
      return { ...drone, velocity: { x: 0, y: 0, z: 0 } };
    case "emergency":
      return drone;
    case "landing":
      return resumeWith(drone, "land");
    case "returning":
      return resumeWith(drone, "rth");
    case "taking_off":
    case "hovering":
    case "moving":
      return resumeWith({ ...drone, state: "hovering" }, "hover");
  }
}

/** Applies an internal command (no one awaits its completion); keeps the drone as is if refused. */
function resumeWith(drone: DroneState, name: "land" | "rth" | "hover"): DroneState {
  const outcome = applyCommand(drone, { name }, 0);
  return outcome.result.accepted ? outcome.drone : drone;
}
