/**
 * The running fleet: steps it on the clock, turns each step into telemetry
 * frames, and delivers the fleet's notices (answers, completions, leases,
 * events) as metrics, log lines and messages.
 *
 * The clocked core around the pure `Fleet`, composed of one part per role:
 * the ticker (`ticker.ts`), the telemetry streams (`telemetry-streams.ts`),
 * op routing here or to another node (`op-router.ts`) and the view of other
 * nodes' vehicles (`cluster/mirror.ts`), and the replays of recorded
 * flights beside the fleet (`replay/replays.ts`: read-only vehicles that come
 * and go, played on this node only). It is what the endpoints talk to and
 * what the cluster broker calls back (`ClusterEvents`, implemented below).
 * It never touches a socket: frames go to a `Publisher`, a session's `done`
 * to a `SessionDirectory`, both attached by the edge. It does not parse
 * messages (the endpoints do) and does not decide flight rules (the fleet
 * and the vehicles do).
 */
import type { CommandOrigin, DroneOp, OpResult } from "../core/fleet/ops.ts";
import { Fleet, type FleetEvent, type FleetEventDetails, type FleetNotice } from "../core/fleet/fleet.ts";
import type { PilotUser } from "../core/identity/rights.ts";
import { telemetryData } from "../core/telemetry/frames.ts";
import type { ReplayPlan } from "../core/telemetry/replay-buffer.ts";
import { SimulatedVehicle } from "../core/vehicle/simulated.ts";
import type { Vehicle } from "../core/vehicle/vehicle.ts";
import type { GeoPosition, LatLon } from "../core/vehicle/geodesy.ts";
import type { MissionFailsafe, MissionProgress } from "../core/mission/mission.ts";
import { encodeMessage, type DroneSummary, type EventData, type EventExtras, type MissionProgressData, type TelemetryData } from "../../protocol/index.ts";
import { systemClocks, type Clocks } from "./clock.ts";
import { inProcessBroker, type Broker, type ClusterEvents, type MissionRecord, type StoredFrame, type TickEntry } from "./cluster/broker.ts";
import { ClusterMirror } from "./cluster/mirror.ts";
import type { Logger } from "./observability/log.ts";
import type { Metrics } from "./observability/metrics.ts";
import { OpRouter } from "./op-router.ts";
import type { FlightRecorder, RecordedOp } from "./recorder/recorder.ts";
import type { RecorderStore } from "./recorder/store.ts";
import { Replays, type ReplayChange, type ReplayOutcome } from "./replay/replays.ts";
import type { VehicleRecovery } from "./recorder/recovery.ts";
import { TelemetryStreams, type Publisher } from "./telemetry-streams.ts";
import type { ThrottledViewers } from "./throttled-viewers.ts";
import { startTicker, type Ticker } from "./ticker.ts";

export { systemClocks, type Clocks } from "./clock.ts";

/** Longest step, seconds: a stalled event loop must not teleport simulated vehicles. */
const maxStepSeconds = 1;
/** Seconds of frames a stopped process may have published after the recorder's last flush (its loss bound, recorder.ts). */
const unflushedSecondsBound = 1;
/** How often the per-second work (the sessions' sweep) runs, milliseconds on the flight clock. */
const secondMilliseconds = 1000;

/** What the flight service needs of this node's sessions: reaching one by id. */
export interface SessionDirectory {
  /** Sends a message (already JSON) to a session connected here; nothing if it is gone. */
  deliver(session: string, text: string): void;
  /** The once-a-second checks on every session, at `nowMs` on the flight clock. */
  sweep(nowMs: number): void;
  /** A vehicle that came and went (a replay) is gone: no session here watches it any more. */
  vehicleGone(drone: string): void;
}

/** The flight service's share of the configuration. */
export interface FlightSettings {
  drones: readonly string[];
  telemetryHz: number;
  replaySeconds: number;
  failsafeSeconds: number;
  /** Seconds a lost pilot's lease stays reserved for its resume token (0: none). */
  leaseGraceSeconds?: number;
  /** Where the simulated drones' home is on Earth (default: the simulator's). */
  home?: GeoPosition;
  /** The polygon the simulated drones must stay inside as well (`--geofence-polygon`), or null. */
  geofencePolygon?: readonly LatLon[] | null;
  /** What losing the pilot does to a running mission (default `continue`). */
  missionFailsafe?: MissionFailsafe;
}

