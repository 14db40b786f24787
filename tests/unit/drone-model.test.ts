/**
 * Unit tests for the pure drone model (src/core/drone/model.ts). Time only moves
 * through `tick` in fixed steps; nothing here sleeps or reads the clock.
 */
import { describe, expect, test } from "bun:test";
import {
  applyCommand,
  createDrone,
  defaultLimits,
  distanceFromHome,
  emergencyFallMetresPerSecond,
  isAirborne,
  resumeDrone,
  setFailsafe,
  type DroneSnapshot,
  tick,
} from "../../src/core/drone/model.ts";
import type { DroneCommand, DroneEvent, DroneLimits, DroneState } from "../../src/core/drone/types.ts";

/** Default simulation step, seconds. */
const step = 0.1;

interface Run {
  drone: DroneState;
  events: DroneEvent[];
}

/** Ticks `seconds` of time in steps of `dt`, collecting every event. */
function run(drone: DroneState, seconds: number, dt = step): Run {
  const events: DroneEvent[] = [];
  let current = drone;
  const steps = Math.round(seconds / dt);
  for (let i = 0; i < steps; i++) {
    const out = tick(current, dt);
    current = out.drone;
    events.push(...out.events);
  }
  return { drone: current, events };
}

/** Ticks until `done` holds, failing the test if it takes longer than `maxSeconds`. */
function runUntil(drone: DroneState, done: (d: DroneState) => boolean, maxSeconds = 600, dt = step): Run & { seconds: number } {
  const events: DroneEvent[] = [];
  let current = drone;
  let seconds = 0;
  while (!done(current)) {
    if (seconds > maxSeconds) throw new Error(`condition not reached in ${maxSeconds} s (state ${current.state})`);
    const out = tick(current, dt);
    current = out.drone;
    events.push(...out.events);
    seconds += dt;
  }
  return { drone: current, events, seconds };
}

/** Applies a command that must be accepted. */
function command(drone: DroneState, cmd: DroneCommand, token = 1): Run {
  const out = applyCommand(drone, cmd, token);
  if (!out.result.accepted) throw new Error(`${cmd.name} rejected: ${out.result.code} ${out.result.message}`);
  return { drone: out.drone, events: out.events };
}

/** A drone hovering at the takeoff altitude above home. */
function hovering(limits: Partial<DroneLimits> = {}): DroneState {
  const taken = command(createDrone("test", limits), { name: "takeoff" }, 100);
  return runUntil(taken.drone, (d) => d.state === "hovering").drone;
}

/** A drone hovering at (x, y, z), with heading 0. */
function hoveringAt(x: number, y: number, z: number, limits: Partial<DroneLimits> = {}): DroneState {
  const started = command(hovering(limits), { name: "goto", x, y, z }, 101);
  return runUntil(started.drone, (d) => d.state === "hovering").drone;
}

function ofType<T extends DroneEvent["type"]>(events: DroneEvent[], type: T): Extract<DroneEvent, { type: T }>[] {
  return events.filter((e): e is Extract<DroneEvent, { type: T }> => e.type === type);
}

function transitions(events: DroneEvent[]): string[] {
  return ofType(events, "state_changed").map((e) => `${e.from}->${e.to}`);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

function rejection(drone: DroneState, cmd: DroneCommand) {
  const out = applyCommand(drone, cmd, 9);
  if (out.result.accepted) throw new Error(`${cmd.name} was accepted`);
  return { ...out, result: out.result };
}

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
      flightSeconds: 0,
    });
    expect(isAirborne(drone)).toBe(false);
  });

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

  test("rejects an empty id", () => {
    expect(() => createDrone("")).toThrow(new RangeError(`'id' must be a non-empty string: received ""`));
  });
});

describe("tick input", () => {
  test.each([0, -0.1, Number.NaN, Number.POSITIVE_INFINITY])("rejects dt %p with a RangeError naming dtSeconds", (dt) => {
    expect(() => tick(createDrone("x"), dt)).toThrow(new RangeError(`'dtSeconds' must be a positive finite number: received ${dt}`));
  });
});

describe("takeoff", () => {
  test("climbs at 3 m/s and reaches 2 m in about 0.67 s", () => {
    const start = command(createDrone("a"), { name: "takeoff" }, 7);
    expect(start.drone.state).toBe("taking_off");
    expect(start.events).toEqual([{ type: "state_changed", from: "landed", to: "taking_off" }]);
    expect(start.drone.velocity).toEqual({ x: 0, y: 0, z: 3 });

    const at06 = run(start.drone, 0.6);
    expect(at06.drone.state).toBe("taking_off");
    expect(at06.drone.position.z).toBeCloseTo(1.8, 9);
    expect(at06.events).toEqual([]);

    const at07 = run(at06.drone, 0.1);
    expect(at07.drone.state).toBe("hovering");
    expect(at07.drone.position).toEqual({ x: 0, y: 0, z: 2 });
    expect(at07.drone.velocity).toEqual({ x: 0, y: 0, z: 0 });
    expect(at07.events).toEqual([
      { type: "command_done", token: 7 },
      { type: "state_changed", from: "taking_off", to: "hovering" },
    ]);
    expect(at07.drone.task).toBeNull();
    expect(isAirborne(at07.drone)).toBe(true);
  });

  test("with a fine step finishes within one step of 2/3 s", () => {
    const done = runUntil(command(createDrone("a"), { name: "takeoff" }).drone, (d) => d.state === "hovering", 5, 0.01);
    expect(done.seconds).toBeGreaterThanOrEqual(0.66);
    expect(done.seconds).toBeLessThanOrEqual(0.68);
  });

  test("result target is the takeoff altitude above the current spot", () => {
    const out = applyCommand(createDrone("a"), { name: "takeoff" }, 1);
    expect(out.result).toEqual({ accepted: true, target: { x: 0, y: 0, z: 2, heading: 0, speedLimit: 5 } });
  });

  test("is refused when already flying", () => {
    const { result, drone, events } = rejection(hovering(), { name: "takeoff" });
    expect(result.code).toBe("already_flying");
    expect(result.message).toContain("hovering");
    expect(events).toEqual([]);
    expect(drone.state).toBe("hovering");
    expect(rejection(command(createDrone("a"), { name: "takeoff" }).drone, { name: "takeoff" }).result.code).toBe("already_flying");
  });

  test("is refused below the low-battery threshold", () => {
    const low = { ...createDrone("a"), battery: 19.5 };
    const { result, drone } = rejection(low, { name: "takeoff" });
    expect(result.code).toBe("battery_low");
    expect(result.message).toBe("battery 19.5% is below the 20% needed to take off");
    expect(drone).toBe(low);
    expect(applyCommand({ ...low, battery: 20 }, { name: "takeoff" }, 1).result.accepted).toBe(true);
  });
});

