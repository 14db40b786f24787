/**
 * A MAVLink vehicle behind the Vehicle seam: an ArduCopter autopilot heard
 * over a link, as the second implementation beside the simulated drone.
 *
 * Owns what the aircraft reported (HEARTBEAT, GLOBAL_POSITION_INT,
 * HOME_POSITION, SYS_STATUS / BATTERY_STATUS, GPS_RAW_INT,
 * EXTENDED_SYS_STATE) turned into a `VehicleState`; its STATUSTEXTs raised as
 * `autopilot` events and appended to the refusal they explain; the link's liveness (lost after `linkTimeoutSeconds`
 * without a HEARTBEAT); and each pilot command turned into MAVLink steps
 * (mode changes, arming, COMMAND_LONGs, position targets), every COMMAND_LONG
 * resent with `confirmation` + 1 while unanswered and answered through
 * `CommandTracker` from its COMMAND_ACK. Completion is judged from reported
 * state by `completion.ts`.
 *
 * Pure: no socket, no clock, no package. It is fed decoded messages
 * (`receive`) with the time, and queues messages to send (`takeOutgoing`,
 * `onQueued`); `src/runtime/mavlink/` owns the bytes and the socket. Only
 * messages from its own system id are read, and every message it sends is
 * addressed to that system id.
 */
import { boundaryViolation } from "../../drone/boundary.ts";
import { boundaryFromHome } from "../geofence-polygon.ts";
import type { FlightState } from "../../drone/types.ts";
import type { Refusal } from "../../refusal.ts";
import { CommandTracker, defaultTolerances, planCommand, type PlanLimits, type Tolerances } from "../completion.ts";
import { internalToken, restingAtHome, type VehicleCommand, type CommandPlan, type CommandReceipt, type Geofence, type MissionControl, type MissionReceipt, type Vehicle, type VehicleEvent, type VehicleState } from "../vehicle.ts";
import type { MissionCommand, MissionItem, MissionProgress } from "../../mission/mission.ts";
import { missionProblem } from "../../mission/plan.ts";
import { ParameterReads } from "./parameter-reads.ts";
import { VehicleFence, type FenceUpload } from "./vehicle-fence.ts";
import { VehicleMission } from "./vehicle-mission.ts";
import { offsetFromHome, pointFromHome, type LatLon } from "../geodesy.ts";
import { arduCopter, autopilotOf, missionStartSteps, type Autopilot, type ModeMeaning, type Params, type Step } from "./autopilots.ts";
import {
  gcsFailsafeParameter,
  gpsFixNames,
  legacyStreams,
  mavSeverityNames,
  MavSeverityWarning,
  unknownSatellites,
  unknownVoltage,
  MavAutopilotInvalid,
  MavCmd,
  MavLandedState,
  MavMessageId,
  MavMissionType,
  MavModeFlag,
  MavResult,
  mavResultNames,
  MavTypeGcs,
  type MavInbound,
  type MavOutbound,
} from "./messages.ts";

export interface MavlinkVehicleOptions {
  /** The autopilot's MAVLink system id: only its messages are read, only it is commanded. @default 1 */
  systemId: number;
  /** skyport's own system id as a ground station: acks addressed to another system are not ours. @default 255 */
  gcsSystemId: number;
  /** @default a 120 m ceiling and 500 m radius, as the simulated drones */
  geofence: Geofence;
  /** Upload the geofence polygon to the autopilot's fence list on every link-up (`fence=upload`), so it holds the fence without skyport. @default false */
  uploadFence: boolean;
  /** Altitude `takeoff` climbs to, metres above home. @default 10 */
  takeoffAltitudeMetres: number;
  /** Speed announced with plans until `speed` changes it, m/s (ArduCopter's WPNAV_SPEED default). @default 5 */
  speedLimitMetresPerSecond: number;
  /** No HEARTBEAT for this long and the link is lost, seconds (ArduPilot's own GCS failsafe waits 5 s). @default 3 */
  linkTimeoutSeconds: number;
  /** An unacknowledged COMMAND_LONG is resent after this long, seconds. @default 1 */
  retrySeconds: number;
  /** A command whose steps are not all acknowledged within this long is refused, seconds. @default 5 */
  answerSeconds: number;
  /** How close the reported state must come to a plan, metres (GPS and EKF noise on a real aircraft). @default 1.5 */
  positionToleranceMetres: number;
}

export const defaultMavlinkVehicleOptions: Readonly<MavlinkVehicleOptions> = Object.freeze({
  systemId: 1,
  gcsSystemId: 255,
  geofence: { maxAltitudeMetres: 120, maxRadiusMetres: 500, polygon: null },
  uploadFence: false,
  takeoffAltitudeMetres: 10,
  speedLimitMetresPerSecond: 5,
  linkTimeoutSeconds: 3,
  retrySeconds: 1,
  answerSeconds: 5,
  positionToleranceMetres: 1.5,
});