export class FlightService implements ClusterEvents {
  readonly fleet: Fleet<CommandOrigin>;
  private readonly streams: TelemetryStreams;
  private readonly router: OpRouter;
  private readonly mirror: ClusterMirror;
  private broker: Broker = inProcessBroker;
  private sessions: SessionDirectory | null = null;
  /** The flight recorder, when recording: handed every frame, command and event of the vehicles flown here. */
  private recorder: FlightRecorder | null = null;
  /** Replays of recorded flights playing here, when there is a store to read them from. */
  private replays: Replays | null = null;
  private ticker: Ticker | null = null;
  private lastStepMs = 0;
  private lastSecondMs = 0;
  /** Sessions connected here that were granted a lease (here or on another node), until they close or go silent. */
  private readonly pilotSessions = new Set<string>();

  constructor(
    private readonly settings: FlightSettings,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
    private readonly clocks: Clocks = systemClocks,
    /** The vehicles to fly; by default one simulated drone per configured id. */
    vehicles?: readonly Vehicle[],
  ) {
    this.fleet = new Fleet({ vehicles: vehicles ?? settings.drones.map((id) => new SimulatedVehicle(id, {}, settings.home, settings.geofencePolygon ?? null)), failsafeSeconds: settings.failsafeSeconds, leaseGraceSeconds: settings.leaseGraceSeconds ?? 0, missionFailsafe: settings.missionFailsafe ?? "continue" });
    this.streams = new TelemetryStreams(this.fleet.ids, Math.max(1, Math.round(settings.telemetryHz * settings.replaySeconds)));
    this.router = new OpRouter(this.fleet, () => this.broker, () => this.nowSeconds());
    this.mirror = new ClusterMirror(this.streams, (drone) => this.broker.owns(drone));
  }

  /** Publishes on `publisher` and reaches sessions through `sessions`, without a timer: the caller calls `step()`. */
  attach(publisher: Publisher, sessions: SessionDirectory): void {
    this.streams.attach(publisher);
    this.sessions = sessions;
    this.lastStepMs = this.lastSecondMs = this.clocks.monotonicMs();
  }

  /** From now on every frame, command and event of the vehicles flown here is handed to `recorder`. */
  record(recorder: FlightRecorder): void {
    this.recorder = recorder;
  }

  /** From now on recorded flights in `store` can be replayed as read-only vehicles (`replay:<flight-id>`). */
  replayFrom(store: RecorderStore): void {
    this.replays = new Replays(store, this.streams, this.logger, (drone) => this.sessions?.vehicleGone(drone));
  }

  /** Attaches, then steps at the telemetry rate until `stop`. */
  start(publisher: Publisher, sessions: SessionDirectory): void {
    this.attach(publisher, sessions);
    this.ticker = startTicker(1000 / this.settings.telemetryHz, this.clocks, () => this.step());
  }

  stop(): void {
    this.ticker?.stop();
    this.ticker = null;
  }

  /** Seconds on the monotonic clock: the fleet's notion of now. */
  nowSeconds(): number {
    return this.clocks.monotonicMs() / 1000;
  }

  /** Milliseconds on the monotonic clock, for per-socket rate limits. */
  nowMs(): number {
    return this.clocks.monotonicMs();
  }

  /** Unix milliseconds on the wall clock: a token's `exp` is judged against it. */
  wallMs(): number {
    return this.clocks.wallMs();
  }

  /** The topic of the all-vehicles batch restricted to `drones`, for a client that may view only those. */
  fleetView(drones: readonly string[]): string {
    return this.streams.fleetView(drones);
  }

  /** The throttled subscriptions (`maxHz`) here: offered every live frame and batch (telemetry-streams.ts). */
  get throttledViewers(): ThrottledViewers {
    return this.streams.throttled;
  }

