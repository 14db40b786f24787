/**
 * QGroundControl `.plan` files, the mission part: a skyport mission written
 * as one (simple items, `plannedHomePosition` the vehicle's home), and one
 * read back as skyport items, or a precise error naming the offending item
 * and field (`mission.items[3].params[4]`).
 *
 * Owns the file format only. Read as skyport flies it: NAV_TAKEOFF (22),
 * NAV_WAYPOINT (16: hold param1, heading param4), DO_CHANGE_SPEED (178:
 * the next waypoint's speed), NAV_LAND (21: lands where the vehicle is, its
 * position ignored), NAV_RETURN_TO_LAUNCH (20), in altitudes above home
 * (MAV_FRAME 3 or 6). Not read: complex items (surveys, corridor and
 * structure scans), any other command, other frames (above sea level,
 * above terrain), the geofence and rally points (left empty on export).
 * Pure: text in, values out.
 */
import type { ProtocolError } from "./errors.ts";
import { checkMissionItems, type MissionItem } from "./missions.ts";
import { describeType, preview } from "./received.ts";

/** MAV_CMD numbers a plan's simple items use (common.xml; checked against mavlink-mappings by the tests). */
export const planCommands = { NAV_WAYPOINT: 16, NAV_RETURN_TO_LAUNCH: 20, NAV_LAND: 21, NAV_TAKEOFF: 22, DO_CHANGE_SPEED: 178 } as const;
/** MAV_FRAME_GLOBAL_RELATIVE_ALT, and its integer twin: altitudes above home. */
const relativeFrames: readonly number[] = [3, 6];
/** MAV_FRAME_MISSION: commands without a position (speed, return). */
const missionFrame = 2;
/** QGroundControl's `AltitudeMode` 1: relative to home. */
const altitudeModeRelative = 1;
/** MAV_AUTOPILOT_ARDUPILOTMEGA and MAV_TYPE_QUADROTOR: what QGroundControl needs to show a plan for a copter. */
const firmwareArduPilot = 3;
const vehicleQuadrotor = 2;

/** A point on Earth with its altitude above mean sea level, metres: the plan's home. */
export interface PlanHome {
  lat: number;
  lon: number;
  altitudeMsl: number;
}

/** One simple item of a `.plan`. */
interface PlanItem {
  type: "SimpleItem";
  command: number;
  frame: number;
  params: Array<number | null>;
  autoContinue: boolean;
  doJumpId: number;
  Altitude?: number;
  AltitudeMode?: number;
  AMSLAltAboveTerrain?: null;
}

/**
 * A `.plan` file's text for a mission, as QGroundControl writes one (4-space
 * indents): simple items, home as `plannedHomePosition`.
 * @example
 * missionToPlan([{ type: "takeoff", altitude: 10 }, { type: "land" }], { lat: -35.36, lon: 149.17, altitudeMsl: 584 })
 */
export function missionToPlan(items: readonly MissionItem[], home: PlanHome): string {
  const planItems: PlanItem[] = [];
  const add = (command: number, frame: number, params: Array<number | null>, altitude?: number) => {
    const item: PlanItem = { type: "SimpleItem", command, frame, params, autoContinue: true, doJumpId: planItems.length + 1 };
    if (altitude !== undefined) Object.assign(item, { Altitude: altitude, AltitudeMode: altitudeModeRelative, AMSLAltAboveTerrain: null });
    planItems.push(item);
  };
  for (const item of items) {
    switch (item.type) {
      case "takeoff":
        add(planCommands.NAV_TAKEOFF, 3, [0, 0, 0, null, home.lat, home.lon, item.altitude], item.altitude);
        break;
      case "waypoint":
        if (item.speed !== undefined) add(planCommands.DO_CHANGE_SPEED, missionFrame, [1, item.speed, -1, 0, 0, 0, 0]);
        add(planCommands.NAV_WAYPOINT, 3, [item.holdSeconds ?? 0, 0, 0, item.heading ?? null, item.lat, item.lon, item.altitude], item.altitude);
        break;
      case "land":
        add(planCommands.NAV_LAND, 3, [0, 0, 0, null, 0, 0, 0], 0);
        break;
      case "rth":
        add(planCommands.NAV_RETURN_TO_LAUNCH, missionFrame, [0, 0, 0, 0, 0, 0, 0]);
        break;
    }
  }
  const plan = {
    fileType: "Plan",
    geoFence: { circles: [], polygons: [], version: 2 },
    groundStation: "skyport",
    mission: {
      cruiseSpeed: 15,
      firmwareType: firmwareArduPilot,
      globalPlanAltitudeMode: altitudeModeRelative,
      hoverSpeed: 5,
      items: planItems,
      plannedHomePosition: [home.lat, home.lon, home.altitudeMsl],
      vehicleType: vehicleQuadrotor,
      version: 2,
    },
    rallyPoints: { points: [], version: 2 },
    version: 1,
  };
  return `${JSON.stringify(plan, null, 4)}\n`;
}

