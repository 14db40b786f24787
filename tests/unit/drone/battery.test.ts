/**
 * Unit tests for src/core/drone/battery.ts: drain by what the motors do,
 * charging on the pad, the floor at 0, and the flags re-arming once
 * recharged. What the drone does at a threshold is flight.test.ts's.
 */
import { describe, expect, test } from "bun:test";
import { applyCommand, createDrone } from "../../../src/core/drone/model.ts";
import type { DroneState } from "../../../src/core/drone/types.ts";
import { command, hovering, hoveringAt, rejection, run, runUntil } from "../../support/drone-model.ts";

describe("battery", () => {
  function drainOver(drone: DroneState, seconds: number): number {
    return drone.battery - run(drone, seconds).drone.battery;
  }

  test("hovering drains 0.05 %/s", () => {
    expect(drainOver(hovering(), 10)).toBeCloseTo(0.5, 9);
  });

  test("horizontal flight adds 0.01 %/s per m/s", () => {
    expect(drainOver(command(hovering(), { name: "forward", distance: 100 }).drone, 1)).toBeCloseTo(0.1, 9);
    const fast = command(hovering(), { name: "speed", metresPerSecond: 10 }).drone;
    expect(drainOver(command(fast, { name: "forward", distance: 100 }).drone, 1)).toBeCloseTo(0.15, 9);
  });

  test("climbing adds 0.05 %/s; descending does not", () => {
    expect(drainOver(command(hovering(), { name: "up", distance: 30 }).drone, 1)).toBeCloseTo(0.1, 9);
    expect(drainOver(command(hoveringAt(0, 0, 20), { name: "down", distance: 10 }).drone, 1)).toBeCloseTo(0.05, 9);
  });

  test("turning costs only the hover drain", () => {
    expect(drainOver(command(hovering(), { name: "cw", degrees: 360 }).drone, 2)).toBeCloseTo(0.1, 9);
  });

  test("a landed drone away from the pad neither drains nor charges", () => {
    const away = { ...createDrone("a"), position: { x: 10, y: 0, z: 0 }, battery: 50 };
    expect(run(away, 10).drone.battery).toBe(50);
  });

  test("charges on the pad at 0.5 %/s up to 100", () => {
    const pad = { ...createDrone("a"), battery: 50 };
    expect(run(pad, 10).drone.battery).toBeCloseTo(55, 9);
    expect(run({ ...pad, battery: 99.9 }, 10).drone.battery).toBe(100);
    const edgeOfPad = { ...pad, position: { x: 0.6, y: 0.6, z: 0 } };
    expect(run(edgeOfPad, 2).drone.battery).toBeCloseTo(51, 9);
  });

  test("never goes below 0", () => {
    const empty = { ...hovering(), battery: 0.01, flags: { lowBattery: true, criticalBattery: true, emergencyStopped: false, failsafe: false } };
    expect(run(empty, 5).drone.battery).toBe(0);
  });

  test("flags re-arm once recharged on the pad, and takeoff is possible again", () => {
    const landed = runUntil(run({ ...hoveringAt(10, 0, 5), battery: 20.01 }, 1).drone, (d) => d.state === "landed").drone;
    expect(landed.flags.lowBattery).toBe(true);
    expect(landed.battery).toBeLessThan(20);
    expect(rejection(landed, { name: "takeoff" }).result.code).toBe("battery_low");
    const charged = runUntil(landed, (d) => d.battery >= 20.5, 60).drone;
    expect(charged.flags.lowBattery).toBe(false);
    expect(applyCommand(charged, { name: "takeoff" }, 1).result.accepted).toBe(true);
  });
});
