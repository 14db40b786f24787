/** Planning and judging commands for vehicles that report their state, and the tracker's time limits. */
import { describe, expect, test } from "bun:test";
import { CommandTracker, defaultTolerances, judge, planCommand } from "../../../src/core/vehicle/completion.ts";
import type { VehicleMotion } from "../../../src/core/vehicle/vehicle.ts";

const limits = { takeoffAltitudeMetres: 2, speedLimitMetresPerSecond: 5 };

function at(x: number, y: number, z: number, state: VehicleMotion["state"] = "hovering", heading = 0): VehicleMotion {
  return {
    state,
    position: { x, y, z },
    velocity: { x: 0, y: 0, z: 0 },
    heading,
    battery: 90,
    flags: { lowBattery: false, criticalBattery: false, emergencyStopped: false },
    target: null,
  };
}

describe("planCommand", () => {
  test("relative moves start from where the vehicle is, along its heading", () => {
    const east = at(10, 20, 5, "hovering", 90);
    expect(planCommand({ name: "forward", distance: 10 }, east, limits)).toMatchObject({ x: 20, y: 20, z: 5, heading: 90 });
    expect(planCommand({ name: "left", distance: 4 }, east, limits).y).toBeCloseTo(24, 9);
    expect(planCommand({ name: "back", distance: 10 }, east, limits).x).toBeCloseTo(0, 9);
    expect(planCommand({ name: "up", distance: 3 }, east, limits).z).toBe(8);
    expect(planCommand({ name: "down", distance: 3 }, east, limits).z).toBe(2);
    expect(planCommand({ name: "ccw", degrees: 100 }, east, limits).heading).toBe(350);
    expect(planCommand({ name: "cw", degrees: 360 }, east, limits).heading).toBe(90);
  });

  test("absolute commands: takeoff altitude, land in place, home, goto, speed", () => {
    const here = at(3, 4, 6);
    expect(planCommand({ name: "takeoff" }, at(0, 0, 0, "landed"), limits)).toEqual({ x: 0, y: 0, z: 2, heading: 0, speedLimit: 5 });
    expect(planCommand({ name: "land" }, here, limits)).toMatchObject({ x: 3, y: 4, z: 0 });
    expect(planCommand({ name: "rth" }, here, limits)).toMatchObject({ x: 0, y: 0, z: 0 });
    expect(planCommand({ name: "goto", x: -7, y: 8, z: 9 }, here, limits)).toMatchObject({ x: -7, y: 8, z: 9 });
    expect(planCommand({ name: "speed", metresPerSecond: 9 }, here, limits).speedLimit).toBe(9);
  });
});

describe("judge", () => {
  const plan = { x: 10, y: 0, z: 5, heading: 90, speedLimit: 5 };

  test("arrived within the position and heading tolerances, and not still taking off", () => {
    expect(judge({ name: "goto", x: 10, y: 0, z: 5 }, plan, at(9.5, 0.3, 5.2, "hovering", 92))).toEqual({ over: true, completed: true });
    expect(judge({ name: "goto", x: 10, y: 0, z: 5 }, plan, at(8.5, 0, 5, "moving", 90))).toEqual({ over: false });
    expect(judge({ name: "goto", x: 10, y: 0, z: 5 }, plan, at(10, 0, 5, "hovering", 100))).toEqual({ over: false });
    expect(judge({ name: "takeoff" }, { ...plan, x: 0, z: 2, heading: 0 }, at(0, 0, 1.5, "taking_off"))).toEqual({ over: false });
    expect(judge({ name: "cw", degrees: 350 }, { ...plan, x: 0, z: 2, heading: 355 }, at(0, 0, 2, "hovering", 358))).toEqual({ over: true, completed: true });
    expect(judge({ name: "cw", degrees: 350 }, { ...plan, x: 0, z: 2, heading: 2 }, at(0, 0, 2, "hovering", 358))).toEqual({ over: true, completed: true });
  });

  test("landing ends on the ground; home must be within the tolerance", () => {
    expect(judge({ name: "land" }, plan, at(4, 4, 0, "landed"))).toEqual({ over: true, completed: true });
    expect(judge({ name: "land" }, plan, at(4, 4, 0.2, "landing"))).toEqual({ over: false });
    expect(judge({ name: "rth" }, plan, at(0.4, 0.4, 0, "landed"))).toEqual({ over: true, completed: true });
    expect(judge({ name: "rth" }, plan, at(30, 0, 0, "landed"))).toEqual({ over: true, completed: false, reason: "landed away from home" });
  });

  test("an emergency or an unexpected landing fails the command; instant commands are over at once", () => {
    expect(judge({ name: "forward", distance: 5 }, plan, at(3, 0, 0, "emergency"))).toEqual({ over: true, completed: false, reason: "emergency stop" });
    expect(judge({ name: "forward", distance: 5 }, plan, at(3, 0, 0, "landed"))).toEqual({ over: true, completed: false, reason: "the vehicle landed" });
    expect(judge({ name: "hover" }, plan, at(3, 0, 5))).toEqual({ over: true, completed: true });
  });
});

