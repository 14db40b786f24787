/**
 * A mission's items as they arrive on the wire (in `mission`, and in the
 * JSON missions the CLI reads): checked as a whole, the first offending item
 * and field named (`data.items[3].lat`), or a typed `MissionItem[]`.
 *
 * Owns the shape rules only: types, finite numbers, latitude and longitude
 * ranges, the item count. Whether a route fits a vehicle's geofence and
 * battery is the core's question (`src/core/mission/plan.ts`). Pure.
 */
import type { ProtocolError } from "./errors.ts";
import { describeType, failure, preview } from "./received.ts";
import type { MissionItem } from "../src/core/mission/mission.ts";

export type { MissionItem } from "../src/core/mission/mission.ts";

/** Most items a mission may hold: QGroundControl plans rarely pass a few hundred, and ArduCopter's storage holds about 700 on a typical board. */
export const maxMissionItems = 500;
/** Fastest speed a waypoint may ask for, m/s (the simulator's own limit may be lower). */
export const maxWaypointSpeedMetresPerSecond = 100;
/** Longest hold at a waypoint, seconds: an hour is longer than any battery lasts. */
export const maxHoldSeconds = 3600;
/** The kinds of item, in the order error messages list them. */
export const missionItemTypes: readonly MissionItem["type"][] = ["takeoff", "waypoint", "land", "rth"];

/** The fields each kind of item may have. */
const itemFields: Record<MissionItem["type"], readonly string[]> = {
  takeoff: ["type", "altitude"],
  waypoint: ["type", "lat", "lon", "altitude", "speed", "holdSeconds", "heading"],
  land: ["type"],
  rth: ["type"],
};

type Checked<T> = { ok: true; value: T } | { ok: false; error: ProtocolError };

/** A number in [min, max] (`minOpen`: min excluded), or the error naming `field` and the rule. */
function checkNumber(value: unknown, field: string, rule: { min: number; max: number; minOpen?: boolean; unit: string }): Checked<number> {
  const inRange = typeof value === "number" && Number.isFinite(value) && (rule.minOpen ? value > rule.min : value >= rule.min) && value <= rule.max;
  if (inRange) return { ok: true, value };
  const lower = rule.minOpen ? `greater than ${rule.min}` : `from ${rule.min}`;
  const upper = rule.minOpen ? `and at most ${rule.max}` : `to ${rule.max}`;
  return failure("invalid_args", `${field} must be a number ${lower} ${upper} ${rule.unit}: received ${preview(value)}`, field);
}

/** Metres above home an item may name on the wire; the vehicle's ceiling is checked later, against the vehicle. */
const maxWireAltitudeMetres = 10_000;

function checkItem(value: unknown, field: string): Checked<MissionItem> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return failure("invalid_args", `${field} must be an object such as {"type":"waypoint","lat":..,"lon":..,"altitude":..}: received ${describeType(value)}`, field);
  }
  const item = value as Record<string, unknown>;
  const type = item.type;
  if (typeof type !== "string" || !(missionItemTypes as readonly string[]).includes(type)) {
    return failure("invalid_args", `${field}.type must be one of ${missionItemTypes.join(", ")}: received ${preview(type)}`, `${field}.type`);
  }
  const kind = type as MissionItem["type"];
  for (const key of Object.keys(item)) {
    if (!itemFields[kind].includes(key)) return failure("invalid_args", `unknown field ${field}.${key} for a ${kind} item: expected ${itemFields[kind].join(", ")}`, `${field}.${key}`);
  }
  const altitudeRule = { min: 0, max: maxWireAltitudeMetres, minOpen: true, unit: "metres above home" };
  switch (kind) {
    case "takeoff": {
      const altitude = checkNumber(item.altitude, `${field}.altitude`, altitudeRule);
      return altitude.ok ? { ok: true, value: { type: "takeoff", altitude: altitude.value } } : altitude;
    }
    case "land":
    case "rth":
      return { ok: true, value: { type: kind } };
    case "waypoint": {
      const lat = checkNumber(item.lat, `${field}.lat`, { min: -90, max: 90, unit: "degrees" });
      if (!lat.ok) return lat;
      const lon = checkNumber(item.lon, `${field}.lon`, { min: -180, max: 180, unit: "degrees" });
      if (!lon.ok) return lon;
      const altitude = checkNumber(item.altitude, `${field}.altitude`, altitudeRule);
      if (!altitude.ok) return altitude;
      const waypoint: MissionItem = { type: "waypoint", lat: lat.value, lon: lon.value, altitude: altitude.value };
      if (item.speed !== undefined) {
        const speed = checkNumber(item.speed, `${field}.speed`, { min: 0, max: maxWaypointSpeedMetresPerSecond, minOpen: true, unit: "m/s" });
        if (!speed.ok) return speed;
        waypoint.speed = speed.value;
      }
      if (item.holdSeconds !== undefined) {
        const hold = checkNumber(item.holdSeconds, `${field}.holdSeconds`, { min: 0, max: maxHoldSeconds, unit: "seconds" });
        if (!hold.ok) return hold;
        waypoint.holdSeconds = hold.value;
      }
      if (item.heading !== undefined) {
        const heading = checkNumber(item.heading, `${field}.heading`, { min: 0, max: 360, unit: "degrees clockwise from north" });
        if (!heading.ok) return heading;
        waypoint.heading = heading.value % 360;
      }
      return { ok: true, value: waypoint };
    }
  }
}

/**
 * Checks a mission's items as a whole: an array of 1 to `maxMissionItems`
 * items, each of a known type with its fields in range. The first offending
 * item and field is named, under `field` (default `data.items`).
 * @example
 * checkMissionItems([{ type: "takeoff", altitude: 10 }, { type: "land" }])
 * // { ok: true, items: [{ type: "takeoff", altitude: 10 }, { type: "land" }] }
 */
export function checkMissionItems(value: unknown, field = "data.items"): { ok: true; items: MissionItem[] } | { ok: false; error: ProtocolError } {
  if (!Array.isArray(value)) return failure("invalid_args", `${field} must be an array of mission items: received ${describeType(value)}`, field);
  if (value.length === 0) return failure("invalid_args", `${field} is empty: a mission needs at least one item, e.g. {"type":"takeoff","altitude":10}`, field);
  if (value.length > maxMissionItems) return failure("invalid_args", `${field} has ${value.length} items: a mission holds at most ${maxMissionItems}`, field);
  const items: MissionItem[] = [];
  for (const [index, raw] of value.entries()) {
    const checked = checkItem(raw, `${field}[${index}]`);
    if (!checked.ok) return checked;
    items.push(checked.value);
  }
  return { ok: true, items };
}
