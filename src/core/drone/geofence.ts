/**
 * Whether a command's target is a place the drone may fly to.
 *
 * Owns the geofence (ceiling, radius, and the polygon's verdict from
 * `boundary.ts`) and the minimum move altitude. Targets
 * outside are rejected, never clamped: a pilot who asked for 130 m must learn
 * they are not getting it. Must not change drone state.
 */
import { boundaryViolation, type Point2 } from "./boundary.ts";
import { horizontalDistanceFromHome } from "./geometry.ts";
import type { DroneLimits, Vector3 } from "./types.ts";

/**
 * Lowest altitude a move may target, metres. Below it the drone is
 * effectively landing, and landing is what `land` is for.
 */
export const minimumMoveAltitudeMetres = 0.5;

/**
 * Slack on the fence, metres, so a target computed with floating-point
 * rounding (e.g. 499.99999999999994 vs 500) is judged by its intent.
 */
const geofenceToleranceMetres = 1e-9;

/**
 * Why `target` is outside the geofence, or null when it is inside: above
 * the ceiling, beyond the radius, or outside the polygon (`boundary`, when
 * there is one), or reached from `from` by a straight path that leaves it.
 */
export function geofenceViolation(target: Vector3, limits: DroneLimits, boundary: readonly Point2[] | null = null, from?: Vector3): string | null {
  if (target.z > limits.maxAltitudeMetres + geofenceToleranceMetres) {
    const ceiling = formatMetres(limits.maxAltitudeMetres);
    return `target altitude ${formatMetres(target.z)} m exceeds the ${ceiling} m ceiling`;
  }
  const radius = horizontalDistanceFromHome(target);
  if (radius > limits.maxRadiusMetres + geofenceToleranceMetres) {
    return (
      `target distance ${formatMetres(radius)} m from home exceeds the ` +
      `${formatMetres(limits.maxRadiusMetres)} m radius`
    );
  }
  return boundary === null ? null : boundaryViolation(boundary, target, from);
}

/** A length for a human: at most two decimals, no trailing zeros. */
export function formatMetres(metres: number): string {
  return String(Math.round(metres * 100) / 100);
}
