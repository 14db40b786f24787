/**
 * Unit tests for src/core/drone/geofence.ts: the ceiling, the radius and the
 * minimum move altitude. Targets outside are refused, never clamped.
 */
import { describe, expect, test } from "bun:test";
import { applyCommand } from "../../../src/core/drone/model.ts";
import type { DroneCommand } from "../../../src/core/drone/types.ts";
import { command, hovering, hoveringAt, ofType, runUntil } from "../../support/drone-model.ts";
import { uShapedField } from "../../support/fields.ts";

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

  test("with a polygon: a goto outside it, or across a notch of it, is rejected; one inside flies", () => {
    // A U-shaped field around home: the notch runs north from y = 20 between x = -20 and 20.
    const field = uShapedField();
    const drone = { ...hoveringAt(-60, 80, 10), boundary: field };
    const outside = applyCommand(drone, { name: "goto", x: 0, y: 60, z: 10 }, 1);
    expect(outside.result).toEqual({ accepted: false, code: "geofence", message: "the target is outside the geofence polygon" });
    const across = applyCommand(drone, { name: "goto", x: 60, y: 80, z: 10 }, 1);
    expect(across.result).toEqual({ accepted: false, code: "geofence", message: "the straight path to the target leaves the geofence polygon" });
    expect(ofType(across.events, "geofence")).toHaveLength(1);
    expect(applyCommand(drone, { name: "right", distance: 50 }, 1).result).toMatchObject({ accepted: false, code: "geofence" });
    expect(applyCommand(drone, { name: "goto", x: -30, y: -50, z: 10 }, 1).result).toMatchObject({ accepted: true });
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
