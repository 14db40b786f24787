/**
 * The Vehicle seam: what every kind of aircraft is to the fleet.
 *
 * The fleet (leases, failsafe, completion routing), the telemetry streams,
 * the endpoints and the cluster work on this interface only. A simulated
 * drone computes its state (`simulated.ts`); a real aircraft reports it, late
 * and sometimes not at all, so the seam is shaped for the real case:
 * - a command is answered at once (`accepted` / `refused`) or later
 *   (`pending`, then a `command_accepted` or `command_refused` event, or a
 *   refusal when the vehicle gives up waiting);
 * - completion is an event the vehicle raises when its reported state says
 *   the command is over (target reached within a tolerance, mode changed):
 *   `completion.ts` judges that for vehicles that report;
 * - the link can go down and come back (`linkUp`, `link_lost`, `link_regained`).
 *
 * Pure like the fleet: time comes in as arguments (seconds on the caller's
 * monotonic clock). An implementation that does I/O (a MAVLink link) keeps
 * its socket outside and feeds what it hears in through its own methods.
 */
import { horizontalDistanceFromHome } from "../drone/geometry.ts";
import type { GeoPosition, LatLon } from "./geodesy.ts";
import type { DroneCommand, FlightState, Vector3 } from "../drone/types.ts";
import type { Refusal } from "../refusal.ts";
import type { CarriedProgress, MissionCommand, MissionItem, MissionProgress } from "../mission/mission.ts";

/**
 * Commands only an aircraft with an autopilot takes: arm and disarm the
 * motors on the ground, and switch to a flight mode by the autopilot's name
 * for it (`GUIDED`, `LOITER`). A simulated drone refuses them (`not_supported`):
 * its takeoff arms and its landing disarms.
 */
export type AutopilotCommand = { name: "arm" } | { name: "disarm" } | { name: "mode"; mode: string };

/** Anything a pilot can ask of a vehicle: the flight model's commands, and the autopilot's. */
export type VehicleCommand = DroneCommand | AutopilotCommand;

/** Whether a command is one only an autopilot takes. */
export function isAutopilotCommand(command: VehicleCommand): command is AutopilotCommand {
  return command.name === "arm" || command.name === "disarm" || command.name === "mode";
}

/** Where a command in progress ends: metres from home, heading in degrees clockwise from north. */
export type VehicleTarget = Vector3 & { heading: number };

/** What an accepted command will do, as told to its sender. */
export type CommandPlan = VehicleTarget & { speedLimit: number };

/** Conditions the vehicle reports beside its flight state. The failsafe is the fleet's, not the vehicle's. */
export interface VehicleFlags {
  /** The battery reached its low threshold this flight (the vehicle turned for home). */
  lowBattery: boolean;
  /** The battery reached its critical threshold this flight (the vehicle is landing). */
  criticalBattery: boolean;
  /** The motors were cut by an emergency stop. */
  emergencyStopped: boolean;
}

/**
 * What a vehicle is doing, in metres from home (x east, y north, z up;
 * velocities in m/s): what completion is judged on, and all a takeover needs
 * to carry a simulated vehicle on (cluster adoption, restart).
 */
export interface VehicleMotion {
  state: FlightState;
  position: Vector3;
  velocity: Vector3;
  /** Degrees in [0, 360), 0 = north, clockwise. */
  heading: number;
  /** Percent in [0, 100]. */
  battery: number;
  flags: VehicleFlags;
  /** Where the command in progress ends, or null. */
  target: VehicleTarget | null;
}

/** A GNSS fix as MAVLink's GPS_FIX_TYPE names it, lowercased: `no_gps` (no receiver), `no_fix`, `2d`, `3d`, `dgps`, `rtk_float`, `rtk_fixed`, `static`, `ppp`. */
export type GpsFix = "no_gps" | "no_fix" | "2d" | "3d" | "dgps" | "rtk_float" | "rtk_fixed" | "static" | "ppp";

/** The GNSS receiver's report. */
export interface GpsReport {
  fix: GpsFix;
  /** Satellites visible, or null when not reported. */
  satellites: number | null;
}

/** Whether the vehicle is heard, and when it last was. */
export interface LinkReport {
  up: boolean;
  /** When the vehicle was last heard, seconds on the caller's monotonic clock, or null if never. */
  heardAt: number | null;
}

/**
 * A vehicle's latest state, computed or reported: everything a telemetry
 * frame says except its seq, time, pilot and the fleet's failsafe flag. The
 * motion in metres from home, plus where it is on Earth and how the aircraft
 * reports itself (armed, autopilot mode, GPS, battery voltage, link).
 */
export interface VehicleState extends VehicleMotion {
  /** Where it is on Earth, or null until a reporting vehicle told both its position and home. */
  geo: GeoPosition | null;
  /** Whether the motors are armed. */
  armed: boolean;
  /** The autopilot's flight mode by name (`GUIDED`, `RTL`), or null before it is known. */
  mode: string | null;
  gps: GpsReport;
  /** Battery voltage, volts, or null when not reported. */
  voltage: number | null;
  link: LinkReport;
}

/** How a vehicle answers a command when it is given. */
export type CommandReceipt =
  | { status: "accepted"; plan: CommandPlan }
  | { status: "refused"; refusal: Refusal }
  /** The answer comes later, as a `command_accepted` or `command_refused` event with the same token. */
  | { status: "pending" };

