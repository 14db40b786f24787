/**
 * What differs between the autopilots skyport flies: how each numbers and
 * names its flight modes, what a mode means for the flight state, and the
 * MAVLink steps each pilot command takes. ArduCopter (ArduPilot) and PX4.
 *
 * Pure tables and functions: no state, no I/O. The MAVLink vehicle picks one
 * from the HEARTBEAT's `autopilot` field and asks it for steps; sending them,
 * awaiting their acks and judging completion stay in `vehicle.ts`.
 */
import type { VehicleCommand, CommandPlan } from "../vehicle.ts";
import { pointFromHome, type LatLon } from "../geodesy.ts";
import { CopterMode, forceDisarmMagic, MavCmd, MavModeFlag, Px4MainMode, Px4AutoSubMode } from "./messages.ts";

/** The seven parameters of a COMMAND_LONG. */
export type Params = [number, number, number, number, number, number, number];

/**
 * One thing to send for a command: a COMMAND_LONG awaiting its ack; a
 * COMMAND_INT awaiting its ack (positions as degE7 integers, where a float
 * would lose metres); or an ArduPilot position target (no ack in MAVLink).
 */
export type Step =
  | { kind: "command"; command: number; params: Params }
  | { kind: "command_int"; command: number; frame: number; params: [number, number, number, number]; latInt: number; lonInt: number; z: number }
  | { kind: "target"; x: number; y: number; z: number; heading: number };

/** What a mode means for the flight state skyport reports. */
export type ModeMeaning = "returning" | "landing" | "other";

/** Home as the autopilot reported it: where x/y/z are measured from. */
export type Home = LatLon & { altitudeMetres: number };

/** What the steps of a command depend on besides the command. */
export interface StepContext {
  armed: boolean;
  /** The custom mode last reported, -1 unknown. */
  customMode: number;
  /** null until HOME_POSITION was heard. */
  home: Home | null;
}

export interface Autopilot {
  /** As people call it: `ArduCopter`, `PX4`. */
  readonly name: string;
  /** Every mode `mode NAME` accepts, by name. */
  readonly modeNames: readonly string[];
  /** A reported custom mode by name; an unknown number is `MODE_<n>`. */
  modeName(customMode: number): string;
  /** The DO_SET_MODE step for a mode name, or null if this autopilot has no such mode. */
  setMode(name: string): Step | null;
  meaning(customMode: number): ModeMeaning;
  /** The steps of a command, or why it cannot be sent yet (a position needs home). */
  stepsFor(command: VehicleCommand, plan: CommandPlan, context: StepContext): Step[] | { problem: string };
  /** The mode it flies a mission in (ArduCopter `AUTO`, PX4 `AUTO.MISSION`): resuming is switching back to it. */
  readonly missionMode: string;
  /** Whether its mission keeps home as item 0 (ArduPilot does; the first uploaded item is a placeholder it overwrites). */
  readonly missionHomeItem: boolean;
}

/**
 * The steps that start a mission from its first item: arm when disarmed,
 * then MISSION_START (both autopilots switch to their mission mode for it).
 * ArduCopter refuses to arm in AUTO ("AUTO mode not armable"): a disarmed
 * one is put in GUIDED first.
 */
export function missionStartSteps(autopilot: Autopilot, armed: boolean): Step[] {
  const armFirst = autopilot === arduCopter ? [copterMode(CopterMode.GUIDED), step(MavCmd.COMPONENT_ARM_DISARM, 1)] : [step(MavCmd.COMPONENT_ARM_DISARM, 1)];
  return [...(armed ? [] : armFirst), step(MavCmd.MISSION_START, 0, 0)];
}

/** A COMMAND_LONG step with its first parameters given, the rest 0. */
export function step(command: number, ...params: number[]): Step {
  const full: Params = [0, 0, 0, 0, 0, 0, 0];
  params.forEach((value, index) => (full[index] = value));
  return { kind: "command", command, params: full };
}

