/**
 * The drone model's vocabulary: states, commands, limits, events and results.
 *
 * Owns only type declarations, so the server, the wire protocol and the tests
 * can share them without pulling in any behaviour. Must not hold logic.
 *
 * Frame: x = metres east of home, y = metres north of home, z = metres above
 * home (ground is z = 0). Heading is degrees in [0, 360), 0 = north (+y),
 * 90 = east (+x), clockwise positive. Battery is percent in [0, 100].
 */
import type { Point2 } from "./boundary.ts";

/** Where the drone is in its flight cycle. Every change emits `state_changed`. */
export type FlightState =
  | "landed"
  | "taking_off"
  | "hovering"
  | "moving"
  | "landing"
  | "returning"
  | "emergency";

/** A point or velocity in the home frame, metres or metres per second. */
export interface Vector3 {
  x: number;
  y: number;
  z: number;
}

/** Moves relative to the drone's current position and heading. */
export type MoveDirection = "up" | "down" | "left" | "right" | "forward" | "back";

/** Everything a pilot can ask of a drone. */
export type DroneCommand =
  | { name: "takeoff" }
  | { name: "land" }
  | { name: "hover" }
  | { name: "rth" }
  | { name: "emergency" }
  /** `distance` in metres, > 0. */
  | { name: MoveDirection; distance: number }
  /** `degrees` > 0 and <= 360, turned in the named direction (cw 270 is not ccw 90). */
  | { name: "cw" | "ccw"; degrees: number }
  /** Absolute target in metres from home; heading is kept. */
  | { name: "goto"; x: number; y: number; z: number }
  /** New horizontal speed limit, 0 < metresPerSecond <= maxSpeedMetresPerSecond. */
  | { name: "speed"; metresPerSecond: number }
  /**
   * Fly at these rates for the next `velocityHoldSeconds` (commands.ts), then
   * stop unless another velocity command came: a dead-man hold, as an
   * autopilot's guided velocity target. `forward` and `right` are m/s
   * relative to the heading, `up` m/s, `yawRate` degrees per second clockwise.
   */
  | { name: "velocity"; forward: number; right: number; up: number; yawRate: number };

/** Performance envelope and safety thresholds of one drone. */
export interface DroneLimits {
  /** Highest speed `speed` accepts, m/s. @default 15 */
  maxSpeedMetresPerSecond: number;
  /** Horizontal speed limit a new drone starts with, m/s. @default 5 */
  defaultSpeedMetresPerSecond: number;
  /** Vertical speed going up, also for takeoff and the climb of rth, m/s. @default 3 */
  climbRateMetresPerSecond: number;
  /** Vertical speed going down, for landing and down moves, m/s. @default 2 */
  descentRateMetresPerSecond: number;
  /** Turn rate for cw/ccw, degrees per second. @default 90 */
  yawRateDegreesPerSecond: number;
  /** Altitude takeoff climbs to, metres. @default 2 */
  takeoffAltitudeMetres: number;
  /** rth climbs to max(current z, this) before flying home, never above the ceiling, metres. @default 20 */
  returnAltitudeMetres: number;
  /** Geofence ceiling, metres above home. @default 120 */
  maxAltitudeMetres: number;
  /** Geofence radius, horizontal metres from home. @default 500 */
  maxRadiusMetres: number;
  /** Reaching this while airborne triggers one return-to-home per flight, percent. @default 20 */
  lowBatteryPercent: number;
  /** Reaching this while airborne triggers an immediate landing, percent. @default 5 */
  criticalBatteryPercent: number;
}

/**
 * The pilot command in progress. Autopilot behaviour (the low-battery return,
 * the critical-battery landing) has no token and so runs with `task: null`.
 */
export interface DroneTask {
  /** The caller's correlation number, echoed in command_done / command_failed. */
  token: number;
  command: DroneCommand;
  /** Where the command ends: position in metres and heading in degrees. */
  target: Vector3 & { heading: number };
  /**
   * Turn still to do, degrees, signed: positive clockwise. Kept apart from
   * `target.heading` because cw 360 ends where it started yet must still turn.
   * Zero for commands that do not turn.
   */
  yawRemainingDegrees: number;
  /**
   * The rates this task flies at, when the command set them (velocity):
   * horizontal and vertical m/s, yaw degrees per second. Absent: the speed
   * limit, the climb and descent rates, and the yaw rate of the limits.
   */
  rates?: { horizontal: number; vertical: number; yaw: number };
}

/** Conditions telemetry reports alongside the flight state. */
export interface DroneFlags {
  /** Battery reached lowBatteryPercent this flight; the automatic return has fired. */
  lowBattery: boolean;
  /** Battery reached criticalBatteryPercent this flight; only land and emergency are accepted. */
  criticalBattery: boolean;
  /** Motors were cut by `emergency`; cleared by the next takeoff. */
  emergencyStopped: boolean;
  /** Set by the caller (the pilot lease manager) via setFailsafe; the model only carries it. */
  failsafe: boolean;
}

/** A whole drone. Treated as immutable: every model function returns a new one. */
export interface DroneState {
  id: string;
  state: FlightState;
  /** Metres from home. */
  position: Vector3;
  /** Instantaneous velocity, m/s: what the drone is doing now; zero when still. */
  velocity: Vector3;
  /** Degrees in [0, 360), 0 = north, clockwise positive. */
  heading: number;
  /** Percent in [0, 100]. */
  battery: number;
  /** Current horizontal speed limit, m/s. */
  speedLimit: number;
  flags: DroneFlags;
  /** What the pilot asked for and is still in progress, if anything. */
  task: DroneTask | null;
  limits: DroneLimits;
  /** The geofence polygon in metres from home (inside the radius and ceiling too), or null for the circle alone. */
  boundary: readonly Point2[] | null;
  /** Total time spent off the ground (emergency falls included), seconds. */
  flightSeconds: number;
}

/** Something that happened during applyCommand or tick, in the order it happened. */
export type DroneEvent =
  | { type: "command_done"; token: number }
  /** reason e.g. "superseded by land", "interrupted by low-battery return", "emergency stop". */
  | { type: "command_failed"; token: number; reason: string }
  | { type: "state_changed"; from: FlightState; to: FlightState }
  /** Once per flight, when the battery reaches lowBatteryPercent while airborne. */
  | { type: "low_battery"; battery: number }
  /** Once per flight, when the battery reaches criticalBatteryPercent while airborne. */
  | { type: "critical_battery"; battery: number }
  | { type: "landed" }
  /** Accompanies a command rejected with code "geofence". */
  | { type: "geofence"; command: DroneCommand; reason: string };

/** Why a command was refused. */
export type CommandRejectionCode =
  | "not_flying"
  | "already_flying"
  | "geofence"
  | "battery_low"
  | "emergency"
  | "busy"
  | "out_of_range";

/** The answer to one command: where it will end, or why it was refused. */
export type CommandResult =
  | { accepted: true; target: Vector3 & { heading: number; speedLimit: number } }
  | { accepted: false; code: CommandRejectionCode; message: string; field?: string };
