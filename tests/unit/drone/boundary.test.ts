/**
 * The geofence polygon's plane geometry: which rings are usable, inside and
 * outside (edges inside), and straight paths that leave a concave field.
 */
import { describe, expect, test } from "bun:test";
import { uShapedField } from "../../support/fields.ts";
import { boundaryProblem, boundaryViolation, insideBoundary, maxBoundaryVertices, type Point2 } from "../../../src/core/drone/boundary.ts";

const square: Point2[] = [
  { x: -100, y: -100 },
  { x: 100, y: -100 },
  { x: 100, y: 100 },
  { x: -100, y: 100 },
];
/** A U: the square with a notch cut from the north edge down to y = 0 between x = -20 and 20. */
const u = uShapedField(0);

describe("boundary", () => {
  test("a usable ring has 3 or more corners, an area and no crossing edges; each refusal says why", () => {
    expect(boundaryProblem(square)).toBeNull();
    expect(boundaryProblem(u)).toBeNull();
    expect(boundaryProblem([...square].reverse())).toBeNull();
    expect(boundaryProblem(square.slice(0, 2))).toBe("a geofence polygon needs at least 3 corners: received 2");
    expect(boundaryProblem([{ x: 0, y: 0 }, { x: 10, y: 0 }, { x: 20, y: 0 }])).toContain("encloses no area");
    const bowtie = [square[0]!, square[2]!, square[1]!, square[3]!];
    expect(boundaryProblem(bowtie)).toBe("the geofence polygon crosses itself: edge 1 (corners 1-2) meets edge 3 (corners 3-4)");
    const many = Array.from({ length: maxBoundaryVertices + 1 }, (_, i) => ({ x: Math.cos(i / 200) * 100, y: Math.sin(i / 200) * 100 }));
    expect(boundaryProblem(many)).toContain(`at most ${maxBoundaryVertices} corners`);
  });

  test("inside, outside, and on an edge or a corner (inside)", () => {
    expect(insideBoundary(square, { x: 0, y: 0 })).toBe(true);
    expect(insideBoundary(square, { x: 100, y: 50 })).toBe(true);
    expect(insideBoundary(square, { x: 100, y: 100 })).toBe(true);
    expect(insideBoundary(square, { x: 100.01, y: 0 })).toBe(false);
    expect(insideBoundary(u, { x: 0, y: 50 })).toBe(false);
    expect(insideBoundary(u, { x: 0, y: -50 })).toBe(true);
    expect(insideBoundary(u, { x: 60, y: 90 })).toBe(true);
  });

  test("a target outside is refused; so is a straight path across the notch between two inside points", () => {
    expect(boundaryViolation(square, { x: 150, y: 0 }, { x: 0, y: 0 })).toBe("the target is outside the geofence polygon");
    expect(boundaryViolation(u, { x: 60, y: 90 }, { x: -60, y: 90 })).toBe("the straight path to the target leaves the geofence polygon");
    expect(boundaryViolation(u, { x: 60, y: -10 }, { x: -60, y: -10 })).toBeNull();
    expect(boundaryViolation(u, { x: -30, y: -50 }, { x: -60, y: 90 })).toBeNull();
    // Along the notch's edge is inside; through its corner too.
    expect(boundaryViolation(u, { x: 20, y: 90 }, { x: 20, y: 10 })).toBeNull();
    expect(boundaryViolation(u, { x: 60, y: -60 }, { x: -20, y: 0 })).toBeNull();
    // Without where it starts, only the target is judged; from outside (a drone beyond it), only the target too.
    expect(boundaryViolation(u, { x: 60, y: 90 })).toBeNull();
    expect(boundaryViolation(u, { x: 60, y: 90 }, { x: 0, y: 50 })).toBeNull();
  });
});
