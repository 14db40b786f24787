/**
 * JSON envelopes in: `{type, id?, data?}` text from an untrusted client
 * turned into a validated `ClientMessage`, or a precise error naming the
 * offending field. Also the nesting-depth guard that refuses deep input
 * before anything walks it, and the id limits.
 *
 * The message shapes are `WireClientData` (messages.ts); the keys allowed in
 * each type's data are derived from it, checked by the compiler. Pure.
 */
import { buildRequest, checkArgs, isCommandName, unknownCommand, type DroneRequest } from "./commands.ts";
import type { ProtocolError } from "./errors.ts";
import { describeType, failure, preview } from "./received.ts";
import { allDrones, maxHzRange, type ClientMessageType, type RequestId, type WireClientData } from "./messages.ts";
import { keyListOf } from "./shapes.ts";
import { checkMissionItems } from "./missions.ts";
import { checkReplayControl, checkReplayStart, checkReplayStop, isReplayId } from "./replays.ts";

/** Longest request id accepted, in characters, so ids cannot bloat replies. */
export const maxIdLength = 64;

/** Longest drone id accepted anywhere. */
export const maxDroneIdLength = 32;

/**
 * Longest stream epoch accepted in `subscribe`, characters. The server's are
 * 11 (64 random bits, base64url); the margin lets a client echo what it got.
 */
export const maxEpochLength = 32;

/** Whether a string can be a stream epoch: 1 to `maxEpochLength` base64url characters. */
export function isEpoch(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= maxEpochLength && /^[A-Za-z0-9_-]+$/.test(value);
}

/** Longest token accepted in `claim` and `hello`, characters: room for a JWT with a long scope and an RSA-4096 signature. */
export const maxTokenLength = 8192;
/** Longest resume token accepted in `claim`, characters (the server makes 22). */
const maxResumeLength = 256;

/**
 * Deepest nesting of arrays and objects an envelope may have. A valid one
 * needs 3 (`{"data":{"args":[...]}}`); the margin is for clients that add
 * nothing harmful. Deeper input is refused before `JSON.parse` sees it.
 */
export const maxJsonDepth = 16;

/** Whether a string is acceptable as a drone id in `--drones`: lowercase letters, digits, `-` and `_`. */
export function isValidDroneId(id: string): boolean {
  return id.length > 0 && id.length <= maxDroneIdLength && /^[a-z0-9][a-z0-9_-]*$/.test(id);
}

/** What validation makes of each type's wire data: a command's model request, a `since` per drone as a Map. */
type ValidatedData = Omit<Required<WireClientData>, "command" | "subscribe"> & {
  command: { drone?: string; request: DroneRequest };
  subscribe: { drone: string; since?: number | ReadonlyMap<string, number>; epoch?: string | ReadonlyMap<string, string>; maxHz?: number };
};

/** A validated JSON message: the wire message with its data checked and typed. */
export type ClientMessage = { [T in ClientMessageType]: { type: T; id?: RequestId; data: ValidatedData[T] } }[ClientMessageType];

/** The keys each type's data may have, in the order refusals list them; checked against `WireClientData`. */
export const clientDataKeys: { [T in ClientMessageType]: readonly string[] } = {
  command: keyListOf<WireClientData["command"]>()(["drone", "name", "args"]),
  subscribe: keyListOf<WireClientData["subscribe"]>()(["drone", "since", "epoch", "maxHz"]),
  unsubscribe: keyListOf<WireClientData["unsubscribe"]>()(["drone"]),
  claim: keyListOf<WireClientData["claim"]>()(["drone", "token", "resume", "force"]),
  release: keyListOf<WireClientData["release"]>()(["drone", "force"]),
  ping: keyListOf<WireClientData["ping"]>()([]),
  hello: keyListOf<WireClientData["hello"]>()(["token"]),
  mission: keyListOf<WireClientData["mission"]>()(["drone", "items"]),
  mission_start: keyListOf<WireClientData["mission_start"]>()(["drone"]),
  mission_pause: keyListOf<WireClientData["mission_pause"]>()(["drone"]),
  mission_resume: keyListOf<WireClientData["mission_resume"]>()(["drone"]),
  mission_clear: keyListOf<WireClientData["mission_clear"]>()(["drone"]),
  replay_start: keyListOf<WireClientData["replay_start"]>()(["flight", "speed", "positionMs"]),
  replay_control: keyListOf<WireClientData["replay_control"]>()(["drone", "speed", "paused", "positionMs"]),
  replay_stop: keyListOf<WireClientData["replay_stop"]>()(["drone"]),
};