describe("land", () => {
  test("descends at 2 m/s, then landed, landed event and command_done", () => {
    const start = command(hoveringAt(3, 4, 10), { name: "land" }, 5);
    expect(start.drone.state).toBe("landing");
    expect(start.drone.velocity).toEqual({ x: 0, y: 0, z: -2 });
    const almost = run(start.drone, 4.9);
    expect(almost.drone.state).toBe("landing");
    expect(almost.drone.position.z).toBeCloseTo(0.2, 9);
    const down = run(almost.drone, 0.1);
    expect(down.drone.state).toBe("landed");
    expect(down.drone.position).toEqual({ x: 3, y: 4, z: 0 });
    expect(down.drone.velocity).toEqual({ x: 0, y: 0, z: 0 });
    expect(down.events).toEqual([
      { type: "command_done", token: 5 },
      { type: "state_changed", from: "landing", to: "landed" },
      { type: "landed" },
    ]);
  });

  test("is refused on the ground", () => {
    expect(rejection(createDrone("a"), { name: "land" }).result.code).toBe("not_flying");
  });

  test("is allowed during takeoff and supersedes it", () => {
    const rising = run(command(createDrone("a"), { name: "takeoff" }, 1).drone, 0.3).drone;
    const landing = command(rising, { name: "land" }, 2);
    expect(landing.events).toEqual([
      { type: "command_failed", token: 1, reason: "superseded by land" },
      { type: "state_changed", from: "taking_off", to: "landing" },
    ]);
    const down = runUntil(landing.drone, (d) => d.state === "landed", 5);
    expect(ofType(down.events, "command_done")).toEqual([{ type: "command_done", token: 2 }]);
  });

  test("land at ground level right after takeoff lands at once", () => {
    const justStarted = command(createDrone("a"), { name: "takeoff" }, 1).drone;
    const out = command(justStarted, { name: "land" }, 2);
    expect(out.drone.state).toBe("landed");
    expect(out.events).toEqual([
      { type: "command_failed", token: 1, reason: "superseded by land" },
      { type: "state_changed", from: "taking_off", to: "landing" },
      { type: "command_done", token: 2 },
      { type: "state_changed", from: "landing", to: "landed" },
      { type: "landed" },
    ]);
  });
});

