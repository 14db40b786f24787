/**
 * The wire messages in both directions, as types, and the encoders that put
 * server messages on the wire.
 *
 * `WireClientMessage` is what a client sends (`{type, id?, data?}`);
 * `ServerMessage` is what the server sends, with `AckFor<type>` the ack data
 * each request type gets, so a client can be typed end to end. These types
 * are the one truth: the run-time key lists (shapes.ts) are checked against
 * them by the compiler.
 *
 * Encoders are generic over `ServerMessage`: the compiler checks the data of
 * every message sent. The telemetry templates are string templates on
 * purpose: a frame is serialised once per tick and fanned out as is, so the
 * envelope around it is never `JSON.stringify`d per frame. Pure.
 */
import type { CommandName } from "./commands.ts";
import type { ProtocolError } from "./errors.ts";
import type { FlightState, Vector3 } from "../src/core/drone/types.ts";
import type { AutopilotSeverity, GpsFix } from "../src/core/vehicle/vehicle.ts";
import type { MissionAction, MissionItem, MissionProgress } from "../src/core/mission/mission.ts";
import type { ReplayStateData, ReplayWireData, VehicleChangeData } from "./replays.ts";

export type { AutopilotSeverity, GpsFix };

/**
 * Bumped whenever a message changes shape or meaning. Sent in `welcome`.
 * 2: every telemetry frame says where the vehicle is on Earth and how it
 * reports itself (`lat`, `lon`, `altitudeMsl`, `armed`, `mode`, `gps`,
 * `link`, `voltage`); `autopilot` events. Only fields were added: a version 1
 * client that ignores unknown fields keeps working.
 */
export const protocolVersion = 2;

/** The subprotocol name `/drone` offers in `Sec-WebSocket-Protocol`. */
export const droneSubprotocol = "skyport.v1.json";

/**
 * The drone id that means "every drone" in `subscribe`, `unsubscribe` and
 * `?drone=`: one `telemetry_batch` per tick instead of one frame per drone.
 */
export const allDrones = "*";

/**
 * The `maxHz` a `subscribe` may ask for, frames per second: from one frame
 * every 10 s to the highest telemetry rate a server runs (`--telemetry-hz`).
 */
export const maxHzRange = { min: 0.1, max: 100 } as const;

/** A request's correlation id, echoed in its replies. */
export type RequestId = string | number;

// ---------------------------------------------------------------- client → server

/** The `data` of each message a client may send, as it goes on the wire. */
export interface WireClientData {
  /** `name` is case-insensitive on the wire; `args` (numbers, or a word such as a mode name) defaults to none. */
  command: { drone?: string; name: CommandName; args?: Array<number | string> };
  /**
   * `since` is the last seq seen: a number for one drone, a seq per drone for
   * `allDrones`. `epoch` is the stream epoch that seq belongs to (a string, or
   * one per drone for `allDrones`, from `welcome`, the subscribe ack or a
   * `stream_reset`): a resume whose epoch is not the stream's now gets a
   * `stream_reset`, never frames of another stream.
   *
   * `maxHz` throttles the subscription (rosbridge's `throttle_rate`): at most
   * that many frames (or `*` batches) a second, each the latest when it is
   * due, never a backlog; `maxHzRange` bounds it, and one at or above the
   * server's `telemetryHz` is the full rate. Seqs stay the stream's, so a
   * throttled viewer's seqs skip: that is no gap (docs/protocol.md). Its
   * resume with `since` sends the newest frame after `since`, not the ones
   * in between, and no `frames_lost` for them.
   */
  subscribe: { drone: string; since?: number | Readonly<Record<string, number>>; epoch?: string | Readonly<Record<string, string>>; maxHz?: number };
  unsubscribe: { drone: string };
  /** `resume`: the resume token from an earlier session's claim ack, to take back a lease reserved for that pilot. */
  /** `force` (admin only): take the lease from its pilot, who is told who took it. */
  claim: { drone?: string; token?: string; resume?: string; force?: boolean };
  /** `force` (admin only): release whoever flies it. */
  release: { drone?: string; force?: boolean };
  /** No fields. */
  ping: { [key in never]: never };
  /** `token`: the viewer token or a JWT; a later `hello` with a fresh JWT of the same `sub` refreshes the session in place. */
  hello: { token?: string };
  /** Uploads a mission (the pilot only): `items` replaces the vehicle's mission, checked as a whole. `drone` defaults to the session's. */
  mission: { drone?: string; items: MissionItem[] };
  /** Starts the vehicle's mission from its first item (the pilot only). */
  mission_start: { drone?: string };
  /** Pauses the running mission: the vehicle holds where it is. */
  mission_pause: { drone?: string };
  /** Resumes a paused mission from the item it was flying. */
  mission_resume: { drone?: string };
  /** Removes the vehicle's mission (stopping it first when it runs: the vehicle holds). */
  mission_clear: { drone?: string };
  // Replays of recorded flights (replays.ts): any viewer of the recorded vehicle may start, steer and stop one.
  replay_start: ReplayWireData["replay_start"];
  replay_control: ReplayWireData["replay_control"];
  replay_stop: ReplayWireData["replay_stop"];
}

