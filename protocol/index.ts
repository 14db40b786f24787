/**
 * The `/drone` wire protocol: every message type in both directions, the
 * command table, and the validators that turn untrusted text into typed
 * requests or precise errors.
 *
 * One source of truth, used by the server, the client SDK and the docs.
 * Pure: strings in, values out. No sockets, no clock, no drone state: whether
 * a command makes sense for a drone right now is the model's question.
 */
import type { DroneCommand, FlightState, Vector3 } from "../src/core/drone/types.ts";

/** Bumped whenever a message changes shape or meaning. Sent in `welcome`. */
export const protocolVersion = 1;

/** The subprotocol name `/drone` offers in `Sec-WebSocket-Protocol`. */
export const droneSubprotocol = "skyport.v1.json";

/** Longest request id accepted, in characters, so ids cannot bloat replies. */
export const maxIdLength = 64;

/** Longest drone id accepted anywhere. */
export const maxDroneIdLength = 32;
/**
 * The drone id that means "every drone" in `subscribe`, `unsubscribe` and
 * `?drone=`: one `telemetry_batch` per tick instead of one frame per drone.
 */
export const allDrones = "*";

// ---------------------------------------------------------------- commands

/** One positional argument of a command: name, unit and the range accepted on the wire. */
export interface ArgSpec {
  name: string;
  unit: string;
  min: number;
  max: number;
}

const distance: ArgSpec = { name: "distance", unit: "m", min: 0.1, max: 1000 };
const degrees: ArgSpec = { name: "degrees", unit: "deg", min: 1, max: 360 };

/**
 * Every command, its arguments and a one-line description. The wire ranges
 * only reject nonsense (a distance of 1e300); the drone's own limits (speed
 * ceiling, geofence) are checked by the model with their own error codes.
 */
export const commandSpecs = {
  takeoff: { args: [], help: "take off and hover at 2 m" },
  land: { args: [], help: "descend and land where it is" },
  up: { args: [distance], help: "climb N metres" },
  down: { args: [distance], help: "descend N metres (not below 0.5 m: use land)" },
  left: { args: [distance], help: "fly N metres to the left of the heading" },
  right: { args: [distance], help: "fly N metres to the right of the heading" },
  forward: { args: [distance], help: "fly N metres along the heading" },
  back: { args: [distance], help: "fly N metres backwards" },
  cw: { args: [degrees], help: "turn clockwise N degrees" },
  ccw: { args: [degrees], help: "turn counter-clockwise N degrees" },
  goto: {
    args: [
      { name: "x", unit: "m", min: -10_000, max: 10_000 },
      { name: "y", unit: "m", min: -10_000, max: 10_000 },
      { name: "z", unit: "m", min: 0, max: 10_000 },
    ],
    help: "fly to X Y Z metres from home (x east, y north, z up)",
  },
  speed: { args: [{ name: "speed", unit: "m/s", min: 0.1, max: 100 }], help: "set the horizontal speed limit (max 15 m/s)" },
  hover: { args: [], help: "stop and hold position" },
  rth: { args: [], help: "return to home and land" },
  emergency: { args: [], help: "cut the motors at once (the drone falls)" },
  status: { args: [], help: "report the drone's state" },
} as const satisfies Record<string, { args: readonly ArgSpec[]; help: string }>;

export type CommandName = keyof typeof commandSpecs;
export const commandNames = Object.keys(commandSpecs) as CommandName[];

/** A validated request for a drone: a model command, or `status` which the server answers itself. */
export type DroneRequest = { name: "status" } | DroneCommand;

/** Builds the model command from a validated name and arguments. */
function toRequest(name: CommandName, args: number[]): DroneRequest {
  switch (name) {
    case "up":
    case "down":
    case "left":
    case "right":
    case "forward":
    case "back":
      return { name, distance: args[0]! };
    case "cw":
    case "ccw":
      return { name, degrees: args[0]! };
    case "goto":
      return { name, x: args[0]!, y: args[1]!, z: args[2]! };
    case "speed":
      return { name, metresPerSecond: args[0]! };
    default:
      return { name };
  }
}

