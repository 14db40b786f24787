/**
 * The velocity command (hold-to-fly, issue 16): the drone flies at the rates
 * given, relative to its heading, for `velocityHoldSeconds`; repeated in
 * time it flies on; when the updates stop it stops by itself (the dead-man
 * hold); a velocity that replaces a velocity is done, not failed; limits,
 * floor and geofence are checked like any move.
 */
import { describe, expect, test } from "bun:test";
import { velocityHoldSeconds } from "../../../src/core/drone/commands.ts";
import { createDrone } from "../../../src/core/drone/model.ts";
import type { DroneCommand } from "../../../src/core/drone/types.ts";
import { command, hovering, hoveringAt, ofType, rejection, run } from "../../support/drone-model.ts";

const velocity = (forward: number, right = 0, up = 0, yawRate = 0): DroneCommand => ({ name: "velocity", forward, right, up, yawRate });

test("the hold is one second, as an autopilot's guided velocity target", () => {
  expect(velocityHoldSeconds).toBe(1);
});

describe("flies at the rates given", () => {
  test("forward 2 m/s along the heading: 1 m after 0.5 s, then it stops 2 m on and hovers, done", () => {
    const start = command(hovering(), velocity(2), 5);
    expect(start.drone.state).toBe("moving");
    const half = run(start.drone, 0.5);
    expect(half.drone.position.y).toBeCloseTo(1, 6);
    expect(half.drone.velocity.y).toBeCloseTo(2, 6);
    const after = run(half.drone, 1);
    expect(after.drone.position.y).toBeCloseTo(2, 6);
    expect(after.drone.state).toBe("hovering");
    expect(ofType(after.events, "command_done")).toEqual([{ type: "command_done", token: 5 }]);
  });

  test("right, up and a turn at their own rates, relative to the heading", () => {
    const facingEast = { ...hoveringAt(0, 0, 10), heading: 90 };
    const { drone } = run(command(facingEast, velocity(0, 1, 0.5, 30)).drone, 0.5);
    // Right of east is south; up 0.25 m; turned 15 degrees.
    expect(drone.position.x).toBeCloseTo(0, 6);
    expect(drone.position.y).toBeCloseTo(-0.5, 6);
    expect(drone.position.z).toBeCloseTo(10.25, 6);
    expect(drone.heading).toBeCloseTo(105, 6);
  });

  test("repeated within the hold it flies on; the one replaced is done, not failed", () => {
    let drone = command(hovering(), velocity(3), 1).drone;
    const events = [];
    for (let token = 2; token <= 9; token++) {
      drone = run(drone, 0.2).drone;
      const next = command(drone, velocity(3), token);
      drone = next.drone;
      events.push(...next.events);
    }
    // 1.6 s at 3 m/s without stopping: past the 3 m one command alone would fly.
    expect(drone.position.y).toBeCloseTo(4.8, 6);
    expect(drone.state).toBe("moving");
    expect(ofType(events, "command_failed")).toEqual([]);
    expect(ofType(events, "command_done").map((event) => event.token)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  test("a move replaced by a velocity is superseded as any move", () => {
    const moving = command(hovering(), { name: "forward", distance: 20 }, 1).drone;
    expect(ofType(command(moving, velocity(1), 2).events, "command_failed")).toEqual([{ type: "command_failed", token: 1, reason: "superseded by velocity" }]);
  });
});

describe("refused like a move", () => {
  test("on the ground, above the limits, or out of the geofence", () => {
    expect(rejection(createDrone("a"), velocity(1)).result.code).toBe("not_flying");
    expect(rejection(hovering(), velocity(12, 12)).result).toMatchObject({ code: "out_of_range", field: "forward" });
    expect(rejection(hovering(), velocity(0, 0, 5)).result).toMatchObject({ code: "out_of_range", field: "up" });
    expect(rejection(hovering(), velocity(0, 0, 0, 200)).result).toMatchObject({ code: "out_of_range", field: "yawRate" });
    expect(rejection(hoveringAt(0, 499.5, 10), velocity(2)).result.code).toBe("geofence");
  });

  test("a descent stops at the move floor, never lands", () => {
    const { drone } = run(command(hoveringAt(0, 0, 1), velocity(0, 0, -2)).drone, 2);
    expect(drone.position.z).toBeCloseTo(0.5, 6);
    expect(drone.state).toBe("hovering");
  });
});
