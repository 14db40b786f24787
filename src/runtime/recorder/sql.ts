/**
 * The recorder's SQL, one text for both stores: the column lists, the
 * upserts a batch runs, every read, the deletes, and rows to and from the
 * store's types. Portable: SQLite and PostgreSQL run it as is, with `?`
 * placeholders (the PostgreSQL store numbers them `$1, $2, ...`).
 *
 * Owns the SQL text and the row mapping only; never opens a database.
 */
import type { CommandRow, EventRow, FlightQuery, FlightRow, FrameQuery, FrameRow, PacketRow, StreamRow } from "./store.ts";

const flightColumns = "id, drone, started_at, ended_at, end_reason, max_altitude, distance, battery_start, battery_end, pilot, pilot_user, frames";
const frameColumns = "drone, epoch, seq, time, flight_id, data";
const commandColumns =
  "id, drone, flight_id, session, user_name, request_id, request, received_at, answer, answer_detail, answered_at, outcome, outcome_reason, ended_at, duration_ms";
const eventColumns = "id, drone, flight_id, time, kind, message, details";
const streamColumns = "drone, epoch, seq, time, flight_id, data";
const packetColumns = "id, drone, flight_id, time, bytes";

/** `?, ?, ...` for `n` columns. */
function placeholders(columns: string): string {
  return columns
    .split(",")
    .map(() => "?")
    .join(", ");
}

/** `col = excluded.col` for every column but the key. */
function updateAll(columns: string, key: string): string {
  return columns
    .split(",")
    .map((column) => column.trim())
    .filter((column) => column !== key)
    .map((column) => `${column} = excluded.${column}`)
    .join(", ");
}

/** The upserts and inserts a batch runs, one statement per table (portable to PostgreSQL). */
export const writeSql = {
  flight: `INSERT INTO flights (${flightColumns}) VALUES (${placeholders(flightColumns)}) ON CONFLICT (id) DO UPDATE SET ${updateAll(flightColumns, "id")}`,
  frame: `INSERT INTO frames (${frameColumns}) VALUES (${placeholders(frameColumns)}) ON CONFLICT (drone, epoch, seq) DO NOTHING`,
  command: `INSERT INTO commands (${commandColumns}) VALUES (${placeholders(commandColumns)}) ON CONFLICT (id) DO UPDATE SET ${updateAll(commandColumns, "id")}`,
  event: `INSERT INTO events (${eventColumns}) VALUES (${placeholders(eventColumns)}) ON CONFLICT (id) DO NOTHING`,
  packet: `INSERT INTO mavlink_packets (${packetColumns}) VALUES (${placeholders(packetColumns)}) ON CONFLICT (id) DO NOTHING`,
  stream: `INSERT INTO streams (${streamColumns}) VALUES (${placeholders(streamColumns)}) ON CONFLICT (drone) DO UPDATE SET ${updateAll(streamColumns, "drone")}`,
} as const;

/** A value bound to a placeholder. */
export type Value = string | number | null;

/** A flight row as the statement's values, in `flightColumns` order. */
export function flightValues(f: FlightRow): Value[] {
  return [f.id, f.drone, f.startedAt, f.endedAt, f.endReason, f.maxAltitude, f.distance, f.batteryStart, f.batteryEnd, f.pilot, f.pilotUser, f.frames];
}
export function frameValues(f: FrameRow): Value[] {
  return [f.drone, f.epoch, f.seq, f.time, f.flightId, f.data];
}
export function commandValues(c: CommandRow): Value[] {
  return [c.id, c.drone, c.flightId, c.session, c.userName, c.requestId, c.request, c.receivedAt, c.answer, c.answerDetail, c.answeredAt, c.outcome, c.outcomeReason, c.endedAt, c.durationMs];
}
export function eventValues(e: EventRow): Value[] {
  return [e.id, e.drone, e.flightId, e.time, e.kind, e.message, e.details];
}
export function packetValues(p: PacketRow): Value[] {
  return [p.id, p.drone, p.flightId, p.time, p.bytes];
}
export function streamValues(s: StreamRow): Value[] {
  return [s.drone, s.epoch, s.seq, s.time, s.flightId, s.data];
}

/** A database row (snake_case columns) as the store's row type. */
export type Raw = Record<string, unknown>;
const num = (value: unknown): number => Number(value);
const numOrNull = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));
const strOrNull = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));

export function flightOf(r: Raw): FlightRow {
  return {
    id: String(r.id),
    drone: String(r.drone),
    startedAt: num(r.started_at),
    endedAt: numOrNull(r.ended_at),
    endReason: strOrNull(r.end_reason),
    maxAltitude: num(r.max_altitude),
    distance: num(r.distance),
    batteryStart: num(r.battery_start),
    batteryEnd: num(r.battery_end),
    pilot: strOrNull(r.pilot),
    pilotUser: strOrNull(r.pilot_user),
    frames: num(r.frames),
  };
}
export function frameOf(r: Raw): FrameRow {
  return { drone: String(r.drone), epoch: String(r.epoch), seq: num(r.seq), time: num(r.time), flightId: strOrNull(r.flight_id), data: String(r.data) };
}
export function commandOf(r: Raw): CommandRow {
  return {
    id: String(r.id),
    drone: String(r.drone),
    flightId: strOrNull(r.flight_id),
    session: String(r.session),
    userName: strOrNull(r.user_name),
    requestId: strOrNull(r.request_id),
    request: String(r.request),
    receivedAt: num(r.received_at),
    answer: strOrNull(r.answer) as CommandRow["answer"],
    answerDetail: strOrNull(r.answer_detail),
    answeredAt: numOrNull(r.answered_at),
    outcome: strOrNull(r.outcome) as CommandRow["outcome"],
    outcomeReason: strOrNull(r.outcome_reason),
    endedAt: numOrNull(r.ended_at),
    durationMs: numOrNull(r.duration_ms),
  };
}
export function eventOf(r: Raw): EventRow {
  return { id: String(r.id), drone: String(r.drone), flightId: strOrNull(r.flight_id), time: num(r.time), kind: String(r.kind), message: String(r.message), details: String(r.details) };
}
export function packetOf(r: Raw): PacketRow {
  return { id: String(r.id), drone: String(r.drone), flightId: String(r.flight_id), time: num(r.time), bytes: String(r.bytes) };
}
export function streamOf(r: Raw): StreamRow {
  return { drone: String(r.drone), epoch: String(r.epoch), seq: num(r.seq), time: num(r.time), flightId: strOrNull(r.flight_id), data: String(r.data) };
}