/** Something a vehicle raises, in the order it happened; the fleet collects them after every call. */
export type VehicleEvent =
  /** A pending command was accepted. */
  | { type: "command_accepted"; token: number; plan: CommandPlan }
  /** A pending command was refused, or not answered in time. */
  | { type: "command_refused"; token: number; refusal: Refusal }
  /** An accepted command finished. */
  | { type: "command_done"; token: number }
  /** An accepted command will not finish (superseded, interrupted, timed out). */
  | { type: "command_failed"; token: number; reason: string }
  | { type: "low_battery"; battery: number }
  | { type: "critical_battery"; battery: number }
  | { type: "landed" }
  /** A command was refused for crossing the geofence. */
  | { type: "geofence"; reason: string }
  | { type: "link_lost"; reason: string }
  | { type: "link_regained" }
  /** The autopilot said something (MAVLink STATUSTEXT): `PreArm: Need Position Estimate`. */
  | { type: "autopilot"; severity: AutopilotSeverity; text: string }
  /** skyport found the vehicle set up unsafely for flying through it (its GCS failsafe is off). */
  | { type: "vehicle_warning"; text: string }
  /** The mission the vehicle holds changed (uploaded, cleared, or read from the vehicle): null when it has none. */
  | { type: "mission"; items: readonly MissionItem[] | null }
  /** How far the vehicle is through its mission changed: an item reached, a new state, or time passed while it runs. */
  | { type: "mission_progress"; progress: MissionProgress };

/** How a vehicle answers a mission command: accepted (`done` follows as `command_done`/`command_failed` with its token), or refused. */
export type MissionReceipt = { status: "accepted"; items: number } | { status: "refused"; refusal: Refusal };

/**
 * What a vehicle that flies missions offers. An upload is checked against
 * the vehicle (geofence, battery) before it is accepted; its `command_done`
 * says the vehicle holds it, its `command_failed` that it does not (and
 * kept its previous mission). Start, pause, resume and clear end at once or
 * once the vehicle confirms.
 */
export interface MissionControl {
  /** The mission the vehicle holds, or null. */
  mission(): readonly MissionItem[] | null;
  /** How far it is through it, or null before it started. */
  progress(): MissionProgress | null;
  missionCommand(command: MissionCommand, token: number, now: number): MissionReceipt;
  /**
   * Takes over the mission another node's copy of this vehicle held (a
   * cluster takeover), with its progress; one that was running is paused
   * for `reason`. Raises `mission` and `mission_progress`. Only a vehicle
   * whose mission lives in skyport (the simulator) has it: a real autopilot
   * holds its own, read back on link-up.
   */
  carryOver?(items: readonly MissionItem[], progress: CarriedProgress | null, reason: string): void;
}

/** How grave an autopilot's message is: MAVLink's MAV_SEVERITY names, lowercased, gravest first. */
export type AutopilotSeverity = "emergency" | "alert" | "critical" | "error" | "warning" | "notice" | "info" | "debug";

/** The geofence a vehicle flies inside, announced to clients. */
export interface Geofence {
  /** Ceiling above home, metres. */
  maxAltitudeMetres: number;
  /** Horizontal radius around home, metres. */
  maxRadiusMetres: number;
  /** The polygon it must stay inside as well (`--geofence-polygon`), corners in degrees; null when there is none. */
  polygon: readonly LatLon[] | null;
}

/**
 * Token for commands the fleet gives on its own (failsafe hold and return):
 * nobody awaits their answer or completion.
 */
export const internalToken = 0;

export interface Vehicle {
  /** The id clients address it by (`alpha`). */
  readonly id: string;
  /** What kind of vehicle this is, e.g. `simulated`; for logs and status. */
  readonly kind: string;
  readonly geofence: Geofence;
  /** Whether the vehicle is heard from now. A simulated one always is. */
  readonly linkUp: boolean;
  /** The latest state, computed or as last reported. */
  state(): VehicleState;
  /**
   * Gives a command. `token` identifies it in the events that answer and
   * complete it; `internalToken` means nobody awaits it.
   */
  command(command: VehicleCommand, token: number, now: number): CommandReceipt;
  /** Hold position where it is (the failsafe's first step). Nobody awaits it. */
  holdPosition(now: number): void;
  /** Cut the motors at once. Nobody awaits it. */
  emergencyStop(now: number): void;
  /**
   * Time passed: a simulated vehicle flies for `dtSeconds`; a reporting one
   * gives up on commands that went unanswered too long.
   */
  advance(dtSeconds: number, now: number): void;
  /** The events raised since the last call, oldest first. */
  takeEvents(): VehicleEvent[];
  /**
   * Carries on from a state another node last published (cluster takeover).
   * A simulated vehicle continues from it; a reporting vehicle ignores it,
   * since its own reports are the truth.
   */
  resumeFrom?(state: VehicleMotion): void;
  /** Its missions, when it can fly them. */
  readonly missions?: MissionControl;
}

/**
 * A reporting vehicle's state before it has reported anything: landed at
 * home, still, heading north, full battery, no flags, no target; nowhere on
 * Earth yet, disarmed, mode and GPS unknown, never heard. A fresh object each
 * call: a reporting vehicle updates its own copy in place.
 */
export function restingAtHome(): VehicleState {
  return {
    geo: null,
    armed: false,
    mode: null,
    gps: { fix: "no_fix", satellites: null },
    voltage: null,
    link: { up: false, heardAt: null },
    state: "landed",
    position: { x: 0, y: 0, z: 0 },
    velocity: { x: 0, y: 0, z: 0 },
    heading: 0,
    battery: 100,
    flags: { lowBattery: false, criticalBattery: false, emergencyStopped: false },
    target: null,
  };
}

/** True unless the vehicle is on the ground (an emergency fall counts as airborne). */
export function isAirborne(state: VehicleMotion): boolean {
  return state.state !== "landed";
}

/** Horizontal distance from home, metres. */
export function distanceFromHome(state: VehicleMotion): number {
  return horizontalDistanceFromHome(state.position);
}
