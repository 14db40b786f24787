/**
 * The fleet: every simulated drone, who pilots each one (the pilot lease),
 * the link-loss failsafe, and the routing of each command's completion back
 * to whoever sent it.
 *
 * Pure like the model it drives: time comes in as arguments (seconds on any
 * monotonic clock), results go out as notices that the server delivers. It
 * never touches a socket, a timer or the wall clock.
 *
 * Invariants: a drone has at most one pilot; a session's command reaches a
 * drone only if that session is its pilot; every accepted command ends in
 * exactly one `done` notice (completed or failed).
 */
import { applyCommand, createDrone, distanceFromHome, isAirborne, setFailsafe, tick } from "../drone/model.ts";
import type { DroneCommand, DroneEvent, DroneLimits, DroneState, Vector3 } from "../drone/types.ts";
import type { EventKind, ProtocolError, RequestId } from "../../../protocol/index.ts";

/** Who asked for a command, so its completion can find its way back. */
export interface CommandOrigin {
  session: string;
  /** The request id of a JSON command, if it had one. */
  requestId?: RequestId;
  /** The command as the client wrote it, for replies and logs. */
  label: string;
  /** How the client talks: JSON clients get a `done` message; text and controller clients do not. */
  form: "json" | "text" | "controller";
  /** When the command arrived, seconds on the fleet's clock, for latency metrics. */
  receivedAt?: number;
  /** In a cluster, the node the client is connected to, when that is not the node simulating the drone. */
  node?: string;
}

/** Something the server must deliver after a fleet call. */
export type FleetNotice =
  | { kind: "done"; origin: CommandOrigin; drone: string; status: "completed" | "failed"; reason?: string }
  | { kind: "event"; drone: string; event: EventKind; message: string; details?: Record<string, unknown> }
  | { kind: "lease"; drone: string; pilot: string | null; reason: string };

/** The result of a command the fleet accepted: where it will end. */
export interface AcceptedCommand {
  ok: true;
  target: Vector3 & { heading: number; speedLimit: number };
}

export interface FleetOptions {
  droneIds: readonly string[];
  limits?: Partial<DroneLimits>;
  /** Seconds a flying drone without a pilot hovers before it returns home. */
  failsafeSeconds: number;
}

/** Token for commands the fleet issues itself (failsafe hover and return): nobody awaits them. */
const internalToken = 0;

/** Within this horizontal distance of home, the failsafe lands instead of returning, metres. */
const homeRadiusMetres = 1;

interface PendingCommand {
  origin: CommandOrigin;
  drone: string;
  /** A command to apply once this one completes (the controller's takeoff-then-climb). */
  then?: { command: DroneCommand; origin: CommandOrigin };
}

interface FailsafeTimer {
  /** When the drone turns for home unless a pilot claims it first, seconds. */
  returnAt: number;
}

export class Fleet {
  private readonly drones = new Map<string, DroneState>();
  private readonly pilots = new Map<string, string>();
  private readonly failsafes = new Map<string, FailsafeTimer>();
  private readonly pending = new Map<number, PendingCommand>();
  private notices: FleetNotice[] = [];
  private nextToken = internalToken + 1;

  constructor(private readonly options: FleetOptions) {
    if (options.droneIds.length === 0) throw new RangeError("'droneIds' must name at least one drone: received none");
    if (!(options.failsafeSeconds > 0)) {
      throw new RangeError(`'failsafeSeconds' must be a positive number: received ${options.failsafeSeconds}`);
    }
    for (const id of options.droneIds) {
      if (this.drones.has(id)) throw new RangeError(`'droneIds' must be unique: ${JSON.stringify(id)} appears twice`);
      this.drones.set(id, createDrone(id, options.limits));
    }
  }

  /** Drone ids in the order they were configured. */
  get ids(): readonly string[] {
    return this.options.droneIds;
  }

  has(droneId: string): boolean {
    return this.drones.has(droneId);
  }

  /** The drone's current state; throws for an unknown id (callers check `has` first). */
  drone(droneId: string): DroneState {
    const drone = this.drones.get(droneId);
    if (!drone) throw new RangeError(`unknown drone ${JSON.stringify(droneId)}`);
    return drone;
  }

  pilotOf(droneId: string): string | null {
    return this.pilots.get(droneId) ?? null;
  }

  /** The notices produced since the last call, in order. */
  takeNotices(): FleetNotice[] {
    const taken = this.notices;
    this.notices = [];
    return taken;
  }

  // ------------------------------------------------------------ leases