describe("CommandTracker", () => {
  const takeoff = { x: 0, y: 0, z: 2, heading: 0, speedLimit: 5 };

  test("acknowledged, then flown to completion by the reports", () => {
    const tracker = new CommandTracker();
    tracker.sent(1, { name: "takeoff" }, 0);
    expect(tracker.takeEvents()).toEqual([]);
    tracker.acknowledged(takeoff, 0.4);
    tracker.report(at(0, 0, 1, "taking_off"));
    expect(tracker.takeEvents()).toEqual([{ type: "command_accepted", token: 1, plan: takeoff }]);
    tracker.report(at(0, 0, 1.9));
    expect(tracker.takeEvents()).toEqual([{ type: "command_done", token: 1 }]);
  });

  test("refused by the vehicle, or not answered within answerSeconds", () => {
    const tracker = new CommandTracker({ ...defaultTolerances, answerSeconds: 2 });
    tracker.sent(1, { name: "takeoff" }, 0);
    tracker.rejected({ code: "battery_low", message: "battery too low to take off" });
    tracker.sent(2, { name: "takeoff" }, 10);
    tracker.expire(11.9);
    expect(tracker.takeEvents()).toEqual([{ type: "command_refused", token: 1, refusal: { code: "battery_low", message: "battery too low to take off" } }]);
    tracker.expire(12);
    expect(tracker.takeEvents()).toEqual([
      { type: "command_refused", token: 2, refusal: { code: "drone_unavailable", message: "the vehicle did not answer takeoff within 2 s" } },
    ]);
    tracker.acknowledged(takeoff, 12); // too late: nothing is awaited any more
    expect(tracker.takeEvents()).toEqual([]);
  });

  test("a new command supersedes the one in flight; an unfinished one fails after finishSeconds", () => {
    const tracker = new CommandTracker({ ...defaultTolerances, finishSeconds: 60 });
    tracker.started(1, { name: "forward", distance: 50 }, { ...takeoff, y: 50 }, 0);
    tracker.started(2, { name: "up", distance: 5 }, { ...takeoff, z: 7 }, 1);
    expect(tracker.takeEvents()).toEqual([{ type: "command_failed", token: 1, reason: "superseded by up" }]);
    tracker.expire(61);
    expect(tracker.takeEvents()).toEqual([{ type: "command_failed", token: 2, reason: "not finished within 60 s" }]);
  });

  test("instant commands complete at once; speed does not interrupt the command in flight, hover does", () => {
    const tracker = new CommandTracker();
    tracker.started(1, { name: "forward", distance: 50 }, { ...takeoff, y: 50 }, 0);
    tracker.started(2, { name: "speed", metresPerSecond: 8 }, takeoff, 0);
    expect(tracker.takeEvents()).toEqual([{ type: "command_done", token: 2 }]);
    tracker.started(3, { name: "hover" }, takeoff, 0);
    expect(tracker.takeEvents()).toEqual([{ type: "command_failed", token: 1, reason: "superseded by hover" }, { type: "command_done", token: 3 }]);
  });

  test("a lost link refuses what awaits an answer and fails what was in flight", () => {
    const tracker = new CommandTracker();
    tracker.started(1, { name: "forward", distance: 50 }, { ...takeoff, y: 50 }, 0);
    tracker.sent(2, { name: "land" }, 1);
    tracker.linkLost("no heartbeat");
    expect(tracker.takeEvents()).toEqual([
      { type: "command_refused", token: 2, refusal: { code: "drone_unavailable", message: "lost the link to the vehicle: no heartbeat" } },
      { type: "command_failed", token: 1, reason: "lost the link to the vehicle: no heartbeat" },
    ]);
  });
});
