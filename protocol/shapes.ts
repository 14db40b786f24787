/**
 * The message types' data keys at run time, for the checks types cannot
 * make on untrusted or documented JSON: which keys an envelope's data may
 * have (envelope.ts), and whether a server message has its type's shape
 * (the docs' examples, tests).
 *
 * Every list is checked by the compiler against its type in messages.ts, in
 * both directions: a key the type lacks, or one left out, does not compile.
 * Keys only, not values. Pure.
 */
import type { ProtocolError } from "./errors.ts";
import type {
  AckVariants,
  DoneData,
  EventKind,
  EventOf,
  LeaseData,
  MissionData,
  MissionProgressData,
  PongData,
  RepliesWithId,
  ServerData,
  ServerMessageType,
  TelemetryData,
  WelcomeData,
} from "./messages.ts";

type RequiredKeys<T> = { [K in keyof T]-?: {} extends Pick<T, K> ? never : K }[keyof T] & string;
type OptionalKeys<T> = Exclude<keyof T, RequiredKeys<T>> & string;
/** `unknown` when `Listed` names every one of `All`, else a type no array satisfies, naming what is missing. */
type NamesAll<Listed extends readonly string[], All extends string> = [Exclude<All, Listed[number]>] extends [never] ? unknown : { missingKeys: Exclude<All, Listed[number]> };

/** The data keys of one message shape, for checks at run time. */
export interface DataShape {
  required: readonly string[];
  optional: readonly string[];
}

/**
 * The run-time key lists of type `T`: the compiler refuses a list that names
 * a key `T` lacks, or leaves out one it has.
 */
export function keysOf<T>() {
  return <const Required extends readonly RequiredKeys<T>[], const Optional extends readonly OptionalKeys<T>[]>(
    required: Required & NamesAll<Required, RequiredKeys<T>>,
    optional: Optional & NamesAll<Optional, OptionalKeys<T>>,
  ): DataShape => ({ required, optional });
}

/**
 * Every key of type `T`, in the order given (the order error messages list
 * them in): the compiler refuses a key `T` lacks, or a missing one.
 */
export function keyListOf<T>() {
  return <const Keys extends readonly (keyof T & string)[]>(keys: Keys & NamesAll<Keys, keyof T & string>): readonly (keyof T & string)[] => keys;
}

/** Each ack variant's keys. */
export const ackShapes: { [K in keyof AckVariants]: DataShape } = {
  command: keysOf<AckVariants["command"]>()(["drone", "command", "target"], []),
  status: keysOf<AckVariants["status"]>()(["drone", "command", "status"], []),
  claim: keysOf<AckVariants["claim"]>()(["drone", "role", "pilot"], ["resume"]),
  release: keysOf<AckVariants["release"]>()(["drone", "role", "pilot"], []),
  subscribe: keysOf<AckVariants["subscribe"]>()(["drone", "subscribed", "replayed", "latestSeq", "epoch"], ["lost", "note", "maxHz"]),
  unsubscribe: keysOf<AckVariants["unsubscribe"]>()(["drone", "subscribed"], ["note"]),
  hello: keysOf<AckVariants["hello"]>()(["session"], []),
  mission: keysOf<AckVariants["mission"]>()(["drone", "mission", "items"], []),
  replay: keysOf<AckVariants["replay"]>()(["drone", "flight", "recordedDrone", "speed", "paused", "positionMs", "durationMs", "ended"], []),
};

/** Each event kind's keys. */
export const eventShapes: { [K in EventKind]: DataShape } = {
  failsafe: keysOf<EventOf<"failsafe">>()(["drone", "kind", "message", "action"], ["returnInSeconds"]),
  pilot_regained: keysOf<EventOf<"pilot_regained">>()(["drone", "kind", "message"], []),
  geofence: keysOf<EventOf<"geofence">>()(["drone", "kind", "message"], []),
  low_battery: keysOf<EventOf<"low_battery">>()(["drone", "kind", "message", "battery"], []),
  critical_battery: keysOf<EventOf<"critical_battery">>()(["drone", "kind", "message", "battery"], []),
  landed: keysOf<EventOf<"landed">>()(["drone", "kind", "message"], []),
  frames_lost: keysOf<EventOf<"frames_lost">>()(["drone", "kind", "message", "lost"], ["from", "to"]),
  frames_dropped: keysOf<EventOf<"frames_dropped">>()(["drone", "kind", "message", "dropped", "since"], []),
  stream_reset: keysOf<EventOf<"stream_reset">>()(["drone", "kind", "message", "latestSeq", "epoch"], []),
  failover: keysOf<EventOf<"failover">>()(["drone", "kind", "message", "node", "previousNode"], []),
  link_lost: keysOf<EventOf<"link_lost">>()(["drone", "kind", "message"], []),
  link_regained: keysOf<EventOf<"link_regained">>()(["drone", "kind", "message"], []),
  autopilot: keysOf<EventOf<"autopilot">>()(["drone", "kind", "message", "severity"], []),
  vehicle_warning: keysOf<EventOf<"vehicle_warning">>()(["drone", "kind", "message"], []),
  token_expiring: keysOf<EventOf<"token_expiring">>()(["drone", "kind", "message", "expiresAt", "expiresInSeconds"], []),
};

