/**
 * Whether a command is accepted, and what accepting it does to the drone.
 *
 * Owns the acceptance rules (state gates, argument ranges, geofence) and the
 * target each command computes. Checks run in a fixed order so a command
 * wrong in several ways always gets the same answer: flight-state gates
 * first, then argument ranges, then where the target would be. Motion over
 * time is flight.ts's job; nothing here advances the clock.
 */
import { settle } from "./flight.ts";
import { formatMetres, geofenceViolation, minimumMoveAltitudeMetres } from "./geofence.ts";
import { headingUnitVector, normalizeHeading } from "./geometry.ts";
import { changeState, failTask, finishTask } from "./transitions.ts";
import type {
  CommandRejectionCode,
  CommandResult,
  DroneCommand,
  DroneEvent,
  DroneState,
  DroneTask,
  FlightState,
  MoveDirection,
  Vector3,
} from "./types.ts";

/** What applyCommand returns: the next drone, the answer, and what happened. */
export interface CommandOutcome {
  drone: DroneState;
  result: CommandResult;
  events: DroneEvent[];
}

interface Rejection {
  code: CommandRejectionCode;
  message: string;
  field?: string;
}

/** Bearing of each horizontal move relative to the heading, degrees clockwise. */
const moveBearingOffsetDegrees: Record<"forward" | "right" | "back" | "left", number> = {
  forward: 0,
  right: 90,
  back: 180,
  left: -90,
};

/** The largest turn cw/ccw accepts, degrees: one full circle. */
const maxTurnDegrees = 360;

/**
 * How long one velocity command flies, seconds: the dead-man hold. A pilot
 * holding a key or a stick sends velocity again well within it (the
 * dashboard every 250 ms) and the drone flies on; when the updates stop, the
 * drone stops at most this long after the last one, as an autopilot's guided
 * velocity target times out.
 */
export const velocityHoldSeconds = 1;

/**
 * Applies one pilot command. Pure: returns a new drone and never mutates the
 * one given; a rejected command returns the very same drone object.
 *
 * Move, turn and goto targets are computed from the drone's current position
 * and heading, not from the target of a move still in progress: the pilot
 * sees where the drone is, so "forward 10" means 10 m from there.
 *
 * `token` is the caller's correlation number: command_done / command_failed
 * for this command carry it. Instant commands (speed, hover, emergency)
 * report command_done among the returned events.
 *
 * @example
 * const { drone, result, events } = applyCommand(hovering, { name: "forward", distance: 10 }, 7);
 */
export function applyCommand(drone: DroneState, command: DroneCommand, token: number): CommandOutcome {
  const rejection = gateByState(drone, command) ?? checkArguments(drone, command);
  if (rejection !== null) return reject(drone, rejection, []);

  const events: DroneEvent[] = [];
  const { position, heading } = drone;
  switch (command.name) {
    case "takeoff": {
      const cleared: DroneState = { ...drone, flags: { ...drone.flags, emergencyStopped: false } };
      const target = { ...position, z: drone.limits.takeoffAltitudeMetres, heading };
      return accept(startTask(cleared, "taking_off", token, command, target, 0, events), events);
    }
    case "land":
      return accept(startTask(drone, "landing", token, command, { ...position, z: 0, heading }, 0, events), events);
    case "rth":
      return accept(startTask(drone, "returning", token, command, { x: 0, y: 0, z: 0, heading }, 0, events), events);
    case "hover": {
      const next = changeState(failTask(drone, "superseded by hover", events), "hovering", events);
      events.push({ type: "command_done", token });
      return accept(next, events);
    }
    case "speed":
      // Applies to the move in progress too, which is neither superseded nor restarted.
      events.push({ type: "command_done", token });
      return accept({ ...drone, speedLimit: command.metresPerSecond }, events);
    case "emergency": {
      let next = drone;
      if (drone.state === "landed") {
        // Motors are already off; record the stop so telemetry shows it.
        next = { ...drone, flags: { ...drone.flags, emergencyStopped: true } };
      } else if (drone.state !== "emergency") {
        next = changeState(failTask(drone, "emergency stop", events), "emergency", events);
      }
      events.push({ type: "command_done", token });
      return accept(next, events);
    }
    case "cw":
    case "ccw": {
      const turn = command.name === "cw" ? command.degrees : -command.degrees;
      const target = { ...position, heading: normalizeHeading(heading + turn) };
      return accept(startTask(drone, "moving", token, command, target, turn, events), events);
    }
    case "velocity": {
      const end = velocityTarget(drone, command);
      const fence = geofenceViolation(end, drone.limits, drone.boundary, position);
      if (fence !== null) {
        return reject(drone, { code: "geofence", message: fence }, [{ type: "geofence", command, reason: fence }]);
      }
      const turn = command.yawRate * velocityHoldSeconds;
      const target = { ...end, heading: normalizeHeading(heading + turn) };
      const rates = { horizontal: Math.hypot(command.forward, command.right), vertical: Math.abs(command.up), yaw: Math.abs(command.yawRate) };
      // A velocity that replaces a velocity did its job until then: done, not failed.
      const previous = drone.task?.command.name === "velocity" ? finishTask(drone, events) : drone;
      return accept(withRates(startTask(previous, "moving", token, command, target, turn, events), rates), events);
    }
    case "goto":
    case "up":
    case "down":
    case "left":
    case "right":
    case "forward":
    case "back": {
      const end = command.name === "goto" ? { x: command.x, y: command.y, z: command.z } : moveTarget(drone, command);
      const fence = geofenceViolation(end, drone.limits, drone.boundary, position);
      if (fence !== null) {
        return reject(drone, { code: "geofence", message: fence }, [{ type: "geofence", command, reason: fence }]);
      }
      return accept(startTask(drone, "moving", token, command, { ...end, heading }, 0, events), events);
    }
  }
  // Unreachable for well-typed callers; a malformed wire message must still get an answer.
  const name = String((command as { name?: unknown }).name);
  return reject(drone, { code: "out_of_range", field: "name", message: `unknown command: received ${name}` }, []);
}

