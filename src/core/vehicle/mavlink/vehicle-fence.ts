/**
 * The geofence polygon on the autopilot itself (`--mavlink NAME=URL,fence=upload`):
 * so that if skyport or its link dies, the aircraft still holds the fence
 * skyport checked its commands against.
 *
 * Owns, per link-up: uploading the polygon through the mission protocol's
 * fence list (MAV_MISSION_TYPE_FENCE, one MAV_CMD_NAV_FENCE_POLYGON_VERTEX_INCLUSION
 * per corner), once the mission's own transfer is idle; then reading
 * FENCE_ENABLE and FENCE_TYPE and warning viewers when the autopilot holds
 * the polygon but will not enforce it. It changes no parameter: enabling the
 * fence and choosing its action stay the operator's. Pure: time as
 * arguments, messages queued for the caller to take.
 */
import type { LatLon } from "../geodesy.ts";
import type { VehicleEvent } from "../vehicle.ts";
import { MissionTransfer, type TransferOutcome, type TransferTarget } from "./mission-transfer.ts";
import { ParameterReads } from "./parameter-reads.ts";
import { MavFrame, MavMissionType, type MavInbound, type MavMissionItem, type MavOutbound } from "./messages.ts";

/** MAV_CMD_NAV_FENCE_POLYGON_VERTEX_INCLUSION: one corner of a polygon the vehicle must stay inside; param1 the polygon's corner count. */
export const fencePolygonVertexInclusion = 5001;
/** ArduPilot's parameters that decide whether the fence it holds is enforced. */
export const fenceEnableParameter = "FENCE_ENABLE";
export const fenceTypeParameter = "FENCE_TYPE";
/** FENCE_TYPE's bit for polygon fences (1 max altitude, 2 circle, 4 polygon, 8 min altitude). */
export const fenceTypePolygonBit = 4;
/** A parameter unanswered this long is asked again, seconds; at most this many times per link-up. */
const parameterRetrySeconds = 2;
const parameterAttempts = 5;

/** Where the upload stands on this link-up. */
export type FenceUpload = "waiting" | "uploading" | "uploaded" | "failed";

/** The polygon as the fence list's items: one inclusion vertex per corner, degE7, in order. */
export function fenceItems(polygon: readonly LatLon[]): MavMissionItem[] {
  return polygon.map((corner, seq) => ({
    seq,
    frame: MavFrame.GLOBAL,
    command: fencePolygonVertexInclusion,
    current: 0,
    autocontinue: 0,
    params: [polygon.length, 0, 0, 0],
    x: Math.round(corner.lat * 1e7),
    y: Math.round(corner.lon * 1e7),
    z: 0,
  }));
}

export class VehicleFence {
  private readonly transfer: MissionTransfer;
  private upload: FenceUpload = "waiting";
  private readonly parameters = new ParameterReads([fenceEnableParameter, fenceTypeParameter], parameterRetrySeconds, parameterAttempts);
  private warned = false;
  private events: VehicleEvent[] = [];
  /** Parameter requests (the transfer queues its own messages). */
  private parameterRequests: MavOutbound[] = [];

  constructor(
    private readonly id: string,
    private readonly polygon: readonly LatLon[],
    private readonly target: () => TransferTarget,
  ) {
    this.transfer = new MissionTransfer(target, MavMissionType.FENCE);
  }

  /** Where this link-up's upload stands. */
  get state(): FenceUpload {
    return this.upload;
  }

  /** The link came up: upload again (the autopilot may have rebooted or been given another fence) and read its fence parameters anew. */
  linkUp(): void {
    this.upload = "waiting";
    this.parameters.reset();
    this.warned = false;
  }

  /** The link went down: an upload in progress is given up (the autopilot is told it is cancelled) and made again on the next link-up; no warning, the link loss is announced. */
  linkDown(reason: string): void {
    if (this.transfer.cancel(`the link was lost (${reason})`) !== null) this.upload = "waiting";
  }

  /** A fence-list message or a parameter from the autopilot. */
  receive(message: MavInbound, now: number): void {
    if (message.type === "param_value") {
      if (this.parameters.heard(message.paramId, message.paramValue)) this.judgeEnforcement();
      return;
    }
    this.settle(this.transfer.receive(message, now));
  }

  /** Time passed on a live link: start the upload once `missionIdle` (one transfer at a time), resend what went unanswered, ask the parameters. */
  advance(now: number, missionIdle: boolean): void {
    if (this.upload === "waiting" && missionIdle) {
      this.upload = "uploading";
      this.transfer.upload(fenceItems(this.polygon), now);
    }
    this.settle(this.transfer.advance(now));
    if (this.upload === "uploaded") {
      for (const paramId of this.parameters.due(now)) this.parameterRequests.push({ type: "param_request_read", ...this.target(), paramId });
    }
  }

  /** The messages to send, oldest first. */
  takeOutgoing(): MavOutbound[] {
    const taken = [...this.transfer.takeOutgoing(), ...this.parameterRequests];
    this.parameterRequests = [];
    return taken;
  }

  /** What viewers must hear: warnings when the upload failed or the fence is not enforced. */
  takeEvents(): VehicleEvent[] {
    const taken = this.events;
    this.events = [];
    return taken;
  }

  private settle(outcome: TransferOutcome | null): void {
    if (outcome === null) return;
    if (outcome.kind === "uploaded") {
      this.upload = "uploaded";
      return;
    }
    if (outcome.kind === "upload_failed") {
      this.upload = "failed";
      this.events.push({
        type: "vehicle_warning",
        text: `${this.id} does not hold the geofence polygon: its upload failed (${outcome.reason}). skyport still refuses targets outside it, but if skyport or its link dies the autopilot will not keep ${this.id} inside it`,
      });
    }
  }

  /** Both parameters known: viewers are warned once when the autopilot holds the polygon but does not enforce it. */
  private judgeEnforcement(): void {
    const enabled = this.parameters.value(fenceEnableParameter);
    const type = this.parameters.value(fenceTypeParameter);
    if (enabled === undefined || type === undefined || this.warned) return;
    if (enabled !== 0 && (type & fenceTypePolygonBit) !== 0) return;
    this.warned = true;
    const missing = enabled === 0 ? `${fenceEnableParameter}=0` : `${fenceTypeParameter}=${type} lacks the polygon bit (${fenceTypePolygonBit})`;
    this.events.push({
      type: "vehicle_warning",
      text: `${this.id} holds the geofence polygon but will not enforce it (${missing}): set ${fenceEnableParameter} to 1 and add ${fenceTypePolygonBit} to ${fenceTypeParameter} so the autopilot keeps it inside the polygon if skyport or its link dies`,
    });
  }
}