/** Streams requested with SET_MESSAGE_INTERVAL when the link comes up: message id and interval, microseconds. */
export const requestedStreams: ReadonlyArray<{ messageId: number; intervalMicroseconds: number; why: string }> = [
  { messageId: MavMessageId.GLOBAL_POSITION_INT, intervalMicroseconds: 100_000, why: "position, velocity, heading at 10 Hz, the default telemetry rate" },
  { messageId: MavMessageId.SYS_STATUS, intervalMicroseconds: 1_000_000, why: "battery percent and voltage, 1 Hz" },
  { messageId: MavMessageId.GPS_RAW_INT, intervalMicroseconds: 1_000_000, why: "GPS fix type and satellites, 1 Hz" },
  { messageId: MavMessageId.EXTENDED_SYS_STATE, intervalMicroseconds: 500_000, why: "landed state, 2 Hz (not streamed by default)" },
  { messageId: MavMessageId.HOME_POSITION, intervalMicroseconds: 1_000_000, why: "home, the origin of x/y/z, 1 Hz (not streamed by default)" },
];

/** Below this speed, m/s, an airborne vehicle is hovering rather than moving. */
const movingThresholdMetresPerSecond = 0.5;
/** HEARTBEAT.confirmation is a uint8: resends stop counting here. */
const maxConfirmation = 255;
/** GLOBAL_POSITION_INT.hdg when the heading is unknown. */
const unknownHeading = 65535;
/** A refusal waits this long for the STATUSTEXT that explains it (ArduPilot queues the text after the COMMAND_ACK), seconds. */
const reasonWaitSeconds = 0.5;
/** A STATUSTEXT this recent, at warning or worse, explains a refusal that follows it, seconds. */
const reasonMemorySeconds = 1;
/** Chunks of one STATUSTEXT kept at most (MAVLink 2 chunks a long text 50 characters at a time). */
const maxTextChunks = 8;
/** STATUSTEXT.text's fixed size: a shorter chunk is the last one. */
const textChunkLength = 50;
/** FS_GCS_ENABLE is asked again this often until the autopilot answers, seconds. */
const parameterRetrySeconds = 5;
/** Times FS_GCS_ENABLE is asked per link-up before giving up (it stays `unknown`). */
const parameterAttempts = 5;
/** No GLOBAL_POSITION_INT this long after the link came up: the firmware ignored SET_MESSAGE_INTERVAL; ask by REQUEST_DATA_STREAM, seconds. */
const streamFallbackSeconds = 3;

/** What the autopilot does when skyport's heartbeat stops (FS_GCS_ENABLE): `unknown` until it answered. */
export type GcsFailsafe = "unknown" | "enabled" | "disabled";

/** Why the link is counted, for `/metrics` and logs. */
export interface MavlinkVehicleCounters {
  /** Messages from another system id on the same link: read by nobody. */
  otherSystem: number;
  /** Heartbeats from a component that is not a flight controller (a camera, another GCS). */
  nonAutopilotHeartbeats: number;
  /** COMMAND_ACKs that answer nothing awaited (late, duplicate, or addressed to another GCS). */
  strayAcks: number;
}


/** An autopilot text heard lately, kept to explain a refusal. */
interface RecentText {
  text: string;
  severity: number;
  at: number;
}

/** A refused command waiting briefly for the autopilot's text that says why. */
interface RefusalAwaitingReason {
  sequence: Sequence;
  refusal: Refusal;
  at: number;
}


interface Sequence {
  token: number;
  command: VehicleCommand;
  plan: CommandPlan;
  steps: Step[];
  index: number;
  confirmation: number;
  /** When the current step was last sent, seconds. */
  sentAt: number;
  /** When the command was given, seconds. */
  startedAt: number;
  /** Set when the steps act on the mission: the mission command's token, answered when they are all acknowledged. */
  mission?: { token: number; action: "start" | "pause" | "resume" };
}

/** While a mission runs, its progress goes out at least this often, seconds. */
const missionProgressIntervalSeconds = 1;

export class MavlinkVehicle implements Vehicle, MissionControl {
  readonly kind = "mavlink";
  readonly missions: MissionControl = this;
  readonly geofence: Geofence;
  readonly counters: MavlinkVehicleCounters = { otherSystem: 0, nonAutopilotHeartbeats: 0, strayAcks: 0 };
  /** Called whenever a message is queued, so the link can send it at once. */
  onQueued: (() => void) | null = null;
  private readonly options: MavlinkVehicleOptions;
  private readonly tracker: CommandTracker;
  private outbox: MavOutbound[] = [];
  private events: VehicleEvent[] = [];
  private lastHeartbeatAt = -Infinity;
  private component = 1;
  private armed = false;
  private customMode = -1;
  /** Which autopilot it is, from its HEARTBEAT: mode numbers and command steps differ. ArduCopter until heard. */
  private autopilot: Autopilot = arduCopter;
  private landedState: number = MavLandedState.UNDEFINED;
  private home: (LatLon & { altitudeMetres: number }) | null = null;
  private speedLimit: number;
  private sequence: Sequence | null = null;
  /**
   * A takeoff was acknowledged and the autopilot has not yet said it left the
   * ground: armed on the ground counts as taking off, not landed (ArduCopter
   * reports ON_GROUND for a moment after NAV_TAKEOFF's ack).
   */
  private takeoffCommanded = false;
  private readonly current: VehicleState;
  private recentTexts: RecentText[] = [];
  private awaitingReason: RefusalAwaitingReason | null = null;
  /** A chunked STATUSTEXT being assembled: its id and the chunks so far. */
  private textChunks: { id: number; severity: number; chunks: string[] } | null = null;
  private failsafeSetting: { state: GcsFailsafe; value: number | null } = { state: "unknown", value: null };
  /** Asking FS_GCS_ENABLE on this link-up. */
  private readonly failsafeReads = new ParameterReads([gcsFailsafeParameter], parameterRetrySeconds, parameterAttempts);
  /** Since this link-up: when it came up, whether a position was heard, whether the legacy streams were asked for. */
  private streams = { upAt: -Infinity, positionHeard: false, legacyRequested: false };
  /** Its mission, the transfer in progress and how far it flew it. */
  private readonly missionRecord = new VehicleMission(
    () => ({ targetSystem: this.options.systemId, targetComponent: this.component }),
    (event) => this.events.push(event),
  );
  /** When mission progress last went out, seconds. */
  private progressAt = -Infinity;
  /** The geofence polygon on the autopilot itself, when it is to be uploaded; null otherwise. */
  private readonly fence: VehicleFence | null;

