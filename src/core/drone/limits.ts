/**
 * Default drone limits and their validation.
 *
 * Owns the defaults and the rules a set of limits must satisfy, so a bad
 * configuration fails once, loudly, at creation instead of producing a drone
 * that cannot fly. Must not know about flight state.
 */
import type { DroneLimits } from "./types.ts";

/** Limits of a small quadcopter; every field is documented on DroneLimits. */
export const defaultLimits: Readonly<DroneLimits> = Object.freeze({
  maxSpeedMetresPerSecond: 15,
  defaultSpeedMetresPerSecond: 5,
  climbRateMetresPerSecond: 3,
  descentRateMetresPerSecond: 2,
  yawRateDegreesPerSecond: 90,
  takeoffAltitudeMetres: 2,
  returnAltitudeMetres: 20,
  maxAltitudeMetres: 120,
  maxRadiusMetres: 500,
  lowBatteryPercent: 20,
  criticalBatteryPercent: 5,
});

/** Battery thresholds are percentages, so none can exceed a full battery. */
const fullBatteryPercent = 100;

/**
 * Merges `overrides` onto the defaults and checks the result.
 *
 * @throws {RangeError} naming the field, the rule and the value received, e.g.
 *   `'maxAltitudeMetres' must be a positive finite number: received -1`.
 */
export function resolveLimits(overrides: Partial<DroneLimits> = {}): DroneLimits {
  const limits: DroneLimits = { ...defaultLimits };
  for (const key of Object.keys(defaultLimits) as (keyof DroneLimits)[]) {
    const value = overrides[key];
    if (value !== undefined) limits[key] = value;
  }
  for (const key of Object.keys(limits) as (keyof DroneLimits)[]) {
    const value = limits[key];
    if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
      throw new RangeError(`'${key}' must be a positive finite number: received ${String(value)}`);
    }
  }
  requireAtMost(limits, "defaultSpeedMetresPerSecond", "maxSpeedMetresPerSecond");
  requireAtMost(limits, "takeoffAltitudeMetres", "maxAltitudeMetres");
  if (limits.lowBatteryPercent > fullBatteryPercent) {
    throw new RangeError(
      `'lowBatteryPercent' must be at most ${fullBatteryPercent}: received ${limits.lowBatteryPercent}`,
    );
  }
  if (limits.criticalBatteryPercent >= limits.lowBatteryPercent) {
    throw new RangeError(
      `'criticalBatteryPercent' must be less than 'lowBatteryPercent' (${limits.lowBatteryPercent}): ` +
        `received ${limits.criticalBatteryPercent}`,
    );
  }
  return limits;
}

function requireAtMost(limits: DroneLimits, field: keyof DroneLimits, bound: keyof DroneLimits): void {
  if (limits[field] > limits[bound]) {
    throw new RangeError(
      `'${field}' must not exceed '${bound}' (${limits[bound]}): received ${limits[field]}`,
    );
  }
}
