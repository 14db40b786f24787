/**
 * Unit tests for src/core/drone/flight.ts: `tick`, the physics of each phase
 * (climb, descent, moves, turns, return home, the emergency fall), the
 * automatic battery reactions, and the promise that the step size does not
 * change the path. Time only moves through `tick` in fixed steps.
 */
import { describe, expect, test } from "bun:test";
import { applyCommand, createDrone, emergencyFallMetresPerSecond, isAirborne, tick } from "../../../src/core/drone/model.ts";
import type { DroneCommand, DroneEvent } from "../../../src/core/drone/types.ts";
import { command, hovering, hoveringAt, ofType, rejection, run, type Run, runUntil, step, transitions } from "../../support/drone-model.ts";

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
});

describe("battery alarms", () => {
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
});

describe("velocity", () => {
  test("velocity is the actual motion, zero when hovering or landed", () => {
    const east = runUntil(command(hovering(), { name: "cw", degrees: 90 }).drone, (d) => d.state === "hovering").drone;
    expect(east.velocity).toEqual({ x: 0, y: 0, z: 0 });
    const moving = run(command(east, { name: "forward", distance: 20 }).drone, 1).drone;
    expect(moving.velocity).toEqual({ x: 5, y: 0, z: 0 });
    expect(createDrone("a").velocity).toEqual({ x: 0, y: 0, z: 0 });
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