/** The mission messages a pilot sends, and the action each asks of the vehicle. */
export const missionActions = { mission: "upload", mission_start: "start", mission_pause: "pause", mission_resume: "resume", mission_clear: "clear" } as const satisfies Record<string, MissionAction>;

/** A client message type that acts on a mission. */
export type MissionMessageType = keyof typeof missionActions;

export type ClientMessageType = keyof WireClientData;

/** What a client puts on the wire: `{type, id?, data?}` (no `data` means `{}`). */
export type WireClientMessage = { [T in ClientMessageType]: { type: T; id?: RequestId; data?: WireClientData[T] } }[ClientMessageType];

// ---------------------------------------------------------------- server → client

/** Role of a session for a drone. */
export type Role = "pilot" | "observer";

/** A drone as listed in `welcome`. */
export type DroneSummary = {
  id: string;
  state: FlightState;
  /** Session id of the pilot, or null when nobody flies it. */
  pilot: string | null;
  /** The pilot's user (its token's `sub`), when it signed in with a JWT. */
  pilotUser?: string;
  /** The pilot's display name (its token's `name`), when it had one. */
  pilotName?: string;
  /** Latest telemetry seq published, or null before the first frame. */
  seq: number | null;
  /** The stream epoch: seqs are comparable only within one epoch (it changes when seq starts again). */
  epoch: string;
  /** Set on a replay vehicle: the flight it plays and the vehicle that flew it. */
  replay?: { flight: string; recordedDrone: string };
};

/** Server limits announced in `welcome`, so clients can pace themselves. */
export type AnnouncedLimits = {
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
  /**
   * The polygon targets, mission points and the straight legs between them
   * must stay inside as well (`--geofence-polygon`), corners in degrees, an
   * open ring; absent when none is configured.
   */
  geofencePolygon?: Array<{ lat: number; lon: number }>;
};

/** One telemetry frame: everything a viewer needs to draw the drone. Positions in metres, speeds m/s. */
export type TelemetryData = {
  drone: string;
  /** Strictly increasing per drone, with no gaps for a subscriber that keeps up. */
  seq: number;
  /** Server time, Unix milliseconds. */
  time: number;
  state: FlightState;
  /** Degrees WGS-84, north positive; null until a reporting vehicle has said where it is. */
  lat: number | null;
  /** Degrees WGS-84, east positive; null with `lat`. */
  lon: number | null;
  /** Metres above mean sea level; null with `lat`. */
  altitudeMsl: number | null;
  /** Metres from home: x east, y north, z up. */
  position: Vector3;
  velocity: Vector3;
  /** Degrees [0, 360), 0 = north, clockwise. */
  heading: number;
  /** Horizontal ground speed, m/s. */
  speed: number;
  /** Percent. */
  battery: number;
  /** Battery volts, or null when the vehicle does not report it. */
  voltage: number | null;
  /** Whether the motors are armed. */
  armed: boolean;
  /** The autopilot's flight mode by name (`GUIDED`, `RTL`, `LAND`), or null before it is known. */
  mode: string | null;
  /** The GNSS fix (`3d`, `rtk_fixed`, `no_fix`, ...) and satellites visible (null when not reported). */
  gps: { fix: GpsFix; satellites: number | null };
  /** Whether the vehicle is heard, and when it last was (Unix milliseconds, null if never). */
  link: { status: "up" | "lost"; lastHeard: number | null };
  flags: { lowBattery: boolean; criticalBattery: boolean; emergencyStopped: boolean; failsafe: boolean };
  /** Where the current command ends, if one is in progress. */
  target: (Vector3 & { heading: number }) | null;
  /** Session id of the pilot, or null. */
  pilot: string | null;
  /** The pilot's user (its token's `sub`), when it signed in with a JWT. */
  pilotUser?: string;
  /** The pilot's display name (its token's `name`), when it had one. */
  pilotName?: string;
  /** On a replay vehicle's frame: the recorded frame's own `seq` and `time` (this frame's are the replay stream's). */
  recorded?: { seq: number; time: number };
};

export type WelcomeData = {
  session: string;
  role: Role;
  protocolVersion: number;
  drones: DroneSummary[];
  subscribed: string[];
  limits: AnnouncedLimits;
};