/** Formats a request back into the text grammar, e.g. `forward 20`. */
export function formatRequest(request: DroneRequest): string {
  switch (request.name) {
    case "up":
    case "down":
    case "left":
    case "right":
    case "forward":
    case "back":
      return `${request.name} ${request.distance}`;
    case "cw":
    case "ccw":
      return `${request.name} ${request.degrees}`;
    case "goto":
      return `goto ${request.x} ${request.y} ${request.z}`;
    case "speed":
      return `speed ${request.metresPerSecond}`;
    default:
      return request.name;
  }
}

/**
 * Where a model-named argument (`distance`, `z`, `speed`) sits on the wire:
 * `data.args[0]` for JSON (`args[0]` for text lines). Unknown names pass through.
 */
export function wireArgField(command: DroneRequest["name"], field: string, prefix: "data.args" | "args"): string {
  const index = (commandSpecs[command].args as readonly ArgSpec[]).findIndex((spec) => spec.name === field);
  return index === -1 ? field : `${prefix}[${index}]`;
}

// ---------------------------------------------------------------- errors

/** Every error code the server sends, in `error` messages and text replies. */
export type ErrorCode =
  | "invalid_json"
  | "invalid_message"
  | "unknown_type"
  | "unknown_command"
  | "invalid_args"
  | "out_of_range"
  | "invalid_id"
  | "unknown_drone"
  | "not_pilot"
  | "lease_taken"
  | "not_subscribed"
  | "too_many_subscriptions"
  | "rate_limited"
  | "unauthorized"
  | "binary_not_supported"
  /** Cluster: the node simulating the drone did not answer, or no node simulates it right now (failover). */
  | "drone_unavailable"
  // Refusals from the drone model:
  | "not_flying"
  | "already_flying"
  | "geofence"
  | "battery_low"
  | "emergency"
  | "busy";

/** A refusal: what was wrong, and which field of the request it was in. */
export interface ProtocolError {
  code: ErrorCode;
  message: string;
  /** Dotted path of the offending field, e.g. `data.args[0]`. */
  field?: string;
}

function fail(code: ErrorCode, message: string, field?: string): { ok: false; error: ProtocolError } {
  return { ok: false, error: field === undefined ? { code, message } : { code, message, field } };
}

// ---------------------------------------------------------------- client → server

export type RequestId = string | number;

/** Every message a client may send as JSON: `{type, id?, data?}`. */
export type ClientMessage =
  | { type: "command"; id?: RequestId; data: { drone?: string; request: DroneRequest } }
  | {
      type: "subscribe";
      id?: RequestId;
      /** `since` is the last seq seen: a number for one drone, a seq per drone for `allDrones`. */
      data: { drone: string; since?: number | ReadonlyMap<string, number> };
    }
  | { type: "unsubscribe"; id?: RequestId; data: { drone: string } }
  | { type: "claim"; id?: RequestId; data: { drone?: string; token?: string } }
  | { type: "release"; id?: RequestId; data: { drone?: string } }
  | { type: "ping"; id?: RequestId; data: Record<string, never> }
  | { type: "hello"; id?: RequestId; data: { token?: string } };

export type ClientMessageType = ClientMessage["type"];

/** What a text line can ask for: a drone request, or a lease change. */
export type TextLine =
  | { kind: "request"; request: DroneRequest; text: string }
  | { kind: "claim"; text: string }
  | { kind: "release"; text: string };

/** A parsed inbound text frame: a JSON envelope or a line of the text grammar. */
export type ParsedInput =
  | { ok: true; form: "json"; message: ClientMessage }
  | { ok: true; form: "text"; line: TextLine }
  | { ok: false; form: "json" | "text"; error: ProtocolError; id?: RequestId };

/**
 * Parses one inbound text frame. Text starting with `{` is a JSON envelope;
 * anything else is a line of the text grammar (case-insensitive).
 */
export function parseClientFrame(text: string): ParsedInput {
  const trimmed = text.trim();
  if (trimmed.startsWith("{")) return parseEnvelope(trimmed);
  const line = parseTextLine(trimmed);
  return line.ok ? { ok: true, form: "text", line: line.line } : { ok: false, form: "text", error: line.error };
}