describe("moves", () => {
  test("forward 10 at 5 m/s takes 2 s and ends exactly on the target", () => {
    const start = command(hovering(), { name: "forward", distance: 10 }, 3);
    expect(start.drone.state).toBe("moving");
    expect(start.events).toEqual([{ type: "state_changed", from: "hovering", to: "moving" }]);
    expect(start.drone.velocity).toEqual({ x: 0, y: 5, z: 0 });

    const at19 = run(start.drone, 1.9);
    expect(at19.drone.state).toBe("moving");
    expect(at19.events).toEqual([]);
    expect(at19.drone.position.y).toBeCloseTo(9.5, 9);

    const at20 = run(at19.drone, 0.1);
    expect(at20.drone.state).toBe("hovering");
    expect(at20.drone.position).toEqual({ x: 0, y: 10, z: 2 });
    expect(at20.drone.velocity).toEqual({ x: 0, y: 0, z: 0 });
    expect(at20.events).toEqual([
      { type: "command_done", token: 3 },
      { type: "state_changed", from: "moving", to: "hovering" },
    ]);
  });

  test("speed sets the duration", () => {
    const fast = command(hovering(), { name: "speed", metresPerSecond: 10 }).drone;
    const start = command(fast, { name: "forward", distance: 10 }).drone;
    expect(run(start, 0.9).drone.state).toBe("moving");
    const done = run(start, 1.0).drone;
    expect(done.state).toBe("hovering");
    expect(done.position).toEqual({ x: 0, y: 10, z: 2 });
  });

  test("speed changed mid-move applies to the rest of it", () => {
    const moving = run(command(hovering(), { name: "forward", distance: 20 }, 1).drone, 1).drone;
    expect(moving.position.y).toBeCloseTo(5, 9);
    const faster = command(moving, { name: "speed", metresPerSecond: 10 }, 2);
    expect(faster.events).toEqual([{ type: "command_done", token: 2 }]);
    expect(faster.drone.task?.token).toBe(1);
    expect(faster.drone.velocity).toEqual({ x: 0, y: 10, z: 0 });
    expect(run(faster.drone, 1.4).drone.state).toBe("moving");
    const done = run(faster.drone, 1.5);
    expect(done.drone.position).toEqual({ x: 0, y: 20, z: 2 });
    expect(ofType(done.events, "command_done")).toEqual([{ type: "command_done", token: 1 }]);
  });

  const headingCases: [number, Record<"forward" | "back" | "right" | "left", [number, number]>][] = [
    [0, { forward: [0, 10], back: [0, -10], right: [10, 0], left: [-10, 0] }],
    [90, { forward: [10, 0], back: [-10, 0], right: [0, -10], left: [0, 10] }],
    [180, { forward: [0, -10], back: [0, 10], right: [-10, 0], left: [10, 0] }],
    [270, { forward: [-10, 0], back: [10, 0], right: [0, 10], left: [0, -10] }],
  ];
  for (const [heading, expected] of headingCases) {
    for (const direction of ["forward", "back", "right", "left"] as const) {
      test(`${direction} 10 at heading ${heading} moves by (${expected[direction].join(", ")})`, () => {
        let drone = hovering();
        if (heading !== 0) drone = runUntil(command(drone, { name: "cw", degrees: heading }).drone, (d) => d.state === "hovering").drone;
        expect(drone.heading).toBe(heading);
        const out = applyCommand(drone, { name: direction, distance: 10 }, 4);
        const [dx, dy] = expected[direction];
        expect(out.result).toEqual({ accepted: true, target: { x: dx, y: dy, z: 2, heading, speedLimit: 5 } });
        const done = runUntil(out.drone, (d) => d.state === "hovering").drone;
        expect(done.position).toEqual({ x: dx, y: dy, z: 2 });
        expect(done.heading).toBe(heading);
      });
    }
  }

  test("up and down use the climb and descent rates", () => {
    const up = command(hovering(), { name: "up", distance: 6 }).drone;
    expect(up.velocity).toEqual({ x: 0, y: 0, z: 3 });
    expect(run(up, 1.9).drone.state).toBe("moving");
    const high = run(up, 2.0).drone;
    expect(high.state).toBe("hovering");
    expect(high.position.z).toBe(8);

    const down = command(high, { name: "down", distance: 4 }).drone;
    expect(down.velocity).toEqual({ x: 0, y: 0, z: -2 });
    expect(run(down, 1.9).drone.state).toBe("moving");
    const low = run(down, 2.0).drone;
    expect(low.state).toBe("hovering");
    expect(low.position.z).toBe(4);
  });

  test("goto moves horizontally and vertically at once, each capped by its own rate", () => {
    const out = applyCommand(hovering(), { name: "goto", x: 30, y: 40, z: 8 }, 1);
    expect(out.result).toEqual({ accepted: true, target: { x: 30, y: 40, z: 8, heading: 0, speedLimit: 5 } });
    expect(out.drone.velocity.x).toBeCloseTo(3, 9);
    expect(out.drone.velocity.y).toBeCloseTo(4, 9);
    expect(out.drone.velocity.z).toBe(3);
    // Vertical (6 m at 3 m/s) finishes after 2 s; horizontal (50 m at 5 m/s) after 10 s.
    const at2 = run(out.drone, 2).drone;
    expect(at2.position.z).toBe(8);
    expect(Math.hypot(at2.position.x, at2.position.y)).toBeCloseTo(10, 9);
    expect(at2.velocity.z).toBe(0);
    expect(run(out.drone, 9.9).drone.state).toBe("moving");
    const done = run(out.drone, 10).drone;
    expect(done.state).toBe("hovering");
    expect(done.position).toEqual({ x: 30, y: 40, z: 8 });
  });

  test("targets are computed from the current position, not the old target", () => {
    const moving = run(command(hovering(), { name: "forward", distance: 10 }, 1).drone, 1).drone;
    const out = applyCommand(moving, { name: "right", distance: 5 }, 2);
    expect(out.result.accepted && out.result.target).toEqual({ x: 5, y: 5, z: 2, heading: 0, speedLimit: 5 });
    expect(out.events).toEqual([{ type: "command_failed", token: 1, reason: "superseded by right" }]);
    expect(out.drone.state).toBe("moving");
    expect(runUntil(out.drone, (d) => d.state === "hovering").drone.position).toEqual({ x: 5, y: 5, z: 2 });
  });

  test("are refused on the ground, during takeoff and in an emergency", () => {
    const landed = rejection(createDrone("a"), { name: "forward", distance: 5 });
    expect(landed.result.code).toBe("not_flying");
    expect(landed.result.message).toContain("takeoff");
    const rising = command(createDrone("a"), { name: "takeoff" }).drone;
    const busy = rejection(rising, { name: "up", distance: 5 });
    expect(busy.result.code).toBe("busy");
    expect(busy.result.message).toContain("wait");
    expect(busy.drone).toBe(rising);
    const falling = command(hoveringAt(0, 0, 20), { name: "emergency" }).drone;
    expect(rejection(falling, { name: "goto", x: 0, y: 0, z: 5 }).result.code).toBe("emergency");
    expect(rejection(falling, { name: "cw", degrees: 90 }).result.code).toBe("emergency");
  });

  test("override a landing or a return (the pilot takes over)", () => {
    const landing = run(command(hoveringAt(0, 0, 10), { name: "land" }, 1).drone, 1).drone;
    const over = command(landing, { name: "forward", distance: 5 }, 2);
    expect(over.events).toEqual([
      { type: "command_failed", token: 1, reason: "superseded by forward" },
      { type: "state_changed", from: "landing", to: "moving" },
    ]);
    expect(over.drone.task?.target).toMatchObject({ x: 0, y: 5, heading: 0 });
    expect(over.drone.task?.target.z).toBeCloseTo(8, 9);

    const returning = run(command(hoveringAt(50, 0, 30), { name: "rth" }, 3).drone, 1).drone;
    const back = command(returning, { name: "goto", x: 60, y: 0, z: 30 }, 4);
    expect(back.events).toEqual([
      { type: "command_failed", token: 3, reason: "superseded by goto" },
      { type: "state_changed", from: "returning", to: "moving" },
    ]);
  });

  test.each([0, -3, Number.NaN])("distance %p is out of range", (distance) => {
    const { result } = rejection(hovering(), { name: "forward", distance });
    expect(result.code).toBe("out_of_range");
    expect(result.field).toBe("distance");
  });

  test("goto with a non-finite coordinate names the field", () => {
    const { result } = rejection(hovering(), { name: "goto", x: 1, y: Number.NaN, z: 5 });
    expect(result).toMatchObject({ code: "out_of_range", field: "y" });
  });
});

