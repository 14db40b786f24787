/**
 * The mission vocabulary: what a mission is (an ordered list of items), what
 * a pilot can do with one, and how far a vehicle is through it.
 *
 * Owns only types, shared by the wire validator, the planner, the
 * simulator's runner and the MAVLink transfer (the wire's limits on a
 * mission live in `protocol/missions.ts`). Must not hold flight rules: the planner (`plan.ts`) checks a mission against a vehicle, the
 * runner (`simulated-run.ts`) flies one. Pure.
 */

/** Climb to `altitude` metres above home where the vehicle is (taking off first when it is on the ground). */
export interface TakeoffItem {
  type: "takeoff";
  altitude: number;
}

/** Fly to a point: `altitude` is metres above home. */
export interface WaypointItem {
  type: "waypoint";
  /** Degrees WGS-84, north positive. */
  lat: number;
  /** Degrees WGS-84, east positive. */
  lon: number;
  /** Metres above home. */
  altitude: number;
  /** Horizontal speed from here on, m/s. */
  speed?: number;
  /** Seconds to hold at the point once reached. */
  holdSeconds?: number;
  /** Degrees clockwise from north to face once reached. */
  heading?: number;
}

/** Land where the vehicle is. */
export interface LandItem {
  type: "land";
}

/** Return home and land there. */
export interface ReturnHomeItem {
  type: "rth";
}

/** One step of a mission. */
export type MissionItem = TakeoffItem | WaypointItem | LandItem | ReturnHomeItem;

/**
 * Where a mission stands on its vehicle: `ready` uploaded and not started,
 * `running`, `paused` (by the pilot, a manual command or the failsafe),
 * `completed` (its last item reached) or `aborted` (the vehicle could not go
 * on: a battery alarm, an emergency stop, a refused item).
 */
export type MissionState = "ready" | "running" | "paused" | "completed" | "aborted";

/** How far a vehicle is through its mission. */
export interface MissionProgress {
  /** Index of the item in progress (or next, when paused; `items.length` once completed). */
  current: number;
  /** Indices of the items reached so far, in order. */
  reached: number[];
  /** Metres left to fly along the route, from where the vehicle is. */
  distanceToGo: number;
  /** Seconds left at the planned speeds, holds included. */
  etaSeconds: number;
  state: MissionState;
  /** Why it paused or aborted, for people. */
  reason?: string;
}

/** What a mission carried over from another node (a cluster takeover) keeps of its progress. */
export type CarriedProgress = Pick<MissionProgress, "current" | "reached" | "state" | "reason">;

/** What a pilot can ask of a vehicle's mission. */
export type MissionCommand =
  | { action: "upload"; items: readonly MissionItem[] }
  | { action: "start" }
  | { action: "pause" }
  | { action: "resume" }
  | { action: "clear" };

export type MissionAction = MissionCommand["action"];

/**
 * What the pilot-loss failsafe does to a mission that is running:
 * `continue` lets it fly on (it was checked against the geofence and the
 * battery as a whole, and a route that ends with `land` or `rth` brings the
 * vehicle down anyway; ArduCopter's FS_OPTIONS "continue in AUTO" does the
 * same), `hold` pauses it and holds position until a pilot claims the
 * vehicle or the battery sends it home, `rth` pauses it and returns home at once.
 */
export type MissionFailsafe = "continue" | "hold" | "rth";

export const missionFailsafes: readonly MissionFailsafe[] = ["continue", "hold", "rth"];
