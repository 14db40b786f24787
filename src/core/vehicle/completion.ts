/**
 * Command tracking for vehicles that report their state instead of computing
 * it (a real autopilot, a scripted test vehicle): where a command should end,
 * whether a reported state says it has, and what happens to commands that go
 * unanswered or unfinished.
 *
 * A simulated drone knows exactly when it arrives; a reporting vehicle only
 * says where it is now, a little late, within its own precision. So a
 * command is judged done when the reported state is within a tolerance of
 * its plan (ArduPilot's waypoint radius works the same way), failed when the
 * state rules it out (the vehicle landed, or cut its motors), and given up
 * after a time limit. Pure: the caller passes every report and the time.
 */
import { headingUnitVector, normalizeHeading } from "../drone/geometry.ts";
import { velocityHoldSeconds, velocityTarget } from "../drone/commands.ts";
import type { MoveDirection } from "../drone/types.ts";
import type { Refusal } from "../refusal.ts";
import type { CommandPlan, VehicleCommand, VehicleEvent, VehicleMotion } from "./vehicle.ts";

/** How close a reported state must come to a plan to count as arrived. */
export interface Tolerances {
  /** Distance from the planned position, metres. @default 1 */
  positionMetres: number;
  /** Difference from the planned heading, degrees. @default 5 */
  headingDegrees: number;
  /** A command not acknowledged within this time is refused as unavailable, seconds. @default 3 */
  answerSeconds: number;
  /** An accepted command not finished within this time fails, seconds. @default 120 */
  finishSeconds: number;
}

export const defaultTolerances: Tolerances = { positionMetres: 1, headingDegrees: 5, answerSeconds: 3, finishSeconds: 120 };

/** What a reporting vehicle knows of the aircraft's envelope, to plan commands. */
export interface PlanLimits {
  /** Altitude takeoff climbs to, metres. */
  takeoffAltitudeMetres: number;
  /** Horizontal speed limit announced with each plan, m/s. */
  speedLimitMetresPerSecond: number;
}

/** Bearing of each horizontal move relative to the heading, degrees clockwise. */
const moveBearingDegrees: Record<Exclude<MoveDirection, "up" | "down">, number> = { forward: 0, right: 90, back: 180, left: -90 };

/**
 * Where a command ends, from the state it starts in: absolute metres from
 * home and a heading. Relative moves are taken from where the vehicle is now.
 */
export function planCommand(command: VehicleCommand, from: VehicleMotion, limits: PlanLimits): CommandPlan {
  const { x, y, z } = from.position;
  const here = { x, y, z, heading: from.heading, speedLimit: limits.speedLimitMetresPerSecond };
  switch (command.name) {
    case "takeoff":
      return { ...here, z: limits.takeoffAltitudeMetres };
    case "land":
      return { ...here, z: 0 };
    case "rth":
      return { ...here, x: 0, y: 0, z: 0 };
    case "hover":
    case "emergency":
    case "arm":
    case "disarm":
    case "mode":
      return here;
    case "speed":
      return { ...here, speedLimit: command.metresPerSecond };
    case "up":
      return { ...here, z: z + command.distance };
    case "down":
      return { ...here, z: z - command.distance };
    case "forward":
    case "back":
    case "left":
    case "right": {
      const unit = headingUnitVector(from.heading + moveBearingDegrees[command.name]);
      return { ...here, x: x + unit.x * command.distance, y: y + unit.y * command.distance };
    }
    case "cw":
      return { ...here, heading: normalizeHeading(from.heading + command.degrees) };
    case "ccw":
      return { ...here, heading: normalizeHeading(from.heading - command.degrees) };
    case "goto":
      return { ...here, x: command.x, y: command.y, z: command.z };
    case "velocity":
      // The dead-man hold as a position target: where these rates lead in velocityHoldSeconds.
      return { ...here, ...velocityTarget(from, command), heading: normalizeHeading(from.heading + command.yawRate * velocityHoldSeconds) };
  }
}

/** A command's fate as judged from one reported state. */
export type Verdict = { over: false } | { over: true; completed: true } | { over: true; completed: false; reason: string };

/**
 * Commands that are over the moment they are accepted: an autopilot
 * acknowledges arm, disarm and a mode change once they took effect.
 */
function isInstant(command: VehicleCommand): boolean {
  switch (command.name) {
    case "hover":
    case "speed":
    case "emergency":
    case "arm":
    case "disarm":
    case "mode":
      return true;
    default:
      return false;
  }
}

/** Whether `reported` says the command with this plan is over. */
export function judge(command: VehicleCommand, plan: CommandPlan, reported: VehicleMotion, tolerances: Tolerances = defaultTolerances): Verdict {
  if (isInstant(command)) return { over: true, completed: true };
  if (reported.state === "emergency") return { over: true, completed: false, reason: "emergency stop" };
  const arrived = distance(reported, plan) <= tolerances.positionMetres;
  switch (command.name) {
    case "land":
      return reported.state === "landed" ? { over: true, completed: true } : { over: false };
    case "rth":
      if (reported.state !== "landed") return { over: false };
      return Math.hypot(reported.position.x, reported.position.y) <= tolerances.positionMetres
        ? { over: true, completed: true }
        : { over: true, completed: false, reason: "landed away from home" };
    default: {
      if (reported.state === "landed") return { over: true, completed: false, reason: "the vehicle landed" };
      const turned = headingGap(reported.heading, plan.heading) <= tolerances.headingDegrees;
      return arrived && turned && reported.state !== "taking_off" ? { over: true, completed: true } : { over: false };
    }
  }
}