  /** One step: the vehicles and failsafe timers, then telemetry, then notices, then the per-second work. */
  step(): void {
    const nowMs = this.clocks.monotonicMs();
    const dtSeconds = Math.min(maxStepSeconds, (nowMs - this.lastStepMs) / 1000);
    this.lastStepMs = nowMs;
    const broker = this.broker;
    const flownHere = broker.shared ? (droneId: string) => broker.owns(droneId) : undefined;
    if (dtSeconds > 0) this.fleet.advance(dtSeconds, nowMs / 1000, flownHere);
    const wallMs = this.clocks.wallMs();
    const entries: TickEntry[] = [];
    for (const droneId of this.fleet.ids) {
      if (flownHere && !flownHere(droneId)) continue;
      const seq = this.streams.nextSeq(droneId);
      const epoch = this.streams.epoch(droneId);
      const data = this.frameData(droneId, seq, wallMs);
      const dataJson = JSON.stringify(data);
      entries.push({ drone: droneId, seq, epoch, dataJson });
      this.recorder?.frame(epoch, data, dataJson);
    }
    // Replays' frames share the tick's batch; they are never recorded again nor sent to other nodes.
    const replayed = this.replays?.step(nowMs, wallMs) ?? [];
    this.streams.publishOwn(wallMs, replayed.length === 0 ? entries : [...entries, ...replayed]);
    this.metrics.telemetryFramesPublished += entries.length + replayed.length;
    if (broker.shared && entries.length > 0) broker.publishTick(wallMs, entries);
    this.deliver();
    if (nowMs - this.lastSecondMs >= secondMilliseconds) {
      this.lastSecondMs = nowMs;
      this.sessions?.sweep(nowMs);
    }
  }

  /** Tells every flying vehicle to hold position (shutdown). */
  hoverAll(reason: string): void {
    this.fleet.hoverAll(reason, this.nowSeconds());
    this.deliver();
  }

  /** Whether a session connected here was granted a lease: its liveness is watched (`pilotSilent`). */
  isPilot(session: string): boolean {
    return this.pilotSessions.has(session);
  }

  /**
   * A pilot's session here sent nothing (no message, no pong) for `seconds`:
   * it loses every lease it holds, here and on the nodes flying its other
   * vehicles, and the failsafe engages; its socket stays open as an observer.
   */
  pilotSilent(session: string, seconds: number): void {
    this.pilotSessions.delete(session);
    this.logger.warn({ event: "pilot_silent", session, seconds });
    const reason = `pilot silent for ${seconds} s (no message or pong)`;
    this.fleet.disconnect(session, this.nowSeconds(), reason);
    // The nodes flying its other vehicles drop it for the same reason, said in their `lease` messages too.
    if (this.router.closedHere(session)) this.broker.sessionClosed(session, reason);
    this.deliver();
  }

  /** A session connected here closed: it loses its leases (the failsafe may engage) and its pending replies. */
  sessionClosed(session: string): void {
    this.pilotSessions.delete(session);
    this.fleet.disconnect(session, this.nowSeconds());
    this.fleet.forgetSession(session);
    if (this.router.closedHere(session)) this.broker.sessionClosed(session);
    this.deliver();
  }

  // ------------------------------------------------------------ what clients read

  /** The vehicles as listed in `welcome`: the fleet's, then the replays playing here. */
  summaries(): DroneSummary[] {
    const flown = this.fleet.ids.map((id) => {
      const remote = this.mirror.frameOf(id);
      return { id, state: remote ? remote.state : this.fleet.state(id).state, pilot: this.pilotOf(id), ...pilotUserFields(this.pilotUserOf(id)), seq: this.latestSeq(id), epoch: this.epoch(id) };
    });
    const replays = this.replays?.summaries((id) => this.latestSeq(id), (id) => this.epoch(id)) ?? [];
    return [...flown, ...replays];
  }

  // ------------------------------------------------------------ replays of recorded flights

  /** The replay vehicles playing here, oldest first. */
  replayIds(): string[] {
    return this.replays?.ids ?? [];
  }

  /** The vehicle a replay's flight was recorded from, or undefined when no such replay plays here. */
  replayedDrone(id: string): string | undefined {
    return this.replays?.recordedDrone(id);
  }