describe("turns", () => {
  test("cw 270 turns clockwise through 90 and 180, taking 3 s", () => {
    const start = command(hovering(), { name: "cw", degrees: 270 }, 1);
    expect(start.drone.state).toBe("moving");
    expect(start.drone.velocity).toEqual({ x: 0, y: 0, z: 0 });
    expect(run(start.drone, 1).drone.heading).toBeCloseTo(90, 9);
    expect(run(start.drone, 2).drone.heading).toBeCloseTo(180, 9);
    expect(run(start.drone, 2.9).drone.state).toBe("moving");
    const done = run(start.drone, 3);
    expect(done.drone.heading).toBe(270);
    expect(done.drone.state).toBe("hovering");
    expect(done.drone.position).toEqual({ x: 0, y: 0, z: 2 });
    expect(ofType(done.events, "command_done")).toEqual([{ type: "command_done", token: 1 }]);
  });

  test("ccw 90 reaches the same heading the short way, in 1 s", () => {
    const start = command(hovering(), { name: "ccw", degrees: 90 });
    expect(run(start.drone, 0.5).drone.heading).toBeCloseTo(315, 9);
    const done = run(start.drone, 1).drone;
    expect(done.heading).toBe(270);
    expect(done.state).toBe("hovering");
  });

  test("cw 360 still turns a full circle and ends where it started", () => {
    const start = applyCommand(hovering(), { name: "cw", degrees: 360 }, 1);
    expect(start.result.accepted && start.result.target.heading).toBe(0);
    expect(run(start.drone, 2).drone.heading).toBeCloseTo(180, 9);
    expect(run(start.drone, 3.9).drone.state).toBe("moving");
    const done = run(start.drone, 4).drone;
    expect(done.state).toBe("hovering");
    expect(done.heading).toBe(0);
  });

  test("target heading is normalised to [0, 360)", () => {
    const at270 = runUntil(command(hovering(), { name: "cw", degrees: 270 }).drone, (d) => d.state === "hovering").drone;
    const out = applyCommand(at270, { name: "cw", degrees: 180 }, 2);
    expect(out.result.accepted && out.result.target.heading).toBe(90);
    expect(runUntil(out.drone, (d) => d.state === "hovering").drone.heading).toBe(90);
  });

  test.each([0, -10, 361, Number.NaN])("degrees %p is out of range", (degrees) => {
    expect(rejection(hovering(), { name: "cw", degrees }).result).toMatchObject({ code: "out_of_range", field: "degrees" });
  });
});

describe("geofence", () => {
  test("altitude above the ceiling is rejected, not clamped, and the state is unchanged", () => {
    const drone = hovering();
    const cmd: DroneCommand = { name: "up", distance: 128 };
    const out = applyCommand(drone, cmd, 1);
    expect(out.result).toEqual({ accepted: false, code: "geofence", message: "target altitude 130 m exceeds the 120 m ceiling" });
    expect(out.events).toEqual([{ type: "geofence", command: cmd, reason: "target altitude 130 m exceeds the 120 m ceiling" }]);
    expect(out.drone).toBe(drone);
  });

  test("a goto outside the radius is rejected with the distance", () => {
    const drone = hovering();
    const cmd: DroneCommand = { name: "goto", x: 400, y: 400, z: 10 };
    const out = applyCommand(drone, cmd, 1);
    expect(out.result).toEqual({ accepted: false, code: "geofence", message: "target distance 565.69 m from home exceeds the 500 m radius" });
    expect(ofType(out.events, "geofence")).toEqual([{ type: "geofence", command: cmd, reason: "target distance 565.69 m from home exceeds the 500 m radius" }]);
    expect(out.drone).toBe(drone);
  });

  test("a goto above the ceiling is rejected", () => {
    const out = applyCommand(hovering(), { name: "goto", x: 0, y: 0, z: 130 }, 1);
    expect(out.result).toMatchObject({ code: "geofence", message: "target altitude 130 m exceeds the 120 m ceiling" });
  });

  test("a relative move past the radius is rejected", () => {
    const out = applyCommand(hoveringAt(0, 450, 10), { name: "forward", distance: 60 }, 1);
    expect(out.result).toMatchObject({ code: "geofence", message: "target distance 510 m from home exceeds the 500 m radius" });
  });

  test("targets exactly on the fence are allowed", () => {
    expect(applyCommand(hovering(), { name: "goto", x: 0, y: 500, z: 120 }, 1).result.accepted).toBe(true);
    expect(applyCommand(hovering(), { name: "up", distance: 118 }, 1).result.accepted).toBe(true);
    const east = runUntil(command(hovering(), { name: "cw", degrees: 90 }).drone, (d) => d.state === "hovering").drone;
    expect(applyCommand(east, { name: "forward", distance: 500 }, 1).result.accepted).toBe(true);
  });

  test("custom limits move the fence", () => {
    const out = applyCommand(hovering({ maxAltitudeMetres: 50 }), { name: "up", distance: 49 }, 1);
    expect(out.result).toMatchObject({ code: "geofence", message: "target altitude 51 m exceeds the 50 m ceiling" });
  });
});

