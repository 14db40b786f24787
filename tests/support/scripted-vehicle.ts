/**
 * A test-only second kind of vehicle: it computes nothing and reports the
 * states the test feeds it, like a real autopilot heard over a link.
 *
 * It proves the Vehicle seam: the fleet, telemetry, sessions, endpoints and
 * cluster fly it without knowing it is not the simulator. Commands are
 * recorded as they arrive; they are answered at once or when the test says
 * (`answer: "later"`); completion is judged from the reported states by the
 * same `CommandTracker` a real autopilot integration uses.
 */
import type { DroneCommand, FlightState, Vector3 } from "../../src/core/drone/types.ts";
import type { Refusal } from "../../src/core/refusal.ts";
import { CommandTracker, defaultTolerances, planCommand, type PlanLimits } from "../../src/core/vehicle/completion.ts";
import { internalToken, restingAtHome, type CommandReceipt, type Geofence, type Vehicle, type VehicleEvent, type VehicleState } from "../../src/core/vehicle/vehicle.ts";

/** What the fleet asked of the vehicle, in order. */
export type Received =
  | { kind: "command"; command: DroneCommand; token: number; at: number }
  | { kind: "hold"; at: number }
  | { kind: "emergency_stop"; at: number };

export interface ScriptedVehicleOptions {
  /** `now`: every command is accepted with its plan at once; `later`: the test calls `acknowledge` or `reject`. @default "now" */
  answer?: "now" | "later";
  /** @default a 120 m ceiling and 500 m radius */
  geofence?: Geofence;
  /** Seconds an unanswered command waits before it is refused. @default 3 */
  answerSeconds?: number;
}

const limits: PlanLimits = { takeoffAltitudeMetres: 2, speedLimitMetresPerSecond: 5 };

export class ScriptedVehicle implements Vehicle {
  readonly kind = "scripted";
  readonly geofence: Geofence;
  readonly received: Received[] = [];
  private reported = restingAtHome();
  private link = true;
  private readonly tracker: CommandTracker;
  private readonly answerLater: boolean;
  private events: VehicleEvent[] = [];
  /** Awaiting its answer: the plan it will get. */
  private awaitedPlan: { plan: ReturnType<typeof planCommand> } | null = null;
  private lastNow = 0;

  constructor(readonly id: string, options: ScriptedVehicleOptions = {}) {
    this.geofence = options.geofence ?? { maxAltitudeMetres: 120, maxRadiusMetres: 500, polygon: null };
    this.answerLater = options.answer === "later";
    this.tracker = new CommandTracker({ ...defaultTolerances, answerSeconds: options.answerSeconds ?? defaultTolerances.answerSeconds });
  }

  get linkUp(): boolean {
    return this.link;
  }

  state(): VehicleState {
    return this.reported;
  }

  command(command: DroneCommand, token: number, now: number): CommandReceipt {
    this.received.push({ kind: "command", command, token, at: now });
    const plan = planCommand(command, this.reported, limits);
    if (token === internalToken) return { status: "accepted", plan };
    if (!this.link) return { status: "refused", refusal: { code: "drone_unavailable", message: `${this.id} is out of reach: its link is down` } };
    if (this.answerLater) {
      this.tracker.sent(token, command, now);
      this.awaitedPlan = { plan };
      return { status: "pending" };
    }
    this.tracker.started(token, command, plan, now);
    return { status: "accepted", plan };
  }

  holdPosition(now: number): void {
    this.received.push({ kind: "hold", at: now });
    this.tracker.interrupted("holding position");
  }

  emergencyStop(now: number): void {
    this.received.push({ kind: "emergency_stop", at: now });
    this.tracker.interrupted("emergency stop");
  }

  advance(_dtSeconds: number, now: number): void {
    this.lastNow = now;
    this.tracker.expire(now);
  }

  takeEvents(): VehicleEvent[] {
    const taken = [...this.events, ...this.tracker.takeEvents()];
    this.events = [];
    return taken;
  }

  // ------------------------------------------------------------ the test's side: what the vehicle says

  /** The vehicle reports a new state (partial: the rest stays as last reported). */
  report(state: Partial<Omit<VehicleState, "position">> & { state?: FlightState; position?: Partial<Vector3> }): void {
    this.reported = { ...this.reported, ...state, position: { ...this.reported.position, ...state.position } };
    if (this.reported.state === "landed" && state.state === "landed") this.events.push({ type: "landed" });
    this.tracker.report(this.reported);
  }

  /** The vehicle accepts the command it was last given. */
  acknowledge(): void {
    if (this.awaitedPlan === null) throw new Error(`${this.id} has no command awaiting an answer`);
    this.tracker.acknowledged(this.awaitedPlan.plan, this.lastNow);
    this.awaitedPlan = null;
  }

  /** The vehicle refuses the command it was last given. */
  reject(refusal: Refusal): void {
    this.tracker.rejected(refusal);
    this.awaitedPlan = null;
  }

  /** The link goes silent, or comes back. */
  setLink(up: boolean, reason = "no heartbeat"): void {
    if (up === this.link) return;
    this.link = up;
    if (!up) this.tracker.linkLost(reason);
    this.events.push(up ? { type: "link_regained" } : { type: "link_lost", reason });
  }

  /** The commands received, without the failsafe's holds. */
  commands(): DroneCommand[] {
    return this.received.flatMap((entry) => (entry.kind === "command" ? [entry.command] : []));
  }
}
