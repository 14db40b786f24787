/**
 * Unit tests for src/core/drone/transitions.ts: every state change and every
 * task ending is reported exactly once, in order.
 */
import { describe, expect, test } from "bun:test";
import { createDrone } from "../../../src/core/drone/model.ts";
import type { DroneCommand, DroneEvent, DroneState } from "../../../src/core/drone/types.ts";
import { command, hovering, ofType, runUntil, transitions } from "../../support/drone-model.ts";

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
});
