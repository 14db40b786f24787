/**
 * A recorded flight as a file: CSV (one row per frame), GPX and KML tracks,
 * GeoJSON. Each format is a header, one piece per frame and a footer, so a
 * flight of any length is streamed, never built whole in memory.
 *
 * Positions: a frame's `lat`/`lon`/`altitudeMsl` when it has them (the
 * geodetic frame, MAVLink vehicles); otherwise its x/y metres from home
 * placed about 0°N 0°E (documented in docs/recorder.md) and z above home.
 * Pure: frames in, text out; no clock, no I/O.
 */
import { pointFromHome, type LatLon } from "../vehicle/geodesy.ts";

/** The formats `GET /api/flights/{id}/export` serves. */
export const exportFormats = ["csv", "gpx", "kml", "geojson"] as const;
export type ExportFormat = (typeof exportFormats)[number];

/** What an export reads of a recorded frame (the wire frame's data). */
export interface RecordedFrame {
  seq: number;
  time: number;
  state: string;
  position: { x: number; y: number; z: number };
  velocity: { x: number; y: number; z: number };
  heading: number;
  speed: number;
  battery: number;
  flags: { lowBattery: boolean; criticalBattery: boolean; emergencyStopped: boolean; failsafe: boolean };
  pilot: string | null;
  /** Geodetic position, when the vehicle reports one. */
  lat?: number | null;
  lon?: number | null;
  altitudeMsl?: number | null;
}

/** What an export says of its flight. */
export interface ExportedFlight {
  id: string;
  drone: string;
  startedAt: number;
}

/** One format: its media type, file extension, and its pieces in order. */
export interface ExportWriter {
  contentType: string;
  extension: string;
  header(flight: ExportedFlight): string;
  /** The piece of one frame; `index` counts from 0. */
  frame(frame: RecordedFrame, index: number): string;
  footer(): string;
}

/** Where local x/y frames are placed when they carry no latitude/longitude. */
export const localOrigin: LatLon = { lat: 0, lon: 0 };

/** The frame's position as latitude, longitude and altitude (metres MSL when known, else above home). */
export function geodeticOf(frame: RecordedFrame): { lat: number; lon: number; alt: number; absolute: boolean } {
  if (typeof frame.lat === "number" && typeof frame.lon === "number") {
    const absolute = typeof frame.altitudeMsl === "number";
    return { lat: frame.lat, lon: frame.lon, alt: absolute ? frame.altitudeMsl! : frame.position.z, absolute };
  }
  const { lat, lon } = pointFromHome(localOrigin, frame.position.x, frame.position.y);
  return { lat, lon, alt: frame.position.z, absolute: false };
}

/** The CSV columns, in order (documented in docs/recorder.md). */
export const csvColumns = [
  "time",
  "time_ms",
  "seq",
  "state",
  "x_m",
  "y_m",
  "z_m",
  "vx_mps",
  "vy_mps",
  "vz_mps",
  "heading_deg",
  "speed_mps",
  "battery_pct",
  "lat",
  "lon",
  "altitude_msl_m",
  "low_battery",
  "critical_battery",
  "emergency_stopped",
  "failsafe",
  "pilot",
] as const;