function distance(state: VehicleMotion, plan: CommandPlan): number {
  const { x, y, z } = state.position;
  return Math.hypot(x - plan.x, y - plan.y, z - plan.z);
}

/** The smaller angle between two headings, degrees in [0, 180]. */
function headingGap(a: number, b: number): number {
  const gap = Math.abs(normalizeHeading(a) - normalizeHeading(b));
  return gap > 180 ? 360 - gap : gap;
}

interface Tracked {
  token: number;
  command: VehicleCommand;
  /** When the command was given, or accepted once it is; seconds. */
  since: number;
  /** Null until the vehicle acknowledged it. */
  plan: CommandPlan | null;
}

/**
 * The commands a reporting vehicle has in flight: at most one awaiting its
 * acknowledgement and one being flown (a new one supersedes the old, as on
 * the real aircraft). Feed it what the vehicle says (`acknowledged`,
 * `rejected`, every `report`) and the time (`expire`); take the events.
 */
export class CommandTracker {
  private awaiting: Tracked | null = null;
  private flying: Tracked | null = null;
  private events: VehicleEvent[] = [];

  constructor(private readonly tolerances: Tolerances = defaultTolerances) {}

  /** A command was sent to the vehicle and awaits its acknowledgement. Pilot commands only (never the internal token). */
  sent(token: number, command: VehicleCommand, now: number): void {
    if (this.awaiting !== null) this.refuse(this.awaiting, { code: "busy", message: `superseded by ${command.name} before the vehicle answered` });
    this.awaiting = { token, command, since: now, plan: null };
  }

  /** The vehicle accepted the awaited command; it is now the one being flown. */
  acknowledged(plan: CommandPlan, now: number): void {
    const accepted = this.awaiting;
    if (accepted === null) return;
    this.awaiting = null;
    this.events.push({ type: "command_accepted", token: accepted.token, plan });
    this.started(accepted.token, accepted.command, plan, now);
  }

  /** The vehicle refused the awaited command. */
  rejected(refusal: Refusal): void {
    if (this.awaiting !== null) this.refuse(this.awaiting, refusal);
    this.awaiting = null;
  }

  /** A command accepted at once (the vehicle's answer came with the command): tracked from here. */
  started(token: number, command: VehicleCommand, plan: CommandPlan, now: number): void {
    if (isInstant(command)) {
      // hover and emergency end what was in progress; speed does not.
      if (command.name !== "speed") this.supersede(command.name);
      this.events.push({ type: "command_done", token });
      return;
    }
    this.supersede(command.name);
    this.flying = { token, command, since: now, plan };
  }

  /** Something else took over the vehicle (the failsafe, an emergency stop): the command in progress fails. */
  interrupted(reason: string): void {
    if (this.flying !== null) this.events.push({ type: "command_failed", token: this.flying.token, reason });
    this.flying = null;
  }

  /** A new state report: the command being flown may be over. */
  report(state: VehicleMotion): void {
    const flying = this.flying;
    if (flying === null || flying.plan === null) return;
    const verdict = judge(flying.command, flying.plan, state, this.tolerances);
    if (!verdict.over) return;
    this.flying = null;
    this.events.push(verdict.completed ? { type: "command_done", token: flying.token } : { type: "command_failed", token: flying.token, reason: verdict.reason });
  }

  /** Time passed: an unanswered command is refused, an unfinished one fails. */
  expire(now: number): void {
    const { answerSeconds, finishSeconds } = this.tolerances;
    if (this.awaiting !== null && now - this.awaiting.since >= answerSeconds) {
      this.refuse(this.awaiting, { code: "drone_unavailable", message: `the vehicle did not answer ${this.awaiting.command.name} within ${answerSeconds} s` });
      this.awaiting = null;
    }
    if (this.flying !== null && now - this.flying.since >= finishSeconds) {
      this.events.push({ type: "command_failed", token: this.flying.token, reason: `not finished within ${finishSeconds} s` });
      this.flying = null;
    }
  }

  /** The link went down: nothing in flight will be answered or judged. */
  linkLost(reason: string): void {
    if (this.awaiting !== null) this.refuse(this.awaiting, { code: "drone_unavailable", message: `lost the link to the vehicle: ${reason}` });
    this.awaiting = null;
    this.interrupted(`lost the link to the vehicle: ${reason}`);
  }

  takeEvents(): VehicleEvent[] {
    const taken = this.events;
    this.events = [];
    return taken;
  }

  private supersede(by: string): void {
    this.interrupted(`superseded by ${by}`);
  }

  private refuse(tracked: Tracked, refusal: Refusal): void {
    this.events.push({ type: "command_refused", token: tracked.token, refusal });
  }
}
