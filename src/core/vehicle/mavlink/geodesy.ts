/**
 * Latitude/longitude to metres from home and back, in a local tangent plane
 * (equirectangular about home): x east, y north. Within the geofence's
 * hundreds of metres the error is millimetres, far below GPS precision.
 *
 * Pure maths; owns nothing else.
 */

/** WGS-84 equatorial radius, metres (the radius ArduPilot's own location maths uses). */
const earthRadiusMetres = 6_378_137;
const degreesToRadians = Math.PI / 180;

export interface LatLon {
  /** Degrees, north positive. */
  lat: number;
  /** Degrees, east positive. */
  lon: number;
}

/** Metres east (x) and north (y) of `home`. */
export function offsetFromHome(home: LatLon, point: LatLon): { x: number; y: number } {
  const y = (point.lat - home.lat) * degreesToRadians * earthRadiusMetres;
  const x = wrapLongitude(point.lon - home.lon) * degreesToRadians * earthRadiusMetres * Math.cos(home.lat * degreesToRadians);
  return { x, y };
}

/** The point `x` metres east and `y` metres north of `home`. */
export function pointFromHome(home: LatLon, x: number, y: number): LatLon {
  const lat = home.lat + y / earthRadiusMetres / degreesToRadians;
  const lon = wrapLongitude(home.lon + x / (earthRadiusMetres * Math.cos(home.lat * degreesToRadians)) / degreesToRadians);
  return { lat, lon };
}

/** A longitude difference folded into [-180, 180). */
function wrapLongitude(degrees: number): number {
  return ((((degrees + 180) % 360) + 360) % 360) - 180;
}
