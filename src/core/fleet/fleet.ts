/**
 * The fleet: every vehicle, who pilots each one (the pilot lease), the
 * link-loss failsafe, and the routing of each command's answer and
 * completion back to whoever sent it.
 *
 * Works on the Vehicle seam only (`../vehicle/vehicle.ts`): a simulated drone
 * and a reporting aircraft are flown alike. Pure like the vehicles it drives:
 * time comes in as arguments (seconds on any monotonic clock), results go out
 * as notices that the runtime delivers. It never touches a socket, a timer or
 * the wall clock, and knows nothing of the wire: refusals are domain
 * `Refusal`s, and a command's origin is carried without being read, except
 * for the session that sent it.
 *
 * Invariants: a vehicle has at most one pilot; a session's command reaches a
 * vehicle only if that session is its pilot; every command the fleet takes
 * is answered exactly once (at once, or by an `answer` notice), and every
 * accepted command ends in exactly one `done` notice (completed or failed).
 */
import { displayName, type PilotUser } from "../identity/rights.ts";
import { vehicleRefusal, type Refusal } from "../refusal.ts";
import type { MissionCommand, MissionFailsafe, MissionItem, MissionProgress } from "../mission/mission.ts";
import { distanceFromHome, internalToken, isAirborne, type AutopilotSeverity, type CommandPlan, type Vehicle, type VehicleCommand, type VehicleEvent, type VehicleMotion, type VehicleState } from "../vehicle/vehicle.ts";

/** What the fleet reads of a command's origin: the session that sent it. The rest travels untouched. */
export interface CommandSender {
  session: string;
}

/** What viewers are told happened to a vehicle, and the facts each kind carries. */
export interface FleetEventDetails {
  /** Holding position (`returnInSeconds` until it turns for home), returning home, landing where it is, or flying its mission on (`--mission-failsafe continue`). */
  failsafe: { action: "hover" | "rth" | "land" | "mission"; returnInSeconds?: number };
  pilot_regained: {};
  geofence: {};
  low_battery: { battery: number };
  critical_battery: { battery: number };
  landed: {};
  link_lost: {};
  link_regained: {};
  autopilot: { severity: AutopilotSeverity };
  vehicle_warning: {};
}

export type FleetEventKind = keyof FleetEventDetails;

/** An event notice of one kind. */
export type FleetEvent = {
  [K in FleetEventKind]: { kind: "event"; drone: string; event: K; message: string; details: FleetEventDetails[K] };
}[FleetEventKind];

/** The answer to a command: what it will do, or why not. */
export type CommandAnswer = { ok: true; plan: CommandPlan } | { ok: false; refusal: Refusal };

/** Something the runtime must deliver after a fleet call. */
export type FleetNotice<Origin extends CommandSender = CommandSender> =
  /** An accepted command finished or failed. */
  | { kind: "done"; origin: Origin; drone: string; status: "completed" | "failed"; reason?: string }
  /** A command `command()` returned as pending was answered. */
  | { kind: "answer"; ticket: number; drone: string; answer: CommandAnswer }
  | FleetEvent
  /** `reservedSeconds`: a lost pilot's lease is reserved for it this long (its resume token reclaims it). */
  | { kind: "lease"; drone: string; pilot: string | null; reason: string; reservedSeconds?: number; pilotUser?: PilotUser }
  /** The vehicle's mission changed (null: it has none). */
  | { kind: "mission"; drone: string; items: readonly MissionItem[] | null }
  /** How far the vehicle is through its mission. */
  | { kind: "mission_progress"; drone: string; progress: MissionProgress };

/** The answer to a mission command: accepted (its `done` follows), with how many items the mission holds, or why not. */
export type MissionAnswer = { ok: true; items: number } | { ok: false; refusal: Refusal };

/** What `command()` returns: the answer now, or a ticket its `answer` notice will carry. */
export type CommandResult = CommandAnswer | { ok: "pending"; ticket: number };

