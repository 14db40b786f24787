/**
 * The simulated drone as a Vehicle: the pure flight model in `../drone/`
 * behind the seam the fleet flies every vehicle through.
 *
 * Owns only the translation: model results to receipts, model events to
 * vehicle events, a telemetry snapshot to a resumed drone. The flight rules
 * stay in the model, which this file never changes. Pure: no clock, no I/O.
 */
import { applyCommand, createDrone, resumeDrone, tick } from "../drone/model.ts";
import type { CommandResult, DroneCommand, DroneEvent, DroneLimits, DroneState } from "../drone/types.ts";
import type { Refusal } from "../refusal.ts";
import { internalToken, type CommandReceipt, type Geofence, type Vehicle, type VehicleEvent, type VehicleState } from "./vehicle.ts";

export class SimulatedVehicle implements Vehicle {
  readonly kind = "simulated";
  readonly linkUp = true;
  readonly geofence: Geofence;
  private drone: DroneState;
  private events: VehicleEvent[] = [];

  /** A new drone landed at home, with the model's default limits unless overridden. */
  constructor(readonly id: string, limits: Partial<DroneLimits> = {}) {
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
    };
  }

  /** `now` is not needed: the model's time is what `advance` gave it. */
  command(command: DroneCommand, token: number, _now?: number): CommandReceipt {
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

  advance(dtSeconds: number, _now?: number): void {
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

  resumeFrom(state: VehicleState): void {
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
