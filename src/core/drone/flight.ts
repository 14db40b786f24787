/**
 * Flight physics and the automatic rules: how far the drone moves in a time
 * step, when a phase ends, and what the battery alarms do.
 *
 * Owns `tick` and `settle`. A tick is cut into segments at every moment
 * something changes (a component reaches its goal, the battery reaches a
 * threshold), so one 1 s tick and ten 0.1 s ticks take the same path (up to
 * floating-point rounding) and a large step cannot overshoot. Pure: time enters only as `dtSeconds`; no clock,
 * no I/O, no randomness. Command acceptance lives in commands.ts.
 */
import {
  advanceBattery,
  batteryTrend,
  criticalBatteryReached,
  lowBatteryReached,
  rearmBatteryFlags,
  secondsUntilBatteryStop,
} from "./battery.ts";
import { normalizeHeading } from "./geometry.ts";
import { changeState, failTask, finishTask } from "./transitions.ts";
import type { DroneEvent, DroneState, Vector3 } from "./types.ts";

/** Fall speed with the motors cut, m/s: a bounded, predictable stand-in for free fall. */
export const emergencyFallMetresPerSecond = 10;

/**
 * Upper bound on segments in one tick. Each segment ends at a goal reached or
 * a threshold crossed, of which a tick has a handful; hitting this means a
 * phase failed to make progress, which is a bug worth failing loudly on.
 */
const maxSegmentsPerTick = 1000;

/**
 * Distance from a goal that counts as arrived, metres. Summing steps such as
 * 0.1 s × 3 m/s leaves residues around 1e-15 m; without this slack a move
 * would need an extra tick to cover them. Arrival snaps exactly onto the goal.
 */
const arrivalToleranceMetres = 1e-9;
/** Turn left that counts as done, degrees; same reasoning as arrivalToleranceMetres. */
const arrivalToleranceDegrees = 1e-9;

/** Upper bound on instantaneous transitions in a row (e.g. returning → landing → landed). */
const maxSettleSteps = 16;

/** What the current phase of flight is heading for, and how fast. */
interface Leg {
  goal: Vector3;
  /** Metres per second along the straight horizontal line to the goal. */
  horizontalSpeed: number;
  /** Metres per second towards goal.z, up or down. */
  verticalSpeed: number;
  /** Signed degrees still to turn, positive clockwise. */
  yawRemainingDegrees: number;
  /** Degrees per second of that turn. */
  yawRate: number;
  /** Heading to end on once the turn is done. */
  headingGoal: number;
}

/** Seconds each component of a leg still needs; 0 when that component is done. */
interface LegTimes {
  horizontalSeconds: number;
  verticalSeconds: number;
  yawSeconds: number;
}

/** The leg the drone is flying now, derived from its state and task. */
function currentLeg(drone: DroneState): Leg {
  const { position, limits } = drone;
  const still: Leg = {
    goal: position,
    horizontalSpeed: 0,
    verticalSpeed: 0,
    yawRemainingDegrees: 0,
    yawRate: limits.yawRateDegreesPerSecond,
    headingGoal: drone.heading,
  };
  switch (drone.state) {
    case "landed":
    case "hovering":
      return still;
    case "taking_off":
      return {
        ...still,
        goal: { ...position, z: limits.takeoffAltitudeMetres },
        verticalSpeed: limits.climbRateMetresPerSecond,
      };
    case "landing":
      return { ...still, goal: { ...position, z: 0 }, verticalSpeed: limits.descentRateMetresPerSecond };
    case "emergency":
      return { ...still, goal: { ...position, z: 0 }, verticalSpeed: emergencyFallMetresPerSecond };
    case "returning": {
      // Climb first, then fly home level: the climb clears obstacles on the way.
      const cruiseAltitude = Math.min(
        Math.max(position.z, limits.returnAltitudeMetres),
        limits.maxAltitudeMetres,
      );
      if (cruiseAltitude - position.z > arrivalToleranceMetres) {
        return { ...still, goal: { ...position, z: cruiseAltitude }, verticalSpeed: limits.climbRateMetresPerSecond };
      }
      const level = Math.max(position.z, cruiseAltitude);
      return { ...still, goal: { x: 0, y: 0, z: level }, horizontalSpeed: drone.speedLimit };
    }
    case "moving": {
      const task = drone.task;
      if (task === null) return still; // not reachable: moving always has a task
      return {
        goal: { x: task.target.x, y: task.target.y, z: task.target.z },
        horizontalSpeed: task.rates?.horizontal ?? drone.speedLimit,
        verticalSpeed:
          task.rates?.vertical ?? (task.target.z > position.z ? limits.climbRateMetresPerSecond : limits.descentRateMetresPerSecond),
        yawRemainingDegrees: task.yawRemainingDegrees,
        yawRate: task.rates?.yaw ?? limits.yawRateDegreesPerSecond,
        headingGoal: task.target.heading,
      };
    }
  }
}