  /** Starts (or joins) the replay of a recorded flight; `mayView` says which recorded vehicles the requester may view. */
  startReplay(flightId: string, options: ReplayChange, mayView: (drone: string) => boolean): Promise<ReplayOutcome> {
    if (this.replays === null) return Promise.resolve(notRecording);
    return this.replays.start(flightId, options, mayView, this.clocks);
  }

  /** Changes a replay's speed, pause or position. */
  controlReplay(id: string, change: ReplayChange): ReplayOutcome {
    return this.replays?.control(id, change, this.nowMs()) ?? notRecording;
  }

  /** Ends a replay for everybody watching it. */
  stopReplay(id: string, reason: string): ReplayOutcome {
    return this.replays?.stop(id, reason, this.nowMs()) ?? notRecording;
  }

  /** Where a replay stands, as a message for a new viewer (none for a vehicle that is not a replay). */
  replayMessages(droneId: string): string[] {
    return this.replays?.stateMessages(droneId, this.nowMs()) ?? [];
  }

  latestSeq(droneId: string): number | null {
    return this.streams.latestSeq(droneId);
  }

  /** The stream epoch the vehicle's seqs count in (see telemetry-streams.ts). */
  epoch(droneId: string): string {
    return this.streams.epoch(droneId);
  }

  /** What a subscriber resuming after `since` (of `epoch`, when the client said) must be sent. */
  replay(droneId: string, since: number, epoch?: string): ReplayPlan {
    return this.streams.replay(droneId, since, epoch);
  }

  /** The vehicle's pilot: from the fleet here, or as last heard from the node that flies it. */
  pilotOf(droneId: string): string | null {
    if (this.broker.owns(droneId)) return this.fleet.pilotOf(droneId);
    return this.mirror.frameOf(droneId)?.pilot ?? null;
  }

  /** The signed-in user flying the vehicle: from the fleet here, or as last heard from the node that flies it. */
  pilotUserOf(droneId: string): PilotUser | null {
    if (this.broker.owns(droneId)) return this.fleet.pilotUserOf(droneId);
    const frame = this.mirror.frameOf(droneId);
    return frame?.pilotUser === undefined ? null : { user: frame.pilotUser, ...(frame.pilotName === undefined ? {} : { name: frame.pilotName }) };
  }

  /** A replay vehicle's last frame (its `status`), or null before its first or when no such replay plays here. */
  replaySnapshot(droneId: string): TelemetryData | null {
    return this.replays?.latestFrame(droneId) ?? null;
  }

  /** The vehicle's telemetry as of now: built here, or the last frame from the node that flies it. */
  snapshot(droneId: string): TelemetryData {
    return this.mirror.frameOf(droneId) ?? this.frameData(droneId, this.latestSeq(droneId) ?? 0, this.clocks.wallMs());
  }

  /**
   * The vehicle's mission and its progress as messages for a new viewer
   * (none when it holds no mission, or is flown on another node: its viewers
   * there hear of changes as they happen).
   */
  missionMessages(droneId: string): string[] {
    if (!this.fleet.has(droneId)) return [];
    if (!this.broker.owns(droneId)) return this.mirror.missionMessages(droneId);
    const missions = this.fleet.vehicle(droneId).missions;
    const items = missions?.mission() ?? null;
    if (missions === undefined || items === null) return [];
    const progress = missions.progress();
    const messages = [encodeMessage("mission", { drone: droneId, items: [...items] })];
    const data = progress === null ? null : progressData(droneId, progress);
    if (data !== null) messages.push(encodeMessage("mission_progress", data));
    return messages;
  }

  /** A frame's data for a vehicle flown here. */
  private frameData(droneId: string, seq: number, wallMs: number): TelemetryData {
    const fleet = this.fleet;
    const data = telemetryData(droneId, fleet.state(droneId), fleet.failsafeEngaged(droneId), seq, { wallMs, nowSeconds: this.nowSeconds() }, fleet.pilotOf(droneId));
    const user = fleet.pilotUserOf(droneId);
    return user === null ? data : { ...data, ...pilotUserFields(user) };
  }

  // ------------------------------------------------------------ operations, here or on another node