/** Each server message type's possible data shapes (several for `ack` and `event`). */
export const serverDataShapes: { [T in ServerMessageType]: readonly DataShape[] } = {
  welcome: [keysOf<WelcomeData>()(["session", "role", "protocolVersion", "drones", "subscribed", "limits"], [])],
  ack: Object.values(ackShapes),
  done: [keysOf<DoneData>()(["drone", "command", "status"], ["reason"])],
  error: [keysOf<ProtocolError>()(["code", "message"], ["field", "reason"])],
  telemetry: [
    keysOf<TelemetryData>()(
      ["drone", "seq", "time", "state", "lat", "lon", "altitudeMsl", "position", "velocity", "heading", "speed", "battery", "voltage", "armed", "mode", "gps", "link", "flags", "target", "pilot"],
      ["pilotUser", "pilotName", "recorded"],
    ),
  ],
  telemetry_batch: [keysOf<ServerData["telemetry_batch"]>()(["time", "frames"], [])],
  lease: [keysOf<LeaseData>()(["drone", "pilot", "reason"], ["reservedSeconds", "pilotUser", "pilotName"])],
  event: Object.values(eventShapes),
  pong: [keysOf<PongData>()(["time"], [])],
  mission: [keysOf<MissionData>()(["drone", "items"], [])],
  mission_progress: [keysOf<MissionProgressData>()(["drone", "current", "reached", "distanceToGo", "etaSeconds", "state"], ["reason"])],
  vehicle: [keysOf<ServerData["vehicle"]>()(["drone", "change", "kind", "flight", "recordedDrone"], ["reason"])],
  replay: [keysOf<ServerData["replay"]>()(["drone", "flight", "recordedDrone", "speed", "paused", "positionMs", "durationMs", "ended"], [])],
};

/** The types of message that answer a request (and so may carry its id). */
const replyTypes: ReadonlySet<string> = new Set(keyListOf<Record<RepliesWithId, true>>()(["ack", "done", "error", "pong"]));

/**
 * Checks that a parsed value has the shape of a server message: a known
 * type, an id only where replies carry one, and data whose keys are exactly
 * those one of the type's shapes declares. Returns what is wrong, or null.
 * Checks keys, not values: it is for docs and tests, not the hot path.
 */
export function serverMessageProblem(value: unknown): string | null {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "a server message is a JSON object";
  const message = value as Record<string, unknown>;
  const type = message.type;
  if (typeof type !== "string" || !Object.hasOwn(serverDataShapes, type)) return `unknown type ${JSON.stringify(type)}`;
  const known = type as ServerMessageType;
  for (const key of Object.keys(message)) {
    if (key !== "type" && key !== "data" && !(key === "id" && replyTypes.has(known))) return `${known} has no field ${JSON.stringify(key)}`;
  }
  const data = message.data;
  if (typeof data !== "object" || data === null || Array.isArray(data)) return `${known}.data must be an object`;
  const keys = Object.keys(data);
  // An event is held to its own kind's shape.
  const kind = (data as Record<string, unknown>).kind;
  const shapes = known === "event" && typeof kind === "string" && Object.hasOwn(eventShapes, kind) ? [eventShapes[kind as EventKind]] : serverDataShapes[known];
  const fits = shapes.some(
    (shape) => shape.required.every((key) => keys.includes(key)) && keys.every((key) => shape.required.includes(key) || shape.optional.includes(key)),
  );
  return fits ? null : `${known}.data has keys ${keys.join(", ")}: no ${known} shape declares exactly those`;
}