/** A CSV field, quoted when it holds a comma, quote or line break (RFC 4180). */
function csvField(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return "";
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Text for XML content and attributes. */
function xml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/**
 * Unix milliseconds as an ISO 8601 UTC time (`2026-01-01T12:00:00.000Z`),
 * without a `Date` (the core reads no clock): Howard Hinnant's civil-from-days.
 */
export function isoTime(ms: number): string {
  const days = Math.floor(ms / 86_400_000);
  const msOfDay = ms - days * 86_400_000;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const pad = (value: number, width = 2) => String(value).padStart(width, "0");
  const h = Math.floor(msOfDay / 3_600_000);
  const m = Math.floor((msOfDay % 3_600_000) / 60_000);
  const sec = Math.floor((msOfDay % 60_000) / 1000);
  return `${pad(year, 4)}-${pad(month)}-${pad(day)}T${pad(h)}:${pad(m)}:${pad(sec)}.${pad(Math.floor(msOfDay % 1000), 3)}Z`;
}
const iso = isoTime;
/** Degrees to 7 decimals (about a centimetre). */
const deg = (value: number) => value.toFixed(7);

const csv: ExportWriter = {
  contentType: "text/csv; charset=utf-8",
  extension: "csv",
  header: () => csvColumns.join(",") + "\r\n",
  frame(f) {
    const { position: p, velocity: v, flags } = f;
    const values = [iso(f.time), f.time, f.seq, f.state, p.x, p.y, p.z, v.x, v.y, v.z, f.heading, f.speed, f.battery, f.lat, f.lon, f.altitudeMsl, flags.lowBattery, flags.criticalBattery, flags.emergencyStopped, flags.failsafe, f.pilot];
    return values.map(csvField).join(",") + "\r\n";
  },
  footer: () => "",
};

const gpx: ExportWriter = {
  contentType: "application/gpx+xml",
  extension: "gpx",
  header: (flight) =>
    `<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="skyport" xmlns="http://www.topografix.com/GPX/1/1">\n` +
    `<metadata><name>${xml(flight.id)}</name><time>${iso(flight.startedAt)}</time></metadata>\n<trk><name>${xml(flight.drone)} ${xml(flight.id)}</name><trkseg>\n`,
  frame(f) {
    const { lat, lon, alt } = geodeticOf(f);
    return `<trkpt lat="${deg(lat)}" lon="${deg(lon)}"><ele>${alt}</ele><time>${iso(f.time)}</time></trkpt>\n`;
  },
  footer: () => "</trkseg></trk>\n</gpx>\n",
};

/** KML heights are above home (`relativeToGround`, home taken as ground level), known for every frame. */
const kml: ExportWriter = {
  contentType: "application/vnd.google-earth.kml+xml",
  extension: "kml",
  header: (flight) =>
    `<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2">\n<Document><name>${xml(flight.id)}</name>\n` +
    `<Placemark><name>${xml(flight.drone)} ${xml(flight.id)}</name><LineString><altitudeMode>relativeToGround</altitudeMode><coordinates>\n`,
  frame(f) {
    const { lat, lon } = geodeticOf(f);
    return `${deg(lon)},${deg(lat)},${f.position.z}\n`;
  },
  footer: () => "</coordinates></LineString></Placemark>\n</Document>\n</kml>\n",
};

const geojson: ExportWriter = {
  contentType: "application/geo+json",
  extension: "geojson",
  header: (flight) =>
    `{"type":"FeatureCollection","features":[{"type":"Feature","properties":${JSON.stringify({ flight: flight.id, drone: flight.drone, startedAt: iso(flight.startedAt) })},"geometry":{"type":"LineString","coordinates":[`,
  frame(f, index) {
    const { lat, lon, alt } = geodeticOf(f);
    return `${index === 0 ? "" : ","}[${deg(lon)},${deg(lat)},${alt}]`;
  },
  footer: () => "]}}]}\n",
};

/**
 * One `.tlog` record, as QGroundControl writes them and MAVExplorer
 * (pymavlink) reads them: the time in microseconds since the Unix epoch as
 * an unsigned 64-bit big-endian integer, then the packet's bytes.
 */
export function tlogRecord(timeMs: number, packet: Uint8Array): Uint8Array {
  const record = new Uint8Array(8 + packet.length);
  new DataView(record.buffer).setBigUint64(0, BigInt(Math.round(timeMs)) * 1000n, false);
  record.set(packet, 8);
  return record;
}

/** The writer of a format. */
export function exportWriter(format: ExportFormat): ExportWriter {
  switch (format) {
    case "csv":
      return csv;
    case "gpx":
      return gpx;
    case "kml":
      return kml;
    case "geojson":
      return geojson;
  }
}
