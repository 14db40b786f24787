/**
 * skyport's mission items as MAVLink mission items and back: takeoff as
 * NAV_TAKEOFF, a waypoint as NAV_WAYPOINT (hold in param1, heading in
 * param4) preceded by DO_CHANGE_SPEED when it sets a speed, land as
 * NAV_LAND, rth as NAV_RETURN_TO_LAUNCH; positions in
 * MAV_FRAME_GLOBAL_RELATIVE_ALT_INT (degE7, metres above home).
 *
 * Owns the mapping both ways, and the index map from MAVLink sequence
 * numbers to skyport items that progress reports need (one skyport item can
 * be two MAVLink items, and ArduPilot keeps home as item 0). Pure.
 */
import type { MissionItem } from "../../mission/mission.ts";
import { MavCmd, MavFrame, type MavMissionItem } from "./messages.ts";

/** DO_CHANGE_SPEED param1: the speed is a ground speed. */
const groundSpeedType = 1;

/** A mission as the autopilot will hold it, and which skyport item each of its items belongs to. */
export interface MavMission {
  items: MavMissionItem[];
  /** For each MAVLink seq, the skyport item index (-1 for ArduPilot's home item). */
  itemOf: number[];
}

/** The MAVLink mission for `items`; with `homeItem` (ArduPilot) seq 0 is a placeholder for home, which the autopilot overwrites. */
export function toMavMission(items: readonly MissionItem[], homeItem: boolean, home: { lat: number; lon: number }): MavMission {
  const mav: MavMissionItem[] = [];
  const itemOf: number[] = [];
  const push = (index: number, command: number, params: [number, number, number, number], x = 0, y = 0, z = 0) => {
    mav.push({ seq: mav.length, frame: MavFrame.GLOBAL_RELATIVE_ALT_INT, command, current: 0, autocontinue: 1, params, x, y, z });
    itemOf.push(index);
  };
  if (homeItem) push(-1, MavCmd.NAV_WAYPOINT, [0, 0, 0, 0], degE7(home.lat), degE7(home.lon), 0);
  items.forEach((item, index) => {
    switch (item.type) {
      case "takeoff":
        // param4 (yaw) 0, not NaN: ArduPilot refuses NaN in NAV_TAKEOFF's params (only a waypoint's and a landing's yaw may be NaN).
        return push(index, MavCmd.NAV_TAKEOFF, [0, 0, 0, 0], 0, 0, item.altitude);
      case "waypoint":
        if (item.speed !== undefined) push(index, MavCmd.DO_CHANGE_SPEED, [groundSpeedType, item.speed, -1, 0]);
        return push(index, MavCmd.NAV_WAYPOINT, [item.holdSeconds ?? 0, 0, 0, item.heading ?? Number.NaN], degE7(item.lat), degE7(item.lon), item.altitude);
      case "land":
        return push(index, MavCmd.NAV_LAND, [0, 0, 0, 0]);
      case "rth":
        return push(index, MavCmd.NAV_RETURN_TO_LAUNCH, [0, 0, 0, 0]);
    }
  });
  if (mav.length > 0) mav[0]!.current = 1;
  return { items: mav, itemOf };
}

/**
 * A mission read from the autopilot as skyport items, or what skyport cannot
 * show of it (an item of another kind, a position in another frame).
 */
export function fromMavMission(mav: readonly MavMissionItem[], homeItem: boolean): { ok: true; items: MissionItem[]; itemOf: number[] } | { ok: false; problem: string } {
  const items: MissionItem[] = [];
  const itemOf: number[] = [];
  let speed: number | undefined;
  for (const [seq, item] of mav.entries()) {
    if (homeItem && seq === 0) {
      itemOf.push(-1);
      continue;
    }
    const positioned = item.command === MavCmd.NAV_WAYPOINT || item.command === MavCmd.NAV_TAKEOFF;
    if (positioned && item.frame !== MavFrame.GLOBAL_RELATIVE_ALT_INT && item.frame !== MavFrame.GLOBAL_RELATIVE_ALT) {
      return { ok: false, problem: `item ${seq} is in MAV_FRAME ${item.frame}: skyport reads positions above home (MAV_FRAME_GLOBAL_RELATIVE_ALT_INT) only` };
    }
    switch (item.command) {
      case MavCmd.DO_CHANGE_SPEED:
        speed = item.params[1] > 0 ? item.params[1] : undefined;
        itemOf.push(items.length);
        continue;
      case MavCmd.NAV_TAKEOFF:
        items.push({ type: "takeoff", altitude: item.z });
        break;
      case MavCmd.NAV_WAYPOINT: {
        const waypoint: MissionItem = { type: "waypoint", lat: item.x / 1e7, lon: item.y / 1e7, altitude: item.z };
        if (speed !== undefined) waypoint.speed = speed;
        if (item.params[0] > 0) waypoint.holdSeconds = item.params[0];
        if (Number.isFinite(item.params[3])) waypoint.heading = item.params[3];
        speed = undefined;
        items.push(waypoint);
        break;
      }
      case MavCmd.NAV_LAND:
        items.push({ type: "land" });
        break;
      case MavCmd.NAV_RETURN_TO_LAUNCH:
        items.push({ type: "rth" });
        break;
      default:
        return { ok: false, problem: `item ${seq} is MAV_CMD ${item.command}: skyport shows takeoff, waypoint, speed, land and return-to-launch items only` };
    }
    itemOf.push(items.length - 1);
  }
  return { ok: true, items, itemOf };
}

function degE7(degrees: number): number {
  return Math.round(degrees * 1e7);
}