  constructor(readonly id: string, options: Partial<MavlinkVehicleOptions> = {}) {
    this.options = { ...defaultMavlinkVehicleOptions, ...options };
    this.geofence = this.options.geofence;
    this.speedLimit = this.options.speedLimitMetresPerSecond;
    const tolerances: Tolerances = { ...defaultTolerances, positionMetres: this.options.positionToleranceMetres, answerSeconds: this.options.answerSeconds };
    this.tracker = new CommandTracker(tolerances);
    this.current = restingAtHome();
    const polygon = this.options.geofence.polygon;
    this.fence = this.options.uploadFence && polygon !== null ? new VehicleFence(id, polygon, () => ({ targetSystem: this.options.systemId, targetComponent: this.component })) : null;
  }

  /** Where this link-up's upload of the geofence polygon stands, or null when it is not uploaded (`fence=upload` not set). */
  get fenceUpload(): FenceUpload | null {
    return this.fence?.state ?? null;
  }

  get linkUp(): boolean {
    return this.current.link.up;
  }

  /** The autopilot's MAVLink system id: the only one read and commanded. */
  get systemId(): number {
    return this.options.systemId;
  }

  /** Whether the autopilot last reported its motors armed. */
  get isArmed(): boolean {
    return this.armed;
  }

  /** Whether the autopilot will act on its own when skyport's heartbeat stops (ArduPilot's FS_GCS_ENABLE), and the value it reported. */
  get gcsFailsafe(): { state: GcsFailsafe; value: number | null } {
    return this.failsafeSetting;
  }

  /** The mode last reported, by the autopilot's name for it (`GUIDED`, `AUTO.LOITER`), or null before the first HEARTBEAT. */
  get modeName(): string | null {
    if (this.customMode < 0) return null;
    return this.autopilot.modeName(this.customMode);
  }

  /** Which autopilot this is (`ArduCopter`, `PX4`), as its HEARTBEAT says. */
  get autopilotName(): string {
    return this.autopilot.name;
  }

  state(): VehicleState {
    return this.current;
  }

  // ------------------------------------------------------------ the fleet's side

  command(command: VehicleCommand, token: number, now: number): CommandReceipt {
    if (!this.linkUp) return { status: "refused", refusal: { code: "drone_unavailable", message: `${this.id} is out of reach: no HEARTBEAT from system ${this.options.systemId}` } };
    const refusal = this.precondition(command);
    if (refusal !== null) return { status: "refused", refusal };
    const plan = planCommand(command, this.current, { takeoffAltitudeMetres: this.options.takeoffAltitudeMetres, speedLimitMetresPerSecond: this.speedLimit } satisfies PlanLimits);
    const outside = this.outsideGeofence(plan);
    if (outside !== null) return { status: "refused", refusal: { code: "geofence", message: outside } };
    const steps = this.autopilot.stepsFor(command, plan, { armed: this.armed, customMode: this.customMode, home: this.home });
    if ("problem" in steps) return { status: "refused", refusal: { code: "drone_unavailable", message: `${this.id} ${steps.problem}` } };
    this.supersede(command.name);
    if (this.missionRecord.missionState === "running") {
      // Whoever commands the vehicle now has taken over from the mission.
      this.missionRecord.changeState("paused", token === internalToken ? `paused by the failsafe's ${command.name}` : `paused by the pilot's command ${command.name}`);
      this.reportMission(now, true);
    }
    if (token !== internalToken) this.tracker.sent(token, command, now);
    this.sequence = { token, command, plan, steps, index: 0, confirmation: 0, sentAt: now, startedAt: now };
    this.sendCurrentStep(now);
    return { status: "pending" };
  }

  holdPosition(now: number): void {
    this.tracker.interrupted("holding position");
    if (this.linkUp && this.armed) this.command({ name: "hover" }, internalToken, now);
  }