/** Where a relative move ends, from the current position and heading. */
function moveTarget(drone: DroneState, command: { name: MoveDirection; distance: number }): Vector3 {
  const { position, heading } = drone;
  if (command.name === "up") return { ...position, z: position.z + command.distance };
  if (command.name === "down") return { ...position, z: position.z - command.distance };
  const direction = headingUnitVector(normalizeHeading(heading + moveBearingOffsetDegrees[command.name]));
  return {
    x: position.x + direction.x * command.distance,
    y: position.y + direction.y * command.distance,
    z: position.z,
  };
}

/** Where a velocity command ends: its rates for `velocityHoldSeconds`, never below the move floor. */
export function velocityTarget(drone: Pick<DroneState, "position" | "heading">, command: { forward: number; right: number; up: number }): Vector3 {
  const { position, heading } = drone;
  const ahead = headingUnitVector(normalizeHeading(heading));
  const right = headingUnitVector(normalizeHeading(heading + 90));
  const z = position.z + command.up * velocityHoldSeconds;
  return {
    x: position.x + (ahead.x * command.forward + right.x * command.right) * velocityHoldSeconds,
    y: position.y + (ahead.y * command.forward + right.y * command.right) * velocityHoldSeconds,
    z: command.up < 0 ? Math.min(position.z, Math.max(z, minimumMoveAltitudeMetres)) : z,
  };
}

/** The drone whose task was just started, flying it at `rates`. */
function withRates(drone: DroneState, rates: NonNullable<DroneTask["rates"]>): DroneState {
  return drone.task === null ? drone : { ...drone, task: { ...drone.task, rates } };
}

/** Replaces the task in progress (reporting it superseded) and enters `state`. */
function startTask(
  drone: DroneState,
  state: FlightState,
  token: number,
  command: DroneCommand,
  target: Vector3 & { heading: number },
  yawRemainingDegrees: number,
  events: DroneEvent[],
): DroneState {
  const next = changeState(failTask(drone, `superseded by ${command.name}`, events), state, events);
  return { ...next, task: { token, command, target, yawRemainingDegrees } };
}

function accept(drone: DroneState, events: DroneEvent[]): CommandOutcome {
  const settled = settle(drone, events);
  // Settling may already have finished the task (land at z = 0); the answer
  // still names where it ended. Without a task, the target is where the drone is.
  const place = settled.task?.target ?? drone.task?.target ?? { ...settled.position, heading: settled.heading };
  const target = { x: place.x, y: place.y, z: place.z, heading: place.heading, speedLimit: settled.speedLimit };
  return { drone: settled, result: { accepted: true, target }, events };
}

function reject(drone: DroneState, rejection: Rejection, events: DroneEvent[]): CommandOutcome {
  return { drone, result: { accepted: false, ...rejection }, events };
}