export interface FleetOptions {
  vehicles: readonly Vehicle[];
  /** Seconds a flying vehicle without a pilot holds position before it returns home. */
  failsafeSeconds: number;
  /**
   * Seconds a lost pilot's lease stays reserved for it (its socket closed or
   * it went silent): only a claim with its resume token takes it back. 0 (the
   * default) reserves nothing.
   */
  leaseGraceSeconds?: number;
  /** What losing the pilot does to a mission that runs (see `MissionFailsafe`). @default "continue" */
  missionFailsafe?: MissionFailsafe;
}

/** What a claim may carry besides the session: the claimer's own resume token, and one presented to take back a reserved lease. */
export interface ClaimCredentials {
  /** The claiming session's resume token: kept with the lease, it reclaims the lease if this session is lost. */
  resume?: string;
  /** A resume token of a lost pilot, presented to take back the lease reserved for it. */
  reclaim?: string;
  /** Who the claimer is (a signed-in user), shown with the lease and in telemetry. */
  user?: PilotUser;
  /** Take the lease even from its pilot (the caller checked the right to): every viewer, the previous pilot among them, is told who took it. */
  force?: boolean;
}

/** A lease held for a pilot that was lost, until `until` (seconds). */
interface Reservation {
  resume: string;
  until: number;
}

/** Within this horizontal distance of home, the failsafe lands instead of returning, metres. */
const homeRadiusMetres = 1;

interface PendingCommand<Origin> {
  origin: Origin;
  drone: string;
  /** Set while the vehicle has not answered yet: the ticket its answer notice carries. */
  ticket?: number;
  /** A command to give once this one completes (the controller's takeoff-then-climb). */
  then?: VehicleCommand;
}

interface FailsafeTimer {
  /** When the vehicle turns for home unless a pilot claims it first, seconds. */
  returnAt: number;
}

export class Fleet<Origin extends CommandSender = CommandSender> {
  private readonly vehicles = new Map<string, Vehicle>();
  private readonly order: string[] = [];
  private readonly pilots = new Map<string, string>();
  /** The signed-in user of each vehicle's pilot, when its claim named one. */
  private readonly pilotUsers = new Map<string, PilotUser>();
  /** The current pilot's resume token, per vehicle, when its claim carried one. */
  private readonly resumeTokens = new Map<string, string>();
  /** Leases reserved for a lost pilot that may still come back. */
  private readonly reservations = new Map<string, Reservation>();
  /** Vehicles whose failsafe is engaged: held or returning for lack of a pilot. */
  private readonly failsafe = new Set<string>();
  private readonly failsafeTimers = new Map<string, FailsafeTimer>();
  /** Commands the fleet gave for a session, by token, until their `done`. */
  private readonly pending = new Map<number, PendingCommand<Origin>>();
  private notices: FleetNotice<Origin>[] = [];
  /** Tickets of chained commands still unanswered: their answer goes to nobody, a refusal fails their origin's `done`. */
  private readonly followUps = new Set<number>();
  private nextToken = internalToken + 1;

  constructor(private readonly options: FleetOptions) {
    if (options.vehicles.length === 0) throw new RangeError("'vehicles' must hold at least one vehicle: received none");
    if (!(options.failsafeSeconds > 0)) {
      throw new RangeError(`'failsafeSeconds' must be a positive number: received ${options.failsafeSeconds}`);
    }
    for (const vehicle of options.vehicles) {
      if (this.vehicles.has(vehicle.id)) throw new RangeError(`vehicle ids must be unique: ${JSON.stringify(vehicle.id)} appears twice`);
      this.vehicles.set(vehicle.id, vehicle);
      this.order.push(vehicle.id);
    }
  }

  /** Vehicle ids in the order they were configured. */
  get ids(): readonly string[] {
    return this.order;
  }

  has(droneId: string): boolean {
    return this.vehicles.has(droneId);
  }

  /** The vehicle; throws for an unknown id (callers check `has` first). */
  vehicle(droneId: string): Vehicle {
    const vehicle = this.vehicles.get(droneId);
    if (!vehicle) throw new RangeError(`unknown vehicle ${JSON.stringify(droneId)}`);
    return vehicle;
  }

  /** The vehicle's latest state; throws for an unknown id. */
  state(droneId: string): VehicleState {
    return this.vehicle(droneId).state();
  }