  emergencyStop(now: number): void {
    this.tracker.interrupted("emergency stop");
    this.current.flags.emergencyStopped = true;
    if (this.linkUp) this.command({ name: "emergency" }, internalToken, now);
  }

  advance(_dtSeconds: number, now: number): void {
    if (this.awaitingReason !== null && now - this.awaitingReason.at >= reasonWaitSeconds) this.refuseAwaiting(null);
    if (this.linkUp) this.keepAsking(now);
    if (this.linkUp && now - this.lastHeartbeatAt > this.options.linkTimeoutSeconds) {
      this.lose(`no HEARTBEAT from system ${this.options.systemId} for ${this.options.linkTimeoutSeconds} s`);
    }
    const sequence = this.sequence;
    if (sequence !== null) {
      if (now - sequence.startedAt >= this.options.answerSeconds) {
        this.sequence = null;
        this.refuse(sequence, { code: "drone_unavailable", message: `the autopilot did not answer ${sequence.command.name} within ${this.options.answerSeconds} s` });
      } else if (now - sequence.sentAt >= this.options.retrySeconds && sequence.confirmation < maxConfirmation) {
        sequence.confirmation += 1;
        this.sendCurrentStep(now);
      }
    }
    this.tracker.expire(now);
    this.missionRecord.advance(now, this.autopilot.missionHomeItem);
    if (this.linkUp) this.withFence((fence) => fence.advance(now, !this.missionRecord.transfer.busy));
    this.reportMission(now, this.missionRecord.missionState === "running" && now - this.progressAt >= missionProgressIntervalSeconds);
  }

  takeEvents(): VehicleEvent[] {
    const taken = this.events.length === 0 ? this.tracker.takeEvents() : [...this.events, ...this.tracker.takeEvents()];
    this.events = [];
    return taken;
  }

  // ------------------------------------------------------------ the link's side

  /** A decoded message heard on the link at `now`. Messages from another system id are counted and dropped. */
  receive(message: MavInbound, now: number): void {
    if (message.sysid !== this.options.systemId) {
      this.counters.otherSystem += 1;
      return;
    }
    switch (message.type) {
      case "heartbeat":
        if (message.autopilot === MavAutopilotInvalid || message.mavType === MavTypeGcs) {
          this.counters.nonAutopilotHeartbeats += 1;
          return;
        }
        this.heard(message.compid, now);
        this.autopilot = autopilotOf(message.autopilot);
        this.armed = (message.baseMode & MavModeFlag.SAFETY_ARMED) !== 0;
        this.customMode = message.customMode;
        break;
      case "global_position_int":
        this.streams.positionHeard = true;
        // ArduPilot sends latitude and longitude exactly 0 until its first
        // position estimate (to carry the relative altitude); that is "no
        // position yet", not a point in the Gulf of Guinea. QGroundControl
        // reads it the same way. A position once known is kept.
        if (message.lat !== 0 || message.lon !== 0) {
          this.current.geo = { lat: message.lat / 1e7, lon: message.lon / 1e7, altitudeMsl: message.alt / 1000 };
        }
        this.current.position.z = message.relativeAlt / 1000;
        this.current.velocity.x = message.vy / 100;
        this.current.velocity.y = message.vx / 100;
        this.current.velocity.z = -message.vz / 100;
        if (message.hdg !== unknownHeading) this.current.heading = message.hdg / 100;
        this.placeFromHome();
        break;
      case "home_position":
        this.home = { lat: message.latitude / 1e7, lon: message.longitude / 1e7, altitudeMetres: message.altitude / 1000 };
        this.placeFromHome();
        break;
      case "sys_status":
        if (message.voltageBattery !== unknownVoltage) this.current.voltage = message.voltageBattery / 1000;
        if (message.batteryRemaining >= 0) this.current.battery = Math.min(100, message.batteryRemaining);
        break;
      case "battery_status":
        if (message.batteryRemaining >= 0) this.current.battery = Math.min(100, message.batteryRemaining);
        break;
      case "gps_raw_int":
        this.current.gps = { fix: gpsFixNames[message.fixType] ?? "no_fix", satellites: message.satellitesVisible === unknownSatellites ? null : message.satellitesVisible };
        return;
      case "statustext":
        this.statusText(message, now);
        return;
      case "param_value":
        if (this.failsafeReads.heard(message.paramId, message.paramValue)) this.gcsFailsafeReported(message.paramValue);
        else this.withFence((fence) => fence.receive(message, now));
        return;
      case "extended_sys_state":
        this.landedState = message.landedState;
        break;
      case "command_ack":
        this.acknowledged(message, now);
        return;
      case "mission_request":
      case "mission_ack":
      case "mission_count":
      case "mission_item":
      case "mission_current":
      case "mission_item_reached":
        if ("missionType" in message && message.missionType === MavMissionType.FENCE) return this.withFence((fence) => fence.receive(message, now));
        this.missionRecord.receive(message, now, this.autopilot.missionHomeItem);
        this.reportMission(now, false);
        return;
    }
    this.refresh();
    if (message.type === "heartbeat") {
      this.missionRecord.modeReported(this.modeName, this.autopilot.missionMode);
      this.reportMission(now, false);
    }
  }

