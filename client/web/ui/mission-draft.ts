/**
 * The mission being planned in the page, as plain edits on a list of items:
 * add a waypoint where the map was clicked, move one, set a field, remove,
 * reorder, add a takeoff, a landing or a return home.
 *
 * Owns the editing rules only (where a new item goes, what altitude it
 * starts with). Every function is pure: items in, new items out; it never
 * judges whether the plan can fly (`mission-check.ts` does) nor draws
 * anything. Values the pilot cleared stay NaN so the check can name them.
 */
import type { MissionItem } from "../../../protocol/index.ts";
import type { LatLon } from "./map-geo.ts";

/** Altitude of the takeoff a new plan starts with, and of its first waypoint, metres above home. */
export const defaultPlanAltitudeMetres = 10;

/** The fields the side list edits, by item kind (lat and lon are also set by dragging the marker). */
export type EditableField = "altitude" | "lat" | "lon" | "speed" | "holdSeconds" | "heading";

/** Kinds of item the list's buttons add (waypoints come from the map). */
export type AddableKind = "takeoff" | "land" | "rth";

/** Whether an item ends the flight: land or return home. */
function endsFlight(item: MissionItem): boolean {
  return item.type === "land" || item.type === "rth";
}

/** The altitude of the last item before `index` that has one, else the default. */
function altitudeBefore(items: readonly MissionItem[], index: number): number {
  for (let i = index - 1; i >= 0; i--) {
    const item = items[i]!;
    if ((item.type === "takeoff" || item.type === "waypoint") && Number.isFinite(item.altitude)) return item.altitude;
  }
  return defaultPlanAltitudeMetres;
}

/**
 * Adds a waypoint at `where`: after the last waypoint, before a landing or
 * return that ends the plan; an empty plan gets a takeoff first. It flies
 * at the altitude of the item before it. Returns the items and its index.
 */
export function withWaypoint(items: readonly MissionItem[], where: LatLon): { items: MissionItem[]; index: number } {
  const next: MissionItem[] = items.length === 0 ? [{ type: "takeoff", altitude: defaultPlanAltitudeMetres }] : [...items];
  let index = next.length;
  while (index > 0 && endsFlight(next[index - 1]!)) index--;
  next.splice(index, 0, { type: "waypoint", lat: where.lat, lon: where.lon, altitude: altitudeBefore(next, index) });
  return { items: next, index };
}

/** Moves waypoint `index` to `where` (a marker dragged); any other item is left as it is. */
export function withWaypointAt(items: readonly MissionItem[], index: number, where: LatLon): MissionItem[] {
  const item = items[index];
  if (item?.type !== "waypoint") return [...items];
  return items.map((each, i) => (i === index ? { ...item, lat: where.lat, lon: where.lon } : each));
}

/**
 * Sets one field of item `index`. `value` undefined removes an optional
 * field (speed, hold, heading); a required one cleared becomes NaN, for the check to name.
 */
export function withField(items: readonly MissionItem[], index: number, field: EditableField, value: number | undefined): MissionItem[] {
  const item = items[index];
  if (item === undefined || !(field in fieldsOf(item))) return [...items];
  const changed: Record<string, unknown> = { ...item };
  const optional = field === "speed" || field === "holdSeconds" || field === "heading";
  if (value === undefined && optional) delete changed[field];
  else changed[field] = value ?? Number.NaN;
  return items.map((each, i) => (i === index ? (changed as unknown as MissionItem) : each));
}

/** The editable fields an item has, with their current values (absent optional ones as undefined). */
export function fieldsOf(item: MissionItem): Partial<Record<EditableField, number | undefined>> {
  switch (item.type) {
    case "takeoff":
      return { altitude: item.altitude };
    case "waypoint":
      return { lat: item.lat, lon: item.lon, altitude: item.altitude, speed: item.speed, holdSeconds: item.holdSeconds, heading: item.heading };
    case "land":
    case "rth":
      return {};
  }
}

/** Removes item `index`. */
export function without(items: readonly MissionItem[], index: number): MissionItem[] {
  return items.filter((_, i) => i !== index);
}

/** Moves item `index` one place up (`-1`) or down (`+1`); at either end nothing changes. */
export function withMoved(items: readonly MissionItem[], index: number, step: -1 | 1): MissionItem[] {
  const to = index + step;
  if (index < 0 || index >= items.length || to < 0 || to >= items.length) return [...items];
  const next = [...items];
  [next[index], next[to]] = [next[to]!, next[index]!];
  return next;
}

/** Adds a takeoff (first, at the default altitude), a landing or a return home (last). */
export function withAdded(items: readonly MissionItem[], kind: AddableKind): MissionItem[] {
  if (kind === "takeoff") return [{ type: "takeoff", altitude: defaultPlanAltitudeMetres }, ...items];
  return [...items, { type: kind }];
}
