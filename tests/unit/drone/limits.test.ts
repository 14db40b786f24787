/**
 * Unit tests for src/core/drone/limits.ts: the default limits and the rules a
 * set of limits must satisfy, checked once when a drone is created.
 */
import { describe, expect, test } from "bun:test";
import { createDrone, defaultLimits } from "../../../src/core/drone/model.ts";
import type { DroneLimits } from "../../../src/core/drone/types.ts";

describe("limits", () => {
  test("defaults match the documented values", () => {
    expect(defaultLimits).toEqual({
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
  });

  test("partial limits override the defaults", () => {
    const drone = createDrone("b", { defaultSpeedMetresPerSecond: 8, maxAltitudeMetres: 60 });
    expect(drone.speedLimit).toBe(8);
    expect(drone.limits.maxAltitudeMetres).toBe(60);
    expect(drone.limits.maxRadiusMetres).toBe(500);
  });

  test.each([-1, 0, Number.NaN, Number.POSITIVE_INFINITY])("rejects maxAltitudeMetres %p naming the field, rule and value", (value) => {
    expect(() => createDrone("x", { maxAltitudeMetres: value })).toThrow(
      new RangeError(`'maxAltitudeMetres' must be a positive finite number: received ${value}`),
    );
  });

  test("every limit field is validated", () => {
    for (const key of Object.keys(defaultLimits) as (keyof DroneLimits)[]) {
      expect(() => createDrone("x", { [key]: -1 })).toThrow(RangeError);
      expect(() => createDrone("x", { [key]: -1 })).toThrow(`'${key}' must be a positive finite number: received -1`);
    }
  });

  test("cross-field rules name both fields and the value", () => {
    expect(() => createDrone("x", { defaultSpeedMetresPerSecond: 20 })).toThrow(
      new RangeError("'defaultSpeedMetresPerSecond' must not exceed 'maxSpeedMetresPerSecond' (15): received 20"),
    );
    expect(() => createDrone("x", { criticalBatteryPercent: 20 })).toThrow(
      new RangeError("'criticalBatteryPercent' must be less than 'lowBatteryPercent' (20): received 20"),
    );
    expect(() => createDrone("x", { lowBatteryPercent: 150 })).toThrow(
      new RangeError("'lowBatteryPercent' must be at most 100: received 150"),
    );
    expect(() => createDrone("x", { takeoffAltitudeMetres: 130 })).toThrow(
      new RangeError("'takeoffAltitudeMetres' must not exceed 'maxAltitudeMetres' (120): received 130"),
    );
  });
});
