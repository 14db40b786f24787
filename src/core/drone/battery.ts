/**
 * Battery drain, charging and the low/critical thresholds.
 *
 * Owns every battery rate and the rule for when a threshold has been reached.
 * What the drone does about a threshold (return, land) belongs to the flight
 * rules in flight.ts; this file only answers "how fast" and "has it happened".
 */
import { horizontalDistanceFromHome } from "./geometry.ts";
import type { DroneFlags, DroneState, FlightState, Vector3 } from "./types.ts";

/** Drain with the motors holding the drone still in the air, percent per second. */
export const hoverDrainPercentPerSecond = 0.05;
/** Extra drain per m/s of horizontal speed, percent per second (so 0.01 % per metre flown). */
export const horizontalDrainPercentPerSecondPerMetrePerSecond = 0.01;
/** Extra drain while gaining altitude, percent per second, whatever the climb rate. */
export const climbDrainPercentPerSecond = 0.05;
/** Charge rate on the pad, percent per second; 80 % takes under three minutes so a demo is never stuck. */
export const chargePercentPerSecond = 0.5;
/** A landed drone charges only this close to home, horizontal metres: that is where the pad is. */
export const chargingPadRadiusMetres = 1;

const emptyPercent = 0;
const fullPercent = 100;

/**
 * True while the motors are spinning. Only then does the battery drain: a
 * landed drone is off, and an emergency stop has cut the motors.
 */
export function motorsRunning(state: FlightState): boolean {
  return state !== "landed" && state !== "emergency";
}

/**
 * How the battery changes while the drone keeps its current velocity.
 * `percentPerSecond` is signed (negative drains); `stopAtPercent` is the next
 * level at which something happens (a threshold, empty, full), so the caller
 * can end its time step there and react exactly on the threshold.
 */
export interface BatteryTrend {
  percentPerSecond: number;
  stopAtPercent: number;
}

/** The battery's rate and next stopping level for a drone moving at `velocity`. */
export function batteryTrend(drone: DroneState, velocity: Vector3): BatteryTrend {
  const { battery, flags, limits } = drone;
  if (motorsRunning(drone.state)) {
    const horizontalSpeed = Math.hypot(velocity.x, velocity.y);
    const drain =
      hoverDrainPercentPerSecond +
      horizontalDrainPercentPerSecondPerMetrePerSecond * horizontalSpeed +
      (velocity.z > 0 ? climbDrainPercentPerSecond : 0);
    let stopAtPercent = emptyPercent;
    if (!flags.lowBattery && battery > limits.lowBatteryPercent) stopAtPercent = limits.lowBatteryPercent;
    else if (!flags.criticalBattery && battery > limits.criticalBatteryPercent) {
      stopAtPercent = limits.criticalBatteryPercent;
    }
    return { percentPerSecond: -drain, stopAtPercent };
  }
  if (drone.state === "landed" && horizontalDistanceFromHome(drone.position) <= chargingPadRadiusMetres) {
    return { percentPerSecond: chargePercentPerSecond, stopAtPercent: fullPercent };
  }
  return { percentPerSecond: 0, stopAtPercent: battery };
}

/** Seconds until the battery reaches `trend.stopAtPercent`; Infinity if it never will. */
export function secondsUntilBatteryStop(battery: number, trend: BatteryTrend): number {
  const seconds = (trend.stopAtPercent - battery) / trend.percentPerSecond;
  return Number.isFinite(seconds) && seconds > 0 ? seconds : Infinity;
}

/**
 * How close to a stopping level counts as reached, percent. Ten 0.1 s steps
 * at 0.1 %/s leave residues around 1e-15 %, which must not postpone an alarm
 * by a tick.
 */
const stopTolerancePercent = 1e-9;

/**
 * The battery after `dtSeconds` on `trend`. Lands exactly on the stopping
 * level when the step reaches it (or comes within rounding of it), so a
 * threshold is never missed or postponed by floating-point residue.
 */
export function advanceBattery(battery: number, trend: BatteryTrend, dtSeconds: number): number {
  const { percentPerSecond, stopAtPercent } = trend;
  let next = battery + percentPerSecond * dtSeconds;
  const leftToStop = (stopAtPercent - next) * Math.sign(percentPerSecond);
  const reached = dtSeconds >= secondsUntilBatteryStop(battery, trend) || leftToStop <= stopTolerancePercent;
  if (percentPerSecond !== 0 && reached) next = stopAtPercent;
  return Math.min(fullPercent, Math.max(emptyPercent, next));
}

/** The low-battery return has not fired this flight and the battery has reached its threshold. */
export function lowBatteryReached(drone: DroneState): boolean {
  return (
    motorsRunning(drone.state) &&
    !drone.flags.lowBattery &&
    drone.battery <= drone.limits.lowBatteryPercent
  );
}

/** The critical-battery landing has not fired this flight and the battery has reached its threshold. */
export function criticalBatteryReached(drone: DroneState): boolean {
  return (
    motorsRunning(drone.state) &&
    !drone.flags.criticalBattery &&
    drone.battery <= drone.limits.criticalBatteryPercent
  );
}

/**
 * Flags for a landed drone: each battery alarm re-arms once the battery is
 * back at its threshold, which is also when takeoff becomes possible again.
 */
export function rearmBatteryFlags(drone: DroneState): DroneFlags {
  const { flags, battery, limits } = drone;
  const lowBattery = flags.lowBattery && battery < limits.lowBatteryPercent;
  const criticalBattery = flags.criticalBattery && battery < limits.criticalBatteryPercent;
  if (lowBattery === flags.lowBattery && criticalBattery === flags.criticalBattery) return flags;
  return { ...flags, lowBattery, criticalBattery };
}

/** The simulated pack: four lithium-polymer cells in series (4S), the common size for a camera quadcopter. */
export const packCellsInSeries = 4;
/** A cell under load at 0 % and at 100 %, volts: the simulated pack reads 14.0 V empty and 16.8 V full. */
const emptyCellVolts = 3.5;
const fullCellVolts = 4.2;

/**
 * The simulated pack's voltage at a charge level: linear between empty and
 * full per cell. A real pack's curve is flatter in the middle; this is enough
 * for clients to show volts next to percent as they do for real aircraft.
 */
export function packVoltage(percent: number): number {
  const level = Math.min(fullPercent, Math.max(emptyPercent, percent)) / fullPercent;
  return packCellsInSeries * (emptyCellVolts + (fullCellVolts - emptyCellVolts) * level);
}