  /** Whether the fleet holds or returns the vehicle for lack of a pilot. */
  failsafeEngaged(droneId: string): boolean {
    return this.failsafe.has(droneId);
  }

  pilotOf(droneId: string): string | null {
    return this.pilots.get(droneId) ?? null;
  }

  /** The signed-in user flying the vehicle, when its pilot named one. */
  pilotUserOf(droneId: string): PilotUser | null {
    return this.pilotUsers.get(droneId) ?? null;
  }

  /** The notices produced since the last call, in order. */
  takeNotices(): FleetNotice<Origin>[] {
    const taken = this.notices;
    this.notices = [];
    return taken;
  }

  // ------------------------------------------------------------ leases

  /**
   * Makes `session` the pilot of the vehicle if nobody else is and the lease
   * is not reserved for a lost pilot; a claim presenting that pilot's resume
   * token takes the reserved lease back (reason `reclaimed`). `now` (seconds)
   * judges a reservation; a fleet without a lease grace never reads it.
   */
  claim(droneId: string, session: string, now = 0, credentials: ClaimCredentials = {}): { ok: true; alreadyPilot: boolean } | { ok: false; refusal: Refusal } {
    const current = this.pilots.get(droneId);
    if (current === session) return { ok: true, alreadyPilot: true };
    if (credentials.force === true) return this.takeOver(droneId, session, credentials);
    if (current !== undefined) {
      return { ok: false, refusal: vehicleRefusal("lease_taken", `${droneId} is already flown by session ${current}: wait for a release`) };
    }
    const reservation = this.reservations.get(droneId);
    if (reservation !== undefined && now >= reservation.until) this.reservations.delete(droneId);
    const reserved = reservation !== undefined && now < reservation.until;
    // The lost pilot's token, presented by its next session (`reclaim`) or held by the same session coming back to life (`resume`).
    const reclaimed = reserved && [credentials.reclaim, credentials.resume].some((token) => token !== undefined && tokensMatch(token, reservation.resume));
    if (reserved && !reclaimed) {
      const left = (reservation.until - now).toFixed(1);
      return {
        ok: false,
        refusal: vehicleRefusal("lease_taken", `${droneId} is reserved for its pilot, who lost its link, for another ${left} s: only that pilot's resume token reclaims it now`),
      };
    }
    this.setPilot(droneId, session, credentials, reclaimed ? "reclaimed" : "claimed");
    return { ok: true, alreadyPilot: false };
  }

  /**
   * Moves the lease to `session` whoever holds it (or a lost pilot's
   * reservation): the right to do so is the caller's to check. Every viewer,
   * the previous pilot among them, is told who took it.
   */
  private takeOver(droneId: string, session: string, credentials: ClaimCredentials): { ok: true; alreadyPilot: false } {
    const previous = this.pilots.get(droneId);
    const who = credentials.user === undefined ? `session ${session}` : displayName(credentials.user);
    const from = previous === undefined ? "" : ` from ${this.pilotUsers.has(droneId) ? displayName(this.pilotUsers.get(droneId)!) : `session ${previous}`}`;
    this.setPilot(droneId, session, credentials, `taken over by ${who}${from}`);
    return { ok: true, alreadyPilot: false };
  }

  /** Records the new pilot, announces it, and clears a failsafe waiting for one. */
  private setPilot(droneId: string, session: string, credentials: ClaimCredentials, reason: string): void {
    this.reservations.delete(droneId);
    this.pilots.set(droneId, session);
    if (credentials.resume !== undefined) this.resumeTokens.set(droneId, credentials.resume);
    else this.resumeTokens.delete(droneId);
    if (credentials.user !== undefined) this.pilotUsers.set(droneId, credentials.user);
    else this.pilotUsers.delete(droneId);
    this.notices.push({ kind: "lease", drone: droneId, pilot: session, reason, ...(credentials.user === undefined ? {} : { pilotUser: credentials.user }) });
    const timerRunning = this.failsafeTimers.delete(droneId);
    if (this.failsafe.delete(droneId) || timerRunning) {
      this.notices.push({ kind: "event", drone: droneId, event: "pilot_regained", message: `session ${session} took control: failsafe cleared`, details: {} });
    }
  }