/** Steps every autopilot takes alike. */
function commonSteps(command: VehicleCommand): Step[] | null {
  switch (command.name) {
    case "emergency":
      return [step(MavCmd.COMPONENT_ARM_DISARM, 0, forceDisarmMagic)];
    case "arm":
      return [step(MavCmd.COMPONENT_ARM_DISARM, 1)];
    case "disarm":
      return [step(MavCmd.COMPONENT_ARM_DISARM, 0)];
    case "speed":
      // param1 1 = ground speed; param3 -1 = throttle unchanged.
      return [step(MavCmd.DO_CHANGE_SPEED, 1, command.metresPerSecond, -1)];
    default:
      return null;
  }
}

// ---------------------------------------------------------------- ArduCopter

const copterModeNames = new Map<number, string>(Object.entries(CopterMode).map(([name, value]) => [value, name]));

/** DO_SET_MODE to an ArduCopter custom mode. */
function copterMode(mode: number): Step {
  return step(MavCmd.DO_SET_MODE, MavModeFlag.CUSTOM_MODE_ENABLED, mode);
}

/** ArduCopter: GUIDED for takeoff, moves and turns (position targets, CONDITION_YAW); LAND, RTL, BRAKE as modes. */
export const arduCopter: Autopilot = {
  name: "ArduCopter",
  modeNames: Object.keys(CopterMode),
  modeName: (customMode) => copterModeNames.get(customMode) ?? `MODE_${customMode}`,
  setMode: (name) => (Object.hasOwn(CopterMode, name) ? copterMode(CopterMode[name as keyof typeof CopterMode]) : null),
  meaning(customMode) {
    if (customMode === CopterMode.RTL || customMode === CopterMode.SMART_RTL || customMode === CopterMode.AUTO_RTL) return "returning";
    return customMode === CopterMode.LAND ? "landing" : "other";
  },
  missionMode: "AUTO",
  missionHomeItem: true,
  stepsFor(command, plan, { armed, customMode }) {
    const common = commonSteps(command);
    if (common !== null) return common;
    const guided = customMode === CopterMode.GUIDED ? [] : [copterMode(CopterMode.GUIDED)];
    switch (command.name) {
      case "takeoff":
        return [copterMode(CopterMode.GUIDED), ...(armed ? [] : [step(MavCmd.COMPONENT_ARM_DISARM, 1)]), step(MavCmd.NAV_TAKEOFF, 0, 0, 0, 0, 0, 0, plan.z)];
      case "land":
        return [copterMode(CopterMode.LAND)];
      case "rth":
        return [copterMode(CopterMode.RTL)];
      case "hover":
        return [copterMode(CopterMode.BRAKE)];
      case "mode":
        return [arduCopter.setMode(command.mode)!];
      case "cw":
      case "ccw":
        // param2 0 = the autopilot's default turn rate; param3 direction; param4 1 = relative to the current heading.
        return [...guided, step(MavCmd.CONDITION_YAW, command.degrees, 0, command.name === "cw" ? 1 : -1, 1)];
      default:
        return [...guided, { kind: "target", x: plan.x, y: plan.y, z: plan.z, heading: plan.heading }];
    }
  },
};

// ---------------------------------------------------------------- PX4

/** PX4 packs its mode into custom_mode: main mode in bits 16-23, sub mode in bits 24-31. */
export function px4CustomMode(main: number, sub = 0): number {
  return ((sub << 24) | (main << 16)) >>> 0;
}

/** Every PX4 mode by the name QGroundControl shows, with its main and sub mode. */
const px4Modes: ReadonlyArray<{ name: string; main: number; sub: number }> = [
  { name: "MANUAL", main: Px4MainMode.MANUAL, sub: 0 },
  { name: "ALTCTL", main: Px4MainMode.ALTCTL, sub: 0 },
  { name: "POSCTL", main: Px4MainMode.POSCTL, sub: 0 },
  { name: "ACRO", main: Px4MainMode.ACRO, sub: 0 },
  { name: "OFFBOARD", main: Px4MainMode.OFFBOARD, sub: 0 },
  { name: "STABILIZED", main: Px4MainMode.STABILIZED, sub: 0 },
  ...Object.entries(Px4AutoSubMode).map(([sub, value]) => ({ name: `AUTO.${sub}`, main: Px4MainMode.AUTO, sub: value })),
];
const px4ModeByNumber = new Map(px4Modes.map((mode) => [px4CustomMode(mode.main, mode.sub), mode.name]));
const px4ModeByName = new Map(px4Modes.map((mode) => [mode.name, mode]));