/** A seq per drone (null before its first frame), for the all-drones subscription. */
export type SeqByDrone = Record<string, number | null>;

/** A stream epoch per drone, for the all-drones subscription. */
export type EpochByDrone = Record<string, string>;

/** Each kind of ack's data, by name. */
export type AckVariants = {
  /** A flight command accepted: where it will end. */
  command: { drone: string; command: string; target: Vector3 & { heading: number; speedLimit: number } };
  /** `status`: the drone's telemetry as of now. */
  status: { drone: string; command: "status"; status: TelemetryData };
  /** `resume`: this session's secret resume token; a later session claims with it to take back a lease reserved for this one. */
  claim: { drone: string; role: "pilot"; pilot: string; resume?: string };
  release: { drone: string; role: "observer"; pilot: null };
  /**
   * `lost` only on a resume; `note` while the socket is backpressured.
   * `latestSeq` is a `SeqByDrone` for `*`; `epoch` is the stream epoch the
   * frames that follow belong to (an `EpochByDrone` for `*`).
   */
  subscribe: {
    drone: string;
    subscribed: true;
    replayed: number;
    lost?: number;
    latestSeq: number | null | SeqByDrone;
    epoch: string | EpochByDrone;
    note?: string;
    /** The subscription's rate limit, as asked, when it is throttled (below the server's `telemetryHz`). */
    maxHz?: number;
  };
  unsubscribe: { drone: string; subscribed: false; note?: string };
  hello: { session: string };
  /** A mission message (its type in `mission`) accepted: `items` is how many the mission holds. Its `done` follows when the vehicle has it (an upload) or has acted. */
  mission: { drone: string; mission: string; items: number };
  /** A replay request accepted: where the replay stands now. */
  replay: ReplayStateData;
};

/** Any ack's data. */
export type AckData = AckVariants[keyof AckVariants];

/** `pong`'s data: the server's time, Unix milliseconds. */
export type PongData = { time: number };

/**
 * The data a request of type `T` is answered with when it succeeds: its
 * `ack`, or for `ping` its `pong`. A `command` named `status` gets the status
 * ack (narrow with `CommandAckFor`).
 */
export type AckFor<T extends ClientMessageType> = {
  command: AckVariants["command"] | AckVariants["status"];
  subscribe: AckVariants["subscribe"];
  unsubscribe: AckVariants["unsubscribe"];
  claim: AckVariants["claim"];
  release: AckVariants["release"];
  ping: PongData;
  hello: AckVariants["hello"];
  mission: AckVariants["mission"];
  mission_start: AckVariants["mission"];
  mission_pause: AckVariants["mission"];
  mission_resume: AckVariants["mission"];
  mission_clear: AckVariants["mission"];
  replay_start: AckVariants["replay"];
  replay_control: AckVariants["replay"];
  replay_stop: AckVariants["replay"];
}[T];

/** The ack of one named command. */
export type CommandAckFor<Name extends CommandName> = Name extends "status" ? AckVariants["status"] : AckVariants["command"];

/** How an accepted command ended. Every accepted JSON command gets exactly one. */
export type DoneData = { drone: string; command: string; status: "completed" | "failed"; reason?: string };

/** Who pilots a drone now, and why it changed (`claimed`, `released`, `pilot disconnected`, ...). */
export type LeaseData = {
  drone: string;
  pilot: string | null;
  reason: string;
  /** Set when a lost pilot's lease is reserved for it: seconds only its resume token (claim `data.resume`) may take it back. */
  reservedSeconds?: number;
  /** The new pilot's user (its token's `sub`), when it signed in with a JWT. */
  pilotUser?: string;
  /** The new pilot's display name (its token's `name`), when it had one. */
  pilotName?: string;
};