  /** Gives up the lease. A vehicle left flying without a pilot enters the failsafe. */
  release(droneId: string, session: string, now: number, force = false): { ok: true } | { ok: false; refusal: Refusal } {
    const pilot = this.pilots.get(droneId);
    if (force && pilot !== undefined && pilot !== session) {
      this.dropPilot(droneId, `released by force by session ${session}`, now, false);
      return { ok: true };
    }
    if (pilot !== session) {
      return { ok: false, refusal: vehicleRefusal("not_pilot", `you are not the pilot of ${droneId}: nothing to release`) };
    }
    this.dropPilot(droneId, "released", now, false);
    return { ok: true };
  }

  /**
   * A session went away, or went silent (`reason` says which): it loses every
   * lease it held, and a flying vehicle enters the failsafe.
   */
  disconnect(session: string, now: number, reason = "pilot disconnected"): void {
    for (const [droneId, pilot] of this.pilots) {
      if (pilot === session) this.dropPilot(droneId, reason, now, true);
    }
  }

  /** Drops the pilot; a lost one (`reserve`) whose claim carried a resume token gets the lease reserved for the grace. */
  private dropPilot(droneId: string, reason: string, now: number, reserve: boolean): void {
    this.pilots.delete(droneId);
    this.pilotUsers.delete(droneId);
    const resume = this.resumeTokens.get(droneId);
    this.resumeTokens.delete(droneId);
    const grace = this.options.leaseGraceSeconds ?? 0;
    const reserved = reserve && resume !== undefined && grace > 0;
    if (reserved) this.reservations.set(droneId, { resume, until: now + grace });
    this.notices.push({ kind: "lease", drone: droneId, pilot: null, reason, ...(reserved ? { reservedSeconds: grace } : {}) });
    this.engageFailsafe(droneId, reason, now);
  }

  /** A flying vehicle without a pilot holds position, then comes home unless someone claims it. */
  /**
   * `judged` is the state that decides whether the vehicle is flying: its own,
   * or for a vehicle not heard yet (a MAVLink vehicle this node just took
   * over) the last one another node published.
   */
  private engageFailsafe(droneId: string, reason: string, now: number, judged: VehicleMotion = this.vehicle(droneId).state()): void {
    const vehicle = this.vehicle(droneId);
    const state = judged;
    if (!isAirborne(state) || state.state === "emergency") return;
    // Link-loss failsafe, as flight controllers do it: hold position, then
    // come home if nobody takes over. A vehicle already landing or returning
    // keeps doing that: both end on the ground.
    // A takeoff in progress finishes first: hovering a few centimetres off
    // the ground would be the worst place to wait.
    this.failsafe.add(droneId);
    if (vehicle.missions?.progress()?.state === "running" && this.engageMissionFailsafe(droneId, vehicle, reason, now)) return;
    if (state.state === "hovering" || state.state === "moving") vehicle.holdPosition(now);
    this.collect(droneId, now);
    this.failsafeTimers.set(droneId, { returnAt: now + this.options.failsafeSeconds });
    this.notices.push({
      kind: "event",
      drone: droneId,
      event: "failsafe",
      message: `no pilot (${reason}): holding position; returning home in ${this.options.failsafeSeconds} s unless a pilot claims ${droneId}`,
      details: { action: "hover", returnInSeconds: this.options.failsafeSeconds },
    });
  }

  /**
   * The pilot-loss failsafe of a vehicle flying its mission, as
   * `missionFailsafe` says; false when it is the usual one (`hold`: hold,
   * then return). `continue` flies on and checks on every step until the
   * mission stops running; `rth` turns for home at once.
   */
  private engageMissionFailsafe(droneId: string, vehicle: Vehicle, reason: string, now: number): boolean {
    const policy = this.options.missionFailsafe ?? "continue";
    if (policy === "hold") return false;
    if (policy === "continue") {
      this.failsafeTimers.set(droneId, { returnAt: now });
      this.notices.push({ kind: "event", drone: droneId, event: "failsafe", message: `no pilot (${reason}): flying its mission on; the failsafe takes over if it stops in the air`, details: { action: "mission" } });
      return true;
    }
    vehicle.command({ name: "rth" }, internalToken, now);
    this.collect(droneId, now);
    this.notices.push({ kind: "event", drone: droneId, event: "failsafe", message: `no pilot (${reason}): mission paused, returning home to land`, details: { action: "rth" } });
    return true;
  }