describe("minimum altitude", () => {
  test("down below 0.5 m is out of range: landing is what land is for", () => {
    const drone = hovering();
    const out = applyCommand(drone, { name: "down", distance: 2 }, 1);
    expect(out.result).toMatchObject({ accepted: false, code: "out_of_range", field: "distance" });
    expect(!out.result.accepted && out.result.message).toContain("land");
    expect(out.drone).toBe(drone);
    expect(out.events).toEqual([]);
    expect(applyCommand(drone, { name: "down", distance: 1.5 }, 1).result.accepted).toBe(true);
  });

  test("goto below 0.5 m is out of range on z", () => {
    expect(applyCommand(hovering(), { name: "goto", x: 1, y: 1, z: 0.4 }, 1).result).toMatchObject({ code: "out_of_range", field: "z" });
    expect(applyCommand(hovering(), { name: "goto", x: 1, y: 1, z: 0.5 }, 1).result.accepted).toBe(true);
  });
});

describe("speed", () => {
  test("is instant, done at once, and targets the current target", () => {
    const moving = command(hovering(), { name: "goto", x: 10, y: 0, z: 2 }, 1).drone;
    const out = applyCommand(moving, { name: "speed", metresPerSecond: 12 }, 2);
    expect(out.result).toEqual({ accepted: true, target: { x: 10, y: 0, z: 2, heading: 0, speedLimit: 12 } });
    expect(out.events).toEqual([{ type: "command_done", token: 2 }]);
    expect(out.drone.speedLimit).toBe(12);
    expect(out.drone.state).toBe("moving");
  });

  test("is allowed on the ground and refused in an emergency", () => {
    const ground = applyCommand(createDrone("a"), { name: "speed", metresPerSecond: 3 }, 1);
    expect(ground.result).toEqual({ accepted: true, target: { x: 0, y: 0, z: 0, heading: 0, speedLimit: 3 } });
    const falling = command(hoveringAt(0, 0, 30), { name: "emergency" }).drone;
    expect(rejection(falling, { name: "speed", metresPerSecond: 3 }).result.code).toBe("emergency");
  });

  test.each([0, -1, 15.01, Number.NaN])("%p m/s is out of range on field speed", (metresPerSecond) => {
    const { result } = rejection(hovering(), { name: "speed", metresPerSecond });
    expect(result).toMatchObject({ code: "out_of_range", field: "speed" });
    expect(result.message).toContain("15 m/s");
  });

  test("the maximum itself is accepted", () => {
    expect(applyCommand(hovering(), { name: "speed", metresPerSecond: 15 }, 1).result.accepted).toBe(true);
  });
});

describe("hover", () => {
  test("cancels a move where it is, zero velocity, done at once", () => {
    const moving = run(command(hovering(), { name: "forward", distance: 10 }, 1).drone, 1).drone;
    const out = applyCommand(moving, { name: "hover" }, 2);
    expect(out.events).toEqual([
      { type: "command_failed", token: 1, reason: "superseded by hover" },
      { type: "state_changed", from: "moving", to: "hovering" },
      { type: "command_done", token: 2 },
    ]);
    expect(out.drone.state).toBe("hovering");
    expect(out.drone.velocity).toEqual({ x: 0, y: 0, z: 0 });
    expect(out.drone.task).toBeNull();
    expect(out.result.accepted && out.result.target).toEqual({ ...moving.position, heading: 0, speedLimit: 5 });
    expect(run(out.drone, 5).drone.position).toEqual(out.drone.position);
  });

  test("while already hovering is done with no transition", () => {
    expect(command(hovering(), { name: "hover" }, 3).events).toEqual([{ type: "command_done", token: 3 }]);
  });

  test("is refused on the ground", () => {
    expect(rejection(createDrone("a"), { name: "hover" }).result.code).toBe("not_flying");
  });
});

