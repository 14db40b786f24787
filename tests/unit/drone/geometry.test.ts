/**
 * Unit tests for src/core/drone/geometry.ts: headings (0 = north, clockwise
 * positive) and horizontal distance in the home frame, directly and as the
 * commands see them.
 */
import { describe, expect, test } from "bun:test";
import { headingUnitVector, horizontalDistance, horizontalDistanceFromHome, normalizeHeading } from "../../../src/core/drone/geometry.ts";
import { applyCommand, distanceFromHome } from "../../../src/core/drone/model.ts";
import { command, hovering, hoveringAt, runUntil } from "../../support/drone-model.ts";

describe("geometry functions", () => {
  test("normalizeHeading maps any angle into [0, 360)", () => {
    expect([0, 90, 360, 450, -90, -360, 720.5].map(normalizeHeading)).toEqual([0, 90, 0, 90, 270, 0, 0.5]);
  });

  test("headingUnitVector: 0 is north (+y), 90 east (+x), with exact zeros at right angles", () => {
    expect(headingUnitVector(0)).toEqual({ x: 0, y: 1 });
    expect(headingUnitVector(90)).toEqual({ x: 1, y: 0 });
    expect(headingUnitVector(180)).toEqual({ x: 0, y: -1 });
    expect(headingUnitVector(270)).toEqual({ x: -1, y: 0 });
    const diagonal = headingUnitVector(45);
    expect(diagonal.x).toBeCloseTo(Math.SQRT1_2, 12);
    expect(diagonal.y).toBeCloseTo(Math.SQRT1_2, 12);
  });

  test("horizontal distances ignore altitude", () => {
    expect(horizontalDistance({ x: 1, y: 1, z: 0 }, { x: 4, y: 5, z: 90 })).toBe(5);
    expect(horizontalDistanceFromHome({ x: -3, y: 4, z: 12 })).toBe(5);
  });
});

describe("moves relative to the heading", () => {
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
});

describe("headings", () => {
  test("target heading is normalized to [0, 360)", () => {
    const at270 = runUntil(command(hovering(), { name: "cw", degrees: 270 }).drone, (d) => d.state === "hovering").drone;
    const out = applyCommand(at270, { name: "cw", degrees: 180 }, 2);
    expect(out.result.accepted && out.result.target.heading).toBe(90);
    expect(runUntil(out.drone, (d) => d.state === "hovering").drone.heading).toBe(90);
  });
});

describe("distance", () => {
  test("distanceFromHome is horizontal", () => {
    expect(distanceFromHome(hoveringAt(3, 4, 50))).toBe(5);
  });
});
