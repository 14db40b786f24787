/**
 * Unit tests for src/core/drone/model.ts, the model's public face: a new
 * drone, the flags and queries it offers, taking a drone over from a
 * snapshot, and purity (no input is ever mutated).
 */
import { describe, expect, test } from "bun:test";
import { applyCommand, createDrone, defaultLimits, type DroneSnapshot, isAirborne, resumeDrone, setFailsafe, tick } from "../../../src/core/drone/model.ts";
import type { DroneCommand, DroneState } from "../../../src/core/drone/types.ts";
import { command, deepFreeze, hovering, hoveringAt, run } from "../../support/drone-model.ts";

describe("createDrone", () => {
  test("starts landed at home, heading north, full battery, default speed", () => {
    const drone = createDrone("alpha");
    expect(drone).toEqual({
      id: "alpha",
      state: "landed",
      position: { x: 0, y: 0, z: 0 },
      velocity: { x: 0, y: 0, z: 0 },
      heading: 0,
      battery: 100,
      speedLimit: 5,
      flags: { lowBattery: false, criticalBattery: false, emergencyStopped: false, failsafe: false },
      task: null,
      limits: { ...defaultLimits },
      boundary: null,
      flightSeconds: 0,
    });
    expect(isAirborne(drone)).toBe(false);
  });

  test("a geofence polygon must be a usable ring around home", () => {
    const around = [{ x: -50, y: -50 }, { x: 50, y: -50 }, { x: 0, y: 50 }];
    expect(createDrone("alpha", {}, around).boundary).toEqual(around);
    expect(() => createDrone("alpha", {}, around.slice(0, 2))).toThrow("'boundary': a geofence polygon needs at least 3 corners: received 2");
    expect(() => createDrone("alpha", {}, around.map((p) => ({ x: p.x + 200, y: p.y })))).toThrow("'boundary' must hold home (0, 0)");
  });

  test("rejects an empty id", () => {
    expect(() => createDrone("")).toThrow(new RangeError(`'id' must be a non-empty string: received ""`));
  });
});

describe("setFailsafe", () => {
  test("failsafe is carried, not acted on", () => {
    const drone = command(hovering(), { name: "forward", distance: 10 }).drone;
    const on = setFailsafe(drone, true);
    expect(on.flags.failsafe).toBe(true);
    expect(drone.flags.failsafe).toBe(false);
    expect(on.state).toBe("moving");
    expect(run(on, 3).drone.position).toEqual({ x: 0, y: 10, z: 2 });
    expect(setFailsafe(on, false).flags.failsafe).toBe(false);
  });
});

describe("purity", () => {
  test("applyCommand and tick never mutate their input", () => {
    const drone = deepFreeze(command(hoveringAt(10, 10, 10), { name: "forward", distance: 10 }, 1).drone);
    const snapshot = JSON.stringify(drone);
    for (const cmd of [
      { name: "land" },
      { name: "hover" },
      { name: "rth" },
      { name: "emergency" },
      { name: "speed", metresPerSecond: 9 },
      { name: "cw", degrees: 45 },
      { name: "goto", x: 1, y: 2, z: 3 },
      { name: "up", distance: 500 },
    ] as DroneCommand[]) {
      applyCommand(drone, cmd, 2);
    }
    tick(drone, 0.1);
    tick(drone, 30);
    setFailsafe(drone, true);
    expect(JSON.stringify(drone)).toBe(snapshot);
  });
});

describe("resumeDrone: taking a drone over from its last snapshot", () => {
  const snapshot = (state: DroneState["state"], z: number): DroneSnapshot => ({
    state,
    position: { x: 30, y: -40, z },
    velocity: { x: 1, y: 0, z: 0 },
    heading: 90,
    battery: 61.5,
    flags: { lowBattery: false, criticalBattery: false, emergencyStopped: false, failsafe: true },
  });
  const fly = (drone: DroneState, seconds: number) => {
    for (let t = 0; t < seconds * 10; t++) drone = tick(drone, 0.1).drone;
    return drone;
  };

  test("keeps position, heading, battery and flags", () => {
    const drone = resumeDrone("alpha", snapshot("hovering", 12));
    expect(drone).toMatchObject({ id: "alpha", state: "hovering", position: { x: 30, y: -40, z: 12 }, heading: 90, battery: 61.5 });
    expect(drone.flags.failsafe).toBe(true);
  });

  test("a moving or climbing drone holds position", () => {
    for (const state of ["moving", "taking_off"] as const) {
      const drone = fly(resumeDrone("alpha", snapshot(state, 12)), 5);
      expect(drone.state).toBe("hovering");
      expect(drone.position.z).toBeCloseTo(12, 0);
      expect(Math.hypot(drone.position.x - 30, drone.position.y + 40)).toBeLessThan(3);
    }
  });

  test("a landing drone lands where it is, a returning one comes home and lands", () => {
    const landing = fly(resumeDrone("alpha", snapshot("landing", 6)), 30);
    expect(landing.state).toBe("landed");
    expect(landing.position).toMatchObject({ x: 30, y: -40, z: 0 });
    const returning = fly(resumeDrone("alpha", snapshot("returning", 20)), 120);
    expect(returning.state).toBe("landed");
    expect(Math.hypot(returning.position.x, returning.position.y)).toBeLessThan(0.5);
  });

  test("a landed drone stays landed and still", () => {
    const drone = fly(resumeDrone("alpha", snapshot("landed", 0)), 2);
    expect(drone.state).toBe("landed");
    expect(drone.velocity).toEqual({ x: 0, y: 0, z: 0 });
  });
});