describe("return to home", () => {
  test("climbs to the return altitude, flies home level, lands, then command_done", () => {
    const start = command(hoveringAt(30, 40, 5), { name: "rth" }, 8);
    expect(start.events).toEqual([{ type: "state_changed", from: "hovering", to: "returning" }]);
    expect(start.drone.velocity).toEqual({ x: 0, y: 0, z: 3 });
    // 15 m of climb at 3 m/s: straight up, no horizontal motion.
    const climbed = run(start.drone, 5);
    expect(climbed.drone.position.x).toBeCloseTo(30, 9);
    expect(climbed.drone.position.y).toBeCloseTo(40, 9);
    expect(climbed.drone.position.z).toBe(20);
    expect(climbed.drone.state).toBe("returning");
    // 50 m home at 5 m/s, level.
    const midway = run(climbed.drone, 5).drone;
    expect(midway.position.z).toBe(20);
    expect(Math.hypot(midway.position.x, midway.position.y)).toBeCloseTo(25, 9);
    const home = run(climbed.drone, 10);
    expect(home.drone.state).toBe("landing");
    expect(home.drone.position).toMatchObject({ x: 0, y: 0 });
    expect(home.drone.position.z).toBeCloseTo(20, 9);
    expect(ofType(home.events, "command_done")).toEqual([]);
    // 20 m down at 2 m/s.
    const landed = run(home.drone, 10);
    expect(landed.drone.state).toBe("landed");
    expect(landed.drone.position).toEqual({ x: 0, y: 0, z: 0 });
    expect(landed.events).toEqual([
      { type: "command_done", token: 8 },
      { type: "state_changed", from: "landing", to: "landed" },
      { type: "landed" },
    ]);
    expect(transitions([...start.events, ...climbed.events, ...home.events])).toEqual(["hovering->returning", "returning->landing"]);
  });

  test("keeps a higher altitude and the heading", () => {
    const east = runUntil(command(hoveringAt(10, 0, 50), { name: "cw", degrees: 90 }).drone, (d) => d.state === "hovering").drone;
    const start = command(east, { name: "rth" }).drone;
    expect(start.velocity.z).toBe(0);
    const home = runUntil(start, (d) => d.state === "landing").drone;
    expect(home.position).toEqual({ x: 0, y: 0, z: 50 });
    expect(home.heading).toBe(90);
  });

  test("never climbs above the ceiling", () => {
    let drone = command(hoveringAt(10, 0, 5, { returnAltitudeMetres: 100, maxAltitudeMetres: 40 }), { name: "rth" }).drone;
    let highest = 0;
    while (drone.state !== "landed") {
      drone = tick(drone, step).drone;
      highest = Math.max(highest, drone.position.z);
    }
    expect(highest).toBe(40);
    expect(drone.position).toEqual({ x: 0, y: 0, z: 0 });
  });

  test("is refused on the ground and supersedes a move", () => {
    expect(rejection(createDrone("a"), { name: "rth" }).result.code).toBe("not_flying");
    const moving = command(hovering(), { name: "forward", distance: 10 }, 1).drone;
    const out = applyCommand(moving, { name: "rth" }, 2);
    expect(out.result.accepted && out.result.target).toEqual({ x: 0, y: 0, z: 0, heading: 0, speedLimit: 5 });
    expect(out.events).toEqual([
      { type: "command_failed", token: 1, reason: "superseded by rth" },
      { type: "state_changed", from: "moving", to: "returning" },
    ]);
  });
});

