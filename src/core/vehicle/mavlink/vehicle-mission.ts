/**
 * A MAVLink vehicle's mission as skyport knows it: the items the autopilot
 * holds (uploaded by skyport, or read from it on link-up), the transfer in
 * progress, and how far it flew them from MISSION_CURRENT and
 * MISSION_ITEM_REACHED, with the mode it reports (running while in its
 * mission mode, paused when it left it).
 *
 * Owns that bookkeeping and the vehicle events it raises (`mission`,
 * `mission_progress`, and the `command_done`/`command_failed` of an
 * upload or a clear). It does not send commands: starting, pausing and resuming are
 * COMMAND_LONG steps the vehicle runs (`vehicle.ts`). Pure: time as arguments.
 */
import type { MissionItem, MissionProgress, MissionState } from "../../mission/mission.ts";
import { remainingRoute, type FlightProfile } from "../../mission/plan.ts";
import type { Vector3 } from "../../drone/types.ts";
import type { LatLon } from "../geodesy.ts";
import type { VehicleEvent } from "../vehicle.ts";
import type { MavInbound } from "./messages.ts";
import { fromMavMission, toMavMission, type MavMission } from "./mission-items.ts";
import { MissionTransfer, type TransferOutcome, type TransferTarget } from "./mission-transfer.ts";

/** What the ETA assumes of a copter's climb and descent, m/s: ArduCopter's defaults (WPNAV_SPEED_UP 2.5, WPNAV_SPEED_DN 1.5). */
const copterClimbMetresPerSecond = 2.5;
const copterDescentMetresPerSecond = 1.5;
/** ArduCopter's default RTL_ALT, metres. */
const copterReturnAltitudeMetres = 15;

/** An upload in flight: what the vehicle will hold once it accepts, and whose `done` it owes. */
interface PendingUpload {
  items: readonly MissionItem[];
  mav: MavMission;
  token: number;
}

export class VehicleMission {
  readonly transfer: MissionTransfer;
  private items: readonly MissionItem[] | null = null;
  private itemOf: number[] = [];
  private upload: PendingUpload | null = null;
  /** The token whose `done` a clear in flight owes (the autopilot's MISSION_ACK to MISSION_CLEAR_ALL). */
  private clearToken: number | null = null;
  private state: MissionState = "ready";
  private current = 0;
  private reached: number[] = [];
  private reason: string | undefined;

  constructor(
    target: () => TransferTarget,
    private readonly events: (event: VehicleEvent) => void,
  ) {
    this.transfer = new MissionTransfer(target);
  }

  /** The items the vehicle holds, or null. */
  mission(): readonly MissionItem[] | null {
    return this.items;
  }

  get missionState(): MissionState {
    return this.state;
  }

  /** Starts an upload; false when a transfer is in progress. Its `done` (token) follows the autopilot's MISSION_ACK. */
  startUpload(items: readonly MissionItem[], homeItem: boolean, home: LatLon, token: number, now: number): boolean {
    const mav = toMavMission(items, homeItem, home);
    if (!this.transfer.upload(mav.items, now)) return false;
    this.upload = { items, mav, token };
    return true;
  }

  /** Starts a clear (MISSION_CLEAR_ALL); false when a transfer is in progress. The mission is forgotten, and `done` (token) sent, on the autopilot's MISSION_ACK. */
  startClear(token: number, now: number): boolean {
    if (!this.transfer.clear(now)) return false;
    this.clearToken = token;
    return true;
  }

  /** The link came up: read the mission the vehicle already holds (unless a transfer runs). */
  linkUp(now: number): void {
    this.transfer.download(now);
  }

  /** The link went down: a transfer in progress is given up (an upload fails; the previous mission stays). */
  linkLost(reason: string, homeItem: boolean): void {
    const outcome = this.transfer.cancel(`the link was lost (${reason})`);
    // A download is simply asked again on the next link-up; an upload's or a clear's sender must hear it failed.
    if (outcome?.kind === "upload_failed" || outcome?.kind === "clear_failed") this.settle(outcome, homeItem);
  }

  receive(message: MavInbound, now: number, homeItem: boolean): void {
    switch (message.type) {
      case "mission_current":
        this.itemInProgress(message.seq);
        return;
      case "mission_item_reached":
        this.itemReached(message.seq);
        return;
      default:
        this.settle(this.transfer.receive(message, now), homeItem);
    }
  }

  advance(now: number, homeItem: boolean): void {
    this.settle(this.transfer.advance(now), homeItem);
  }

  /** The start steps were acknowledged: the mission runs from its first item. */
  started(): void {
    this.current = 0;
    this.reached = [];
    this.changeState("running");
  }

  /** Paused by the pilot, a manual command or the failsafe; or resumed. */
  changeState(state: MissionState, reason?: string): void {
    if (this.items === null || this.state === state) return;
    this.state = state;
    this.reason = reason;
    this.report();
  }