  /**
   * Runs a client's op on its vehicle: at once when this node flies it
   * (`answer` is called before this returns unless the vehicle answers
   * later), else on the node that does.
   */
  perform(op: DroneOp, answer: (result: OpResult) => void): void {
    // A command or mission message is recorded by the node that flies its vehicle, where its `done` happens too (`performForNode` on another node).
    if ((op.kind === "command" || op.kind === "mission") && (!this.broker.shared || this.broker.owns(op.drone))) return this.router.perform(op, this.recorded(op, answer), () => this.deliver());
    if (op.kind !== "claim") return this.router.perform(op, answer, () => this.deliver());
    this.router.perform(
      op,
      (result) => {
        if (result.ok) this.pilotSessions.add(op.session);
        answer(result);
      },
      () => this.deliver(),
    );
  }

  // ------------------------------------------------------------ cluster: what the broker calls back

  /** Joins a cluster: from now on this node flies only the vehicles the broker says it owns. */
  useBroker(broker: Broker): void {
    this.broker = broker;
  }

  /** Runs an op another node forwarded; `reply` goes out before the notices it caused, so an ack precedes its `done`. */
  performForNode(op: DroneOp, node: string, reply: (result: OpResult) => void): void {
    this.router.performForNode(op, node, op.kind === "command" || op.kind === "mission" ? this.recorded(op, reply) : reply);
    this.deliver();
  }

  /** `answer`, after recording the command and its answer when recording. */
  private recorded(op: RecordedOp, answer: (result: OpResult) => void): (result: OpResult) => void {
    const recorder = this.recorder;
    if (recorder === null) return answer;
    const handle = recorder.commandReceived(op);
    return (result) => {
      recorder.commandAnswered(handle, result);
      answer(result);
    };
  }

  /** A session on another node closed: it loses its leases here, as a local one would. */
  remoteSessionClosed(session: string, reason?: string): void {
    this.router.closedElsewhere(session);
    this.fleet.disconnect(session, this.nowSeconds(), reason);
    this.fleet.forgetSession(session);
    this.deliver();
  }

  /** Pilots of vehicles flown here whose sessions live on other nodes: session to node. */
  remotePilots(): Map<string, string> {
    return this.router.remotePilots();
  }

  /** One tick of frames from the node flying those vehicles: kept for resume and published here. */
  ingestTick(timeMs: number, entries: readonly TickEntry[]): void {
    this.mirror.ingestTick(timeMs, entries);
  }

  /** A lease or event (already JSON) from the node flying the vehicle, for this node's viewers. */
  ingestNotice(drone: string, text: string): void {
    const message = JSON.parse(text) as { type: string; data: { pilot?: string | null; items?: unknown } };
    const mission = message.type === "mission" ? (message.data.items === null ? "cleared" : "mission") : message.type === "mission_progress" ? "progress" : null;
    this.mirror.ingestNotice(drone, text, message.type === "lease" ? { pilot: message.data.pilot ?? null } : null, mission);
  }

  missionKnown(drone: string, mission: MissionRecord | null): void {
    if (!this.fleet.has(drone)) return;
    const data = mission?.progress ? progressData(drone, mission.progress) : null;
    this.mirror.knowMission(drone, mission === null ? null : encodeMessage("mission", { drone, items: [...mission.items] }), data === null ? null : encodeMessage("mission_progress", data));
  }

  /** Frames read back from shared storage (a node that starts late, or reconnects), oldest first. */
  backfill(drone: string, history: readonly TickEntry[]): void {
    this.streams.backfill(drone, history);
  }

  /** A `done` message (already JSON) for a session connected here, from another node's fleet: delivered unless this node already ended that command. */
  deliverDone(session: string, text: string): void {
    if (this.router.remoteDone(session, text)) this.sessions?.deliver(session, text);
  }

  /** Commands sent from here to a node that no longer flies their drone end now, with a failed `done`. */
  ownersRead(): void {
    for (const done of this.router.failOrphanedCommands((drone) => this.broker.ownerOf(drone))) this.sessions?.deliver(done.session, done.text);
  }