function legTimes(drone: DroneState, leg: Leg): LegTimes {
  const { position } = drone;
  const horizontal = Math.hypot(leg.goal.x - position.x, leg.goal.y - position.y);
  const vertical = Math.abs(leg.goal.z - position.z);
  const yaw = Math.abs(leg.yawRemainingDegrees);
  return {
    horizontalSeconds: horizontal <= arrivalToleranceMetres ? 0 : horizontal / leg.horizontalSpeed,
    verticalSeconds: vertical <= arrivalToleranceMetres ? 0 : vertical / leg.verticalSpeed,
    yawSeconds: yaw <= arrivalToleranceDegrees ? 0 : yaw / leg.yawRate,
  };
}

/** Velocity while flying `leg`, m/s; each component is zero once it is done. */
function legVelocity(drone: DroneState, leg: Leg, times: LegTimes): Vector3 {
  const { position } = drone;
  let x = 0;
  let y = 0;
  if (times.horizontalSeconds > 0) {
    const dx = leg.goal.x - position.x;
    const dy = leg.goal.y - position.y;
    const distance = Math.hypot(dx, dy);
    x = (dx / distance) * leg.horizontalSpeed;
    y = (dy / distance) * leg.horizontalSpeed;
  }
  const z = times.verticalSeconds > 0 ? Math.sign(leg.goal.z - position.z) * leg.verticalSpeed : 0;
  return { x, y, z };
}

function legDone(drone: DroneState, leg: Leg): boolean {
  const times = legTimes(drone, leg);
  return times.horizontalSeconds === 0 && times.verticalSeconds === 0 && times.yawSeconds === 0;
}

/** The drone placed exactly on the leg's end, so a finished command ends precisely on its target. */
function snapToLegEnd(drone: DroneState, leg: Leg): DroneState {
  const { goal } = leg;
  return {
    ...drone,
    position: { x: goal.x, y: goal.y, z: goal.z },
    heading: leg.yawRemainingDegrees === 0 ? drone.heading : leg.headingGoal,
    task: drone.task?.yawRemainingDegrees ? { ...drone.task, yawRemainingDegrees: 0 } : drone.task,
  };
}

/** The drone's velocity right now, m/s: zero when hovering or landed. */
function instantaneousVelocity(drone: DroneState): Vector3 {
  const leg = currentLeg(drone);
  return legVelocity(drone, leg, legTimes(drone, leg));
}

/**
 * Moves the drone along `leg` for `dtSeconds`. A component whose time is used
 * up is set exactly to its goal, which is what guarantees no overshoot and a
 * final position equal to the target.
 */
function advance(drone: DroneState, leg: Leg, times: LegTimes, velocity: Vector3, dtSeconds: number): DroneState {
  const { position } = drone;
  const { goal } = leg;
  let x = position.x + velocity.x * dtSeconds;
  let y = position.y + velocity.y * dtSeconds;
  let z = position.z + velocity.z * dtSeconds;
  // A component whose time is used up, or left within rounding of its goal, lands on it.
  if (dtSeconds >= times.horizontalSeconds || Math.hypot(goal.x - x, goal.y - y) <= arrivalToleranceMetres) {
    x = goal.x;
    y = goal.y;
  }
  if (dtSeconds >= times.verticalSeconds || Math.abs(goal.z - z) <= arrivalToleranceMetres) z = goal.z;

  let heading = drone.heading;
  let task = drone.task;
  if (leg.yawRemainingDegrees !== 0 && task !== null) {
    const turned = Math.sign(leg.yawRemainingDegrees) * leg.yawRate * dtSeconds;
    let yawRemainingDegrees = leg.yawRemainingDegrees - turned;
    if (dtSeconds >= times.yawSeconds || Math.abs(yawRemainingDegrees) <= arrivalToleranceDegrees) {
      heading = leg.headingGoal;
      yawRemainingDegrees = 0;
    } else {
      heading = normalizeHeading(heading + turned);
    }
    task = { ...task, yawRemainingDegrees };
  }

  const battery = advanceBattery(drone.battery, batteryTrend(drone, velocity), dtSeconds);
  const flightSeconds = drone.state === "landed" ? drone.flightSeconds : drone.flightSeconds + dtSeconds;
  return { ...drone, position: { x, y, z }, heading, task, battery, flightSeconds };
}

