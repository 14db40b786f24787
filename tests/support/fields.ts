/**
 * Geofence polygons the tests fly in: a U-shaped field around home, in
 * metres from home (x east, y north), so a straight leg from one arm to the
 * other crosses the notch between them.
 */
import type { Point2 } from "../../src/core/drone/boundary.ts";

/** A 200 m square around home with a 40 m wide notch from `notchFrom` m north of home to its north edge. */
export function uShapedField(notchFrom = 20): Point2[] {
  return [
    { x: -100, y: -100 },
    { x: 100, y: -100 },
    { x: 100, y: 100 },
    { x: 20, y: 100 },
    { x: 20, y: notchFrom },
    { x: -20, y: notchFrom },
    { x: -20, y: 100 },
    { x: -100, y: 100 },
  ];
}
