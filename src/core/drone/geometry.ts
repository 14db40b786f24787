/**
 * Heading and distance arithmetic in the home frame.
 *
 * Owns the one place headings are normalized and turned into unit vectors, so
 * "0 = north, clockwise positive" is written down once. Pure maths only.
 */
import type { Vector3 } from "./types.ts";

/** Degrees in a full turn. */
const fullTurnDegrees = 360;

/**
 * sin/cos of multiples of 90 degrees come back as ~1e-16 instead of 0; below
 * this magnitude a unit-vector component is treated as exactly 0, so that
 * `forward 10` at heading 90 lands on (10, 0) rather than (10, 6e-16).
 */
const unitVectorSnap = 1e-12;

/** Maps any finite angle in degrees into [0, 360), never returning -0. */
export function normalizeHeading(degrees: number): number {
  const wrapped = degrees % fullTurnDegrees;
  const positive = wrapped < 0 ? wrapped + fullTurnDegrees : wrapped;
  // Adding 360 to a tiny negative remainder can round up to exactly 360.
  if (positive >= fullTurnDegrees || positive === 0) return 0;
  return positive;
}

/** The horizontal unit vector of a heading: east component x, north component y. */
export function headingUnitVector(headingDegrees: number): { x: number; y: number } {
  const radians = (headingDegrees * Math.PI) / 180;
  return { x: snapToZero(Math.sin(radians)), y: snapToZero(Math.cos(radians)) };
}

function snapToZero(component: number): number {
  return Math.abs(component) < unitVectorSnap ? 0 : component;
}

/** Horizontal distance between two points, metres. */
export function horizontalDistance(a: Vector3, b: Vector3): number {
  return Math.hypot(b.x - a.x, b.y - a.y);
}

/** Horizontal distance of a point from home, metres. */
export function horizontalDistanceFromHome(point: Vector3): number {
  return Math.hypot(point.x, point.y);
}