  /** Makes `session` the pilot of the drone if nobody else is. */
  claim(droneId: string, session: string): { ok: true; alreadyPilot: boolean } | { ok: false; error: ProtocolError } {
    const current = this.pilots.get(droneId);
    if (current === session) return { ok: true, alreadyPilot: true };
    if (current !== undefined) {
      return { ok: false, error: { code: "lease_taken", message: `${droneId} is already flown by session ${current}: wait for a release`, field: "data.drone" } };
    }
    this.pilots.set(droneId, session);
    this.notices.push({ kind: "lease", drone: droneId, pilot: session, reason: "claimed" });
    if (this.failsafes.delete(droneId) || this.drone(droneId).flags.failsafe) {
      this.update(droneId, setFailsafe(this.drone(droneId), false));
      this.notices.push({ kind: "event", drone: droneId, event: "pilot_regained", message: `session ${session} took control: failsafe cleared` });
    }
    return { ok: true, alreadyPilot: false };
  }

  /** Gives up the lease. A drone left flying without a pilot enters the failsafe. */
  release(droneId: string, session: string, now: number): { ok: true } | { ok: false; error: ProtocolError } {
    if (this.pilots.get(droneId) !== session) {
      return { ok: false, error: { code: "not_pilot", message: `you are not the pilot of ${droneId}: nothing to release`, field: "data.drone" } };
    }
    this.dropPilot(droneId, "released", now);
    return { ok: true };
  }

  /** A session went away: it loses every lease it held, and pending commands stop reporting to it. */
  disconnect(session: string, now: number): void {
    for (const [droneId, pilot] of this.pilots) {
      if (pilot === session) this.dropPilot(droneId, "pilot disconnected", now);
    }
  }

  private dropPilot(droneId: string, reason: string, now: number): void {
    this.pilots.delete(droneId);
    this.notices.push({ kind: "lease", drone: droneId, pilot: null, reason });
    this.engageFailsafe(droneId, reason, now);
  }

  /** A flying drone without a pilot holds position, then comes home unless someone claims it. */
  private engageFailsafe(droneId: string, reason: string, now: number): void {
    const drone = this.drone(droneId);
    if (!isAirborne(drone) || drone.state === "emergency") return;
    // Link-loss failsafe, as flight controllers do it: hold position, then
    // come home if nobody takes over. A drone already landing or returning
    // keeps doing that: both end on the ground.
    // A takeoff in progress finishes first: hovering a few centimetres off
    // the ground would be the worst place to wait.
    let next = setFailsafe(drone, true);
    if (next.state === "hovering" || next.state === "moving") next = this.applyInternal(next, { name: "hover" });
    this.update(droneId, next);
    this.failsafes.set(droneId, { returnAt: now + this.options.failsafeSeconds });
    this.notices.push({
      kind: "event",
      drone: droneId,
      event: "failsafe",
      message: `no pilot (${reason}): holding position; returning home in ${this.options.failsafeSeconds} s unless a pilot claims ${droneId}`,
      details: { action: "hover", returnInSeconds: this.options.failsafeSeconds },
    });
  }

  // ------------------------------------------------------------ commands

  /**
   * Sends a command from a session to a drone. The session must be its pilot.
   * On acceptance, a `done` notice follows when the command completes or fails;
   * instant commands (speed, hover, emergency) complete at once.
   */
  command(droneId: string, command: DroneCommand, origin: CommandOrigin, then?: DroneCommand): AcceptedCommand | { ok: false; error: ProtocolError } {
    const pilot = this.pilots.get(droneId);
    if (pilot !== origin.session) {
      const message = pilot === undefined ? `claim ${droneId} before flying it` : `${droneId} is flown by session ${pilot}: you are an observer`;
      return { ok: false, error: { code: "not_pilot", message } };
    }
    const token = this.nextToken++;
    const outcome = applyCommand(this.drone(droneId), command, token);
    if (!outcome.result.accepted) {
      const { code, message, field } = outcome.result;
      this.collect(droneId, outcome.events);
      return { ok: false, error: field === undefined ? { code, message } : { code, message, field } };
    }
    this.pending.set(token, { origin, drone: droneId, ...(then ? { then: { command: then, origin } } : {}) });
    this.update(droneId, outcome.drone);
    this.collect(droneId, outcome.events);
    return { ok: true, target: outcome.result.target };
  }

  /**
   * Advances every drone by `dtSeconds` (or only those `simulates` accepts:
   * in a cluster, the ones this node owns), then fires failsafe timers due at `now`.
   */
  advance(dtSeconds: number, now: number, simulates?: (droneId: string) => boolean): void {
    for (const [droneId, drone] of this.drones) {
      if (simulates && !simulates(droneId)) continue;
      const stepped = tick(drone, dtSeconds);
      this.update(droneId, stepped.drone);
      this.collect(droneId, stepped.events);
    }
    for (const [droneId, timer] of this.failsafes) {
      if (now < timer.returnAt) continue;
      this.failsafes.delete(droneId);
      const drone = this.drone(droneId);
      if (!isAirborne(drone) || this.pilots.has(droneId)) continue;
      if (drone.state === "taking_off") {
        // Let the takeoff finish, then decide: check again on the next step.
        this.failsafes.set(droneId, { returnAt: now });
        continue;
      }
      // Already over home: land where it is rather than climb to the return altitude first.
      const action = distanceFromHome(drone) <= homeRadiusMetres ? "land" : "rth";
      if (drone.state !== "landing" && drone.state !== "returning") this.update(droneId, this.applyInternal(drone, { name: action }));
      this.notices.push({
        kind: "event",
        drone: droneId,
        event: "failsafe",
        message: `no pilot for ${this.options.failsafeSeconds} s: ${action === "land" ? "landing at home" : "returning home to land"}`,
        details: { action },
      });
    }
  }

