/**
 * Every format the cluster writes to Redis, as encode/decode pairs: the bus
 * messages (a tick's frames, a lease or event notice, a closed session), the
 * entries of a drone's stored frame list, the pilot record, the mission record, the owner report
 * and fencing epoch of the ownership script, and the JSON messages on a node's own channel
 * (a forwarded op, its reply, a command's `done`).
 *
 * Pure: strings in, values out. No Redis, no clock, no sockets. Decoders
 * never throw: anything malformed (truncated, an unknown kind, a seq that is
 * not a non-negative safe integer) decodes to null, because the bytes come
 * from the network and a bad message must cost one message, not the node.
 *
 * The text formats are tab-separated with one frame per line. That is safe
 * because ids never hold a tab or a newline (config and the handshake check
 * them), a stream epoch is base64url, and a frame's `dataJson` is
 * `JSON.stringify` output, which escapes both inside strings.
 *
 * A frame carries its stream epoch between its seq and its JSON
 * (`seq<TAB>epoch<TAB>{...}`); an entry written before epochs existed has
 * none (`seq<TAB>{...}`: its third part starts with `{`) and still decodes.
 */
import type { DroneOp, OpResult } from "../../core/fleet/ops.ts";
import { isIdentity } from "../../core/identity/rights.ts";
import type { MissionRecord, TickEntry } from "./broker.ts";
import type { MissionProgress, MissionState } from "../../core/mission/mission.ts";
import { checkMissionItems, isEpoch, type TelemetryData } from "../../../protocol/index.ts";

/** A message on the shared bus channel, decoded. `node` is the sender. */
export type BusMessage =
  /** One tick of frames from the node that simulates those drones. */
  | { kind: "tick"; node: string; timeMs: number; entries: TickEntry[] }
  /** A lease or event message (JSON, an object with a `type`) for a drone's viewers. */
  | { kind: "notice"; node: string; drone: string; text: string }
  /** A session that sent ops to other nodes closed. */
  /** `reason`: why its leases end (`pilot silent for 5 s ...`); absent from nodes before it was added, meaning `pilot disconnected`. */
  | { kind: "session_closed"; node: string; session: string; reason?: string };

/** A message on one node's own channel. */
export type NodeMessage =
  /** Run `op` on a drone you simulate and reply to `from` with `corr`; refuse it unrun once the wall clock passed `expiresAtMs` (its sender gave up). */
  | { kind: "op"; corr: number; from: string; op: DroneOp; expiresAtMs?: number }
  /** The result of the op sent with `corr`. */
  | { kind: "reply"; corr: number; result: OpResult }
  /** A command's `done` message (already JSON) for a session connected to you. */
  | { kind: "done"; session: string; text: string };

/** Who flies a drone, as recorded for a node that takes it over. */
export interface PilotRecord {
  session: string;
  /** The node the pilot's socket is connected to. */
  node: string;
}

/** One drone's owner as the ownership script reports it. */
export interface OwnerReport {
  /** The node that owns the drone now, or null if nobody does. */
  owner: string | null;
  /** True when the reporting node took the drone in this very round. */
  taken: boolean;
}

const tab = "\t";
const newline = "\n";
const kindTag = { tick: "T", notice: "N", session_closed: "C" } as const;

// ------------------------------------------------------------ bus messages

/**
 * A tick's frames from `node`, all in one message: a header line, then one
 * `drone<TAB>seq<TAB>epoch<TAB>dataJson` line per frame.
 * @example encodeTick("a", 1700000000000, [{ drone: "alpha", seq: 7, epoch: "E1", dataJson: "{}" }]) // "T\ta\t1700000000000\nalpha\t7\tE1\t{}"
 */
export function encodeTick(node: string, timeMs: number, entries: readonly TickEntry[]): string {
  let text = `${kindTag.tick}${tab}${node}${tab}${Math.round(timeMs)}${newline}`;
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    text += `${i === 0 ? "" : newline}${entry.drone}${tab}${encodeStoredFrame(entry)}`;
  }
  return text;
}

/** A lease or event message for a drone's viewers on the other nodes. */
export function encodeNotice(node: string, drone: string, text: string): string {
  return `${kindTag.notice}${tab}${node}${tab}${drone}${tab}${text}`;
}

/** A session of `node` that sent ops to other nodes has closed (or was dropped as a pilot, for `reason`). */
export function encodeSessionClosed(node: string, session: string, reason?: string): string {
  const said = reason === undefined ? "" : `${tab}${reason.replace(/[\t\n]/g, " ")}`;
  return `${kindTag.session_closed}${tab}${node}${tab}${session}${said}`;
}

/**
 * The node that sent a bus message, read from its header without decoding
 * the rest (a node hears its own broadcasts and drops them unread); null if
 * the header is malformed.
 */
