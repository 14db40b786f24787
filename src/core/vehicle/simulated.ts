/**
 * The simulated drone as a Vehicle: the pure flight model in `../drone/`
 * behind the seam the fleet flies every vehicle through.
 *
 * Owns only the translation: model results to receipts, model events to
 * vehicle events, a telemetry snapshot to a resumed drone, and the model's
 * local flight placed on Earth from its home, reported as an ArduCopter would
 * report the same flight (armed, mode, a 3D GPS fix, pack voltage). The
 * flight rules stay in the model, which this file never changes. Pure: no
 * clock, no I/O.
 */
import { packVoltage } from "../drone/battery.ts";
import { applyCommand, createDrone, resumeDrone, tick } from "../drone/model.ts";
import type { CommandResult, DroneEvent, DroneLimits, DroneState, FlightState } from "../drone/types.ts";
import type { Refusal } from "../refusal.ts";
import { geoFromHome, type GeoPosition, type LatLon } from "./geodesy.ts";
import { boundaryFromHome } from "./geofence-polygon.ts";
import type { CarriedProgress, MissionCommand, MissionItem, MissionProgress } from "../mission/mission.ts";
import { missionProblem, profileOf } from "../mission/plan.ts";
import { carriedRun, followDrone, newRun, pauseRun, resumeRun, runProgress, startRun, type MissionRun, type MissionRunEvent, type RunStep } from "../mission/simulated-run.ts";
import {
  internalToken,
  isAutopilotCommand,
  type CommandReceipt,
  type Geofence,
  type GpsReport,
  type MissionControl,
  type MissionReceipt,
  type Vehicle,
  type VehicleEvent,
  type VehicleCommand,
  type VehicleMotion,
  type VehicleState,
} from "./vehicle.ts";

/**
 * Where simulated drones live unless told otherwise (`--home`): the Canberra
 * Model Aircraft Club's field (CMAC), an open flying field, which is also
 * ArduPilot SITL's default home, so simulated and SITL aircraft share a map.
 */
export const defaultSimulatedHome: Readonly<GeoPosition> = Object.freeze({ lat: -35.363261, lon: 149.16523, altitudeMsl: 584 });

/** The simulated receiver: a 3D fix with 10 satellites, as ArduPilot SITL's simulated GPS reports by default (SIM_GPS_NUMSATS). */
const simulatedGps: Readonly<GpsReport> = Object.freeze({ fix: "3d", satellites: 10 });

/** While a mission runs, its progress goes out this often even when nothing else changed, seconds of flight. */
export const missionProgressIntervalSeconds = 1;

/** The ArduCopter mode that flies what the simulator is doing, for clients that show modes. */
function copterModeFor(state: FlightState): string {
  switch (state) {
    case "returning":
      return "RTL";
    case "landing":
      return "LAND";
    default:
      return "GUIDED";
  }
}

export class SimulatedVehicle implements Vehicle, MissionControl {
  readonly kind = "simulated";
  readonly linkUp = true;
  readonly geofence: Geofence;
  readonly missions: MissionControl = this;
  private drone: DroneState;
  private events: VehicleEvent[] = [];
  /** The mission it holds and how far it flew it, or null. */
  private run: MissionRun | null = null;
  /** Flight seconds since the last progress report while the mission runs. */
  private sinceProgressSeconds = 0;
  /** The simulator hears itself at every step: the time of the last one, seconds. */
  private heardAt: number | null = null;

  /**
   * A new drone landed at `home`, with the model's default limits unless
   * overridden, inside `polygon` too when given (it must hold home).
   */
  constructor(
    readonly id: string,
    limits: Partial<DroneLimits> = {},
    readonly home: Readonly<GeoPosition> = defaultSimulatedHome,
    polygon: readonly LatLon[] | null = null,
  ) {
    this.drone = createDrone(id, limits, polygon === null ? null : boundaryFromHome(home, polygon));
    this.geofence = { maxAltitudeMetres: this.drone.limits.maxAltitudeMetres, maxRadiusMetres: this.drone.limits.maxRadiusMetres, polygon };
  }