  /**
   * This node now flies the vehicle: it carries on from the newest frame any
   * node published (seq continues), with its pilot if that pilot is still
   * connected somewhere. Viewers get a `failover` event when another node
   * was flying it until now.
   */
  adopt(drone: string, stored: TelemetryData | null, pilot: { session: string; node: string } | null, takenFrom: string | null, mission: MissionRecord | null = null): void {
    const last = this.mirror.takeOver(drone, stored);
    const previousPilot = last?.pilot ?? null;
    if (last !== null) {
      this.streams.continueFrom(drone, last.seq);
      // Shared storage did not hold the frame this node carries on from: it lost data, and frames
      // another node published after the ones heard here may have reached viewers in this epoch.
      if (last !== stored) this.streams.fork(drone, `node ${this.broker.nodeId} carries it on from the last frame it heard, which shared storage did not keep`);
      // The pilot's user comes along from the last frame when the pilot does.
      const user = pilot !== null && last.pilot === pilot.session && last.pilotUser !== undefined ? { user: last.pilotUser, ...(last.pilotName === undefined ? {} : { name: last.pilotName }) } : undefined;
      this.fleet.adopt(drone, { state: last, failsafe: last.flags.failsafe }, pilot?.session ?? null, this.nowSeconds(), user);
    }
    if (pilot !== null && pilot.node !== this.broker.nodeId) this.router.rememberPilotNode(pilot.session, pilot.node);
    // The mission goes on here too, paused if it was running: the command in progress does not carry over.
    if (mission !== null) this.fleet.vehicle(drone).missions?.carryOver?.(mission.items, mission.progress, `carried over from ${takenFrom === null ? "the node that flew it" : `node ${takenFrom}`}: resume to fly on`);
    // The flight the node before left open in the shared database goes on here, not a second one.
    this.recorder?.takeOver(drone, takenFrom === null ? "the node that ran it stopped before it ended" : `node ${takenFrom}, which ran it, stopped answering before it ended`);
    const seq = this.latestSeq(drone) ?? -1;
    this.logger.info({ event: "drone_adopted", drone, seq, pilot: pilot?.session ?? null, from: takenFrom });
    if (takenFrom !== null) {
      const message = `node ${this.broker.nodeId} took ${drone} over from node ${takenFrom}, which stopped answering; continuing from seq ${seq}`;
      this.publish(drone, encodeMessage("event", { drone, kind: "failover", message, node: this.broker.nodeId, previousNode: takenFrom }));
      this.recorder?.event(drone, "failover", message, { node: this.broker.nodeId, previousNode: takenFrom });
    }
    // A pilot that does not come along loses the lease, and everybody hears it and why (never silently).
    if (previousPilot !== null && previousPilot !== (pilot?.session ?? null)) {
      const from = takenFrom === null ? "" : ` from node ${takenFrom}`;
      this.announceLease(drone, null, `node ${this.broker.nodeId} took ${drone} over${from}, and its pilot's node no longer answers`);
    }
    this.deliver();
  }

  /**
   * Carries a vehicle on after a restart from what the flight recorder kept:
   * its stream keeps its epoch, and seq goes on past the last one recorded
   * by a second of frames (what the stopped process may have published
   * after its last flush), so no seq is ever used twice. A simulated vehicle
   * resumes from its last recorded state without a pilot: one that was
   * airborne hovers there with the failsafe running. A reporting vehicle
   * (MAVLink) keeps only its stream: what it reports next is its state.
   */
  restore(recovery: VehicleRecovery): void {
    const { drone, stream, last } = recovery;
    if (!this.fleet.has(drone)) return;
    const seq = stream.seq + Math.ceil(this.settings.telemetryHz * unflushedSecondsBound);
    this.streams.resume(drone, stream.epoch, seq);
    // Only a vehicle that carries on from a state (the simulator) takes the recorded one: a real aircraft's own reports are the truth.
    if (this.fleet.vehicle(drone).resumeFrom !== undefined) this.fleet.adopt(drone, { state: last, failsafe: last.flags.failsafe }, null, this.nowSeconds());
    this.logger.info({ event: "drone_restored", drone, seq, epoch: stream.epoch, state: last.state });
    this.deliver();
  }

