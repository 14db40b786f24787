/**
 * Replays on the wire: a recorded flight played back as a read-only virtual
 * vehicle `replay:<flight-id>`. Owns the id rule, the speed range, the
 * replay's state as viewers see it, and the validation of the three replay
 * requests' data (`replay_start`, `replay_control`, `replay_stop`), which
 * envelope.ts calls.
 *
 * Pure: values in, values out. Whether the flight exists and who may watch
 * it are the server's questions.
 */
import { flightIdPattern } from "./flights.ts";
import { describeType, failure, preview } from "./received.ts";
import type { ProtocolError } from "./errors.ts";

/** What a replay vehicle's id starts with; the rest is the recorded flight's id. */
export const replayIdPrefix = "replay:";

/** Slowest replay speed, a multiple of real time. */
export const minReplaySpeed = 0.5;
/** Fastest replay speed, a multiple of real time. */
export const maxReplaySpeed = 16;

/** Longest replay vehicle id: the prefix and the longest flight id (32-character drone, dash, 15 digits). */
export const maxReplayIdLength = replayIdPrefix.length + 32 + 1 + 15;

/** The replay vehicle of a recorded flight. */
export function replayVehicleId(flightId: string): string {
  return `${replayIdPrefix}${flightId}`;
}

/** Whether an id names a replay vehicle (`replay:` and a well-formed flight id). */
export function isReplayId(id: string): boolean {
  return id.startsWith(replayIdPrefix) && flightIdPattern.test(id.slice(replayIdPrefix.length));
}

/** The flight a replay vehicle plays back. */
export function flightOfReplay(id: string): string {
  return id.slice(replayIdPrefix.length);
}

/**
 * Where a replay stands, as its viewers see it (the `replay` message and
 * every replay request's ack). Positions are milliseconds from the flight's
 * first frame.
 */
export interface ReplayStateData {
  /** The replay vehicle, `replay:<flight>`. */
  drone: string;
  /** The recorded flight it plays. */
  flight: string;
  /** The vehicle the flight was recorded from. */
  recordedDrone: string;
  /** A multiple of real time, `minReplaySpeed` to `maxReplaySpeed`. */
  speed: number;
  paused: boolean;
  /** How far into the flight the replay is, ms. */
  positionMs: number;
  /** The flight's length from its first frame to its last, ms. */
  durationMs: number;
  /** True once the last frame was played (the replay holds there until sought back or stopped). */
  ended: boolean;
}

/** The `vehicle` message: a vehicle that comes and goes (a replay) was added or removed. */
export interface VehicleChangeData {
  drone: string;
  change: "added" | "removed";
  /** What kind of vehicle: only replays come and go today. */
  kind: "replay";
  /** The recorded flight a replay plays. */
  flight: string;
  /** The vehicle the flight was recorded from: its viewers hear of the replay. */
  recordedDrone: string;
  /** Why it was removed (`stopped by s-3`, `nobody watched it for 60 s`). */
  reason?: string;
}

/** The replay requests' data as a client writes them. */
export interface ReplayWireData {
  /** Starts (or joins) the replay of `flight`, at `speed` (default 1) from `positionMs` (default 0). */
  replay_start: { flight: string; speed?: number; positionMs?: number };
  /** Changes a running replay: any of speed, pause, position. */
  replay_control: { drone: string; speed?: number; paused?: boolean; positionMs?: number };
  /** Ends a replay for everybody watching it. */
  replay_stop: { drone: string };
}

type Checked<T> = { ok: true; value: T } | { ok: false; error: ProtocolError };

/** `data` of `replay_start`, checked. */
export function checkReplayStart(data: Record<string, unknown>): Checked<ReplayWireData["replay_start"]> {
  const flight = data.flight;
  if (typeof flight !== "string" || !flightIdPattern.test(flight)) {
    return failure("invalid_args", `data.flight must be a flight id (a drone id, a dash and the start in Unix milliseconds, e.g. alpha-1767225600000): received ${preview(flight)}`, "data.flight");
  }
  const options = checkOptions(data);
  if (!options.ok) return options;
  return { ok: true, value: { flight, ...options.value } };
}

/** `data` of `replay_control`, checked: at least one change. */
export function checkReplayControl(data: Record<string, unknown>): Checked<ReplayWireData["replay_control"]> {
  const drone = checkReplayDrone(data.drone);
  if (!drone.ok) return drone;
  const options = checkOptions(data);
  if (!options.ok) return options;
  const paused = data.paused;
  if (paused !== undefined && typeof paused !== "boolean") return failure("invalid_args", `data.paused must be true or false: received ${preview(paused)}`, "data.paused");
  if (paused === undefined && Object.keys(options.value).length === 0) {
    return failure("invalid_args", "replay_control changes nothing: give data.speed, data.paused or data.positionMs", "data");
  }
  return { ok: true, value: { drone: drone.value, ...options.value, ...(paused === undefined ? {} : { paused }) } };
}

/** `data` of `replay_stop`, checked. */
export function checkReplayStop(data: Record<string, unknown>): Checked<ReplayWireData["replay_stop"]> {
  const drone = checkReplayDrone(data.drone);
  return drone.ok ? { ok: true, value: { drone: drone.value } } : drone;
}

function checkReplayDrone(drone: unknown): Checked<string> {
  if (typeof drone === "string" && isReplayId(drone)) return { ok: true, value: drone };
  return failure("invalid_args", `data.drone must be a replay vehicle id, "replay:" and a flight id (e.g. replay:alpha-1767225600000): received ${preview(drone)}`, "data.drone");
}

function checkOptions(data: Record<string, unknown>): Checked<{ speed?: number; positionMs?: number }> {
  const { speed, positionMs } = data;
  if (speed !== undefined && (typeof speed !== "number" || !Number.isFinite(speed) || speed < minReplaySpeed || speed > maxReplaySpeed)) {
    return failure("invalid_args", `data.speed must be a number from ${minReplaySpeed} to ${maxReplaySpeed} (times real time): received ${typeof speed === "number" ? speed : describeType(speed)}`, "data.speed");
  }
  if (positionMs !== undefined && (typeof positionMs !== "number" || !Number.isSafeInteger(positionMs) || positionMs < 0)) {
    return failure("invalid_args", `data.positionMs must be whole milliseconds >= 0 from the flight's start: received ${preview(positionMs)}`, "data.positionMs");
  }
  return { ok: true, value: { ...(speed === undefined ? {} : { speed }), ...(positionMs === undefined ? {} : { positionMs }) } };
}