/** Parses a line of the text grammar: `takeoff`, `forward 20`, `goto 10 -5 30`, `claim`. */
export function parseTextLine(text: string): { ok: true; line: TextLine } | { ok: false; error: ProtocolError } {
  const words = text.trim().split(/\s+/).filter((word) => word !== "");
  if (words.length === 0) return fail("unknown_command", "empty command: send a command such as takeoff or forward 10");
  const name = words[0]!.toLowerCase();
  const canonical = words.join(" ").toLowerCase();
  if (name === "claim" || name === "release") {
    if (words.length > 1) return fail("invalid_args", `${name} takes no arguments: received ${words.length - 1}`, "args");
    return { ok: true, line: { kind: name, text: canonical } };
  }
  if (!isCommandName(name)) return unknownCommand(words[0]!, "command");
  // Count first: "takeoff now" is best told that takeoff takes no arguments.
  if (words.length - 1 !== commandSpecs[name].args.length) return checkArgs(name, words.slice(1), "args") as { ok: false; error: ProtocolError };
  const args: number[] = [];
  for (let i = 1; i < words.length; i++) {
    const word = words[i]!;
    if (!/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(word)) {
      return fail("invalid_args", `argument ${i} of ${name} must be a number: received ${JSON.stringify(word)}`, `args[${i - 1}]`);
    }
    args.push(Number(word));
  }
  const checked = checkArgs(name, args, "args");
  if (!checked.ok) return checked;
  return { ok: true, line: { kind: "request", request: toRequest(name, args), text: canonical } };
}

function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(commandSpecs, name);
}

function unknownCommand(received: string, field: string): { ok: false; error: ProtocolError } {
  const shown = received.length > 40 ? `${received.slice(0, 40)}...` : received;
  return fail("unknown_command", `unknown command ${JSON.stringify(shown)}: expected one of ${commandNames.join(", ")}`, field);
}

/** Checks argument count, type and range against the command table. */
function checkArgs(name: CommandName, args: unknown[], field: string): { ok: true } | { ok: false; error: ProtocolError } {
  const specs: readonly ArgSpec[] = commandSpecs[name].args;
  if (args.length !== specs.length) {
    const expected = specs.length === 0 ? "no arguments" : specs.map((spec) => `${spec.name} (${spec.unit})`).join(", ");
    return fail("invalid_args", `${name} takes ${expected}: received ${args.length} argument${args.length === 1 ? "" : "s"}`, field);
  }
  for (let i = 0; i < specs.length; i++) {
    const spec = specs[i]!;
    const value = args[i];
    const where = `${field}[${i}]`;
    if (typeof value !== "number") {
      return fail("invalid_args", `${spec.name} of ${name} must be a number, not ${describeType(value)}: received ${preview(value)}`, where);
    }
    if (!Number.isFinite(value)) return fail("invalid_args", `${spec.name} of ${name} must be a finite number: received ${value}`, where);
    if (value < spec.min || value > spec.max) {
      return fail("out_of_range", `${spec.name} of ${name} must be from ${spec.min} to ${spec.max} ${spec.unit}: received ${value}`, where);
    }
  }
  return { ok: true };
}

/** A value's JSON kind with its article, for messages: "a string", "an array", "null". */
function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  const type = typeof value;
  return type === "object" || type === "undefined" ? `an ${type}` : `a ${type}`;
}

/**
 * Shows a received value in an error message. Only primitives are quoted:
 * arrays and objects are described, never serialised, because serialising
 * an untrusted structure costs time the sender controls.
 */
function preview(value: unknown): string {
  if (Array.isArray(value)) return `an array of ${value.length} item${value.length === 1 ? "" : "s"}`;
  if (typeof value === "object" && value !== null) return "an object";
  const text = typeof value === "string" ? JSON.stringify(value.length > 60 ? value.slice(0, 60) : value) : String(value);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

/**
 * Deepest nesting of arrays and objects an envelope may have. A valid one
 * needs 3 (`{"data":{"args":[...]}}`); the margin is for clients that add
 * nothing harmful. Deeper input is refused before `JSON.parse` sees it.
 */
export const maxJsonDepth = 16;

/** The deepest `[`/`{` nesting in JSON text, ignoring brackets inside strings. Linear, no allocation. */
export function jsonNestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \\ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 /* [ */ || c === 123 /* { */) {
      if (++depth > deepest) deepest = depth;
    } else if (c === 93 /* ] */ || c === 125 /* } */) depth--;
  }
  return deepest;
}