  /** The model's own state (tests read the task and limits through it). */
  get model(): DroneState {
    return this.drone;
  }

  state(): VehicleState {
    const { state, position, velocity, heading, battery, flags, task } = this.drone;
    return {
      state,
      position,
      velocity,
      heading,
      battery,
      flags: { lowBattery: flags.lowBattery, criticalBattery: flags.criticalBattery, emergencyStopped: flags.emergencyStopped },
      target: task === null ? null : task.target,
      geo: geoFromHome(this.home, position.x, position.y, position.z),
      armed: state !== "landed" && state !== "emergency",
      mode: copterModeFor(state),
      gps: simulatedGps,
      voltage: packVoltage(battery),
      link: { up: true, heardAt: this.heardAt },
    };
  }

  /** `now` is not needed: the model's time is what `advance` gave it. */
  command(command: VehicleCommand, token: number, _now?: number): CommandReceipt {
    if (isAutopilotCommand(command)) {
      return { status: "refused", refusal: { code: "not_supported", message: `${this.id} is simulated: ${command.name} is for vehicles with an autopilot (takeoff arms a simulated drone, landing disarms it)` } };
    }
    const outcome = applyCommand(this.drone, command, token);
    if (outcome.result.accepted && this.run?.state === "running") {
      // Whoever commands the drone now has taken over from the mission.
      const by = token === internalToken ? `the failsafe's ${command.name}` : `the pilot's command ${command.name}`;
      this.pauseMission(`paused by ${by}`);
    }
    this.collect(outcome.events);
    if (!outcome.result.accepted) return { status: "refused", refusal: refusalOf(outcome.result) };
    this.drone = outcome.drone;
    return { status: "accepted", plan: outcome.result.target };
  }

  holdPosition(_now?: number): void {
    this.command({ name: "hover" }, internalToken);
  }

  emergencyStop(_now?: number): void {
    this.command({ name: "emergency" }, internalToken);
  }

  advance(dtSeconds: number, now?: number): void {
    if (now !== undefined) this.heardAt = now;
    if (!(dtSeconds > 0)) return;
    const stepped = tick(this.drone, dtSeconds);
    this.drone = stepped.drone;
    this.collect(stepped.events);
    if (this.run === null) return;
    const followed = followDrone(this.drone, this.run, stepped.events, dtSeconds);
    this.sinceProgressSeconds += dtSeconds;
    const due = this.run.state === "running" && this.sinceProgressSeconds >= missionProgressIntervalSeconds;
    this.applyRun(followed, due);
  }

  // ------------------------------------------------------------ missions

  mission(): readonly MissionItem[] | null {
    return this.run?.items ?? null;
  }

  progress(): MissionProgress | null {
    return this.run === null ? null : runProgress(this.drone, this.run);
  }

  /** Every command ends at once: its `command_done` is raised before this returns. */
  missionCommand(command: MissionCommand, token: number, _now?: number): MissionReceipt {
    const run = this.run;
    const noMission = (what: string): MissionReceipt => ({ status: "refused", refusal: { code: "no_mission", message: `${this.id} has ${what}`, about: { vehicle: true } } });
    switch (command.action) {
      case "upload": {
        if (run?.state === "running") return { status: "refused", refusal: { code: "busy", message: `${this.id} is flying its mission: pause or clear it before uploading another`, about: { vehicle: true } } };
        const problem = this.problemWith(command.items);
        if (problem !== null) return { status: "refused", refusal: problem };
        this.run = newRun(command.items, this.home);
        this.events.push({ type: "mission", items: command.items });
        break;
      }
      case "start": {
        if (run === null) return noMission("no mission: upload one first");
        if (run.state === "running") return { status: "refused", refusal: { code: "busy", message: `${this.id} is already flying its mission`, about: { vehicle: true } } };
        // The battery drained since the upload, and the drone may be elsewhere: the route is checked again from here.
        const problem = this.problemWith(run.items);
        if (problem !== null) return { status: "refused", refusal: problem };
        this.applyRun(startRun(this.drone, run), true);
        break;
      }
      case "pause":
        if (run?.state !== "running") return noMission("no mission running to pause");
        this.pauseMission("paused by the pilot");
        this.command({ name: "hover" }, internalToken);
        break;
      case "resume": {
        if (run?.state !== "paused") return noMission("no paused mission to resume");
        const problem = this.problemWith(run.items.slice(run.current));
        if (problem !== null) return { status: "refused", refusal: shiftItem(problem, run.current) };
        this.applyRun(resumeRun(this.drone, run), true);
        break;
      }
      case "clear":
        if (run === null) return noMission("no mission to clear");
        if (run.state === "running") {
          this.pauseMission("cleared by the pilot");
          this.command({ name: "hover" }, internalToken);
        }
        this.run = null;
        this.events.push({ type: "mission", items: null });
        break;
    }
    this.events.push({ type: "command_done", token });
    return { status: "accepted", items: this.run?.items.length ?? 0 };
  }