  /**
   * This node took back the key of a vehicle it flies: it goes on from its
   * own state unless another node flew the vehicle meanwhile (a frame heard
   * from it while this node was fenced, or a stored frame newer than this
   * node's): then it carries on from the newest, like a takeover, without a
   * pilot it cannot vouch for. Returns whether it kept its own state.
   *
   * When this node's claim had lapsed, another node may have flown the
   * vehicle unheard (this node was cut off) and shared storage lost what it
   * published (Redis restarted empty): unless the newest stored frame is
   * this node's own newest, the stream goes on in a fresh epoch, so no
   * (epoch, seq) a viewer saw from the other node names another frame here.
   */
  retake(drone: string, stored: StoredFrame | null, claimLapsed: boolean): boolean {
    const ownSeq = this.latestSeq(drone) ?? -1;
    if (this.mirror.heardSinceTakeover(drone) !== undefined || (stored !== null && stored.data.seq > ownSeq)) {
      this.adopt(drone, stored?.data ?? null, null, null);
      return false;
    }
    const provenNewest = stored !== null && stored.data.seq === ownSeq && stored.epoch === this.streams.epoch(drone);
    if (claimLapsed && !provenNewest) this.streams.fork(drone, `node ${this.broker.nodeId}'s claim on it lapsed and shared storage lost what came after: another node may have flown it meanwhile`);
    return true;
  }

  /**
   * Another node flies the vehicle now: stop here; commands in progress fail.
   * A pilot connected here loses the lease: this node's viewers are told
   * with a `lease` message (the other nodes' viewers hear the new owner).
   */
  relinquish(drone: string, reason: string): void {
    const pilot = this.fleet.pilotOf(drone);
    this.fleet.relinquish(drone, reason);
    if (pilot !== null && this.router.pilotNode(pilot) === undefined) {
      this.logger.info({ event: "lease", drone, pilot: null, reason });
      this.streams.publishNotice(drone, encodeMessage("lease", { drone, pilot: null, reason: `lease lost: ${reason}` }));
    }
    this.logger.warn({ event: "drone_relinquished", drone, reason });
    this.deliver();
  }

  // ------------------------------------------------------------ notices

  /** Delivers the fleet's pending notices: answers and completions to their origin, the rest to the vehicle's viewers. */
  deliver(): void {
    for (const notice of this.fleet.takeNotices()) this.deliverOne(notice);
  }

  /** Sends a message (already encoded) to every viewer of a vehicle and of every vehicle, on every node. */
  private publish(droneId: string, text: string): void {
    this.streams.publishNotice(droneId, text);
    this.broker.publishNotice(droneId, text);
  }

  /** A vehicle flown here changed pilot: recorded cluster-wide, counted, logged and sent to every viewer with its reason. */
  private announceLease(drone: string, pilot: string | null, reason: string, reservedSeconds?: number, pilotUser?: PilotUser): void {
    this.metrics.leaseChanges++;
    this.broker.leaseChanged(drone, pilot, pilot === null ? null : (this.router.pilotNode(pilot) ?? this.broker.nodeId));
    const user = pilotUserFields(pilotUser ?? null);
    this.logger.info({ event: "lease", drone, pilot, ...user, reason });
    this.recorder?.event(drone, "lease", reason, { pilot, ...user, ...(reservedSeconds === undefined ? {} : { reservedSeconds }) });
    const reserved = reservedSeconds === undefined ? {} : { reservedSeconds };
    this.publish(drone, encodeMessage("lease", { drone, pilot, reason, ...reserved, ...user }));
  }