  // ------------------------------------------------------------ commands

  /**
   * Gives a command from a session to a vehicle. The session must be its
   * pilot. The answer comes now, or (for a vehicle that answers later) in an
   * `answer` notice with the returned ticket. Once accepted, a `done` notice
   * follows when the command completes or fails; instant commands (speed,
   * hover, emergency) complete at once. `then` is given when this one completes.
   */
  command(droneId: string, command: VehicleCommand, origin: Origin, now: number, then?: VehicleCommand): CommandResult {
    const pilot = this.pilots.get(droneId);
    if (pilot !== origin.session) {
      const message = pilot === undefined ? `claim ${droneId} before flying it` : `${droneId} is flown by session ${pilot}: you are an observer`;
      return { ok: false, refusal: { code: "not_pilot", message } };
    }
    const token = this.nextToken++;
    const entry: PendingCommand<Origin> = { origin, drone: droneId, ...(then ? { then } : {}) };
    // Registered before the vehicle sees it: an instant command completes inside `command`.
    this.pending.set(token, entry);
    const receipt = this.vehicle(droneId).command(command, token, now);
    if (receipt.status === "refused") this.pending.delete(token);
    if (receipt.status === "pending") entry.ticket = token;
    this.collect(droneId, now);
    switch (receipt.status) {
      case "accepted":
        return { ok: true, plan: receipt.plan };
      case "refused":
        return { ok: false, refusal: receipt.refusal };
      case "pending":
        return { ok: "pending", ticket: token };
    }
  }

  /**
   * A mission command from a session to a vehicle. The session must be its
   * pilot, and the vehicle must fly missions (`not_supported` otherwise).
   * Once accepted, a `done` notice follows when the vehicle has acted (an
   * upload: once it holds the mission).
   */
  mission(droneId: string, command: MissionCommand, origin: Origin, now: number): MissionAnswer {
    const pilot = this.pilots.get(droneId);
    if (pilot !== origin.session) {
      const message = pilot === undefined ? `claim ${droneId} before changing or starting its mission` : `${droneId} is flown by session ${pilot}: you see its mission, only its pilot changes it`;
      return { ok: false, refusal: { code: "not_pilot", message } };
    }
    const missions = this.vehicle(droneId).missions;
    if (missions === undefined) return { ok: false, refusal: vehicleRefusal("not_supported", `${droneId} cannot fly missions`) };
    const token = this.nextToken++;
    // Registered before the vehicle sees it: a simulated drone ends the command inside `missionCommand`.
    this.pending.set(token, { origin, drone: droneId });
    const receipt = missions.missionCommand(command, token, now);
    if (receipt.status === "refused") this.pending.delete(token);
    this.collect(droneId, now);
    return receipt.status === "accepted" ? { ok: true, items: receipt.items } : { ok: false, refusal: receipt.refusal };
  }