  /** The mode the autopilot reports: leaving its mission mode while running pauses the mission; being in it while paused resumes it. */
  modeReported(mode: string | null, missionMode: string): void {
    if (this.state === "running" && mode !== null && mode !== missionMode) this.changeState("paused", `the autopilot left ${missionMode} for ${mode}`);
  }

  /**
   * The vehicle is on the ground and disarmed while its mission runs: at its
   * last item the route is flown; before it, the mission is over without
   * having been flown (the autopilot disarmed: a takeoff it could not make,
   * a landing the route did not plan), and is aborted saying where.
   */
  landed(): void {
    if (this.state !== "running" || this.items === null) return;
    if (this.current < this.items.length - 1) {
      this.changeState("aborted", `the autopilot disarmed on the ground at item ${this.current} of ${this.items.length}`);
      return;
    }
    for (let index = 0; index < this.items.length; index++) if (!this.reached.includes(index)) this.reached.push(index);
    this.current = this.items.length;
    this.changeState("completed");
  }

  progress(position: Vector3, home: LatLon | null, speed: number): MissionProgress | null {
    if (this.items === null || this.state === "ready") return null;
    const profile: FlightProfile = { speedMetresPerSecond: speed, climbRateMetresPerSecond: copterClimbMetresPerSecond, descentRateMetresPerSecond: copterDescentMetresPerSecond, returnAltitudeMetres: copterReturnAltitudeMetres };
    const left = home === null || this.state === "completed" ? { metres: 0, seconds: 0 } : remainingRoute(this.items, this.current, home, position, profile);
    const progress: MissionProgress = { current: this.current, reached: [...this.reached], distanceToGo: round(left.metres), etaSeconds: round(left.seconds), state: this.state };
    return this.reason === undefined ? progress : { ...progress, reason: this.reason };
  }

  /** Forgets the mission skyport knows of (the autopilot cleared it, or holds none). */
  private clear(): void {
    this.items = null;
    this.itemOf = [];
    this.state = "ready";
    this.reason = undefined;
    this.events({ type: "mission", items: null });
  }

  /** The position and speed are needed for progress: the vehicle reads them when it raises one. */
  private pendingReport = false;

  /** Whether progress changed since the vehicle last asked (it builds the report with its position). */
  takeReport(): boolean {
    const due = this.pendingReport;
    this.pendingReport = false;
    return due;
  }

  private report(): void {
    this.pendingReport = true;
  }

  private itemInProgress(seq: number): void {
    const index = this.itemOf[seq];
    if (index === undefined || index < 0 || index === this.current) return;
    this.current = index;
    this.report();
  }

  private itemReached(seq: number): void {
    const index = this.itemOf[seq];
    if (index === undefined || index < 0 || this.reached.includes(index)) return;
    this.reached.push(index);
    if (this.items !== null && index === this.items.length - 1 && this.state === "running") {
      this.current = this.items.length;
      this.state = "completed";
      this.reason = undefined;
    } else if (index >= this.current) this.current = index + 1;
    this.report();
  }

  private settle(outcome: TransferOutcome | null, homeItem: boolean): void {
    if (outcome === null) return;
    switch (outcome.kind) {
      case "uploaded": {
        const upload = this.upload!;
        this.upload = null;
        this.hold(upload.items, upload.mav.itemOf);
        this.events({ type: "command_done", token: upload.token });
        return;
      }
      case "upload_failed": {
        const upload = this.upload;
        this.upload = null;
        // The vehicle keeps the mission it had: skyport's record of it is unchanged.
        if (upload !== null) this.events({ type: "command_failed", token: upload.token, reason: `${outcome.reason}; the vehicle keeps its previous mission` });
        return;
      }
      case "downloaded": {
        const read = fromMavMission(outcome.items, homeItem);
        if (!read.ok) {
          this.events({ type: "vehicle_warning", text: `the mission on the vehicle cannot be shown: ${read.problem}` });
          return;
        }
        if (read.items.length === 0) {
          if (this.items !== null) this.clear();
          return;
        }
        this.hold(read.items, read.itemOf);
        return;
      }
      case "download_failed":
        this.events({ type: "vehicle_warning", text: `could not read the mission on the vehicle: ${outcome.reason}` });
        return;
      case "cleared": {
        const token = this.clearToken;
        this.clearToken = null;
        if (this.items !== null) this.clear();
        if (token !== null) this.events({ type: "command_done", token });
        return;
      }
      case "clear_failed": {
        const token = this.clearToken;
        this.clearToken = null;
        // The autopilot may still hold it: skyport's record of it is unchanged.
        if (token !== null) this.events({ type: "command_failed", token, reason: `${outcome.reason}; the vehicle keeps its mission` });
        return;
      }
    }
  }

  private hold(items: readonly MissionItem[], itemOf: number[]): void {
    this.items = items;
    this.itemOf = itemOf;
    this.state = "ready";
    this.current = 0;
    this.reached = [];
    this.reason = undefined;
    this.events({ type: "mission", items });
  }
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