const envelopeKeys = new Set(["type", "id", "data"]);
const dataKeys: Record<ClientMessageType, readonly string[]> = {
  command: ["drone", "name", "args"],
  subscribe: ["drone", "since"],
  unsubscribe: ["drone"],
  claim: ["drone", "token"],
  release: ["drone"],
  ping: [],
  hello: ["token"],
};

/** Parses and validates a JSON envelope, naming the offending field on failure. */
export function parseEnvelope(text: string): ParsedInput {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, form: "json", error: { code: "invalid_json", message: "the message is not valid JSON" } };
  }
  // Deep structures are refused before anything walks them (the id is still
  // honoured, so the refusal can be correlated).
  if (jsonNestingDepth(text) > maxJsonDepth) {
    const error: ProtocolError = { code: "invalid_message", message: `the message nests arrays and objects deeper than ${maxJsonDepth} levels` };
    const id = isPlainObject(value) ? checkId(value) : null;
    return { ok: false, form: "json", error, ...(id?.ok && id.id !== undefined ? { id: id.id } : {}) };
  }
  const result = validateEnvelope(value);
  if (result.ok) return { ok: true, form: "json", message: result.message };
  return { ok: false, form: "json", error: result.error, ...(result.id !== undefined ? { id: result.id } : {}) };
}

type EnvelopeResult = { ok: true; message: ClientMessage } | { ok: false; error: ProtocolError; id?: RequestId };

function validateEnvelope(value: unknown): EnvelopeResult {
  if (!isPlainObject(value)) {
    return fail("invalid_message", `a message must be a JSON object {"type", "id", "data"}: received ${describeType(value)}`);
  }
  const idCheck = checkId(value);
  if (!idCheck.ok) return idCheck;
  const id = idCheck.id;
  const withId = (error: { ok: false; error: ProtocolError }): EnvelopeResult => (id === undefined ? error : { ...error, id });

  for (const key of Object.keys(value)) {
    if (!envelopeKeys.has(key)) return withId(fail("invalid_message", `unknown field ${JSON.stringify(key)}: a message has only type, id and data`, key));
  }
  const type = value.type;
  if (typeof type !== "string") return withId(fail("invalid_message", `type must be a string: received ${preview(type)}`, "type"));
  if (!Object.hasOwn(dataKeys, type)) {
    return withId(fail("unknown_type", `unknown type ${preview(type)}: expected one of ${Object.keys(dataKeys).join(", ")}`, "type"));
  }
  const messageType = type as ClientMessageType;
  const data = value.data ?? {};
  if (!isPlainObject(data)) return withId(fail("invalid_message", `data must be an object: received ${describeType(data)}`, "data"));
  const allowed = dataKeys[messageType];
  for (const key of Object.keys(data)) {
    if (!allowed.includes(key)) {
      const expected = allowed.length === 0 ? "no fields" : allowed.join(", ");
      return withId(fail("invalid_message", `unknown field data.${key} for ${messageType}: expected ${expected}`, `data.${key}`));
    }
  }
  const drone = checkDroneField(data, messageType === "subscribe" || messageType === "unsubscribe");
  if (!drone.ok) return withId(drone);
  const base = id === undefined ? {} : { id };

  switch (messageType) {
    case "command": {
      const name = data.name;
      if (typeof name !== "string") return withId(fail("invalid_args", `data.name must be a command name: received ${preview(name)}`, "data.name"));
      const lower = name.toLowerCase();
      if (!isCommandName(lower)) return withId(unknownCommand(name, "data.name"));
      const args = data.args ?? [];
      if (!Array.isArray(args)) return withId(fail("invalid_args", `data.args must be an array of numbers: received ${describeType(args)}`, "data.args"));
      const checked = checkArgs(lower, args, "data.args");
      if (!checked.ok) return withId(checked);
      return { ok: true, message: { type: "command", ...base, data: { ...droneOf(drone.drone), request: toRequest(lower, args as number[]) } } };
    }
    case "subscribe": {
      const since = drone.drone === allDrones ? checkSinceByDrone(data.since) : checkSince(data.since);
      if (!since.ok) return withId(since);
      return { ok: true, message: { type: "subscribe", ...base, data: { drone: drone.drone!, ...(since.since === undefined ? {} : { since: since.since }) } } };
    }
    case "unsubscribe":
      return { ok: true, message: { type: "unsubscribe", ...base, data: { drone: drone.drone! } } };
    case "claim":
    case "hello": {
      const token = data.token;
      if (token !== undefined && (typeof token !== "string" || token.length > 256)) {
        return withId(fail("invalid_args", "data.token must be a string of at most 256 characters", "data.token"));
      }
      const tokenPart = token === undefined ? {} : { token };
      if (messageType === "hello") return { ok: true, message: { type: "hello", ...base, data: tokenPart } };
      return { ok: true, message: { type: "claim", ...base, data: { ...droneOf(drone.drone), ...tokenPart } } };
    }
    case "release":
      return { ok: true, message: { type: "release", ...base, data: droneOf(drone.drone) } };
    case "ping":
      return { ok: true, message: { type: "ping", ...base, data: {} } };
  }
}

