/**
 * The recorder's storage seam: what the recorder writes (batches of rows)
 * and what the API and restart recovery read back, as one small interface
 * with an embedded SQLite implementation (`sqlite-store.ts`) and, later, a
 * PostgreSQL one through `Bun.SQL` on the same schema and queries.
 *
 * Owns the row types and the interface only: no SQL, no timers, no HTTP.
 * Every method is async so that a networked database fits behind it.
 * Times are wall-clock milliseconds since the Unix epoch.
 */
import type { RecordedFlight } from "../../../protocol/index.ts";

/** A flight: one vehicle from takeoff to landing (or emergency, or link loss); what the API lists, less `open`. */
export type FlightRow = Omit<RecordedFlight, "open">;

/** A telemetry frame as published: its data is the wire frame's data JSON. */
export interface FrameRow {
  drone: string;
  epoch: string;
  seq: number;
  time: number;
  flightId: string | null;
  /** The frame's `data` object, JSON. */
  data: string;
}

/** A command, its answer and its end. */
export interface CommandRow {
  id: string;
  drone: string;
  flightId: string | null;
  session: string;
  /** The sender's signed-in user (a JWT's `sub`), or null. */
  userName: string | null;
  /** The request id as the client sent it, JSON, or null. */
  requestId: string | null;
  /** What the client asked: `{label, form, command}`, JSON. */
  request: string;
  receivedAt: number;
  /** `ack` or `error`, null until answered. */
  answer: "ack" | "error" | null;
  /** The ack's target, or the error's code and message, JSON. */
  answerDetail: string | null;
  answeredAt: number | null;
  /** `completed` or `failed`; null until it ends, and for refused commands. */
  outcome: "completed" | "failed" | null;
  outcomeReason: string | null;
  endedAt: number | null;
  durationMs: number | null;
}

/** A lease change, failsafe, geofence refusal, battery or link event, autopilot message. */
export interface EventRow {
  id: string;
  drone: string;
  flightId: string | null;
  time: number;
  kind: string;
  message: string;
  /** The event's other facts, JSON. */
  details: string;
}

/** A MAVLink packet heard from a vehicle during a flight, as it came over the link. */
export interface PacketRow {
  /** Time-ordered (UUIDv7). */
  id: string;
  drone: string;
  flightId: string;
  time: number;
  /** The packet's bytes, base64. */
  bytes: string;
}

/** Where a vehicle's telemetry stream stood at the last flush (restart recovery). */
export interface StreamRow {
  drone: string;
  epoch: string;
  /** The last seq published. */
  seq: number;
  time: number;
  /** The flight open at that moment, or null on the ground. */
  flightId: string | null;
  /** The newest frame's data JSON, whether decimation kept the frame or not: where the vehicle was. */
  data: string;
}

/**
 * One flush: written in one transaction. Flights, commands and streams are
 * upserts by id (a row is written again as it changes); frames and events
 * are inserts (a frame already stored is kept).
 */
export interface WriteBatch {
  flights: FlightRow[];
  frames: FrameRow[];
  commands: CommandRow[];
  events: EventRow[];
  streams: StreamRow[];
  packets: PacketRow[];
}

/** An empty batch to fill. */
export function emptyBatch(): WriteBatch {
  return { flights: [], frames: [], commands: [], events: [], streams: [], packets: [] };
}

/** Which flights to list: newest first, `before` the cursor of the previous page. */
export interface FlightQuery {
  drone?: string;
  /** Flights that started at or after, ms. */
  since?: number;
  /** Flights that started before, ms. */
  until?: number;
  limit: number;
  /** The last flight of the previous page: this page starts after it. */
  before?: { startedAt: number; id: string };
}

/** A page of a flight's frames, oldest first, `after` the last frame of the previous page. */
export interface FrameQuery {
  flightId: string;
  /** Frames at or after, ms. */
  from?: number;
  /** Frames at or before, ms. */
  to?: number;
  after?: { time: number; seq: number };
  limit: number;
}

export interface RecorderStore {
  /** `sqlite` or `postgres`, for logs and /metrics. */
  readonly kind: string;
  /** Writes one batch in one transaction; throws when the database does not take it. */
  write(batch: WriteBatch): Promise<void>;
  /** Flights matching the query, newest first. */
  flights(query: FlightQuery): Promise<FlightRow[]>;
  flight(id: string): Promise<FlightRow | null>;
  /** A flight's commands, oldest first. */
  commands(flightId: string): Promise<CommandRow[]>;
  /** A flight's events, oldest first. */
  events(flightId: string): Promise<EventRow[]>;
  /** A page of a flight's frames, oldest first. */
  frames(query: FrameQuery): Promise<FrameRow[]>;
  /** A page of a flight's MAVLink packets, oldest first, after the last one of the previous page. */
  packets(flightId: string, after: { time: number; id: string } | null, limit: number): Promise<PacketRow[]>;
  /** Every vehicle's stream position at the last flush. */
  streams(): Promise<StreamRow[]>;
  /** The newest `limit` frames of a vehicle's stream in `epoch`, oldest first (restart recovery). */
  latestFrames(drone: string, epoch: string, limit: number): Promise<FrameRow[]>;
  /**
   * Commands acknowledged but never ended (the process that ran them stopped
   * first) end as failed with `reason` at `at`; returns how many. Run once at
   * start for every vehicle, and in a cluster for one `drone` when this node
   * takes it over.
   */
  failUnfinishedCommands(reason: string, at: number, drone?: string): Promise<number>;
  /** Deletes a flight with its frames, commands and events; false when there was none. */
  deleteFlight(id: string): Promise<boolean>;
  /** Deletes what was recorded before `beforeMs` (flights that ended before it, ground frames, events, commands); returns flights deleted. */
  deleteBefore(beforeMs: number): Promise<number>;
  /** The finished flight that ended first, or null: the next one the size cap deletes. */
  oldestFinishedFlight(): Promise<FlightRow | null>;
  /** Bytes the recorded rows take (pages in use, not free ones), for the size cap. */
  sizeBytes(): Promise<number>;
  close(): Promise<void>;
}

/** The database cannot be opened or is of a newer schema: the server does not start. */
export class StoreOpenError extends Error {
  override name = "StoreOpenError";
}