/** DO_SET_MODE to a PX4 main and sub mode. */
function px4Mode(name: string): Step {
  const mode = px4ModeByName.get(name)!;
  return step(MavCmd.DO_SET_MODE, MavModeFlag.CUSTOM_MODE_ENABLED, mode.main, mode.sub);
}

/** MAV_FRAME_GLOBAL: altitude above mean sea level, as PX4's DO_REPOSITION and NAV_TAKEOFF take it. */
const frameGlobal = 0;
/** MAV_DO_REPOSITION_FLAGS_CHANGE_MODE: switch to the hold mode and go there. */
const repositionChangeMode = 1;

/**
 * PX4: it has no GUIDED mode; takeoff is NAV_TAKEOFF (AUTO.TAKEOFF) to an
 * altitude above sea level, moves and turns are DO_REPOSITION (a COMMAND_INT:
 * position and yaw, in AUTO.LOITER), land, return and hold are its
 * AUTO.LAND, AUTO.RTL and AUTO.LOITER modes.
 */
export const px4: Autopilot = {
  name: "PX4",
  modeNames: px4Modes.map((mode) => mode.name),
  modeName: (customMode) => px4ModeByNumber.get(customMode >>> 0) ?? `MODE_${customMode}`,
  setMode: (name) => (px4ModeByName.has(name) ? px4Mode(name) : null),
  meaning(customMode) {
    const name = px4ModeByNumber.get(customMode >>> 0);
    if (name === "AUTO.RTL") return "returning";
    return name === "AUTO.LAND" || name === "AUTO.PRECLAND" ? "landing" : "other";
  },
  missionMode: "AUTO.MISSION",
  missionHomeItem: false,
  stepsFor(command, plan, { armed, home }) {
    const common = commonSteps(command);
    if (common !== null) return common;
    switch (command.name) {
      case "land":
        return [px4Mode("AUTO.LAND")];
      case "rth":
        return [px4Mode("AUTO.RTL")];
      case "hover":
        return [px4Mode("AUTO.LOITER")];
      case "mode":
        return [px4Mode(command.mode)];
    }
    if (home === null) return { problem: "has not reported its home position yet: PX4 takes positions above sea level, measured from it" };
    if (command.name === "takeoff") {
      // param4 yaw NaN: keep the heading; param5/6 NaN: here; param7 altitude above sea level.
      return [...(armed ? [] : [step(MavCmd.COMPONENT_ARM_DISARM, 1)]), step(MavCmd.NAV_TAKEOFF, -1, 0, 0, Number.NaN, Number.NaN, Number.NaN, home.altitudeMetres + plan.z)];
    }
    const point = pointFromHome(home, plan.x, plan.y);
    // param1 -1: default speed; param4: the yaw to hold, degrees.
    return [
      {
        kind: "command_int",
        command: MavCmd.DO_REPOSITION,
        frame: frameGlobal,
        params: [-1, repositionChangeMode, 0, plan.heading],
        latInt: Math.round(point.lat * 1e7),
        lonInt: Math.round(point.lon * 1e7),
        z: home.altitudeMetres + plan.z,
      },
    ];
  },
};

/** MAV_AUTOPILOT numbers (minimal.xml). */
export const MavAutopilot = { ARDUPILOTMEGA: 3, PX4: 12 } as const;

/** The autopilot a HEARTBEAT's `autopilot` field names; ArduCopter for anything else (and before the first HEARTBEAT). */
export function autopilotOf(mavAutopilot: number): Autopilot {
  return mavAutopilot === MavAutopilot.PX4 ? px4 : arduCopter;
}