  /**
   * Advances time: every vehicle (or only those `simulates` accepts: in a
   * cluster, the ones this node owns) by `dtSeconds`, then the failsafe timers due at `now`.
   */
  advance(dtSeconds: number, now: number, simulates?: (droneId: string) => boolean): void {
    for (const [droneId, vehicle] of this.vehicles) {
      if (simulates && !simulates(droneId)) continue;
      vehicle.advance(dtSeconds, now);
      this.collect(droneId, now);
    }
    // A snapshot: a timer set again below ("check on the next step") must not be visited again in this loop.
    for (const [droneId, timer] of [...this.failsafeTimers]) {
      if (now < timer.returnAt) continue;
      this.failsafeTimers.delete(droneId);
      const vehicle = this.vehicle(droneId);
      if (!vehicle.linkUp && !this.pilots.has(droneId)) {
        // Not heard (a vehicle taken over whose link is not up yet): its state is unknown; decide once it reports.
        this.failsafeTimers.set(droneId, { returnAt: now });
        continue;
      }
      const state = vehicle.state();
      if (!isAirborne(state) || this.pilots.has(droneId)) continue;
      if (vehicle.missions?.progress()?.state === "running") {
        // `--mission-failsafe continue`: the mission flies on; decide once it stops.
        this.failsafeTimers.set(droneId, { returnAt: now });
        continue;
      }
      if (state.state === "taking_off") {
        // Let the takeoff finish, then decide: check again on the next step.
        this.failsafeTimers.set(droneId, { returnAt: now });
        continue;
      }
      // Already over home: land where it is rather than climb to the return altitude first.
      const action = distanceFromHome(state) <= homeRadiusMetres ? "land" : "rth";
      if (state.state !== "landing" && state.state !== "returning") vehicle.command({ name: action }, internalToken, now);
      this.collect(droneId, now);
      this.notices.push({
        kind: "event",
        drone: droneId,
        event: "failsafe",
        message: `no pilot for ${this.options.failsafeSeconds} s: ${action === "land" ? "landing at home" : "returning home to land"}`,
        details: { action },
      });
    }
  }

  /** Turns the vehicle's events into notices: answers and completions to their origin, the rest to every viewer. */
  private collect(droneId: string, now: number): void {
    const vehicle = this.vehicle(droneId);
    for (const event of vehicle.takeEvents()) this.collectOne(droneId, event, now);
    if (this.failsafe.has(droneId) && vehicle.linkUp && vehicle.state().state === "landed") {
      // Safely on the ground: the failsafe has done its job.
      this.failsafe.delete(droneId);
      this.failsafeTimers.delete(droneId);
    }
  }