/** A flight list query as SQL with `?` placeholders and its values (newest first, keyset after the cursor). */
export function flightListSql(query: FlightQuery): { sql: string; values: Value[] } {
  const where: string[] = [];
  const values: Value[] = [];
  if (query.drone !== undefined) where.push("drone = ?"), values.push(query.drone);
  if (query.since !== undefined) where.push("started_at >= ?"), values.push(query.since);
  if (query.until !== undefined) where.push("started_at < ?"), values.push(query.until);
  if (query.before !== undefined) {
    where.push("(started_at < ? OR (started_at = ? AND id < ?))");
    values.push(query.before.startedAt, query.before.startedAt, query.before.id);
  }
  values.push(query.limit);
  const filter = where.length === 0 ? "" : `WHERE ${where.join(" AND ")} `;
  return { sql: `SELECT ${flightColumns} FROM flights ${filter}ORDER BY started_at DESC, id DESC LIMIT ?`, values };
}

/** A page of a flight's frames as SQL with `?` placeholders and its values (oldest first, keyset after the cursor). */
export function frameRangeSql(query: FrameQuery): { sql: string; values: Value[] } {
  const where = ["flight_id = ?"];
  const values: Value[] = [query.flightId];
  if (query.from !== undefined) where.push("time >= ?"), values.push(query.from);
  if (query.to !== undefined) where.push("time <= ?"), values.push(query.to);
  if (query.after !== undefined) {
    where.push("(time > ? OR (time = ? AND seq > ?))");
    values.push(query.after.time, query.after.time, query.after.seq);
  }
  values.push(query.limit);
  return { sql: `SELECT ${frameColumns} FROM frames WHERE ${where.join(" AND ")} ORDER BY time, seq LIMIT ?`, values };
}

/** The read queries with fixed shapes, shared with the PostgreSQL store. */
export const readSql = {
  flight: `SELECT ${flightColumns} FROM flights WHERE id = ?`,
  commands: `SELECT ${commandColumns} FROM commands WHERE flight_id = ? ORDER BY received_at, id`,
  events: `SELECT ${eventColumns} FROM events WHERE flight_id = ? ORDER BY time, id`,
  streams: `SELECT ${streamColumns} FROM streams ORDER BY drone`,
  firstPackets: `SELECT ${packetColumns} FROM mavlink_packets WHERE flight_id = ? ORDER BY time, id LIMIT ?`,
  packetsAfter: `SELECT ${packetColumns} FROM mavlink_packets WHERE flight_id = ? AND (time > ? OR (time = ? AND id > ?)) ORDER BY time, id LIMIT ?`,
  latestFrames: `SELECT ${frameColumns} FROM frames WHERE drone = ? AND epoch = ? ORDER BY seq DESC LIMIT ?`,
  oldestFinishedFlight: `SELECT ${flightColumns} FROM flights WHERE ended_at IS NOT NULL ORDER BY ended_at, id LIMIT 1`,
} as const;

/** Ending the commands a stopped process never ended: reason, ended_at (twice: once for the duration). */
export const failUnfinishedSql = "UPDATE commands SET outcome = 'failed', outcome_reason = ?, ended_at = ?, duration_ms = ? - received_at WHERE answer = 'ack' AND outcome IS NULL";
/** The same, for one vehicle's commands (a cluster node taking it over); the drone is the last parameter. */
export const failUnfinishedOfDroneSql = `${failUnfinishedSql} AND drone = ?`;

/** Deleting a flight and everything recorded for it, in this order, each with the flight id. */
export const deleteFlightSql = ["DELETE FROM frames WHERE flight_id = ?", "DELETE FROM mavlink_packets WHERE flight_id = ?", "DELETE FROM commands WHERE flight_id = ?", "DELETE FROM events WHERE flight_id = ?", "DELETE FROM flights WHERE id = ?"] as const;

/** Retention: flights that ended before the cutoff, then everything older than it; each with the cutoff. */
export const deleteBeforeSql = {
  expiredFlights: "SELECT id FROM flights WHERE ended_at IS NOT NULL AND ended_at < ?",
  groundFrames: "DELETE FROM frames WHERE flight_id IS NULL AND time < ?",
  groundCommands: "DELETE FROM commands WHERE flight_id IS NULL AND received_at < ?",
  groundEvents: "DELETE FROM events WHERE flight_id IS NULL AND time < ?",
} as const;
