/**
 * The MAVLink mission protocol, ground station side, as a state machine with
 * time as arguments: an upload (MISSION_COUNT, then one MISSION_ITEM_INT per
 * MISSION_REQUEST_INT, until MISSION_ACK) and a download
 * (MISSION_REQUEST_LIST, MISSION_COUNT, then MISSION_REQUEST_INT for each
 * MISSION_ITEM_INT, then our MISSION_ACK), and a clear (MISSION_CLEAR_ALL,
 * until MISSION_ACK).
 *
 * Owns one transfer at a time (a second is refused: `busy`), its timeouts
 * and resends, and cancelling a transfer that gave up (a MISSION_ACK
 * OPERATION_CANCELLED, so the autopilot stops waiting). It does not know
 * what the items mean (`mission-items.ts` does) nor what the vehicle does
 * with a finished transfer. Pure: no clock, no I/O; what to send is queued
 * for the caller to take.
 */
import { MavMissionResult, mavMissionResultNames, MavMissionType, type MavInbound, type MavMissionItem, type MavOutbound } from "./messages.ts";

/** How long to wait for the autopilot's next message in a transfer before sending again, seconds (QGroundControl waits 1.5 s too). */
export const transferRetrySeconds = 1.5;
/** How many times one message is sent again before the transfer gives up (QGroundControl's count): 1.5 s × 6 = 9 s of silence at most. */
export const transferMaxRetries = 5;

/** How a transfer ended. */
export type TransferOutcome =
  | { kind: "uploaded"; count: number }
  | { kind: "upload_failed"; reason: string }
  | { kind: "downloaded"; items: MavMissionItem[] }
  | { kind: "download_failed"; reason: string }
  | { kind: "cleared" }
  | { kind: "clear_failed"; reason: string };

type Transfer =
  | { kind: "upload"; items: readonly MavMissionItem[]; requested: number; last: MavOutbound; sentAt: number; retries: number }
  | { kind: "download"; count: number | null; items: MavMissionItem[]; last: MavOutbound; sentAt: number; retries: number }
  | { kind: "clear"; last: MavOutbound; sentAt: number; retries: number };

/** Where a transfer's messages go: the autopilot's system and component. */
export interface TransferTarget {
  targetSystem: number;
  targetComponent: number;
}

export class MissionTransfer {
  private transfer: Transfer | null = null;
  private outbox: MavOutbound[] = [];

  /** `missionType`: the list this transfer moves (MAV_MISSION_TYPE: 0 the mission, 1 the fence); messages about other lists are not its own. */
  constructor(
    private readonly target: () => TransferTarget,
    private readonly missionType: number = MavMissionType.MISSION,
  ) {}

  /** Whether a transfer is in progress. */
  get busy(): boolean {
    return this.transfer !== null;
  }

  /** What the transfer in progress is, for refusals: `upload`, `download` or `clear`. */
  get inProgress(): Transfer["kind"] | null {
    return this.transfer?.kind ?? null;
  }

  /** Starts an upload of `items` (their `seq` from 0, in order); false when a transfer is already in progress. */
  upload(items: readonly MavMissionItem[], now: number): boolean {
    if (this.transfer !== null) return false;
    const count: MavOutbound = { type: "mission_count", ...this.addressed(), count: items.length };
    this.transfer = { kind: "upload", items, requested: -1, last: count, sentAt: now, retries: 0 };
    this.outbox.push(count);
    return true;
  }

  /** Starts a download of the vehicle's mission; false when a transfer is already in progress. */
  download(now: number): boolean {
    if (this.transfer !== null) return false;
    const request: MavOutbound = { type: "mission_request_list", ...this.addressed() };
    this.transfer = { kind: "download", count: null, items: [], last: request, sentAt: now, retries: 0 };
    this.outbox.push(request);
    return true;
  }

  /** Asks the autopilot to clear its mission (MISSION_CLEAR_ALL); false when a transfer is already in progress. */
  clear(now: number): boolean {
    if (this.transfer !== null) return false;
    const clear: MavOutbound = { type: "mission_clear_all", ...this.addressed() };
    this.transfer = { kind: "clear", last: clear, sentAt: now, retries: 0 };
    this.outbox.push(clear);
    return true;
  }

  /** A message from the autopilot; the transfer's outcome when this ended it. Messages of other mission types, or with no transfer, are ignored. */
  receive(message: MavInbound, now: number): TransferOutcome | null {
    const transfer = this.transfer;
    if (transfer === null) return null;
    if ((message.type === "mission_request" || message.type === "mission_ack" || message.type === "mission_count" || message.type === "mission_item") && message.missionType !== this.missionType) return null;
    if (transfer.kind === "upload") return this.uploadReceives(transfer, message, now);
    if (transfer.kind === "clear") return this.clearReceives(message);
    return this.downloadReceives(transfer, message, now);
  }