  private applyInternal(drone: DroneState, command: DroneCommand): DroneState {
    const outcome = applyCommand(drone, command, internalToken);
    this.collect(drone.id, outcome.events);
    return outcome.result.accepted ? outcome.drone : drone;
  }

  private update(droneId: string, drone: DroneState): void {
    this.drones.set(droneId, drone);
    if (drone.state === "landed" && drone.flags.failsafe) {
      // Safely on the ground: the failsafe has done its job.
      this.drones.set(droneId, setFailsafe(drone, false));
      this.failsafes.delete(droneId);
    }
  }

  /** Turns model events into notices: completions to their origin, the rest to every viewer. */
  private collect(droneId: string, events: readonly DroneEvent[]): void {
    for (const event of events) {
      switch (event.type) {
        case "command_done":
        case "command_failed": {
          const pending = this.pending.get(event.token);
          if (!pending) break;
          this.pending.delete(event.token);
          const failed = event.type === "command_failed";
          this.notices.push({
            kind: "done",
            origin: pending.origin,
            drone: pending.drone,
            status: failed ? "failed" : "completed",
            ...(failed ? { reason: event.reason } : {}),
          });
          if (!failed && pending.then) this.followUp(pending.drone, pending.then.command, pending.then.origin);
          break;
        }
        case "low_battery":
          this.notices.push({ kind: "event", drone: droneId, event: "low_battery", message: `battery at ${event.battery.toFixed(1)} %: returning home`, details: { battery: event.battery } });
          break;
        case "critical_battery":
          this.notices.push({ kind: "event", drone: droneId, event: "critical_battery", message: `battery at ${event.battery.toFixed(1)} %: landing now`, details: { battery: event.battery } });
          break;
        case "landed":
          this.notices.push({ kind: "event", drone: droneId, event: "landed", message: `${droneId} landed` });
          break;
        case "geofence":
          this.notices.push({ kind: "event", drone: droneId, event: "geofence", message: event.reason });
          break;
        case "state_changed":
          break;
      }
    }
  }

  /** Applies a chained command; a refusal is reported to its origin as a failed `done`. */
  private followUp(droneId: string, command: DroneCommand, origin: CommandOrigin): void {
    const result = this.command(droneId, command, origin);
    if (!result.ok) this.notices.push({ kind: "done", origin, drone: droneId, status: "failed", reason: result.error.message });
  }

  /** Tells every flying drone (not landing, returning or falling) to hold position. */
  hoverAll(reason: string): void {
    for (const [droneId, drone] of this.drones) {
      if (drone.state !== "taking_off" && drone.state !== "hovering" && drone.state !== "moving") continue;
      this.update(droneId, this.applyInternal(drone, { name: "hover" }));
      this.notices.push({ kind: "event", drone: droneId, event: "failsafe", message: `${reason}: holding position`, details: { action: "hover" } });
    }
  }

  // ------------------------------------------------------------ ownership (cluster)

  /**
   * Takes over a drone another node simulated: its state as resumed from the
   * last snapshot, and its pilot if that pilot is still connected somewhere.
   * A flying drone whose pilot is gone enters the failsafe at once.
   */
  adopt(droneId: string, drone: DroneState, pilot: string | null, now: number): void {
    this.drone(droneId); // throws for an unknown id
    this.failsafes.delete(droneId);
    this.drones.set(droneId, drone);
    if (pilot !== null) {
      this.pilots.set(droneId, pilot);
      return;
    }
    this.pilots.delete(droneId);
    if (drone.flags.failsafe || isAirborne(drone)) this.engageFailsafe(droneId, "pilot lost with the node that simulated this drone", now);
  }

  /**
   * Stops simulating a drone another node now owns: its lease and timers
   * live there. Commands still in progress here fail, so their senders hear.
   */
  relinquish(droneId: string, reason: string): void {
    this.pilots.delete(droneId);
    this.failsafes.delete(droneId);
    for (const [token, pending] of this.pending) {
      if (pending.drone !== droneId) continue;
      this.pending.delete(token);
      this.notices.push({ kind: "done", origin: pending.origin, drone: droneId, status: "failed", reason });
    }
  }

  /** Forgets the routing of completions for a session that went away (its drones keep flying). */
  forgetSession(session: string): void {
    for (const [token, pending] of this.pending) if (pending.origin.session === session) this.pending.delete(token);
  }
}