export function busSender(message: string): string | null {
  if (message.length < 2 || message[1] !== tab) return null;
  const nodeEnd = message.indexOf(tab, 2);
  const lineEnd = message.indexOf(newline);
  if (nodeEnd <= 2 || (lineEnd !== -1 && lineEnd < nodeEnd)) return null;
  return message.slice(2, nodeEnd);
}

/**
 * Decodes a bus message; null if its kind is unknown or its header is
 * malformed. A tick's frame line that is malformed is dropped and the
 * others are kept, as a frame lost on the way would be.
 */
export function decodeBusMessage(message: string): BusMessage | null {
  const node = busSender(message);
  if (node === null) return null;
  const rest = message.slice(2 + node.length + 1);
  switch (message[0]) {
    case kindTag.tick: {
      const headerEnd = rest.indexOf(newline);
      if (headerEnd === -1) return null; // truncated: no frame section at all
      const timeMs = parseNonNegativeInteger(rest.slice(0, headerEnd));
      if (timeMs === null) return null;
      const entries: TickEntry[] = [];
      const body = rest.slice(headerEnd + 1);
      if (body.length > 0) {
        for (const line of body.split(newline)) {
          const entry = decodeFrameLine(line);
          if (entry) entries.push(entry);
        }
      }
      return { kind: "tick", node, timeMs, entries };
    }
    case kindTag.notice: {
      const droneEnd = rest.indexOf(tab);
      if (droneEnd <= 0) return null;
      const text = rest.slice(droneEnd + 1);
      // Notices are rare (leases and events), so each is checked to be a message: the node parses it.
      const parsed = parseJson(text);
      return isRecord(parsed) && typeof parsed.type === "string" ? { kind: "notice", node, drone: rest.slice(0, droneEnd), text } : null;
    }
    case kindTag.session_closed: {
      if (rest.includes(newline)) return null;
      const [session = "", reason, ...more] = rest.split(tab);
      if (session === "" || more.length > 0 || reason === "") return null;
      return reason === undefined ? { kind: "session_closed", node, session } : { kind: "session_closed", node, session, reason };
    }
    default:
      return null;
  }
}

// ------------------------------------------------------------ stored frames

/** One entry of a drone's capped frame list: `seq<TAB>epoch<TAB>dataJson` (the drone is in the key). */
export function encodeStoredFrame(entry: Pick<TickEntry, "seq" | "epoch" | "dataJson">): string {
  return entry.epoch === undefined ? `${entry.seq}${tab}${entry.dataJson}` : `${entry.seq}${tab}${entry.epoch}${tab}${entry.dataJson}`;
}

/**
 * Decodes an entry of `drone`'s frame list; null for anything malformed.
 * The frame's JSON is relayed as it is, not parsed: it is the hot path.
 */
export function decodeStoredFrame(drone: string, stored: string): TickEntry | null {
  const seqEnd = stored.indexOf(tab);
  if (seqEnd <= 0) return null;
  const seq = parseNonNegativeInteger(stored.slice(0, seqEnd));
  if (seq === null) return null;
  if (stored.charCodeAt(seqEnd + 1) === 123 /* { */) return { drone, seq, dataJson: stored.slice(seqEnd + 1) }; // written before epochs
  const epochEnd = stored.indexOf(tab, seqEnd + 1);
  if (epochEnd === -1) return null;
  const epoch = stored.slice(seqEnd + 1, epochEnd);
  const dataJson = stored.slice(epochEnd + 1);
  return isEpoch(epoch) && dataJson.length > 0 ? { drone, seq, epoch, dataJson } : null;
}

/**
 * A stored frame's data, parsed for a node that takes the drone over; null
 * if it is not a JSON object with a non-negative integer `seq`.
 */
export function decodeFrameData(dataJson: string): TelemetryData | null {
  const value = parseJson(dataJson);
  return isRecord(value) && typeof value.seq === "number" && Number.isSafeInteger(value.seq) && value.seq >= 0 ? (value as unknown as TelemetryData) : null;
}

/** Decodes a tick's `drone<TAB>seq<TAB>dataJson` line; null for anything malformed. */
function decodeFrameLine(line: string): TickEntry | null {
  const droneEnd = line.indexOf(tab);
  if (droneEnd <= 0) return null;
  return decodeStoredFrame(line.slice(0, droneEnd), line.slice(droneEnd + 1));
}

// ------------------------------------------------------------ pilot record and owner report

/** A drone's pilot record: `session<TAB>node`. */
export function encodePilotRecord(record: PilotRecord): string {
  return `${record.session}${tab}${record.node}`;
}

/** Decodes a pilot record; null for a missing or malformed one. */
export function decodePilotRecord(stored: unknown): PilotRecord | null {
  if (typeof stored !== "string") return null;
  const parts = stored.split(tab);
  if (parts.length !== 2 || !parts[0] || !parts[1]) return null;
  return { session: parts[0], node: parts[1] };
}

// ------------------------------------------------------------ mission record

const missionStates: ReadonlySet<string> = new Set<MissionState>(["ready", "running", "paused", "completed", "aborted"]);

