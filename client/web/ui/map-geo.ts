/**
 * Metres from a vehicle's home to latitude and longitude, for drawing on the
 * map: the same local tangent plane (equirectangular about home) the server
 * uses (src/core/vehicle/geodesy.ts), so a trail or target the server gives in
 * metres lands where the server means. Pure maths, no DOM.
 */

/** WGS-84 equatorial radius, metres: the server's and ArduPilot's. */
const earthRadiusMetres = 6_378_137;
const degreesPerRadian = 180 / Math.PI;

export interface LatLon {
  lat: number;
  lon: number;
}

/**
 * A vehicle's home, from where it is on Earth and its metres from home:
 * the exact inverse of `pointAt` (latitude first, then longitude at
 * home's latitude). Null while the vehicle has not said where it is.
 */
export function homeOf(frame: { lat: number | null; lon: number | null; position: { x: number; y: number } }): LatLon | null {
  if (frame.lat === null || frame.lon === null) return null;
  const lat = frame.lat - (frame.position.y / earthRadiusMetres) * degreesPerRadian;
  const lon = frame.lon - (frame.position.x / (earthRadiusMetres * Math.cos(lat / degreesPerRadian))) * degreesPerRadian;
  return { lat, lon };
}

/** The point `x` metres east and `y` metres north of `home`. */
export function pointAt(home: LatLon, x: number, y: number): LatLon {
  return {
    lat: home.lat + (y / earthRadiusMetres) * degreesPerRadian,
    lon: home.lon + (x / (earthRadiusMetres * Math.cos(home.lat / degreesPerRadian))) * degreesPerRadian,
  };
}

/** Metres east (`x`) and north (`y`) of `home` to `point`: the exact inverse of `pointAt`. */
export function offsetOf(home: LatLon, point: LatLon): { x: number; y: number } {
  return {
    x: ((point.lon - home.lon) / degreesPerRadian) * earthRadiusMetres * Math.cos(home.lat / degreesPerRadian),
    y: ((point.lat - home.lat) / degreesPerRadian) * earthRadiusMetres,
  };
}