  /** The connection itself closed (TCP reset, socket error): the link is lost now, not after the HEARTBEAT timeout. */
  disconnected(reason: string): void {
    if (this.linkUp) this.lose(reason);
  }

  /** The messages queued since the last call, oldest first. */
  takeOutgoing(): MavOutbound[] {
    const taken = this.outbox;
    this.outbox = [];
    return taken;
  }

  // ------------------------------------------------------------ inside

  private heard(compid: number, now: number): void {
    this.lastHeartbeatAt = now;
    this.component = compid;
    this.current.link.heardAt = now;
    if (this.current.link.up) return;
    this.current.link.up = true;
    this.events.push({ type: "link_regained" });
    for (const stream of requestedStreams) {
      this.queue(this.commandLong(MavCmd.SET_MESSAGE_INTERVAL, [stream.messageId, stream.intervalMicroseconds, 0, 0, 0, 0, 0], 0));
    }
    this.streams = { upAt: now, positionHeard: false, legacyRequested: false };
    this.failsafeReads.reset();
    this.keepAsking(now);
    // What the vehicle already holds (flown by another ground station, or before a restart) is shown too.
    this.missionRecord.linkUp(now);
    this.withFence((fence) => fence.linkUp());
    this.reportMission(now, false);
  }

  /** While the link is up: ask FS_GCS_ENABLE until answered, and fall back to the legacy streams if no position comes. */
  private keepAsking(now: number): void {
    if (this.failsafeSetting.state === "unknown") {
      for (const paramId of this.failsafeReads.due(now)) this.queue({ type: "param_request_read", targetSystem: this.options.systemId, targetComponent: this.component, paramId });
    }
    if (!this.streams.positionHeard && now - this.streams.upAt >= streamFallbackSeconds) this.requestLegacyStreams();
  }

  /** Old firmware (before SET_MESSAGE_INTERVAL) streams by group: ask each group once per link-up. */
  private requestLegacyStreams(): void {
    if (this.streams.legacyRequested) return;
    this.streams.legacyRequested = true;
    for (const stream of legacyStreams) {
      this.queue({ type: "request_data_stream", targetSystem: this.options.systemId, targetComponent: this.component, streamId: stream.streamId, rateHz: stream.rateHz });
    }
  }

  /** The autopilot reported FS_GCS_ENABLE: viewers are warned once when it is off. */
  private gcsFailsafeReported(value: number): void {
    const state: GcsFailsafe = value === 0 ? "disabled" : "enabled";
    const was = this.failsafeSetting.state;
    this.failsafeSetting = { state, value };
    if (state === "disabled" && was !== "disabled") {
      this.events.push({
        type: "vehicle_warning",
        text: `${this.id}'s GCS failsafe is off (${gcsFailsafeParameter}=0): if skyport or its link to ${this.id} dies, the autopilot will not act on its own; set ${gcsFailsafeParameter} to 1 (RTL) or 5 (Land)`,
      });
    }
  }

  private lose(reason: string): void {
    this.current.link.up = false;
    this.sequence = null;
    if (this.awaitingReason !== null) this.refuseAwaiting(null);
    this.tracker.linkLost(reason);
    this.missionRecord.linkLost(reason, this.autopilot.missionHomeItem);
    this.withFence((fence) => fence.linkDown(reason));
    this.reportMission(0, false);
    this.events.push({ type: "link_lost", reason });
  }

  /** x/y from home once both home and a position are known; before home is known the vehicle is placed at home. */
  private placeFromHome(): void {
    const geo = this.current.geo;
    if (this.home === null || geo === null) return;
    const { x, y } = offsetFromHome(this.home, geo);
    this.current.position.x = x;
    this.current.position.y = y;
  }

  /** A report changed the state: derive the flight state, raise `landed`, and judge the command in flight. */
  private refresh(): void {
    const before = this.current.state;
    if (this.landedState !== MavLandedState.ON_GROUND && this.landedState !== MavLandedState.UNDEFINED) this.takeoffCommanded = false;
    if (!this.armed) this.takeoffCommanded = false;
    this.current.state = flightStateOf({
      armed: this.armed,
      landedState: this.landedState,
      mode: this.autopilot.meaning(this.customMode),
      emergencyStopped: this.current.flags.emergencyStopped,
      takeoffCommanded: this.takeoffCommanded,
      speed: Math.hypot(this.current.velocity.x, this.current.velocity.y, this.current.velocity.z),
    });
    if (this.current.state === "landed") this.current.flags.emergencyStopped = false;
    this.current.armed = this.armed;
    this.current.mode = this.modeName;
    if (before !== "landed" && this.current.state === "landed") this.events.push({ type: "landed" });
    if (this.current.state === "landed" && !this.armed) this.missionRecord.landed();
    this.tracker.report(this.current);
  }