const envelopeKeys = new Set(["type", "id", "data"]);

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

/** A parsed envelope: the message, or the error with the request id when a valid one was given. */
export type EnvelopeResult = { ok: true; message: ClientMessage } | { ok: false; error: ProtocolError; id?: RequestId };

/** Parses and validates a JSON envelope, naming the offending field on failure. */
export function parseEnvelope(text: string): EnvelopeResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, error: { code: "invalid_json", message: "the message is not valid JSON" } };
  }
  // Deep structures are refused before anything walks them (the id is still
  // honoured, so the refusal can be correlated).
  if (jsonNestingDepth(text) > maxJsonDepth) {
    const error: ProtocolError = { code: "invalid_message", message: `the message nests arrays and objects deeper than ${maxJsonDepth} levels` };
    const id = isPlainObject(value) ? checkId(value) : null;
    return { ok: false, error, ...(id?.ok && id.id !== undefined ? { id: id.id } : {}) };
  }
  return validateEnvelope(value);
}

function validateEnvelope(value: unknown): EnvelopeResult {
  if (!isPlainObject(value)) {
    return failure("invalid_message", `a message must be a JSON object {"type", "id", "data"}: received ${describeType(value)}`);
  }
  const idCheck = checkId(value);
  if (!idCheck.ok) return idCheck;
  const id = idCheck.id;
  const withId = (error: { ok: false; error: ProtocolError }): EnvelopeResult => (id === undefined ? error : { ...error, id });

  for (const key of Object.keys(value)) {
    if (!envelopeKeys.has(key)) return withId(failure("invalid_message", `unknown field ${JSON.stringify(key)}: a message has only type, id and data`, key));
  }
  const type = value.type;
  if (typeof type !== "string") return withId(failure("invalid_message", `type must be a string: received ${preview(type)}`, "type"));
  if (!Object.hasOwn(clientDataKeys, type)) {
    return withId(failure("unknown_type", `unknown type ${preview(type)}: expected one of ${Object.keys(clientDataKeys).join(", ")}`, "type"));
  }
  const messageType = type as ClientMessageType;
  const data = value.data ?? {};
  if (!isPlainObject(data)) return withId(failure("invalid_message", `data must be an object: received ${describeType(data)}`, "data"));
  const allowed = clientDataKeys[messageType];
  for (const key of Object.keys(data)) {
    if (!allowed.includes(key)) {
      const expected = allowed.length === 0 ? "no fields" : allowed.join(", ");
      return withId(failure("invalid_message", `unknown field data.${key} for ${messageType}: expected ${expected}`, `data.${key}`));
    }
  }
  const drone = checkDroneField(data, messageType === "subscribe" || messageType === "unsubscribe");
  if (!drone.ok) return withId(drone);
  const base = id === undefined ? {} : { id };

  switch (messageType) {
    case "command": {
      const name = data.name;
      if (typeof name !== "string") return withId(failure("invalid_args", `data.name must be a command name: received ${preview(name)}`, "data.name"));
      const lower = name.toLowerCase();
      if (!isCommandName(lower)) return withId(unknownCommand(name, "data.name"));
      const args = data.args ?? [];
      if (!Array.isArray(args)) return withId(failure("invalid_args", `data.args must be an array of arguments (numbers, or a word such as a mode name): received ${describeType(args)}`, "data.args"));
      const checked = checkArgs(lower, args, "data.args");
      if (!checked.ok) return withId(checked);
      return { ok: true, message: { type: "command", ...base, data: { ...droneOf(drone.drone), request: buildRequest(lower, checked.args) } } };
    }
    case "subscribe": {
      const all = drone.drone === allDrones;
      const since = all ? checkSinceByDrone(data.since) : checkSince(data.since);
      if (!since.ok) return withId(since);
      const epoch = all ? checkEpochByDrone(data.epoch) : checkEpoch(data.epoch);
      if (!epoch.ok) return withId(epoch);
      const sincePart = since.since === undefined ? {} : { since: since.since };
      const epochPart = epoch.epoch === undefined ? {} : { epoch: epoch.epoch };
      const maxHz = data.maxHz;
      if (maxHz !== undefined && !isMaxHz(maxHz)) return withId(failure("invalid_args", `data.maxHz must be a number of frames per second from ${maxHzRange.min} to ${maxHzRange.max}: received ${preview(maxHz)}`, "data.maxHz"));
      const maxHzPart = maxHz === undefined ? {} : { maxHz };
      return { ok: true, message: { type: "subscribe", ...base, data: { drone: drone.drone!, ...sincePart, ...epochPart, ...maxHzPart } } };
    }
    case "unsubscribe":
      return { ok: true, message: { type: "unsubscribe", ...base, data: { drone: drone.drone! } } };
    case "claim":
    case "hello": {
      const token = data.token;
      if (token !== undefined && (typeof token !== "string" || token.length > maxTokenLength)) {
        return withId(failure("invalid_args", `data.token must be a string of at most ${maxTokenLength} characters`, "data.token"));
      }
      const tokenPart = token === undefined ? {} : { token };
      if (messageType === "hello") return { ok: true, message: { type: "hello", ...base, data: tokenPart } };
      const resume = data.resume;
      if (resume !== undefined && (typeof resume !== "string" || resume.length > maxResumeLength)) {
        return withId(failure("invalid_args", `data.resume must be a string of at most ${maxResumeLength} characters`, "data.resume"));
      }
      const resumePart = resume === undefined ? {} : { resume };
      const force = checkForce(data.force);
      if (!force.ok) return withId(force);
      return { ok: true, message: { type: "claim", ...base, data: { ...droneOf(drone.drone), ...tokenPart, ...resumePart, ...force.part } } };
    }
    case "release": {
      const force = checkForce(data.force);
      if (!force.ok) return withId(force);
      return { ok: true, message: { type: "release", ...base, data: { ...droneOf(drone.drone), ...force.part } } };
    }
    case "ping":
      return { ok: true, message: { type: "ping", ...base, data: {} } };
    case "mission": {
      const items = checkMissionItems(data.items);
      if (!items.ok) return withId(items);
      return { ok: true, message: { type: "mission", ...base, data: { ...droneOf(drone.drone), items: items.items } } };
    }
    case "mission_start":
    case "mission_pause":
    case "mission_resume":
    case "mission_clear":
      return { ok: true, message: { type: messageType, ...base, data: droneOf(drone.drone) } };
    case "replay_start": {
      const checked = checkReplayStart(data);
      return checked.ok ? { ok: true, message: { type: "replay_start", ...base, data: checked.value } } : withId(checked);
    }
    case "replay_control": {
      const checked = checkReplayControl(data);
      return checked.ok ? { ok: true, message: { type: "replay_control", ...base, data: checked.value } } : withId(checked);
    }
    case "replay_stop": {
      const checked = checkReplayStop(data);
      return checked.ok ? { ok: true, message: { type: "replay_stop", ...base, data: checked.value } } : withId(checked);
    }
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
  return failure("invalid_id", `id must be a string of 1 to ${maxIdLength} characters or a whole number: received ${preview(id)}`, "id");
}

function checkDroneField(data: Record<string, unknown>, required: boolean): { ok: true; drone?: string } | { ok: false; error: ProtocolError } {
  const drone = data.drone;
  if (drone === undefined) {
    return required ? failure("invalid_args", "data.drone is required: name the drone, e.g. \"alpha\"", "data.drone") : { ok: true };
  }
  if (typeof drone === "string" && isReplayId(drone)) return { ok: true, drone };
  if (typeof drone !== "string" || drone.length === 0 || drone.length > maxDroneIdLength) {
    return failure("invalid_args", `data.drone must be a drone id of 1 to ${maxDroneIdLength} characters: received ${preview(drone)}`, "data.drone");
  }
  return { ok: true, drone };
}

/** Whether a key of a per-drone `since` or `epoch` can name a vehicle: a drone id's length, or a replay vehicle's id. */
function isDroneKey(key: string): boolean {
  return (key.length > 0 && key.length <= maxDroneIdLength) || isReplayId(key);
}

/** Whether a value is a `maxHz` a subscribe may ask for (`maxHzRange`, inclusive). */
function isMaxHz(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= maxHzRange.min && value <= maxHzRange.max;
}

function isSeq(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

/** `force` on `claim` and `release`: a boolean when present; only `true` is carried. */
function checkForce(force: unknown): { ok: true; part: { force?: true } } | { ok: false; error: ProtocolError } {
  if (force === undefined || force === false) return { ok: true, part: {} };
  if (force === true) return { ok: true, part: { force: true } };
  return failure("invalid_args", `data.force must be true or false: received ${preview(force)}`, "data.force");
}

function checkSince(since: unknown): { ok: true; since?: number } | { ok: false; error: ProtocolError } {
  if (since === undefined || isSeq(since)) return { ok: true, since };
  return failure("invalid_args", `data.since must be a whole number >= 0 (the last seq you saw): received ${preview(since)}`, "data.since");
}

/** `since` for the all-drones subscription: `{"<drone>": <last seq seen>, ...}`. */
function checkSinceByDrone(since: unknown): { ok: true; since?: ReadonlyMap<string, number> } | { ok: false; error: ProtocolError } {
  if (since === undefined) return { ok: true };
  if (!isPlainObject(since)) {
    return failure("invalid_args", `data.since for drone "*" must be an object of the last seq seen per drone, e.g. {"alpha": 41}: received ${describeType(since)}`, "data.since");
  }
  const seqs = new Map<string, number>();
  for (const [drone, seq] of Object.entries(since)) {
    if (!isDroneKey(drone)) {
      return failure("invalid_args", `data.since keys must be drone ids of 1 to ${maxDroneIdLength} characters: received ${preview(drone)}`, "data.since");
    }
    if (!isSeq(seq)) return failure("invalid_args", `data.since.${drone} must be a whole number >= 0 (the last seq you saw): received ${preview(seq)}`, `data.since.${drone}`);
    seqs.set(drone, seq);
  }
  return { ok: true, since: seqs };
}

const epochRule = `1 to ${maxEpochLength} characters of A-Z a-z 0-9 _ -, as the server sent it`;

function checkEpoch(epoch: unknown): { ok: true; epoch?: string } | { ok: false; error: ProtocolError } {
  if (epoch === undefined || isEpoch(epoch)) return { ok: true, epoch };
  return failure("invalid_args", `data.epoch must be the stream epoch of your since (${epochRule}): received ${preview(epoch)}`, "data.epoch");
}

/** `epoch` for the all-drones subscription: `{"<drone>": "<epoch of its since>", ...}`. */
function checkEpochByDrone(epoch: unknown): { ok: true; epoch?: ReadonlyMap<string, string> } | { ok: false; error: ProtocolError } {
  if (epoch === undefined) return { ok: true };
  if (!isPlainObject(epoch)) {
    return failure("invalid_args", `data.epoch for drone "*" must be an object of the stream epoch per drone, e.g. {"alpha": "Qx3v9LkT2aE"}: received ${describeType(epoch)}`, "data.epoch");
  }
  const epochs = new Map<string, string>();
  for (const [drone, value] of Object.entries(epoch)) {
    if (!isDroneKey(drone)) {
      return failure("invalid_args", `data.epoch keys must be drone ids of 1 to ${maxDroneIdLength} characters: received ${preview(drone)}`, "data.epoch");
    }
    if (!isEpoch(value)) return failure("invalid_args", `data.epoch.${drone} must be a stream epoch (${epochRule}): received ${preview(value)}`, `data.epoch.${drone}`);
    epochs.set(drone, value);
  }
  return { ok: true, epoch: epochs };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