  private deliverOne(notice: FleetNotice<CommandOrigin>): void {
    switch (notice.kind) {
      case "answer":
        this.router.answered(notice.ticket, notice.answer);
        return;
      case "done": {
        const { origin } = notice;
        this.metrics.countCompletion(notice.status);
        if (origin.receivedAt !== undefined) this.metrics.observeCommandLatency(this.nowSeconds() - origin.receivedAt);
        this.recorder?.commandEnded(notice.drone, origin, notice.status, notice.reason);
        if (origin.form !== "json") return;
        const data = { drone: notice.drone, command: origin.label, status: notice.status, ...(notice.reason ? { reason: notice.reason } : {}) };
        const text = encodeMessage("done", data, origin.requestId);
        if (origin.node !== undefined && origin.node !== this.broker.nodeId) this.broker.sendDone(origin.node, origin.session, text);
        else this.sessions?.deliver(origin.session, text);
        return;
      }
      case "lease":
        this.announceLease(notice.drone, notice.pilot, notice.reason, notice.reservedSeconds, notice.pilotUser);
        return;
      case "event":
        if (notice.event === "failsafe") this.metrics.failsafeEvents++;
        if (notice.event === "failsafe" || notice.event === "low_battery" || notice.event === "critical_battery" || notice.event === "link_lost" || notice.event === "vehicle_warning") {
          this.logger.warn({ event: notice.event, drone: notice.drone, message: notice.message });
        }
        if (notice.event === "autopilot") this.logger.info({ event: "autopilot", drone: notice.drone, severity: notice.details.severity, message: notice.message });
        this.recorder?.event(notice.drone, notice.event, notice.message, notice.details);
        this.publish(notice.drone, encodeMessage("event", eventData(notice)));
        return;
      case "mission":
        this.logger.info({ event: "mission", drone: notice.drone, items: notice.items?.length ?? 0 });
        this.broker.missionChanged(notice.drone, notice.items === null ? null : { items: notice.items, progress: this.fleet.vehicle(notice.drone).missions?.progress() ?? null });
        this.recorder?.event(notice.drone, "mission", notice.items === null ? "mission cleared" : `mission of ${notice.items.length} items`, { items: notice.items === null ? null : [...notice.items] });
        this.publish(notice.drone, encodeMessage("mission", { drone: notice.drone, items: notice.items === null ? null : [...notice.items] }));
        return;
      case "mission_progress":
        if (notice.progress.state !== "running") this.logger.info({ event: "mission_progress", drone: notice.drone, state: notice.progress.state, current: notice.progress.current, ...(notice.progress.reason === undefined ? {} : { reason: notice.progress.reason }) });
        const items = this.fleet.vehicle(notice.drone).missions?.mission() ?? null;
        if (items !== null) this.broker.missionChanged(notice.drone, { items, progress: notice.progress });
        this.recorder?.missionProgress(notice.drone, notice.progress);
        const data = progressData(notice.drone, notice.progress);
        if (data !== null) this.publish(notice.drone, encodeMessage("mission_progress", data));
        return;
    }
  }
}

/** The answer to a replay request on a server that keeps no recording to replay. */
const notRecording: ReplayOutcome = { ok: false, error: { code: "not_supported", message: "this server records no flights (--no-record, or a cluster without --database): there is nothing to replay" } };

/** Every fleet event's facts are what the wire's event of that kind carries (checked here by the compiler). */
type FleetEventsFitTheWire = { [K in keyof FleetEventDetails]: FleetEventDetails[K] extends EventExtras[K] ? true : never };
const fleetEventsFitTheWire: FleetEventsFitTheWire = {
  failsafe: true,
  pilot_regained: true,
  geofence: true,
  low_battery: true,
  critical_battery: true,
  landed: true,
  link_lost: true,
  link_regained: true,
  autopilot: true,
  vehicle_warning: true,
};
void fleetEventsFitTheWire;

/** A vehicle's mission progress as the `mission_progress` message's data; null for a mission not yet started, which has none. */
function progressData(drone: string, progress: MissionProgress): MissionProgressData | null {
  const { state } = progress;
  return state === "ready" ? null : { drone, ...progress, state };
}

/** A signed-in pilot as the wire's `pilotUser`/`pilotName` fields (none for an anonymous or shared-token pilot). */
function pilotUserFields(user: PilotUser | null): { pilotUser?: string; pilotName?: string } {
  if (user === null) return {};
  return user.name === undefined ? { pilotUser: user.user } : { pilotUser: user.user, pilotName: user.name };
}

/** A fleet event as the `event` message's data. */
function eventData(notice: FleetEvent): EventData {
  return { drone: notice.drone, kind: notice.event, message: notice.message, ...notice.details } as EventData;
}