  private collectOne(droneId: string, event: VehicleEvent, now: number): void {
    switch (event.type) {
      case "command_accepted":
      case "command_refused": {
        const pending = this.pending.get(event.token);
        if (!pending || pending.ticket === undefined) break;
        const ticket = pending.ticket;
        delete pending.ticket;
        if (event.type === "command_refused") this.pending.delete(event.token);
        if (this.followUps.delete(ticket)) {
          if (event.type === "command_refused") this.notices.push({ kind: "done", origin: pending.origin, drone: droneId, status: "failed", reason: event.refusal.message });
          break;
        }
        const answer: CommandAnswer = event.type === "command_accepted" ? { ok: true, plan: event.plan } : { ok: false, refusal: event.refusal };
        this.notices.push({ kind: "answer", ticket, drone: droneId, answer });
        break;
      }
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
        if (!failed && pending.then) this.followUp(pending.drone, pending.then, pending.origin, now);
        break;
      }
      case "low_battery":
        this.notices.push({ kind: "event", drone: droneId, event: "low_battery", message: `battery at ${event.battery.toFixed(1)} %: returning home`, details: { battery: event.battery } });
        break;
      case "critical_battery":
        this.notices.push({ kind: "event", drone: droneId, event: "critical_battery", message: `battery at ${event.battery.toFixed(1)} %: landing now`, details: { battery: event.battery } });
        break;
      case "landed":
        this.notices.push({ kind: "event", drone: droneId, event: "landed", message: `${droneId} landed`, details: {} });
        break;
      case "geofence":
        this.notices.push({ kind: "event", drone: droneId, event: "geofence", message: event.reason, details: {} });
        break;
      case "link_lost":
        this.notices.push({ kind: "event", drone: droneId, event: "link_lost", message: `lost the link to ${droneId}: ${event.reason}`, details: {} });
        break;
      case "link_regained":
        this.notices.push({ kind: "event", drone: droneId, event: "link_regained", message: `the link to ${droneId} is back`, details: {} });
        break;
      case "autopilot":
        this.notices.push({ kind: "event", drone: droneId, event: "autopilot", message: event.text, details: { severity: event.severity } });
        break;
      case "vehicle_warning":
        this.notices.push({ kind: "event", drone: droneId, event: "vehicle_warning", message: event.text, details: {} });
        break;
      case "mission":
        this.notices.push({ kind: "mission", drone: droneId, items: event.items });
        break;
      case "mission_progress":
        this.notices.push({ kind: "mission_progress", drone: droneId, progress: event.progress });
        break;
    }
  }

  /**
   * Gives a chained command as its sender would (the pilot rule applies). A
   * refusal, now or later, is reported to the origin as a failed `done`: nobody awaits its answer.
   */
  private followUp(droneId: string, command: VehicleCommand, origin: Origin, now: number): void {
    const result = this.command(droneId, command, origin, now);
    if (result.ok === false) this.notices.push({ kind: "done", origin, drone: droneId, status: "failed", reason: result.refusal.message });
    else if (result.ok === "pending") this.followUps.add(result.ticket);
  }

  /** Tells every flying vehicle (not landing, returning or falling) to hold position. */
  hoverAll(reason: string, now: number): void {
    for (const [droneId, vehicle] of this.vehicles) {
      const state = vehicle.state().state;
      if (state !== "taking_off" && state !== "hovering" && state !== "moving") continue;
      vehicle.holdPosition(now);
      this.collect(droneId, now);
      this.notices.push({ kind: "event", drone: droneId, event: "failsafe", message: `${reason}: holding position`, details: { action: "hover" } });
    }
  }

  // ------------------------------------------------------------ ownership (cluster)

  /**
   * Takes over a vehicle another node flew: it carries on from the state that
   * node last published (when there is one), with its pilot if that pilot is
   * still connected somewhere. A flying vehicle whose pilot is gone, or that
   * was already in the failsafe, enters the failsafe at once.
   */
  adopt(droneId: string, last: { state: VehicleMotion; failsafe: boolean } | null, pilot: string | null, now: number, pilotUser?: PilotUser): void {
    const vehicle = this.vehicle(droneId);
    this.failsafeTimers.delete(droneId);
    this.failsafe.delete(droneId);
    if (last !== null) vehicle.resumeFrom?.(last.state);
    this.collect(droneId, now);
    // Resume tokens and reservations stay with the node that held them: a takeover starts without.
    this.resumeTokens.delete(droneId);
    this.reservations.delete(droneId);
    if (pilot !== null) {
      this.pilots.set(droneId, pilot);
      if (pilotUser !== undefined) this.pilotUsers.set(droneId, pilotUser);
      else this.pilotUsers.delete(droneId);
      return;
    }
    this.pilots.delete(droneId);
    this.pilotUsers.delete(droneId);
    // A vehicle not heard here yet is judged by what the other node last published of it.
    const judged = vehicle.linkUp || last === null ? vehicle.state() : last.state;
    if (last?.failsafe || isAirborne(judged)) this.engageFailsafe(droneId, "pilot lost with the node that flew this vehicle", now, judged);
  }

  /**
   * Stops flying a vehicle another node now owns: its lease and timers live
   * there. Commands still in progress here fail, so their senders hear.
   */
  relinquish(droneId: string, reason: string): void {
    this.pilots.delete(droneId);
    this.pilotUsers.delete(droneId);
    this.resumeTokens.delete(droneId);
    this.reservations.delete(droneId);
    this.failsafe.delete(droneId);
    this.failsafeTimers.delete(droneId);
    for (const [token, pending] of this.pending) {
      if (pending.drone !== droneId) continue;
      this.pending.delete(token);
      if (pending.ticket !== undefined && !this.followUps.delete(pending.ticket)) {
        this.notices.push({ kind: "answer", ticket: pending.ticket, drone: droneId, answer: { ok: false, refusal: { code: "drone_unavailable", message: reason } } });
      } else {
        this.notices.push({ kind: "done", origin: pending.origin, drone: droneId, status: "failed", reason });
      }
    }
  }

  /** Forgets the routing of completions for a session that went away (its vehicles keep flying). */
  forgetSession(session: string): void {
    for (const [token, pending] of this.pending) if (pending.origin.session === session) this.pending.delete(token);
  }
}

/** Compares two resume tokens in time that depends only on their lengths (no early exit on the first difference). */
function tokensMatch(given: string, expected: string): boolean {
  let difference = given.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) difference |= (given.charCodeAt(i) | 0) ^ expected.charCodeAt(i);
  return difference === 0;
}