function droneOf(drone: string | undefined): { drone?: string } {
  return drone === undefined ? {} : { drone };
}

function checkId(value: Record<string, unknown>): { ok: true; id?: RequestId } | { ok: false; error: ProtocolError } {
  if (!Object.hasOwn(value, "id")) return { ok: true };
  const id = value.id;
  if (typeof id === "string" && id.length > 0 && id.length <= maxIdLength) return { ok: true, id };
  if (typeof id === "number" && Number.isSafeInteger(id)) return { ok: true, id };
  return fail("invalid_id", `id must be a string of 1 to ${maxIdLength} characters or a whole number: received ${preview(id)}`, "id");
}

function checkDroneField(data: Record<string, unknown>, required: boolean): { ok: true; drone?: string } | { ok: false; error: ProtocolError } {
  const drone = data.drone;
  if (drone === undefined) {
    return required ? fail("invalid_args", "data.drone is required: name the drone, e.g. \"alpha\"", "data.drone") : { ok: true };
  }
  if (typeof drone !== "string" || drone.length === 0 || drone.length > maxDroneIdLength) {
    return fail("invalid_args", `data.drone must be a drone id of 1 to ${maxDroneIdLength} characters: received ${preview(drone)}`, "data.drone");
  }
  return { ok: true, drone };
}

