/**
 * The configured geofence polygon (`--geofence-polygon FILE`): read from a
 * GeoJSON Polygon (as a geometry, a Feature or a FeatureCollection holding
 * one) or from a QGroundControl `.plan` file's inclusion polygon, and
 * turned into metres from a vehicle's home for `boundary.ts`.
 *
 * Owns the file formats' rules and their error messages. Pure: it is given
 * the parsed JSON, never a path; it never decides what is refused in flight.
 */
import { boundaryProblem, type Point2 } from "../drone/boundary.ts";
import { offsetFromHome, type LatLon } from "./geodesy.ts";

/** The polygon's corners (latitude and longitude in degrees, an open ring), or why the document holds no usable polygon. */
export type ParsedPolygon = { ok: true; corners: LatLon[] } | { ok: false; message: string };

/** The polygon in `document` (GeoJSON or a QGroundControl plan), checked as a ring around some area. */
export function parseGeofencePolygon(document: unknown): ParsedPolygon {
  const ring = ringOf(document);
  if (typeof ring === "string") return { ok: false, message: ring };
  const corners: LatLon[] = [];
  for (const [index, corner] of ring.entries()) {
    const problem = cornerProblem(corner.lat, corner.lon);
    if (problem !== null) return { ok: false, message: `corner ${index + 1}: ${problem}` };
    corners.push(corner);
  }
  // GeoJSON closes its rings by repeating the first corner; QGroundControl does not.
  const last = corners.at(-1);
  if (corners.length > 1 && last!.lat === corners[0]!.lat && last!.lon === corners[0]!.lon) corners.pop();
  const problem = boundaryProblem(boundaryFromHome(corners[0] ?? { lat: 0, lon: 0 }, corners));
  return problem === null ? { ok: true, corners } : { ok: false, message: problem };
}

/** The polygon's corners in metres from `home` (x east, y north). */
export function boundaryFromHome(home: LatLon, corners: readonly LatLon[]): Point2[] {
  return corners.map((corner) => offsetFromHome(home, corner));
}

/** The outer ring's corners as found, or why there is none. */
function ringOf(document: unknown): { lat: number; lon: number }[] | string {
  if (!isObject(document)) return `expected a JSON object (a GeoJSON Polygon or a QGroundControl .plan): received ${describe(document)}`;
  if (document.fileType === "Plan") return planRing(document);
  switch (document.type) {
    case "FeatureCollection": {
      const features = Array.isArray(document.features) ? document.features : [];
      const polygons = features.filter((feature) => isObject(feature) && isObject(feature.geometry) && feature.geometry.type === "Polygon");
      if (polygons.length !== 1) return `a FeatureCollection must hold exactly one Polygon feature (the geofence): it holds ${polygons.length}`;
      return geoJsonRing((polygons[0] as { geometry: Record<string, unknown> }).geometry);
    }
    case "Feature":
      return isObject(document.geometry) ? geoJsonRing(document.geometry) : "the Feature has no geometry";
    case "Polygon":
      return geoJsonRing(document);
    default:
      return `expected a GeoJSON Polygon, a Feature or a FeatureCollection holding one, or a QGroundControl .plan: received type ${describe(document.type)}`;
  }
}

function geoJsonRing(geometry: Record<string, unknown>): { lat: number; lon: number }[] | string {
  if (geometry.type !== "Polygon") return `the geometry must be a Polygon: received ${describe(geometry.type)}`;
  const rings = geometry.coordinates;
  if (!Array.isArray(rings) || rings.length === 0) return "the Polygon has no coordinates";
  if (rings.length > 1) return `the Polygon has ${rings.length - 1} hole(s): a geofence polygon is one outer ring, without holes`;
  const ring = rings[0];
  if (!Array.isArray(ring)) return "the Polygon's ring is not an array of [longitude, latitude] positions";
  const corners: { lat: number; lon: number }[] = [];
  for (const [index, position] of ring.entries()) {
    // GeoJSON positions are [longitude, latitude(, altitude)] (RFC 7946 §3.1.1).
    if (!Array.isArray(position) || position.length < 2) return `corner ${index + 1} must be [longitude, latitude]: received ${describe(position)}`;
    corners.push({ lon: position[0], lat: position[1] });
  }
  return corners;
}

function planRing(plan: Record<string, unknown>): { lat: number; lon: number }[] | string {
  const fence = plan.geoFence;
  const polygons = isObject(fence) && Array.isArray(fence.polygons) ? fence.polygons : [];
  const inclusion = polygons.filter((polygon) => isObject(polygon) && polygon.inclusion !== false);
  if (inclusion.length !== 1) return `the plan's geoFence must hold exactly one inclusion polygon: it holds ${inclusion.length}`;
  const corners = (inclusion[0] as Record<string, unknown>).polygon;
  if (!Array.isArray(corners)) return "the plan's inclusion polygon has no corners";
  const ring: { lat: number; lon: number }[] = [];
  for (const [index, corner] of corners.entries()) {
    // QGroundControl writes [latitude, longitude].
    if (!Array.isArray(corner) || corner.length < 2) return `corner ${index + 1} must be [latitude, longitude]: received ${describe(corner)}`;
    ring.push({ lat: corner[0], lon: corner[1] });
  }
  return ring;
}

function cornerProblem(lat: unknown, lon: unknown): string | null {
  if (typeof lat !== "number" || !Number.isFinite(lat) || Math.abs(lat) > 89) return `latitude must be a number from -89 to 89 degrees: received ${describe(lat)}`;
  if (typeof lon !== "number" || !Number.isFinite(lon) || Math.abs(lon) > 180) return `longitude must be a number from -180 to 180 degrees: received ${describe(lon)}`;
  return null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  return JSON.stringify(value)?.slice(0, 60) ?? String(value);
}
