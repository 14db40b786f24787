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
import { geoFromHome, type GeoPosition } from "./geodesy.ts";
import { internalToken, isAutopilotCommand, type CommandReceipt, type Geofence, type GpsReport, type Vehicle, type VehicleEvent, type VehicleCommand, type VehicleMotion, type VehicleState } from "./vehicle.ts";

/**
 * Where simulated drones live unless told otherwise (`--home`): the Canberra
 * Model Aircraft Club's field (CMAC), an open flying field, which is also
 * ArduPilot SITL's default home, so simulated and SITL aircraft share a map.
 */
export const defaultSimulatedHome: Readonly<GeoPosition> = Object.freeze({ lat: -35.363261, lon: 149.16523, altitudeMsl: 584 });

/** The simulated receiver: a 3D fix with 10 satellites, as ArduPilot SITL's simulated GPS reports by default (SIM_GPS_NUMSATS). */
const simulatedGps: Readonly<GpsReport> = Object.freeze({ fix: "3d", satellites: 10 });

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

export class SimulatedVehicle implements Vehicle {
  readonly kind = "simulated";
  readonly linkUp = true;
  readonly geofence: Geofence;
  private drone: DroneState;
  private events: VehicleEvent[] = [];
  /** The simulator hears itself at every step: the time of the last one, seconds. */
  private heardAt: number | null = null;

  /** A new drone landed at `home`, with the model's default limits unless overridden. */
  constructor(
    readonly id: string,
    limits: Partial<DroneLimits> = {},
    readonly home: Readonly<GeoPosition> = defaultSimulatedHome,
  ) {
    this.drone = createDrone(id, limits);
    this.geofence = { maxAltitudeMetres: this.drone.limits.maxAltitudeMetres, maxRadiusMetres: this.drone.limits.maxRadiusMetres };
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

/** The model's refusal in domain terms: an argument it names is one of the command's. */
function refusalOf(result: Extract<CommandResult, { accepted: false }>): Refusal {
  const { code, message, field } = result;
  return field === undefined ? { code, message } : { code, message, about: { argument: field } };
}