/** A plan read: the mission and the home it was planned from, or what is wrong and where. */
export type PlanReading = { ok: true; items: MissionItem[]; home: PlanHome | null } | { ok: false; error: ProtocolError };

function refuse(message: string, field?: string): PlanReading {
  return { ok: false, error: field === undefined ? { code: "invalid_args", message } : { code: "invalid_args", message, field } };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A param as a number: null (QGroundControl's NaN) as NaN. */
function param(params: unknown[], index: number): number {
  const value = params[index];
  return typeof value === "number" ? value : Number.NaN;
}

/**
 * Reads a `.plan` file's mission as skyport items, checked as a whole like
 * an upload (`checkMissionItems`). Anything skyport does not fly is refused
 * naming the item (`mission.items[i]`), never skipped.
 */
export function planToMission(text: string): PlanReading {
  let plan: unknown;
  try {
    plan = JSON.parse(text);
  } catch {
    return refuse("not a .plan file: it is not JSON");
  }
  if (!isRecord(plan) || plan.fileType !== "Plan") return refuse(`not a .plan file: fileType must be "Plan": received ${isRecord(plan) ? preview(plan.fileType) : describeType(plan)}`, "fileType");
  const mission = plan.mission;
  if (!isRecord(mission) || !Array.isArray(mission.items)) return refuse("the plan has no mission.items list", "mission.items");
  const home = readHome(mission.plannedHomePosition);
  const items: unknown[] = [];
  /** The plan item each skyport item was read from, to name it in errors. */
  const planIndexOf: number[] = [];
  let speed: number | undefined;
  for (const [index, raw] of mission.items.entries()) {
    const field = `mission.items[${index}]`;
    if (!isRecord(raw)) return refuse(`${field} must be an object: received ${describeType(raw)}`, field);
    if (raw.type !== "SimpleItem") return refuse(`${field} is a ${preview(raw.type)} (${preview(raw.complexItemType)}): skyport reads simple items only, not surveys or scans`, `${field}.type`);
    const params = raw.params;
    if (!Array.isArray(params) || params.length !== 7) return refuse(`${field}.params must be a list of 7 numbers or nulls: received ${preview(params)}`, `${field}.params`);
    const command = raw.command;
    const frame = raw.frame;
    const positioned = command === planCommands.NAV_WAYPOINT || command === planCommands.NAV_TAKEOFF;
    if (positioned && !relativeFrames.includes(frame as number)) {
      return refuse(`${field}.frame is ${preview(frame)}: skyport reads altitudes above home only (MAV_FRAME 3 or 6)`, `${field}.frame`);
    }
    switch (command) {
      case planCommands.DO_CHANGE_SPEED:
        speed = param(params, 1) > 0 ? param(params, 1) : undefined;
        continue;
      case planCommands.NAV_TAKEOFF:
        items.push({ type: "takeoff", altitude: param(params, 6) });
        planIndexOf.push(index);
        break;
      case planCommands.NAV_WAYPOINT: {
        const waypoint: Record<string, unknown> = { type: "waypoint", lat: param(params, 4), lon: param(params, 5), altitude: param(params, 6) };
        if (speed !== undefined) waypoint.speed = speed;
        if (param(params, 0) > 0) waypoint.holdSeconds = param(params, 0);
        if (params[3] !== null && params[3] !== undefined) waypoint.heading = params[3];
        speed = undefined;
        items.push(waypoint);
        planIndexOf.push(index);
        break;
      }
      case planCommands.NAV_LAND:
        items.push({ type: "land" });
        planIndexOf.push(index);
        break;
      case planCommands.NAV_RETURN_TO_LAUNCH:
        items.push({ type: "rth" });
        planIndexOf.push(index);
        break;
      default:
        return refuse(`${field}.command is MAV_CMD ${preview(command)}: skyport reads takeoff (22), waypoint (16), speed (178), land (21) and return-to-launch (20)`, `${field}.command`);
    }
  }
  const checked = checkMissionItems(items, "items");
  if (!checked.ok) {
    // Named as the plan's item (a speed change before a waypoint shifts the numbering), with skyport's name for the value.
    const rename = (text: string) => text.replace(/\bitems\[(\d+)\]/g, (_, k: string) => `mission.items[${planIndexOf[Number(k)] ?? k}]`).replace(/^items\b/, "mission.items");
    const { field } = checked.error;
    return { ok: false, error: { ...checked.error, message: rename(checked.error.message), ...(field === undefined ? {} : { field: rename(field) }) } };
  }
  return { ok: true, items: checked.items, home };
}

function readHome(value: unknown): PlanHome | null {
  if (!Array.isArray(value) || value.length !== 3 || !value.every((part) => typeof part === "number" && Number.isFinite(part))) return null;
  return { lat: value[0], lon: value[1], altitudeMsl: value[2] };
}