  private acknowledged(ack: Extract<MavInbound, { type: "command_ack" }>, now: number): void {
    const sequence = this.sequence;
    const step = sequence?.steps[sequence.index];
    const forUs = ack.targetSystem === 0 || ack.targetSystem === this.options.gcsSystemId;
    if (ack.command === MavCmd.SET_MESSAGE_INTERVAL) {
      // Firmware without SET_MESSAGE_INTERVAL answers UNSUPPORTED (or DENIED): ask the old way.
      if (forUs && ack.result !== MavResult.ACCEPTED && ack.result !== MavResult.IN_PROGRESS) this.requestLegacyStreams();
      return;
    }
    if (sequence === null || step === undefined || step.kind === "target" || step.command !== ack.command || !forUs) {
      this.counters.strayAcks += 1;
      return;
    }
    if (ack.result === MavResult.IN_PROGRESS) {
      sequence.sentAt = now;
      return;
    }
    if (ack.result !== MavResult.ACCEPTED) {
      this.sequence = null;
      const result = mavResultNames[ack.result] ?? String(ack.result);
      const refusal: Refusal = {
        code: ack.result === MavResult.TEMPORARILY_REJECTED ? "busy" : "drone_unavailable",
        message: `the autopilot refused ${commandNames.get(step.command) ?? step.command} for ${sequence.command.name}: MAV_RESULT_${result}`,
      };
      const reason = this.recentReason(now);
      if (reason !== null) this.refuse(sequence, withReason(refusal, reason));
      else this.awaitingReason = { sequence, refusal, at: now };
      return;
    }
    // The autopilot armed: say so before its next HEARTBEAT does, so the takeoff that follows starts from armed.
    if (step.kind === "command" && step.command === MavCmd.COMPONENT_ARM_DISARM && step.params[0] === 1) this.armed = true;
    sequence.index += 1;
    sequence.confirmation = 0;
    this.sendCurrentStep(now);
  }

  /** Sends the sequence's current step; a position target needs no ack, so the sequence moves on at once. */
  private sendCurrentStep(now: number): void {
    const sequence = this.sequence;
    if (sequence === null) return;
    let step = sequence.steps[sequence.index];
    while (step !== undefined && step.kind === "target") {
      const point = this.home === null ? null : pointFromHome(this.home, step.x, step.y);
      if (point === null) {
        this.sequence = null;
        this.refuse(sequence, { code: "drone_unavailable", message: `${this.id} has not reported its home position yet: position targets need it` });
        return;
      }
      this.queue({
        type: "position_target_global",
        targetSystem: this.options.systemId,
        targetComponent: this.component,
        latInt: Math.round(point.lat * 1e7),
        lonInt: Math.round(point.lon * 1e7),
        relativeAltMetres: step.z,
        yawRadians: (step.heading * Math.PI) / 180,
      });
      sequence.index += 1;
      step = sequence.steps[sequence.index];
    }
    if (step === undefined) {
      this.sequence = null;
      this.finish(sequence, now);
      return;
    }
    sequence.sentAt = now;
    if (step.kind === "command") {
      this.queue(this.commandLong(step.command, step.params, sequence.confirmation));
      return;
    }
    const { command, frame, params, latInt, lonInt, z } = step;
    this.queue({ type: "command_int", targetSystem: this.options.systemId, targetComponent: this.component, frame, command, params, latInt, lonInt, z });
  }

  /** Every step acknowledged: the command is accepted and tracked until the reported state says it is over. */
  private finish(sequence: Sequence, now: number): void {
    if (sequence.mission !== undefined) return this.missionStepsDone(sequence.mission, now);
    if (sequence.command.name === "speed") this.speedLimit = sequence.plan.speedLimit;
    if (sequence.command.name === "emergency") this.current.flags.emergencyStopped = true;
    if (sequence.command.name === "takeoff") {
      this.takeoffCommanded = true;
      this.refresh();
    }
    if (sequence.token === internalToken) return;
    this.tracker.acknowledged(sequence.plan, now);
  }

  private refuse(sequence: Sequence, refusal: Refusal): void {
    if (sequence.mission !== undefined) {
      this.events.push({ type: "command_failed", token: sequence.mission.token, reason: refusal.message });
      return;
    }
    if (sequence.token !== internalToken) this.tracker.rejected(refusal);
  }

  /** A STATUSTEXT: raised as an `autopilot` event (chunks assembled first), and kept a moment to explain a refusal. */
  private statusText(message: Extract<MavInbound, { type: "statustext" }>, now: number): void {
    const text = this.assembleText(message);
    if (text === null) return;
    const severity = Math.min(Math.max(0, message.severity), mavSeverityNames.length - 1);
    this.events.push({ type: "autopilot", severity: mavSeverityNames[severity]!, text });
    if (severity > MavSeverityWarning) return;
    this.recentTexts = this.recentTexts.filter((recent) => now - recent.at <= reasonMemorySeconds);
    this.recentTexts.push({ text, severity, at: now });
    if (this.awaitingReason !== null) this.refuseAwaiting(text);
  }

  /** The whole text once its last chunk arrived, or null while chunks are missing. Single-chunk texts (id 0) pass at once. */
  private assembleText(message: Extract<MavInbound, { type: "statustext" }>): string | null {
    const chunk = message.text.replace(/\0.*$/s, "");
    if (message.id === 0) return chunk.trim();
    let pending = this.textChunks;
    if (pending === null || pending.id !== message.id) pending = this.textChunks = { id: message.id, severity: message.severity, chunks: [] };
    pending.chunks[message.chunkSeq] = chunk;
    const last = chunk.length < textChunkLength || pending.chunks.length >= maxTextChunks;
    if (!last) return null;
    this.textChunks = null;
    return pending.chunks.map((part) => part ?? "…").join("").trim();
  }