/** One instantaneous rule, or the same drone object when none applies. */
function settleOnce(drone: DroneState, events: DroneEvent[]): DroneState {
  if (lowBatteryReached(drone)) {
    events.push({ type: "low_battery", battery: drone.battery });
    let next: DroneState = { ...drone, flags: { ...drone.flags, lowBattery: true } };
    // Already heading down or home: the alarm is reported but nothing to redirect.
    if (next.state !== "returning" && next.state !== "landing") {
      next = failTask(next, "interrupted by low-battery return", events);
      next = changeState(next, "returning", events);
    }
    return next;
  }
  if (criticalBatteryReached(drone)) {
    events.push({ type: "critical_battery", battery: drone.battery });
    let next: DroneState = { ...drone, flags: { ...drone.flags, criticalBattery: true } };
    // A pilot's land in progress is exactly what is wanted: let it finish.
    if (next.state !== "landing") {
      next = failTask(next, "interrupted by critical-battery landing", events);
      next = changeState(next, "landing", events);
    }
    return next;
  }

  if (drone.state === "landed") {
    const flags = rearmBatteryFlags(drone);
    return flags === drone.flags ? drone : { ...drone, flags };
  }
  if (drone.state === "hovering") return drone;
  const leg = currentLeg(drone);
  if (!legDone(drone, leg)) return drone;
  const arrived = snapToLegEnd(drone, leg);

  switch (drone.state) {
    case "taking_off":
    case "moving":
      return changeState(finishTask(arrived, events), "hovering", events);
    case "returning":
      // Home at cruise altitude: the pilot's rth (if any) completes on touchdown.
      return changeState(arrived, "landing", events);
    case "landing": {
      const next = changeState(finishTask(arrived, events), "landed", events);
      events.push({ type: "landed" });
      return next;
    }
    case "emergency": {
      const next = changeState(arrived, "landed", events);
      events.push({ type: "landed" });
      return { ...next, flags: { ...next.flags, emergencyStopped: true } };
    }
  }
}

/**
 * Applies every rule that takes no time (a goal already reached, a battery
 * threshold already crossed) until none applies, then sets the velocity to
 * what the drone is doing now. applyCommand runs it too, so e.g. `land` at
 * z = 0 reports `landed` at once.
 */
export function settle(drone: DroneState, events: DroneEvent[]): DroneState {
  let current = drone;
  for (let step = 0; step < maxSettleSteps; step++) {
    const next = settleOnce(current, events);
    if (next === current) return { ...current, velocity: instantaneousVelocity(current) };
    current = next;
  }
  throw new Error(
    `drone ${drone.id}: flight rules did not settle after ${maxSettleSteps} steps (state ${current.state})`,
  );
}

/**
 * Advances the drone by `dtSeconds` of simulated time.
 *
 * Deterministic and step-size independent up to floating-point rounding: the
 * step is cut wherever something changes, so any dt, however large, ends
 * exactly on targets instead of overshooting them.
 *
 * @throws {RangeError} if `dtSeconds` is not a positive finite number.
 * @example
 * let { drone, events } = tick(flying, 0.1);
 */
export function tick(drone: DroneState, dtSeconds: number): { drone: DroneState; events: DroneEvent[] } {
  if (typeof dtSeconds !== "number" || !Number.isFinite(dtSeconds) || dtSeconds <= 0) {
    throw new RangeError(`'dtSeconds' must be a positive finite number: received ${String(dtSeconds)}`);
  }
  const events: DroneEvent[] = [];
  let current = settle(drone, events);
  let remaining = dtSeconds;
  for (let segment = 0; remaining > 0; segment++) {
    if (segment >= maxSegmentsPerTick) {
      throw new Error(
        `drone ${drone.id}: tick did not finish in ${maxSegmentsPerTick} segments (state ${current.state})`,
      );
    }
    const leg = currentLeg(current);
    const times = legTimes(current, leg);
    const velocity = legVelocity(current, leg, times);
    const step = Math.min(
      remaining,
      ...[times.horizontalSeconds, times.verticalSeconds, times.yawSeconds].filter((seconds) => seconds > 0),
      secondsUntilBatteryStop(current.battery, batteryTrend(current, velocity)),
    );
    current = settle(advance(current, leg, times, velocity, step), events);
    remaining -= step;
  }
  return { drone: current, events };
}
