/**
 * What the server would refuse in a plan, checked in the page before it is
 * sent: each item's shape and ranges (the wire's own `checkMissionItems`),
 * the geofence circle and ceiling around the vehicle's home, and the lowest
 * altitude a mission may fly. And the server's refusal of an upload, read
 * back as the item and field it names (`data.items[3].lat`).
 *
 * Owns these judgements only; every problem is found, one per item, so the
 * list can mark them all. The battery a route needs is the server's to
 * judge (its refusal is shown the same way). Pure: no DOM.
 */
import { checkMissionItems, maxMissionItems, type MissionItem } from "../../../protocol/index.ts";
import { offsetOf, type LatLon } from "./map-geo.ts";

/**
 * Lowest altitude a takeoff or waypoint may name, metres above home: the
 * server's minimum move altitude (`src/core/drone/geofence.ts`), which a
 * mission is refused below.
 */
export const minimumMissionAltitudeMetres = 0.5;

/** The geofence the server announced in its welcome, metres. */
export interface PlanFence {
  radiusMetres: number;
  ceilingMetres: number;
}

/** A problem with one item: its index, the field at fault when one is, and what is wrong. */
export interface ItemProblem {
  item: number;
  field?: string;
  message: string;
}

/** A plan's problems: one about the list as a whole (empty, too long), and at most one per item. */
export interface PlanProblems {
  whole: string | null;
  items: ItemProblem[];
}

/** Where the plan is checked: the vehicle's home (null while unknown) and the geofence (null before the welcome). */
export interface PlanContext {
  home: LatLon | null;
  fence: PlanFence | null;
}

/** Metres with at most one decimal, as the server words them. */
function metres(value: number): string {
  return String(Math.round(value * 10) / 10);
}

/** `data.items[5].lat` (or `items[5]`) → item 5, field `lat`; null when the field names no item. */
export function itemField(field: string | undefined): { item: number; field?: string } | null {
  const match = field === undefined ? null : /(?:^|\.)items\[(\d+)\](?:\.(\w+))?/.exec(field);
  if (match === null) return null;
  return match[2] === undefined ? { item: Number(match[1]) } : { item: Number(match[1]), field: match[2] };
}

/** The first shape or range problem of one item, named as the server would name it. */
function shapeProblem(item: MissionItem, index: number): ItemProblem | null {
  const checked = checkMissionItems([item], "data.items");
  if (checked.ok) return null;
  const prefix = `data.items[${index}]`;
  const message = checked.error.message.replaceAll("data.items[0]", prefix);
  const at = itemField(checked.error.field);
  return at?.field === undefined ? { item: index, message } : { item: index, field: at.field, message };
}

/** The first flight problem of one well-formed item: below the lowest altitude, above the ceiling, beyond the radius. */
function fenceProblem(item: MissionItem, index: number, context: PlanContext): ItemProblem | null {
  if (item.type !== "takeoff" && item.type !== "waypoint") return null;
  if (item.altitude < minimumMissionAltitudeMetres) {
    return { item: index, field: "altitude", message: `altitude ${metres(item.altitude)} m is below the ${minimumMissionAltitudeMetres} m minimum: end a mission with land to land` };
  }
  const fence = context.fence;
  if (fence === null) return null;
  if (item.altitude > fence.ceilingMetres) return { item: index, field: "altitude", message: `altitude ${metres(item.altitude)} m exceeds the ${metres(fence.ceilingMetres)} m ceiling` };
  if (item.type !== "waypoint" || context.home === null) return null;
  const { x, y } = offsetOf(context.home, item);
  const radius = Math.hypot(x, y);
  if (radius > fence.radiusMetres) return { item: index, field: "lat", message: `the point is ${metres(radius)} m from home, beyond the ${metres(fence.radiusMetres)} m radius` };
  return null;
}

/**
 * Every problem the server would find in `items` without flying them:
 * @example
 * planProblems([], { home: null, fence: null }).whole // "a mission needs at least one item: add a waypoint by clicking the map"
 */
export function planProblems(items: readonly MissionItem[], context: PlanContext): PlanProblems {
  const whole =
    items.length === 0
      ? "a mission needs at least one item: add a waypoint by clicking the map"
      : items.length > maxMissionItems
        ? `the plan has ${items.length} items: a mission holds at most ${maxMissionItems}`
        : null;
  const problems: ItemProblem[] = [];
  for (const [index, item] of items.entries()) {
    const problem = shapeProblem(item, index) ?? fenceProblem(item, index, context);
    if (problem !== null) problems.push(problem);
  }
  return { whole, items: problems };
}