  /** The most recent autopilot warning heard within the memory window, or null. */
  private recentReason(now: number): string | null {
    const recent = this.recentTexts.filter((text) => now - text.at <= reasonMemorySeconds);
    return recent.length === 0 ? null : recent[recent.length - 1]!.text;
  }

  /** Sends the refusal that waited for a reason, with the autopilot's text when one came. */
  private refuseAwaiting(reason: string | null): void {
    const awaiting = this.awaitingReason;
    if (awaiting === null) return;
    this.awaitingReason = null;
    this.refuse(awaiting.sequence, reason === null ? awaiting.refusal : withReason(awaiting.refusal, reason));
  }

  /** A new command replaces one still awaiting its acks. */
  private supersede(by: string): void {
    const old = this.sequence;
    if (old === null) return;
    this.sequence = null;
    this.refuse(old, { code: "busy", message: `superseded by ${by} before the autopilot answered` });
  }

  private precondition(command: VehicleCommand): Refusal | null {
    const onGround = this.current.state === "landed";
    if (command.name === "takeoff" || command.name === "arm") return onGround ? null : { code: "already_flying", message: `${this.id} is already flying` };
    if (command.name === "mode" && this.autopilot.setMode(command.mode) === null) {
      return { code: "out_of_range", message: `${this.autopilot.name} has no mode ${command.mode}: one of ${this.autopilot.modeNames.join(", ")}`, about: { argument: "mode" } };
    }
    // The autopilot itself refuses a disarm in flight, with its reason: emergency is the forced one.
    if (command.name === "speed" || command.name === "emergency" || command.name === "mode" || command.name === "disarm") return null;
    return onGround ? { code: "not_flying", message: `${this.id} is on the ground: take off first` } : null;
  }

  private outsideGeofence(plan: CommandPlan): string | null {
    const { maxAltitudeMetres, maxRadiusMetres, polygon } = this.geofence;
    if (plan.z > maxAltitudeMetres) return `the target altitude ${plan.z.toFixed(1)} m is above the ${maxAltitudeMetres} m ceiling`;
    const radius = Math.hypot(plan.x, plan.y);
    if (radius > maxRadiusMetres) return `the target is ${radius.toFixed(1)} m from home, beyond the ${maxRadiusMetres} m radius`;
    if (polygon === null) return null;
    // Targets are metres from home: without home the polygon cannot be placed, and no target is sent.
    if (this.home === null) return "its home is not known yet, so the target cannot be checked against the geofence polygon";
    return boundaryViolation(boundaryFromHome(this.home, polygon), plan, this.current.position);
  }

  private commandLong(command: number, params: Params, confirmation: number): MavOutbound {
    return { type: "command_long", targetSystem: this.options.systemId, targetComponent: this.component, command, confirmation, params };
  }

  private queue(message: MavOutbound): void {
    this.outbox.push(message);
    this.onQueued?.();
  }

  // ------------------------------------------------------------ missions

  mission(): readonly MissionItem[] | null {
    return this.missionRecord.mission();
  }

  progress(): MissionProgress | null {
    return this.missionRecord.progress(this.current.position, this.home, this.speedLimit);
  }

  /** An upload's `done` follows the autopilot's MISSION_ACK; start, pause and resume follow their COMMAND_ACKs. */
  missionCommand(command: MissionCommand, token: number, now: number): MissionReceipt {
    const refused = (code: Refusal["code"], message: string): MissionReceipt => ({ status: "refused", refusal: { code, message: `${this.id} ${message}`, about: { vehicle: true } } });
    if (!this.linkUp) return refused("drone_unavailable", `is out of reach: no HEARTBEAT from system ${this.options.systemId}`);
    const record = this.missionRecord;
    const state = record.missionState;
    const items = record.mission();
    switch (command.action) {
      case "upload": {
        const transfer = record.transfer.inProgress;
        if (transfer !== null) return refused("busy", `is in the middle of a mission ${transfer}: wait for it to finish`);
        if (items !== null && state === "running") return refused("busy", "is flying its mission: pause or clear it before uploading another");
        if (this.home === null) return refused("drone_unavailable", "has not reported its home position yet: a mission's waypoints are checked against the geofence around it");
        const problem = missionProblem(command.items, { home: this.home, geofence: this.geofence, start: this.current.position });
        if (problem !== null) return { status: "refused", refusal: problem };
        record.startUpload(command.items, this.autopilot.missionHomeItem, this.home, token, now);
        this.flushMission();
        return { status: "accepted", items: command.items.length };
      }
      case "start":
        if (items === null) return refused("no_mission", "has no mission: upload one first");
        if (state === "running") return refused("busy", "is already flying its mission");
        this.runMissionSteps(missionStartSteps(this.autopilot, this.armed), { token, action: "start" }, now);
        return { status: "accepted", items: items.length };
      case "pause":
        if (items === null || state !== "running") return refused("no_mission", "has no mission running to pause");
        record.changeState("paused", "paused by the pilot");
        this.reportMission(now, true);
        this.runMissionSteps(this.autopilot.stepsFor({ name: "hover" }, this.planHere(), this.stepContext()) as Step[], { token, action: "pause" }, now);
        return { status: "accepted", items: items.length };
      case "resume":
        if (items === null || state !== "paused") return refused("no_mission", "has no paused mission to resume");
        this.runMissionSteps([this.autopilot.setMode(this.autopilot.missionMode)!], { token, action: "resume" }, now);
        return { status: "accepted", items: items.length };
      case "clear": {
        if (items === null) return refused("no_mission", "has no mission to clear");
        const transfer = record.transfer.inProgress;
        if (transfer !== null) return refused("busy", `is in the middle of a mission ${transfer}: wait for it to finish`);
        if (state === "running" && this.armed) this.command({ name: "hover" }, internalToken, now);
        // The autopilot forgets it too (MISSION_CLEAR_ALL): `done` follows its MISSION_ACK.
        record.startClear(token, now);
        this.flushMission();
        return { status: "accepted", items: 0 };
      }
    }
  }