/** The extra fields of each kind of `event`, beyond `drone`, `kind` and `message`. */
export type EventExtras = {
  /** `action` is hover, rth or land, or `mission` when the vehicle flies its mission on (`--mission-failsafe continue`); `returnInSeconds` when it holds first. */
  failsafe: { action: "hover" | "rth" | "land" | "mission"; returnInSeconds?: number };
  pilot_regained: {};
  geofence: {};
  low_battery: { battery: number };
  critical_battery: { battery: number };
  landed: {};
  /**
   * Frames this node will never send: on a resume, those after `since` no
   * longer buffered (to the resuming socket); live, those a node not flying
   * the drone never received (to every viewer there). `from`..`to` is the
   * range of lost seqs, inclusive.
   */
  frames_lost: { lost: number; from?: number; to?: number };
  /** Frames not sent while the socket was backpressured; resubscribe with `since` to fetch them. */
  frames_dropped: { dropped: number; since: number | null };
  /**
   * The stream started again (seq began anew): the resume named another
   * epoch, or a seq beyond this stream, or, live, the stream changed epoch.
   * Count seqs afresh from the frames that follow, of `epoch`.
   */
  stream_reset: { latestSeq: number | null; epoch: string };
  /** Another node took the drone over from a node that stopped answering. */
  failover: { node: string; previousNode: string };
  /** A vehicle that reports its own state (not the simulator) stopped being heard. */
  link_lost: {};
  /** That vehicle is heard again. */
  link_regained: {};
  /** The autopilot said something (MAVLink STATUSTEXT, e.g. `PreArm: Need Position Estimate`): its text is the message. */
  autopilot: { severity: AutopilotSeverity };
  /** skyport found a real vehicle set up unsafely for flying through it, e.g. its GCS failsafe off: the message says what to change. */
  vehicle_warning: {};
  /**
   * To one socket, not about a vehicle (`drone` is `""`): its token expires
   * at `expiresAt` (Unix ms), in `expiresInSeconds`; send `hello` with a fresh
   * token of the same `sub` before then, or the socket closes with 1008.
   */
  token_expiring: { expiresAt: number; expiresInSeconds: number };
};

/** The kinds of `event` message. */
export type EventKind = keyof EventExtras;

/** One kind of event's data. */
export type EventOf<K extends EventKind> = { drone: string; kind: K; message: string } & EventExtras[K];

/** Any event's data. */
export type EventData = { [K in EventKind]: EventOf<K> }[EventKind];

/** The `data` of each message the server sends. */
export type ServerData = {
  welcome: WelcomeData;
  ack: AckData;
  done: DoneData;
  error: ProtocolError;
  telemetry: TelemetryData;
  /** Every drone's frame of one tick, for the all-drones subscription. */
  telemetry_batch: { time: number; frames: TelemetryData[] };
  lease: LeaseData;
  event: EventData;
  pong: PongData;
  /** The vehicle's mission, to every viewer: on upload, on clear (`items: null`), and to a new subscriber. */
  mission: MissionData;
  /** How far the vehicle is through its mission: when an item is reached, when its state changes, and about once a second while it runs. */
  mission_progress: MissionProgressData;
  /** A vehicle came or went (a replay started or ended), to the viewers of the vehicle, of the recorded vehicle and of every vehicle. */
  vehicle: VehicleChangeData;
  /** Where a replay stands, to its viewers: when it starts, on every speed, pause or seek, and when it reaches its end. */
  replay: ReplayStateData;
};

/** The `mission` message's data: the items the vehicle holds, or null when it has none. */
export type MissionData = { drone: string; items: MissionItem[] | null };

/** The `mission_progress` message's data. `state` is never `ready`: progress starts with the mission. */
export type MissionProgressData = { drone: string } & Omit<MissionProgress, "state"> & { state: Exclude<MissionProgress["state"], "ready"> };

/** The server messages that answer one request, and so carry its id when it had one. */
export type RepliesWithId = "ack" | "done" | "error" | "pong";

export type ServerMessageType = keyof ServerData;

/** Every message the server sends. */
export type ServerMessage = {
  [T in ServerMessageType]: T extends RepliesWithId ? { type: T; id?: RequestId; data: ServerData[T] } : { type: T; data: ServerData[T] };
}[ServerMessageType];

// ---------------------------------------------------------------- encoders

/**
 * Serialises a server message: `{"type","id","data"}` in that order, the id
 * only on replies to a request that had one. The compiler checks `data`
 * against the type.
 * @example
 * encodeMessage("lease", { drone: "alpha", pilot: null, reason: "released" })
 * // '{"type":"lease","data":{"drone":"alpha","pilot":null,"reason":"released"}}'
 */
export function encodeMessage<T extends ServerMessageType>(type: T, data: ServerData[T], ...id: T extends RepliesWithId ? [id?: RequestId] : []): string {
  const requestId = id[0];
  return JSON.stringify(requestId === undefined ? { type, data } : { type, id: requestId, data });
}

/** Serialises an error reply, with the request id when there was a valid one. */
export function errorMessage(error: ProtocolError, id?: RequestId): string {
  return encodeMessage("error", error, id);
}

/** A `telemetry` message around frame data that is already JSON: the frame's bytes are reused, not re-encoded. */
export function telemetryFrame(dataJson: string): string {
  return `{"type":"telemetry","data":${dataJson}}`;
}

/**
 * A `telemetry_batch` message: the frames of one tick, already JSON, joined
 * without parsing or serialising them again.
 */
export function telemetryBatch(timeMs: number, dataJsons: readonly string[]): string {
  return `{"type":"telemetry_batch","data":{"time":${Math.round(timeMs)},"frames":[${dataJsons.join(",")}]}}`;
}
