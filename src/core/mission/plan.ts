/**
 * A mission against a vehicle: the route its items make in metres from
 * home, whether that route stays inside the geofence and (for a vehicle
 * whose battery is modelled) within the battery, and how far and how long
 * is left of it from a point along the way.
 *
 * Owns the one route every check and every progress report is computed on.
 * Does not fly anything (the runner does) and knows nothing of the wire:
 * a problem is a domain `Refusal` naming the item and its field. Pure.
 */
import { climbDrainPercentPerSecond, horizontalDrainPercentPerSecondPerMetrePerSecond, hoverDrainPercentPerSecond } from "../drone/battery.ts";
import { boundaryViolation } from "../drone/boundary.ts";
import { formatMetres, minimumMoveAltitudeMetres } from "../drone/geofence.ts";
import type { DroneLimits, Vector3 } from "../drone/types.ts";
import type { Refusal } from "../refusal.ts";
import { offsetFromHome, type LatLon } from "../vehicle/geodesy.ts";
import { boundaryFromHome } from "../vehicle/geofence-polygon.ts";
import type { Geofence } from "../vehicle/vehicle.ts";
import type { MissionItem } from "./mission.ts";

/** Slack on the fence, metres: a point computed from degrees is judged by its intent, as geofence.ts does. */
const fenceToleranceMetres = 1e-6;

/** Where each item ends, metres from home (x east, y north, z up), from a route starting at `start`. */
export function routePoints(items: readonly MissionItem[], home: LatLon, start: Vector3): Vector3[] {
  const points: Vector3[] = [];
  let at = start;
  for (const item of items) {
    switch (item.type) {
      case "takeoff":
        at = { x: at.x, y: at.y, z: item.altitude };
        break;
      case "waypoint": {
        const { x, y } = offsetFromHome(home, item);
        at = { x, y, z: item.altitude };
        break;
      }
      case "land":
        at = { x: at.x, y: at.y, z: 0 };
        break;
      case "rth":
        at = { x: 0, y: 0, z: 0 };
        break;
    }
    points.push(at);
  }
  return points;
}

/** How a vehicle flies between points: speeds and, when its battery is modelled, its drain. */
export interface FlightProfile {
  /** Horizontal speed until an item sets another, m/s. */
  speedMetresPerSecond: number;
  climbRateMetresPerSecond: number;
  descentRateMetresPerSecond: number;
  /** rth climbs to at least this before flying home, metres. */
  returnAltitudeMetres: number;
}

/** A simulated drone's profile from its limits and current speed limit. */
export function profileOf(limits: DroneLimits, speedLimit: number): FlightProfile {
  return {
    speedMetresPerSecond: speedLimit,
    climbRateMetresPerSecond: limits.climbRateMetresPerSecond,
    descentRateMetresPerSecond: limits.descentRateMetresPerSecond,
    returnAltitudeMetres: Math.min(limits.returnAltitudeMetres, limits.maxAltitudeMetres),
  };
}

/** One straight leg's cost: seconds, metres and battery percent. */
interface LegCost {
  seconds: number;
  metres: number;
  drainPercent: number;
}

/** Horizontal and vertical motion run together, as in the flight model: the slower one sets the time. */
function legCost(from: Vector3, to: Vector3, speed: number, profile: FlightProfile): LegCost {
  const horizontal = Math.hypot(to.x - from.x, to.y - from.y);
  const rise = to.z - from.z;
  const verticalSeconds = rise > 0 ? rise / profile.climbRateMetresPerSecond : -rise / profile.descentRateMetresPerSecond;
  const horizontalSeconds = horizontal / speed;
  const seconds = Math.max(horizontalSeconds, verticalSeconds);
  const drainPercent =
    hoverDrainPercentPerSecond * seconds + horizontalDrainPercentPerSecondPerMetrePerSecond * horizontal + (rise > 0 ? climbDrainPercentPerSecond * verticalSeconds : 0);
  return { seconds, metres: Math.hypot(horizontal, rise), drainPercent };
}

/** The legs of one item from `from` to its end point: rth climbs to the return altitude, flies home, and descends. */
function itemLegs(item: MissionItem, from: Vector3, to: Vector3, profile: FlightProfile): Vector3[] {
  if (item.type !== "rth") return [to];
  const cruise = Math.max(from.z, profile.returnAltitudeMetres);
  return [{ ...from, z: cruise }, { x: 0, y: 0, z: cruise }, to];
}

