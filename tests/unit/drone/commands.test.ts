/**
 * Unit tests for src/core/drone/commands.ts: whether a command is accepted
 * (flight-state gates, argument ranges), the target it computes, what it
 * supersedes, and the commands that complete at once (speed, hover,
 * emergency). Motion over time is flight.test.ts's.
 */
import { describe, expect, test } from "bun:test";
import { applyCommand, createDrone } from "../../../src/core/drone/model.ts";
import type { DroneCommand } from "../../../src/core/drone/types.ts";
import { command, hovering, hoveringAt, ofType, rejection, run, runUntil } from "../../support/drone-model.ts";

describe("takeoff", () => {
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
  test.each([0, -10, 361, Number.NaN])("degrees %p is out of range", (degrees) => {
    expect(rejection(hovering(), { name: "cw", degrees }).result).toMatchObject({ code: "out_of_range", field: "degrees" });
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

describe("malformed input", () => {
  test("an unknown command name is refused, not thrown", () => {
    const drone = hovering();
    const out = applyCommand(drone, { name: "barrel_roll" } as unknown as DroneCommand, 1);
    expect(out.result).toEqual({ accepted: false, code: "out_of_range", field: "name", message: "unknown command: received barrel_roll" });
    expect(out.drone).toBe(drone);
  });
});
