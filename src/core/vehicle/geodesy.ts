/**
 * Latitude/longitude to metres from home and back, in a local tangent plane
 * (equirectangular about home): x east, y north. Within the geofence's
 * hundreds of metres the error is millimetres, far below GPS precision.
 *
 * Every vehicle uses it: the simulator places its local flight on Earth
 * from its home, a MAVLink vehicle turns what it reports into metres from
 * home. Pure maths; owns nothing else.
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

/** A point on Earth with its altitude above mean sea level, metres. */
export interface GeoPosition extends LatLon {
  altitudeMsl: number;
}

/** Where a point `x` m east, `y` m north and `z` m above `home` is on Earth. */
export function geoFromHome(home: GeoPosition, x: number, y: number, z: number): GeoPosition {
  const { lat, lon } = pointFromHome(home, x, y);
  return { lat, lon, altitudeMsl: home.altitudeMsl + z };
}

/**
 * Checks a home position: latitude in [-90, 90], longitude in [-180, 180],
 * altitude within the atmosphere people fly in. Returns why not, or null.
 */
export function geoPositionProblem(point: GeoPosition): string | null {
  if (!Number.isFinite(point.lat) || Math.abs(point.lat) > 90) return `latitude must be from -90 to 90 degrees: received ${point.lat}`;
  if (Math.abs(point.lat) > 89) return `latitude ${point.lat} is too close to a pole for a local tangent plane (at most 89 degrees)`;
  if (!Number.isFinite(point.lon) || Math.abs(point.lon) > 180) return `longitude must be from -180 to 180 degrees: received ${point.lon}`;
  if (!Number.isFinite(point.altitudeMsl) || point.altitudeMsl < -500 || point.altitudeMsl > 9000) return `altitude must be from -500 to 9000 m above mean sea level: received ${point.altitudeMsl}`;
  return null;
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

/**
 * Where home is, given a point on Earth that lies `x` metres east and `y`
 * metres north of it: the exact inverse of `pointFromHome` (home's latitude
 * first, then its longitude at that latitude).
 */
export function homeFromPoint(point: LatLon, x: number, y: number): LatLon {
  const lat = point.lat - y / earthRadiusMetres / degreesToRadians;
  const lon = wrapLongitude(point.lon - x / (earthRadiusMetres * Math.cos(lat * degreesToRadians)) / degreesToRadians);
  return { lat, lon };
}

/** A longitude difference folded into [-180, 180). */
function wrapLongitude(degrees: number): number {
  return ((((degrees + 180) % 360) + 360) % 360) - 180;
}