  /** Time passed: the last message is sent again after `transferRetrySeconds` of silence, and the transfer gives up (cancelled) after `transferMaxRetries` resends. */
  advance(now: number): TransferOutcome | null {
    const transfer = this.transfer;
    if (transfer === null || now - transfer.sentAt < transferRetrySeconds) return null;
    if (transfer.retries >= transferMaxRetries) {
      const waitedFor =
        transfer.kind === "clear"
          ? "a MISSION_ACK to MISSION_CLEAR_ALL"
          : transfer.kind === "upload"
            ? transfer.requested < 0
              ? "a request for the first item"
              : `a request after item ${transfer.requested}`
            : transfer.count === null
              ? "the mission's item count"
              : `item ${transfer.items.length}`;
      return this.cancel(`the autopilot did not answer with ${waitedFor} after ${transferMaxRetries + 1} tries ${transferRetrySeconds} s apart`);
    }
    transfer.retries += 1;
    transfer.sentAt = now;
    this.outbox.push(transfer.last);
    return null;
  }

  /** Gives up on the transfer in progress (the link went down, or it timed out): the autopilot is told an upload or download is cancelled (a clear is one message: nothing to cancel). */
  cancel(reason: string): TransferOutcome | null {
    const transfer = this.transfer;
    if (transfer === null) return null;
    this.transfer = null;
    if (transfer.kind === "clear") return { kind: "clear_failed", reason: `clear given up: ${reason}` };
    this.outbox.push({ type: "mission_ack", ...this.addressed(), result: MavMissionResult.OPERATION_CANCELLED });
    return transfer.kind === "upload" ? { kind: "upload_failed", reason: `upload cancelled: ${reason}` } : { kind: "download_failed", reason: `download cancelled: ${reason}` };
  }

  /** Where this transfer's messages go, and which list they are about (the mission's type is left implicit, as MAVLink 1 had it). */
  private addressed(): TransferTarget & { missionType?: number } {
    return this.missionType === MavMissionType.MISSION ? this.target() : { ...this.target(), missionType: this.missionType };
  }

  /** The messages to send, oldest first. */
  takeOutgoing(): MavOutbound[] {
    const taken = this.outbox;
    this.outbox = [];
    return taken;
  }

  private uploadReceives(transfer: Extract<Transfer, { kind: "upload" }>, message: MavInbound, now: number): TransferOutcome | null {
    if (message.type === "mission_request") {
      const item = transfer.items[message.seq];
      if (item === undefined) return this.cancel(`the autopilot asked for item ${message.seq} of ${transfer.items.length}`);
      // A request for the same item again (our item was lost) is answered again; never one further back than that.
      if (message.seq < transfer.requested) return null;
      const sent: MavOutbound = { type: "mission_item", ...this.addressed(), ...item };
      transfer.requested = message.seq;
      transfer.last = sent;
      transfer.sentAt = now;
      transfer.retries = 0;
      this.outbox.push(sent);
      return null;
    }
    if (message.type === "mission_ack") {
      this.transfer = null;
      if (message.result === MavMissionResult.ACCEPTED) return { kind: "uploaded", count: transfer.items.length };
      return { kind: "upload_failed", reason: `the autopilot refused the mission: ${resultName(message.result)}` };
    }
    return null;
  }

  private clearReceives(message: MavInbound): TransferOutcome | null {
    if (message.type !== "mission_ack") return null;
    this.transfer = null;
    if (message.result === MavMissionResult.ACCEPTED) return { kind: "cleared" };
    return { kind: "clear_failed", reason: `the autopilot refused to clear its mission: ${resultName(message.result)}` };
  }

  private downloadReceives(transfer: Extract<Transfer, { kind: "download" }>, message: MavInbound, now: number): TransferOutcome | null {
    if (message.type === "mission_count" && transfer.count === null) {
      transfer.count = message.count;
      return this.requestNext(transfer, now);
    }
    if (message.type === "mission_item" && transfer.count !== null && message.seq === transfer.items.length) {
      const { seq, frame, command, current, autocontinue, params, x, y, z } = message;
      transfer.items.push({ seq, frame, command, current, autocontinue, params, x, y, z });
      return this.requestNext(transfer, now);
    }
    if (message.type === "mission_ack" && message.result !== MavMissionResult.ACCEPTED) {
      this.transfer = null;
      return { kind: "download_failed", reason: `the autopilot stopped the download: ${resultName(message.result)}` };
    }
    return null;
  }

  /** Asks for the next item, or ends the download (our MISSION_ACK) once every item is in. */
  private requestNext(transfer: Extract<Transfer, { kind: "download" }>, now: number): TransferOutcome | null {
    if (transfer.items.length >= transfer.count!) {
      this.transfer = null;
      this.outbox.push({ type: "mission_ack", ...this.addressed(), result: MavMissionResult.ACCEPTED });
      return { kind: "downloaded", items: transfer.items };
    }
    const request: MavOutbound = { type: "mission_request", ...this.addressed(), seq: transfer.items.length };
    transfer.last = request;
    transfer.sentAt = now;
    transfer.retries = 0;
    this.outbox.push(request);
    return null;
  }
}

function resultName(result: number): string {
  return mavMissionResultNames[result] ?? `MAV_MISSION_RESULT ${result}`;
}