/** Cost of each item, in order, flown from `start` (holds included). */
export function itemCosts(items: readonly MissionItem[], home: LatLon, start: Vector3, profile: FlightProfile): LegCost[] {
  const points = routePoints(items, home, start);
  let speed = profile.speedMetresPerSecond;
  let at = start;
  return items.map((item, index) => {
    if (item.type === "waypoint" && item.speed !== undefined) speed = item.speed;
    const cost: LegCost = { seconds: 0, metres: 0, drainPercent: 0 };
    for (const point of itemLegs(item, at, points[index]!, profile)) {
      const leg = legCost(at, point, speed, profile);
      cost.seconds += leg.seconds;
      cost.metres += leg.metres;
      cost.drainPercent += leg.drainPercent;
      at = point;
    }
    const hold = item.type === "waypoint" ? (item.holdSeconds ?? 0) : 0;
    cost.seconds += hold;
    cost.drainPercent += hoverDrainPercentPerSecond * hold;
    return cost;
  });
}

/** What a mission is checked against. */
export interface MissionContext {
  home: LatLon;
  geofence: Geofence;
  /** Where the vehicle is now, metres from home: the route starts there. */
  start: Vector3;
  /** For a vehicle whose battery is modelled (the simulator): its charge, profile and the level its low-battery return fires at. */
  battery?: { percent: number; lowBatteryPercent: number; profile: FlightProfile };
}

/** An item's problem as a refusal about that item and field. */
function itemRefusal(code: Refusal["code"], index: number, field: string | undefined, message: string): Refusal {
  return { code, message: `item ${index}: ${message}`, about: field === undefined ? { item: index } : { item: index, field } };
}

/**
 * Why the mission cannot be flown by this vehicle, naming the first
 * offending item and field, or null. Every waypoint and takeoff must be
 * inside the geofence (radius around home, ceiling) and above the lowest
 * move altitude; with a polygon, every point and every straight leg between
 * them (from where the vehicle is, to the return home) must stay inside
 * it; with a modelled battery, the whole route must be flown before the
 * battery reaches its low-battery return.
 */
export function missionProblem(items: readonly MissionItem[], context: MissionContext): Refusal | null {
  const { geofence } = context;
  const points = routePoints(items, context.home, context.start);
  const boundary = geofence.polygon === null ? null : boundaryFromHome(context.home, geofence.polygon);
  for (const [index, item] of items.entries()) {
    const point = points[index]!;
    if (item.type === "takeoff" || item.type === "waypoint") {
      if (item.altitude < minimumMoveAltitudeMetres) {
        return itemRefusal("out_of_range", index, "altitude", `altitude ${formatMetres(item.altitude)} m is below the ${minimumMoveAltitudeMetres} m minimum: end a mission with land to land`);
      }
      if (item.altitude > geofence.maxAltitudeMetres + fenceToleranceMetres) {
        return itemRefusal("geofence", index, "altitude", `altitude ${formatMetres(item.altitude)} m exceeds the ${formatMetres(geofence.maxAltitudeMetres)} m ceiling`);
      }
      const radius = Math.hypot(point.x, point.y);
      if (radius > geofence.maxRadiusMetres + fenceToleranceMetres) {
        return itemRefusal("geofence", index, "lat", `the point is ${formatMetres(radius)} m from home, beyond the ${formatMetres(geofence.maxRadiusMetres)} m radius`);
      }
    }
    if (boundary !== null) {
      // Every leg, the return home included, must stay inside the polygon: a concave field's notch can lie between two waypoints inside it.
      const outside = boundaryViolation(boundary, point, index === 0 ? context.start : points[index - 1]!);
      if (outside !== null) return itemRefusal("geofence", index, item.type === "waypoint" ? "lat" : undefined, outside.replace("the target", "the point"));
    }
  }
  const battery = context.battery;
  if (battery === undefined) return null;
  let left = battery.percent;
  for (const [index, cost] of itemCosts(items, context.home, context.start, battery.profile).entries()) {
    left -= cost.drainPercent;
    if (left <= battery.lowBatteryPercent) {
      const needed = battery.percent - left;
      return itemRefusal(
        "battery_low",
        index,
        undefined,
        `the battery would reach ${left.toFixed(1)} % here, at or below the ${battery.lowBatteryPercent} % low-battery return: the route needs at least ${needed.toFixed(1)} % to this item and the battery holds ${battery.percent.toFixed(1)} %`,
      );
    }
  }
  return null;
}

/** Metres and seconds left of a mission from `position`, flying item `current` and those after it. */
export function remainingRoute(items: readonly MissionItem[], current: number, home: LatLon, position: Vector3, profile: FlightProfile): { metres: number; seconds: number } {
  let metres = 0;
  let seconds = 0;
  for (const cost of itemCosts(items.slice(current), home, position, profile)) {
    metres += cost.metres;
    seconds += cost.seconds;
  }
  return { metres, seconds };
}
