/**
 * The geofence polygon: a drone may fly only inside it (as well as inside
 * the circle and under the ceiling of `geofence.ts`).
 *
 * Owns the plane geometry in metres from home (x east, y north): whether a
 * ring of vertices is a usable polygon (three or more corners, an area, no
 * edge crossing another), whether a point is inside, and whether the
 * straight path between two points stays inside (a concave field's notch
 * can lie between two points that are both inside). Points on an edge count
 * as inside. Pure; must not know about latitude and longitude (the callers
 * turn the configured polygon into metres from their home).
 */

/** A point in metres from home: x east, y north. */
export interface Point2 {
  x: number;
  y: number;
}

/** Corners a boundary may have at most: far more than any field needs, few enough to check every leg against each edge. */
export const maxBoundaryVertices = 1000;

/** Slack for points on an edge, metres: rounding must not refuse a waypoint placed on the line. */
const onEdgeMetres = 1e-6;

/** Why `vertices` (an open ring: the last corner is not the first repeated) is not a usable boundary, or null. */
export function boundaryProblem(vertices: readonly Point2[]): string | null {
  if (vertices.length < 3) return `a geofence polygon needs at least 3 corners: received ${vertices.length}`;
  if (vertices.length > maxBoundaryVertices) return `a geofence polygon may have at most ${maxBoundaryVertices} corners: received ${vertices.length}`;
  const n = vertices.length;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      // Neighbouring edges share a corner; that is not a crossing.
      if (j === i + 1 || (i === 0 && j === n - 1)) continue;
      if (segmentsTouch(vertices[i]!, vertices[(i + 1) % n]!, vertices[j]!, vertices[(j + 1) % n]!)) {
        return `the geofence polygon crosses itself: edge ${i + 1} (corners ${i + 1}-${((i + 1) % n) + 1}) meets edge ${j + 1} (corners ${j + 1}-${((j + 1) % n) + 1})`;
      }
    }
  }
  if (Math.abs(signedArea(vertices)) < 1) return "the geofence polygon encloses no area (its corners lie on one line, or within a square metre)";
  return null;
}

/** Whether `point` is inside the boundary or on its edge. */
export function insideBoundary(vertices: readonly Point2[], point: Point2): boolean {
  let inside = false;
  const n = vertices.length;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const a = vertices[i]!;
    const b = vertices[j]!;
    if (distanceToSegment(point, a, b) <= onEdgeMetres) return true;
    // Ray casting towards +x: count the edges that straddle the point's y to its right.
    if (a.y > point.y !== b.y > point.y && point.x < ((b.x - a.x) * (point.y - a.y)) / (b.y - a.y) + a.x) inside = !inside;
  }
  return inside;
}

/**
 * Why flying to `to` (straight from `from`, when given) would leave the
 * boundary, or null when it stays inside. A path that starts outside (a
 * drone already beyond it) is judged by its end and its crossings only.
 */
export function boundaryViolation(vertices: readonly Point2[], to: Point2, from?: Point2): string | null {
  if (!insideBoundary(vertices, to)) return "the target is outside the geofence polygon";
  if (from === undefined || !insideBoundary(vertices, from)) return null;
  if (pathLeaves(vertices, from, to)) return "the straight path to the target leaves the geofence polygon";
  return null;
}

/** Whether the segment between two inside points goes outside: it crosses an edge, or its midpoint between crossings lies outside. */
function pathLeaves(vertices: readonly Point2[], from: Point2, to: Point2): boolean {
  const n = vertices.length;
  // Every place the path meets the boundary, as a fraction along it; between two of them the path is wholly in or out.
  const cuts = [0, 1];
  for (let i = 0; i < n; i++) {
    const a = vertices[i]!;
    const b = vertices[(i + 1) % n]!;
    const t = crossingFraction(from, to, a, b);
    if (t !== null) cuts.push(t);
    // A corner on the path is a place it can leave too.
    const along = fractionOnPath(from, to, a);
    if (along !== null) cuts.push(along);
  }
  cuts.sort((p, q) => p - q);
  for (let k = 1; k < cuts.length; k++) {
    const t = (cuts[k - 1]! + cuts[k]!) / 2;
    if (cuts[k]! - cuts[k - 1]! < 1e-12) continue;
    if (!insideBoundary(vertices, { x: from.x + (to.x - from.x) * t, y: from.y + (to.y - from.y) * t })) return true;
  }
  return false;
}

/** Where along p→q (0 to 1) it crosses segment a→b, or null when they do not meet at one point. */
function crossingFraction(p: Point2, q: Point2, a: Point2, b: Point2): number | null {
  const d = cross(q.x - p.x, q.y - p.y, b.x - a.x, b.y - a.y);
  if (d === 0) return null;
  const t = cross(a.x - p.x, a.y - p.y, b.x - a.x, b.y - a.y) / d;
  const u = cross(a.x - p.x, a.y - p.y, q.x - p.x, q.y - p.y) / d;
  return t >= 0 && t <= 1 && u >= 0 && u <= 1 ? t : null;
}

/** Where along p→q (0 to 1) the point c lies, or null when it is not on the path. */
function fractionOnPath(p: Point2, q: Point2, c: Point2): number | null {
  const length2 = (q.x - p.x) ** 2 + (q.y - p.y) ** 2;
  if (length2 === 0 || distanceToSegment(c, p, q) > onEdgeMetres) return null;
  return ((c.x - p.x) * (q.x - p.x) + (c.y - p.y) * (q.y - p.y)) / length2;
}

/** Whether segments a→b and c→d share a point. */
function segmentsTouch(a: Point2, b: Point2, c: Point2, d: Point2): boolean {
  const d1 = orientation(c, d, a);
  const d2 = orientation(c, d, b);
  const d3 = orientation(a, b, c);
  const d4 = orientation(a, b, d);
  if (((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0))) return true;
  return distanceToSegment(a, c, d) <= onEdgeMetres || distanceToSegment(b, c, d) <= onEdgeMetres || distanceToSegment(c, a, b) <= onEdgeMetres || distanceToSegment(d, a, b) <= onEdgeMetres;
}

function orientation(a: Point2, b: Point2, c: Point2): number {
  return cross(b.x - a.x, b.y - a.y, c.x - a.x, c.y - a.y);
}

function cross(ax: number, ay: number, bx: number, by: number): number {
  return ax * by - ay * bx;
}

function distanceToSegment(p: Point2, a: Point2, b: Point2): number {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const length2 = dx * dx + dy * dy;
  const t = length2 === 0 ? 0 : Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / length2));
  return Math.hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy));
}

/** The shoelace area, square metres, positive when the corners run anticlockwise. */
function signedArea(vertices: readonly Point2[]): number {
  let sum = 0;
  for (let i = 0, j = vertices.length - 1; i < vertices.length; j = i++) sum += (vertices[j]!.x * vertices[i]!.y - vertices[i]!.x * vertices[j]!.y);
  return sum / 2;
}