  /** Runs mission steps like a command's: acks awaited and resent; the mission command's `done` when all are acknowledged. */
  private runMissionSteps(steps: Step[], mission: NonNullable<Sequence["mission"]>, now: number): void {
    this.supersede(`mission ${mission.action}`);
    const command: VehicleCommand = mission.action === "pause" ? { name: "hover" } : { name: "mode", mode: this.autopilot.missionMode };
    this.sequence = { token: internalToken, command, plan: this.planHere(), steps, index: 0, confirmation: 0, sentAt: now, startedAt: now, mission };
    this.sendCurrentStep(now);
  }

  private missionStepsDone(mission: NonNullable<Sequence["mission"]>, now: number): void {
    if (mission.action === "start") this.missionRecord.started();
    if (mission.action === "resume") this.missionRecord.changeState("running");
    this.events.push({ type: "command_done", token: mission.token });
    this.reportMission(now, true);
  }

  /** Where the vehicle is, as a plan that goes nowhere (the mission's mode steps need no target). */
  private planHere(): CommandPlan {
    return { ...this.current.position, heading: this.current.heading, speedLimit: this.speedLimit };
  }

  private stepContext() {
    return { armed: this.armed, customMode: this.customMode, home: this.home };
  }

  /** Lets the fence act (when it is uploaded at all), then sends what it queued and passes on its warnings. */
  private withFence(act: (fence: VehicleFence) => void): void {
    const fence = this.fence;
    if (fence === null) return;
    act(fence);
    for (const message of fence.takeOutgoing()) this.queue(message);
    this.events.push(...fence.takeEvents());
  }

  /** Sends what the transfer queued. */
  private flushMission(): void {
    for (const message of this.missionRecord.transfer.takeOutgoing()) this.queue(message);
  }

  /** Sends the transfer's messages, and raises mission progress when it changed (or `due`). */
  private reportMission(now: number, due: boolean): void {
    this.flushMission();
    if (!this.missionRecord.takeReport() && !due) return;
    const progress = this.progress();
    if (progress === null) return;
    this.progressAt = now;
    this.events.push({ type: "mission_progress", progress });
  }
}

/** A refusal with the autopilot's own words appended: `...: MAV_RESULT_FAILED (PreArm: Need Position Estimate)`. */
function withReason(refusal: Refusal, reason: string): Refusal {
  return { ...refusal, message: `${refusal.message} (${reason})` };
}

const commandNames = new Map<number, string>(Object.entries(MavCmd).map(([name, value]) => [value, `MAV_CMD_${name}`]));

/** What the autopilot reported, reduced to the facts the flight state needs. */
export interface ReportedFacts {
  armed: boolean;
  /** MAV_LANDED_STATE, UNDEFINED when EXTENDED_SYS_STATE was never heard. */
  landedState: number;
  /** What the reported mode means: returning home, landing, or anything else. */
  mode: ModeMeaning;
  emergencyStopped: boolean;
  /** A takeoff was acknowledged and the autopilot has not yet reported leaving the ground. */
  takeoffCommanded: boolean;
  /** m/s */
  speed: number;
}

/** The skyport flight state an autopilot's reports amount to. */
export function flightStateOf(facts: ReportedFacts): FlightState {
  const onGround = !facts.armed || facts.landedState === MavLandedState.ON_GROUND;
  if (facts.emergencyStopped && facts.landedState !== MavLandedState.ON_GROUND) return "emergency";
  if (facts.armed && facts.takeoffCommanded) return "taking_off";
  if (onGround) return "landed";
  if (facts.landedState === MavLandedState.TAKEOFF) return "taking_off";
  if (facts.mode === "returning") return "returning";
  if (facts.landedState === MavLandedState.LANDING || facts.mode === "landing") return "landing";
  return facts.speed >= movingThresholdMetresPerSecond ? "moving" : "hovering";
}