/** A mission record as JSON: `{"items":[...],"progress":{"current","reached","distanceToGo","etaSeconds","state","reason"?}|null}`. */
export function encodeMissionRecord(record: MissionRecord): string {
  return JSON.stringify({ items: record.items, progress: record.progress });
}

/**
 * Decodes a mission record; null for a missing or malformed one. The items
 * pass the same checks as a pilot's upload; the progress must point inside
 * them.
 */
export function decodeMissionRecord(stored: unknown): MissionRecord | null {
  const value = typeof stored === "string" ? parseJson(stored) : null;
  if (!isRecord(value)) return null;
  const items = checkMissionItems(value.items);
  if (!items.ok) return null;
  if (value.progress === null) return { items: items.items, progress: null };
  const progress = value.progress;
  if (!isRecord(progress) || typeof progress.state !== "string" || !missionStates.has(progress.state)) return null;
  const index = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 0 && n <= items.items.length;
  if (!index(progress.current) || !Array.isArray(progress.reached) || !progress.reached.every((n) => index(n) && n < items.items.length)) return null;
  if (progress.reason !== undefined && typeof progress.reason !== "string") return null;
  const measure = (n: unknown): n is number => typeof n === "number" && Number.isFinite(n) && n >= 0;
  if (!measure(progress.distanceToGo) || !measure(progress.etaSeconds)) return null;
  const decoded: MissionProgress = { current: progress.current, reached: progress.reached as number[], distanceToGo: progress.distanceToGo, etaSeconds: progress.etaSeconds, state: progress.state as MissionState };
  return { items: items.items, progress: typeof progress.reason === "string" ? { ...decoded, reason: progress.reason } : decoded };
}

/**
 * Decodes one drone's entry of the ownership script's reply: the owner's
 * node id, `+` and the id when the caller just took the drone, or an empty
 * string when nobody owns it.
 */
export function decodeOwnerReport(reported: unknown): OwnerReport {
  if (typeof reported !== "string" || reported === "" || reported === "+") return { owner: null, taken: false };
  const taken = reported.startsWith("+");
  return { owner: taken ? reported.slice(1) : reported, taken };
}

/** A drone's fencing epoch as the ownership script reports it (a decimal string); 0 for a missing or malformed one. */
export function decodeOwnerEpoch(reported: unknown): number {
  return typeof reported === "string" ? (parseNonNegativeInteger(reported) ?? 0) : 0;
}

// ------------------------------------------------------------ node channel

/** A node-channel message as JSON. */
export function encodeNodeMessage(message: NodeMessage): string {
  return JSON.stringify(message);
}

/** Decodes a node-channel message; null if it is not JSON or not one of the three shapes. */
export function decodeNodeMessage(text: string): NodeMessage | null {
  const value = parseJson(text);
  if (!isRecord(value)) return null;
  switch (value.kind) {
    case "op":
      if (!isCorrelation(value.corr) || !isId(value.from) || !isDroneOp(value.op)) return null;
      if (value.expiresAtMs === undefined) return { kind: "op", corr: value.corr, from: value.from, op: value.op };
      return isCorrelation(value.expiresAtMs) ? { kind: "op", corr: value.corr, from: value.from, op: value.op, expiresAtMs: value.expiresAtMs } : null;
    case "reply":
      return isCorrelation(value.corr) && isOpResult(value.result) ? { kind: "reply", corr: value.corr, result: value.result } : null;
    case "done":
      return isId(value.session) && typeof value.text === "string" ? { kind: "done", session: value.session, text: value.text } : null;
    default:
      return null;
  }
}

/** An op with its sender's identity: an op without one is refused unrun (the owner decides on the sender's rights). */
function isDroneOp(value: unknown): value is DroneOp {
  if (!isRecord(value) || !isId(value.drone) || !isIdentity(value.identity)) return false;
  switch (value.kind) {
    case "claim":
    case "release":
      return isId(value.session);
    case "command":
      return isId(value.session) && isRecord(value.command) && typeof value.label === "string" && typeof value.form === "string";
    case "mission":
      return isId(value.session) && isRecord(value.command) && typeof value.command.action === "string" && typeof value.label === "string";
    default:
      return false;
  }
}

function isOpResult(value: unknown): value is OpResult {
  if (!isRecord(value)) return false;
  if (value.ok === true) return isRecord(value.data);
  return value.ok === false && isRecord(value.error) && typeof value.error.code === "string" && typeof value.error.message === "string";
}

// ------------------------------------------------------------ small checks

/** The parsed JSON, or undefined if `text` is not JSON. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isId(value: unknown): value is string {
  return typeof value === "string" && value.length > 0;
}

function isCorrelation(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0;
}

/** A non-negative safe integer written in plain decimal digits, or null. */
function parseNonNegativeInteger(text: string): number | null {
  if (text.length === 0 || text.length > 16 || !/^\d+$/.test(text)) return null;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : null;
}