  carryOver(items: readonly MissionItem[], progress: CarriedProgress | null, reason: string): void {
    this.run = progress === null ? newRun(items, this.home) : carriedRun(items, this.home, progress, reason);
    this.events.push({ type: "mission", items });
    this.reportRun([], true);
  }

  /** Why this drone cannot fly `items` from where it is now, or null. */
  private problemWith(items: readonly MissionItem[]) {
    const { limits, battery, position, speedLimit } = this.drone;
    return missionProblem(items, {
      home: this.home,
      geofence: this.geofence,
      start: position,
      battery: { percent: battery, lowBatteryPercent: limits.lowBatteryPercent, profile: profileOf(limits, speedLimit) },
    });
  }

  private pauseMission(reason: string): void {
    if (this.run === null) return;
    const paused = pauseRun(this.run, reason);
    this.run = paused.run;
    this.reportRun(paused.events, false);
  }

  /** Takes a runner step: the drone and run it left, the model's events and the run's, reported. */
  private applyRun(step: RunStep, progressDue: boolean): void {
    this.drone = step.drone;
    this.run = step.run;
    this.collect(step.droneEvents);
    this.reportRun(step.events, progressDue);
  }

  /** A progress report when the run did something, or when one is due. */
  private reportRun(events: readonly MissionRunEvent[], due: boolean): void {
    if (this.run === null || (events.length === 0 && !due)) return;
    const progress = runProgress(this.drone, this.run);
    if (progress === null) return;
    this.sinceProgressSeconds = 0;
    this.events.push({ type: "mission_progress", progress });
  }

  takeEvents(): VehicleEvent[] {
    const taken = this.events;
    this.events = [];
    return taken;
  }

  resumeFrom(state: VehicleMotion): void {
    this.drone = resumeDrone(this.id, { ...state, flags: { ...state.flags, failsafe: false } }, this.drone.limits);
  }

  private collect(events: readonly DroneEvent[]): void {
    for (const event of events) {
      switch (event.type) {
        case "command_done":
        case "command_failed":
        case "low_battery":
        case "critical_battery":
        case "landed":
          this.events.push(event);
          break;
        case "geofence":
          this.events.push({ type: "geofence", reason: event.reason });
          break;
        case "state_changed":
          break;
      }
    }
  }
}

/** A refusal about item `i` of a mission's tail as one about item `offset + i` of the whole mission. */
function shiftItem(refusal: Refusal, offset: number): Refusal {
  const about = refusal.about;
  if (about === undefined || !("item" in about)) return refusal;
  return { ...refusal, message: refusal.message.replace(/^item \d+/, `item ${about.item + offset}`), about: { ...about, item: about.item + offset } };
}

/** The model's refusal in domain terms: an argument it names is one of the command's. */
function refusalOf(result: Extract<CommandResult, { accepted: false }>): Refusal {
  const { code, message, field } = result;
  return field === undefined ? { code, message } : { code, message, about: { argument: field } };
}