function isSeq(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function checkSince(since: unknown): { ok: true; since?: number } | { ok: false; error: ProtocolError } {
  if (since === undefined || isSeq(since)) return { ok: true, since };
  return fail("invalid_args", `data.since must be a whole number >= 0 (the last seq you saw): received ${preview(since)}`, "data.since");
}

/** `since` for the all-drones subscription: `{"<drone>": <last seq seen>, ...}`. */
function checkSinceByDrone(since: unknown): { ok: true; since?: ReadonlyMap<string, number> } | { ok: false; error: ProtocolError } {
  if (since === undefined) return { ok: true };
  if (!isPlainObject(since)) {
    return fail("invalid_args", `data.since for drone "*" must be an object of the last seq seen per drone, e.g. {"alpha": 41}: received ${describeType(since)}`, "data.since");
  }
  const seqs = new Map<string, number>();
  for (const [drone, seq] of Object.entries(since)) {
    if (drone.length === 0 || drone.length > maxDroneIdLength) {
      return fail("invalid_args", `data.since keys must be drone ids of 1 to ${maxDroneIdLength} characters: received ${preview(drone)}`, "data.since");
    }
    if (!isSeq(seq)) return fail("invalid_args", `data.since.${drone} must be a whole number >= 0 (the last seq you saw): received ${preview(seq)}`, `data.since.${drone}`);
    seqs.set(drone, seq);
  }
  return { ok: true, since: seqs };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Whether a string is acceptable as a drone id in `--drones`: lowercase letters, digits, `-` and `_`. */
export function isValidDroneId(id: string): boolean {
  return id.length > 0 && id.length <= maxDroneIdLength && /^[a-z0-9][a-z0-9_-]*$/.test(id);
}

// ---------------------------------------------------------------- server → client

/** Role of a session for a drone. */
export type Role = "pilot" | "observer";

/** A drone as listed in `welcome`. */
export interface DroneSummary {
  id: string;
  state: FlightState;
  /** Session id of the pilot, or null when nobody flies it. */
  pilot: string | null;
  /** Latest telemetry seq published, or null before the first frame. */
  seq: number | null;
}

/** Server limits announced in `welcome`, so clients can pace themselves. */
export interface AnnouncedLimits {
  maxMessageBytes: number;
  commandsPerSecond: number;
  telemetryHz: number;
  replayBufferFrames: number;
  failsafeSeconds: number;
  maxSubscriptions: number;
  /** Geofence ceiling above home, metres: targets above it are refused. */
  maxAltitudeMetres: number;
  /** Geofence radius around home, metres: targets beyond it are refused. */
  maxRadiusMetres: number;
}

/** One telemetry frame: everything a viewer needs to draw the drone. Positions in metres, speeds m/s. */
export interface TelemetryData {
  drone: string;
  /** Strictly increasing per drone, with no gaps for a subscriber that keeps up. */
  seq: number;
  /** Server time, Unix milliseconds. */
  time: number;
  state: FlightState;
  position: Vector3;
  velocity: Vector3;
  /** Degrees [0, 360), 0 = north, clockwise. */
  heading: number;
  /** Horizontal ground speed, m/s. */
  speed: number;
  /** Percent. */
  battery: number;
  flags: { lowBattery: boolean; criticalBattery: boolean; emergencyStopped: boolean; failsafe: boolean };
  /** Where the current command ends, if one is in progress. */
  target: (Vector3 & { heading: number }) | null;
  /** Session id of the pilot, or null. */
  pilot: string | null;
}

/** The kinds of `event` message. */
export type EventKind =
  | "failsafe"
  | "pilot_regained"
  | "geofence"
  | "low_battery"
  | "critical_battery"
  | "landed"
  | "frames_lost"
  | "frames_dropped"
  | "stream_reset"
  | "failover"
  /** A vehicle that reports its state (not the simulator) stopped being heard, or was heard again. */
  | "link_lost"
  | "link_regained";

/** Every message the server sends. */
export type ServerMessage =
  | {
      type: "welcome";
      data: {
        session: string;
        role: Role;
        protocolVersion: number;
        drones: DroneSummary[];
        subscribed: string[];
        limits: AnnouncedLimits;
      };
    }
  | { type: "ack"; id?: RequestId; data: Record<string, unknown> }
  | { type: "done"; id?: RequestId; data: { drone: string; command: string; status: "completed" | "failed"; reason?: string } }
  | { type: "error"; id?: RequestId; data: ProtocolError }
  | { type: "telemetry"; data: TelemetryData }
  /** Every drone's frame of one tick, for the all-drones subscription. */
  | { type: "telemetry_batch"; data: { time: number; frames: TelemetryData[] } }
  | { type: "lease"; data: { drone: string; pilot: string | null; reason: string } }
  | { type: "event"; data: { drone: string; kind: EventKind; message: string } & Record<string, unknown> }
  | { type: "pong"; id?: RequestId; data: { time: number } };

/** Serialises a server message, with the request id when there is one. */
export function encodeMessage(type: ServerMessage["type"], data: unknown, id?: RequestId): string {
  return JSON.stringify(id === undefined ? { type, data } : { type, id, data });
}

/** Serialises an error reply, with the request id when there was a valid one. */
export function errorMessage(error: ProtocolError, id?: RequestId): string {
  return encodeMessage("error", error, id);
}

/** The text-grammar reply for an error: `error <code>: <message>`. */
export function errorLine(error: ProtocolError): string {
  return `error ${error.code}: ${error.message}`;
}