/** Refusals that depend only on the flight state and flags, not on arguments. */
function gateByState(drone: DroneState, command: DroneCommand): Rejection | null {
  const { name } = command;
  const { state, battery, limits } = drone;
  if (name === "emergency") return null;
  if (state === "emergency") {
    return {
      code: "emergency",
      message: `${name} refused: the motors are cut by an emergency stop; wait until the drone has landed`,
    };
  }
  if (name === "speed") return null;
  if (name === "takeoff") {
    if (state !== "landed") return { code: "already_flying", message: `takeoff needs the drone landed; it is ${state}` };
    if (battery < limits.lowBatteryPercent) {
      return {
        code: "battery_low",
        message: `battery ${formatPercent(battery)}% is below the ${formatPercent(limits.lowBatteryPercent)}% needed to take off`,
      };
    }
    return null;
  }
  if (state === "landed") {
    return { code: "not_flying", message: `${name} needs the drone airborne; it is landed: send takeoff first` };
  }
  if (name === "land") return null;
  if (drone.flags.criticalBattery) {
    return {
      code: "battery_low",
      message: `battery is critical (${formatPercent(battery)}%): only land and emergency are accepted`,
    };
  }
  if (name === "hover" || name === "rth") return null;
  if (state === "taking_off") {
    return { code: "busy", message: `${name} refused: the drone is taking off; wait until it is hovering` };
  }
  return null;
}

/** Argument ranges, and the move floor: targets the drone must never be sent to. */
function checkArguments(drone: DroneState, command: DroneCommand): Rejection | null {
  switch (command.name) {
    case "speed": {
      const max = drone.limits.maxSpeedMetresPerSecond;
      const value = command.metresPerSecond;
      if (isFiniteNumber(value) && value > 0 && value <= max) return null;
      return outOfRange("speed", `speed must be greater than 0 and at most ${max} m/s: received ${String(value)}`);
    }
    case "cw":
    case "ccw": {
      const value = command.degrees;
      if (isFiniteNumber(value) && value > 0 && value <= maxTurnDegrees) return null;
      return outOfRange(
        "degrees",
        `${command.name} degrees must be greater than 0 and at most ${maxTurnDegrees}: received ${String(value)}`,
      );
    }
    case "up":
    case "down":
    case "left":
    case "right":
    case "forward":
    case "back": {
      const value = command.distance;
      if (!isFiniteNumber(value) || value <= 0) {
        return outOfRange("distance", `${command.name} distance must be a positive number of metres: received ${String(value)}`);
      }
      const endAltitude = drone.position.z - value;
      if (command.name === "down" && endAltitude < minimumMoveAltitudeMetres) {
        return outOfRange(
          "distance",
          `down ${formatMetres(value)} from ${formatMetres(drone.position.z)} m would end at ` +
            `${formatMetres(endAltitude)} m, below the ${minimumMoveAltitudeMetres} m minimum: use land to land`,
        );
      }
      return null;
    }
    case "velocity": {
      const { limits } = drone;
      for (const field of ["forward", "right", "up", "yawRate"] as const) {
        if (!isFiniteNumber(command[field])) return outOfRange(field, `velocity ${field} must be a finite number: received ${String(command[field])}`);
      }
      const horizontal = Math.hypot(command.forward, command.right);
      if (horizontal > limits.maxSpeedMetresPerSecond) {
        return outOfRange("forward", `velocity's horizontal speed ${horizontal.toFixed(1)} m/s is above the ${limits.maxSpeedMetresPerSecond} m/s maximum`);
      }
      const verticalMax = command.up >= 0 ? limits.climbRateMetresPerSecond : limits.descentRateMetresPerSecond;
      if (Math.abs(command.up) > verticalMax) {
        return outOfRange("up", `velocity up must be from -${limits.descentRateMetresPerSecond} to ${limits.climbRateMetresPerSecond} m/s: received ${command.up}`);
      }
      if (Math.abs(command.yawRate) > limits.yawRateDegreesPerSecond) {
        return outOfRange("yawRate", `velocity yaw rate must be from -${limits.yawRateDegreesPerSecond} to ${limits.yawRateDegreesPerSecond} deg/s: received ${command.yawRate}`);
      }
      return null;
    }
    case "goto": {
      for (const field of ["x", "y", "z"] as const) {
        const value = command[field];
        if (!isFiniteNumber(value)) {
          return outOfRange(field, `goto ${field} must be a finite number of metres: received ${String(value)}`);
        }
      }
      if (command.z >= minimumMoveAltitudeMetres) return null;
      return outOfRange(
        "z",
        `goto altitude ${formatMetres(command.z)} m is below the ${minimumMoveAltitudeMetres} m minimum: use land to land`,
      );
    }
    default:
      return null;
  }
}

function outOfRange(field: string, message: string): Rejection {
  return { code: "out_of_range", field, message };
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

function formatPercent(percent: number): string {
  return String(Math.round(percent * 100) / 100);
}