describe("emergency", () => {
  test("cuts the motors: falls at 10 m/s, lands with emergencyStopped", () => {
    const moving = run(command(hoveringAt(10, 10, 20), { name: "forward", distance: 10 }, 1).drone, 1).drone;
    const out = applyCommand(moving, { name: "emergency" }, 2);
    expect(out.result.accepted).toBe(true);
    expect(out.events).toEqual([
      { type: "command_failed", token: 1, reason: "emergency stop" },
      { type: "state_changed", from: "moving", to: "emergency" },
      { type: "command_done", token: 2 },
    ]);
    expect(out.drone.state).toBe("emergency");
    expect(out.drone.task).toBeNull();
    expect(out.drone.velocity).toEqual({ x: 0, y: 0, z: -emergencyFallMetresPerSecond });
    expect(isAirborne(out.drone)).toBe(true);

    const falling = run(out.drone, 1.9);
    expect(falling.drone.state).toBe("emergency");
    expect(falling.drone.position.z).toBeCloseTo(1, 9);
    // Motors are off: no drain while falling.
    expect(falling.drone.battery).toBe(out.drone.battery);
    const ground = run(falling.drone, 0.1);
    expect(ground.drone.state).toBe("landed");
    expect(ground.drone.position).toEqual({ x: moving.position.x, y: moving.position.y, z: 0 });
    expect(ground.drone.flags.emergencyStopped).toBe(true);
    expect(ground.events).toEqual([{ type: "state_changed", from: "emergency", to: "landed" }, { type: "landed" }]);
  });

  test("refuses everything but emergency until landed", () => {
    const falling = command(hoveringAt(0, 0, 30), { name: "emergency" }).drone;
    for (const cmd of [{ name: "land" }, { name: "hover" }, { name: "rth" }, { name: "takeoff" }] as DroneCommand[]) {
      const { result, drone } = rejection(falling, cmd);
      expect(result.code).toBe("emergency");
      expect(drone).toBe(falling);
    }
    expect(command(falling, { name: "emergency" }, 4).events).toEqual([{ type: "command_done", token: 4 }]);
  });

  test("right after takeoff, still on the ground, lands at once", () => {
    const out = command(command(createDrone("a"), { name: "takeoff" }, 1).drone, { name: "emergency" }, 2);
    expect(out.drone.state).toBe("landed");
    expect(out.drone.flags.emergencyStopped).toBe(true);
    expect(out.events).toEqual([
      { type: "command_failed", token: 1, reason: "emergency stop" },
      { type: "state_changed", from: "taking_off", to: "emergency" },
      { type: "command_done", token: 2 },
      { type: "state_changed", from: "emergency", to: "landed" },
      { type: "landed" },
    ]);
  });

  test("on the ground is accepted, stays landed, and the next takeoff clears it", () => {
    const out = command(createDrone("a"), { name: "emergency" }, 1);
    expect(out.drone.state).toBe("landed");
    expect(out.drone.flags.emergencyStopped).toBe(true);
    expect(out.events).toEqual([{ type: "command_done", token: 1 }]);
    const up = command(out.drone, { name: "takeoff" }, 2).drone;
    expect(up.flags.emergencyStopped).toBe(false);
  });
});

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

  test("low battery interrupts the task and returns home, once", () => {
    const moving = command(hoveringAt(30, 40, 10), { name: "forward", distance: 50 }, 1).drone;
    // 0.1 %/s while flying level at 5 m/s: reaches 20 % after 0.5 s.
    const nearlyLow = { ...moving, battery: 20.05 };
    const crossing = run(nearlyLow, 0.5);
    expect(crossing.events).toEqual([
      { type: "low_battery", battery: 20 },
      { type: "command_failed", token: 1, reason: "interrupted by low-battery return" },
      { type: "state_changed", from: "moving", to: "returning" },
    ]);
    expect(crossing.drone.flags.lowBattery).toBe(true);
    expect(crossing.drone.task).toBeNull();

    const home = runUntil(crossing.drone, (d) => d.state === "landed");
    expect(home.drone.position).toEqual({ x: 0, y: 0, z: 0 });
    expect(transitions(home.events)).toEqual(["returning->landing", "landing->landed"]);
    expect(ofType(home.events, "landed")).toHaveLength(1);
    expect(ofType(home.events, "low_battery")).toHaveLength(0);
    expect(ofType(home.events, "command_done")).toHaveLength(0);
  });

  test("the pilot may override the low-battery return, and it does not fire again", () => {
    const returning = run({ ...hoveringAt(30, 40, 10), battery: 20.01 }, 0.5).drone;
    expect(returning.state).toBe("returning");
    const over = command(returning, { name: "goto", x: 50, y: 0, z: 10 }, 2);
    expect(over.events).toEqual([{ type: "state_changed", from: "returning", to: "moving" }]);
    const later = runUntil(over.drone, (d) => d.state === "hovering");
    expect(ofType(later.events, "low_battery")).toHaveLength(0);
    expect(later.drone.flags.lowBattery).toBe(true);
  });

  test("low battery while already landing only reports it", () => {
    const landing = command(hoveringAt(0, 0, 10), { name: "land" }, 1).drone;
    const out = run({ ...landing, battery: 20.01 }, 1);
    expect(out.events).toEqual([{ type: "low_battery", battery: 20 }]);
    expect(out.drone.state).toBe("landing");
    expect(out.drone.task?.token).toBe(1);
  });

  test("critical battery lands straight down and only land and emergency are accepted", () => {
    const start = { ...command(hoveringAt(30, 40, 10), { name: "forward", distance: 50 }, 1).drone, battery: 5.05 };
    const withLowFired = { ...start, flags: { ...start.flags, lowBattery: true } };
    const crossing = run(withLowFired, 0.5);
    expect(crossing.events).toEqual([
      { type: "critical_battery", battery: 5 },
      { type: "command_failed", token: 1, reason: "interrupted by critical-battery landing" },
      { type: "state_changed", from: "moving", to: "landing" },
    ]);
    const landing = crossing.drone;
    expect(landing.flags.criticalBattery).toBe(true);

    for (const cmd of [{ name: "forward", distance: 5 }, { name: "hover" }, { name: "rth" }, { name: "goto", x: 0, y: 0, z: 5 }] as DroneCommand[]) {
      const { result } = rejection(landing, cmd);
      expect(result.code).toBe("battery_low");
      expect(result.message).toContain("only land and emergency");
    }
    const pilotLand = command(landing, { name: "land" }, 2);
    const down = runUntil(pilotLand.drone, (d) => d.state === "landed");
    expect(down.drone.position.x).toBe(landing.position.x);
    expect(down.drone.position.y).toBe(landing.position.y);
    expect(down.drone.position.z).toBe(0);
    expect(ofType(down.events, "command_done")).toEqual([{ type: "command_done", token: 2 }]);
    expect(applyCommand(landing, { name: "emergency" }, 3).result.accepted).toBe(true);
  });

  test("critical battery during a pilot's landing lets that landing finish", () => {
    const landing = command(hoveringAt(0, 0, 10), { name: "land" }, 1).drone;
    const flagged = { ...landing, battery: 5.01, flags: { ...landing.flags, lowBattery: true } };
    const out = runUntil(flagged, (d) => d.state === "landed");
    expect(out.events).toEqual([
      { type: "critical_battery", battery: 5 },
      { type: "command_done", token: 1 },
      { type: "state_changed", from: "landing", to: "landed" },
      { type: "landed" },
    ]);
  });

  test("low and critical thresholds fire in order within one large step", () => {
    const drone = { ...hoveringAt(30, 40, 10), battery: 20.1 };
    const out = tick(drone, 3);
    expect(out.events.map((e) => e.type)).toEqual(["low_battery", "state_changed"]);
    const critical = tick({ ...out.drone, battery: 5.1 }, 3);
    expect(critical.events).toEqual([
      { type: "critical_battery", battery: 5 },
      { type: "state_changed", from: "returning", to: "landing" },
    ]);
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

describe("state transitions and events", () => {
  test("a full flight reports every transition in order", () => {
    const events: DroneEvent[] = [];
    let drone = createDrone("a");
    const apply = (cmd: DroneCommand, token: number) => {
      const out = command(drone, cmd, token);
      events.push(...out.events);
      drone = out.drone;
    };
    const wait = (predicate: (d: DroneState) => boolean) => {
      const out = runUntil(drone, predicate);
      events.push(...out.events);
      drone = out.drone;
    };
    apply({ name: "takeoff" }, 1);
    wait((d) => d.state === "hovering");
    apply({ name: "forward", distance: 5 }, 2);
    wait((d) => d.state === "hovering");
    apply({ name: "land" }, 3);
    wait((d) => d.state === "landed");
    expect(transitions(events)).toEqual([
      "landed->taking_off",
      "taking_off->hovering",
      "hovering->moving",
      "moving->hovering",
      "hovering->landing",
      "landing->landed",
    ]);
    expect(ofType(events, "command_done").map((e) => e.token)).toEqual([1, 2, 3]);
    expect(ofType(events, "command_failed")).toEqual([]);
    expect(drone.flightSeconds).toBeCloseTo(2 / 3 + 1 + 1, 1);
  });

  test("superseding a move with a move reports the old token as failed", () => {
    const first = command(hovering(), { name: "forward", distance: 10 }, 1).drone;
    const out = command(first, { name: "up", distance: 3 }, 2);
    expect(out.events).toEqual([{ type: "command_failed", token: 1, reason: "superseded by up" }]);
    expect(out.drone.task?.token).toBe(2);
  });

  test("velocity is the actual motion, zero when hovering or landed", () => {
    const east = runUntil(command(hovering(), { name: "cw", degrees: 90 }).drone, (d) => d.state === "hovering").drone;
    expect(east.velocity).toEqual({ x: 0, y: 0, z: 0 });
    const moving = run(command(east, { name: "forward", distance: 20 }).drone, 1).drone;
    expect(moving.velocity).toEqual({ x: 5, y: 0, z: 0 });
    expect(createDrone("a").velocity).toEqual({ x: 0, y: 0, z: 0 });
  });

  test("failsafe is carried, not acted on", () => {
    const drone = command(hovering(), { name: "forward", distance: 10 }).drone;
    const on = setFailsafe(drone, true);
    expect(on.flags.failsafe).toBe(true);
    expect(drone.flags.failsafe).toBe(false);
    expect(on.state).toBe("moving");
    expect(run(on, 3).drone.position).toEqual({ x: 0, y: 10, z: 2 });
    expect(setFailsafe(on, false).flags.failsafe).toBe(false);
  });

  test("distanceFromHome is horizontal", () => {
    expect(distanceFromHome(hoveringAt(3, 4, 50))).toBe(5);
  });
});

describe("determinism and step size", () => {
  function scenario(dt: number): Run {
    const events: DroneEvent[] = [];
    let drone = createDrone("det");
    for (const [cmd, seconds] of [
      [{ name: "takeoff" }, 1],
      [{ name: "goto", x: 40, y: -30, z: 15 }, 4],
      [{ name: "cw", degrees: 135 }, 3],
      [{ name: "speed", metresPerSecond: 8 }, 0],
      [{ name: "forward", distance: 25 }, 5],
      [{ name: "rth" }, 60],
    ] as [DroneCommand, number][]) {
      const out = command(drone, cmd, events.length);
      events.push(...out.events);
      const after = run(out.drone, seconds, dt);
      events.push(...after.events);
      drone = after.drone;
    }
    return { drone, events };
  }

  test("the same inputs give the same outputs", () => {
    expect(scenario(0.1)).toEqual(scenario(0.1));
  });

  test("one 1 s tick equals ten 0.1 s ticks on a straight move", () => {
    const start = command(hovering(), { name: "forward", distance: 10 }).drone;
    const once = tick(start, 1).drone;
    const tenTimes = run(start, 1, 0.1).drone;
    expect(once.position).toEqual(tenTimes.position);
    expect(once.position).toEqual({ x: 0, y: 5, z: 2 });
    expect(once.battery).toBeCloseTo(tenTimes.battery, 9);
    expect(once.flightSeconds).toBeCloseTo(tenTimes.flightSeconds, 9);
    expect(once.state).toBe(tenTimes.state);
  });

  test("a whole flight ends in the same place whatever the step", () => {
    const fine = scenario(0.05).drone;
    for (const dt of [0.1, 0.5, 1]) {
      const coarse = scenario(dt).drone;
      expect(coarse.state).toBe("landed");
      expect(coarse.position).toEqual(fine.position);
      expect(coarse.heading).toBe(fine.heading);
      expect(coarse.battery).toBeCloseTo(fine.battery, 6);
    }
  });

  test("large steps never overshoot", () => {
    const move = tick(command(hovering(), { name: "forward", distance: 10 }, 1).drone, 5);
    expect(move.drone.position).toEqual({ x: 0, y: 10, z: 2 });
    expect(move.drone.state).toBe("hovering");
    expect(move.events).toEqual([
      { type: "command_done", token: 1 },
      { type: "state_changed", from: "moving", to: "hovering" },
    ]);
    const up = tick(command(createDrone("a"), { name: "takeoff" }).drone, 3).drone;
    expect(up.position.z).toBe(2);
    const turned = tick(command(hovering(), { name: "cw", degrees: 270 }).drone, 10).drone;
    expect(turned.heading).toBe(270);
    const landed = tick(command(hoveringAt(0, 0, 30), { name: "land" }).drone, 60).drone;
    expect(landed.position.z).toBe(0);
    expect(landed.state).toBe("landed");
    const fell = tick(command(hoveringAt(0, 0, 30), { name: "emergency" }).drone, 10).drone;
    expect(fell.position.z).toBe(0);
  });

  test("time left over after a phase carries into the next one", () => {
    const out = tick(command(createDrone("a"), { name: "takeoff" }).drone, 1);
    expect(out.drone.state).toBe("hovering");
    expect(out.drone.flightSeconds).toBe(1);
    // 2/3 s climbing (0.1 %/s) then 1/3 s hovering (0.05 %/s).
    expect(100 - out.drone.battery).toBeCloseTo((2 / 3) * 0.1 + (1 / 3) * 0.05, 9);
  });
});

describe("malformed input", () => {
  test("an unknown command name is refused, not thrown", () => {
    const drone = hovering();
    const out = applyCommand(drone, { name: "barrel_roll" } as unknown as DroneCommand, 1);
    expect(out.result).toEqual({ accepted: false, code: "out_of_range", field: "name", message: "unknown command: received barrel_roll" });
    expect(out.drone).toBe(drone);
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
