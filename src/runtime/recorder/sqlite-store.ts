/**
 * The embedded recorder store: one SQLite file in the data directory,
 * through Bun's built-in driver, in WAL mode.
 *
 * Owns opening (and refusing) the database, applying the migrations in one
 * transaction, and the SQL of every store method. The SQL is the portable
 * subset PostgreSQL also runs (`ON CONFLICT ... DO UPDATE`, keyset paging).
 * It never decides what to record (`recorder.ts`) and never serves HTTP.
 */
import { Database, type Statement } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { migrationsTableSql, pendingMigrations, statementsOf } from "./migrations.ts";
import { StoreOpenError, type CommandRow, type EventRow, type FlightQuery, type FlightRow, type FrameQuery, type FrameRow, type RecorderStore, type StreamRow, type WriteBatch } from "./store.ts";

/** The database file's name inside the data directory. */
export const databaseFileName = "skyport.sqlite";

/**
 * How long a write waits for a lock another connection holds before it
 * fails, ms. bun:sqlite is synchronous, so this wait blocks the event loop
 * (and the tick): kept to a few milliseconds, a locked database degrades
 * recording (the batch waits for the next flush) instead of stalling flight.
 */
const busyTimeoutMilliseconds = 10;

const flightColumns = "id, drone, started_at, ended_at, end_reason, max_altitude, distance, battery_start, battery_end, pilot, pilot_user, frames";
const frameColumns = "drone, epoch, seq, time, flight_id, data";
const commandColumns =
  "id, drone, flight_id, session, user_name, request_id, request, received_at, answer, answer_detail, answered_at, outcome, outcome_reason, ended_at, duration_ms";
const eventColumns = "id, drone, flight_id, time, kind, message, details";
const streamColumns = "drone, epoch, seq, time, flight_id";

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
  stream: `INSERT INTO streams (${streamColumns}) VALUES (${placeholders(streamColumns)}) ON CONFLICT (drone) DO UPDATE SET ${updateAll(streamColumns, "drone")}`,
} as const;

type Value = string | number | null;

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
export function streamValues(s: StreamRow): Value[] {
  return [s.drone, s.epoch, s.seq, s.time, s.flightId];
}

/** A database row (snake_case columns) as the store's row type. */
type Raw = Record<string, unknown>;
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
export function streamOf(r: Raw): StreamRow {
  return { drone: String(r.drone), epoch: String(r.epoch), seq: num(r.seq), time: num(r.time), flightId: strOrNull(r.flight_id) };
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
  latestFrames: `SELECT ${frameColumns} FROM frames WHERE drone = ? AND epoch = ? ORDER BY seq DESC LIMIT ?`,
  oldestFinishedFlight: `SELECT ${flightColumns} FROM flights WHERE ended_at IS NOT NULL ORDER BY ended_at, id LIMIT 1`,
} as const;

/** Ending the commands a stopped process never ended: reason, ended_at (twice: once for the duration). */
export const failUnfinishedSql = "UPDATE commands SET outcome = 'failed', outcome_reason = ?, ended_at = ?, duration_ms = ? - received_at WHERE answer = 'ack' AND outcome IS NULL";

/** Deleting a flight and everything recorded for it, in this order, each with the flight id. */
export const deleteFlightSql = ["DELETE FROM frames WHERE flight_id = ?", "DELETE FROM commands WHERE flight_id = ?", "DELETE FROM events WHERE flight_id = ?", "DELETE FROM flights WHERE id = ?"] as const;

/** Retention: flights that ended before the cutoff, then everything older than it; each with the cutoff. */
export const deleteBeforeSql = {
  expiredFlights: "SELECT id FROM flights WHERE ended_at IS NOT NULL AND ended_at < ?",
  groundFrames: "DELETE FROM frames WHERE flight_id IS NULL AND time < ?",
  groundCommands: "DELETE FROM commands WHERE flight_id IS NULL AND received_at < ?",
  groundEvents: "DELETE FROM events WHERE flight_id IS NULL AND time < ?",
} as const;

/**
 * Opens (creating it if needed) the database in `dataDir` and brings its
 * schema up to date. Throws `StoreOpenError` with one line naming `--data-dir`
 * when the directory or file cannot be used, or the schema is newer than this code.
 */
export function openSqliteStore(dataDir: string): SqliteStore {
  const path = join(dataDir, databaseFileName);
  let db: Database | null = null;
  try {
    mkdirSync(dataDir, { recursive: true });
    db = new Database(path, { create: true, strict: true });
    db.run("PRAGMA journal_mode = WAL");
    // WAL with synchronous NORMAL survives a killed process; only a power cut may lose the last commits.
    db.run("PRAGMA synchronous = NORMAL");
    db.run(`PRAGMA busy_timeout = ${busyTimeoutMilliseconds}`);
    migrate(db);
    return new SqliteStore(db, path);
  } catch (error) {
    db?.close();
    if (error instanceof StoreOpenError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new StoreOpenError(`cannot open the flight recorder's database ${path} (--data-dir / SKYPORT_DATA_DIR): ${message}`);
  }
}

/** Applies the migrations this database lacks, all in one transaction. */
function migrate(db: Database): void {
  db.run(migrationsTableSql);
  const row = db.query("SELECT MAX(version) AS version FROM schema_migrations").get() as { version: number | null };
  const plan = pendingMigrations(Number(row.version ?? 0));
  if ("newer" in plan) throw new StoreOpenError(`cannot use the flight recorder's database (--data-dir / SKYPORT_DATA_DIR): ${plan.newer}`);
  if (plan.apply.length === 0) return;
  db.transaction(() => {
    for (const migration of plan.apply) {
      for (const statement of statementsOf(migration)) db.run(statement);
      db.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)").run(migration.version, migration.name, Date.now());
    }
  })();
}

export class SqliteStore implements RecorderStore {
  readonly kind = "sqlite";
  private readonly insert: Record<keyof typeof writeSql, Statement>;
  private readonly writeAll: (batch: WriteBatch) => void;

  constructor(
    private readonly db: Database,
    /** The database file. */
    readonly path: string,
  ) {
    this.insert = {
      flight: db.prepare(writeSql.flight),
      frame: db.prepare(writeSql.frame),
      command: db.prepare(writeSql.command),
      event: db.prepare(writeSql.event),
      stream: db.prepare(writeSql.stream),
    };
    this.writeAll = db.transaction((batch: WriteBatch) => {
      for (const row of batch.frames) this.insert.frame.run(...frameValues(row));
      for (const row of batch.flights) this.insert.flight.run(...flightValues(row));
      for (const row of batch.commands) this.insert.command.run(...commandValues(row));
      for (const row of batch.events) this.insert.event.run(...eventValues(row));
      for (const row of batch.streams) this.insert.stream.run(...streamValues(row));
    });
  }

  async write(batch: WriteBatch): Promise<void> {
    this.writeAll(batch);
  }

  async flights(query: FlightQuery): Promise<FlightRow[]> {
    const { sql, values } = flightListSql(query);
    return this.all(sql, values).map(flightOf);
  }

  async flight(id: string): Promise<FlightRow | null> {
    const row = this.db.query(readSql.flight).get(id) as Raw | null;
    return row === null ? null : flightOf(row);
  }

  async commands(flightId: string): Promise<CommandRow[]> {
    return this.all(readSql.commands, [flightId]).map(commandOf);
  }

  async events(flightId: string): Promise<EventRow[]> {
    return this.all(readSql.events, [flightId]).map(eventOf);
  }

  async frames(query: FrameQuery): Promise<FrameRow[]> {
    const { sql, values } = frameRangeSql(query);
    return this.all(sql, values).map(frameOf);
  }

  async streams(): Promise<StreamRow[]> {
    return this.all(readSql.streams, []).map(streamOf);
  }

  async latestFrames(drone: string, epoch: string, limit: number): Promise<FrameRow[]> {
    return this.all(readSql.latestFrames, [drone, epoch, limit]).map(frameOf).reverse();
  }

  async failUnfinishedCommands(reason: string, at: number): Promise<number> {
    return this.db.query(failUnfinishedSql).run(reason, at, at).changes;
  }

  async deleteFlight(id: string): Promise<boolean> {
    const exists = this.db.query(readSql.flight).get(id) !== null;
    if (exists) this.db.transaction(() => deleteFlightSql.forEach((sql) => this.db.query(sql).run(id)))();
    return exists;
  }

  async deleteBefore(beforeMs: number): Promise<number> {
    return this.db.transaction(() => {
      const expired = this.all(deleteBeforeSql.expiredFlights, [beforeMs]).map((row) => String(row.id));
      for (const id of expired) for (const sql of deleteFlightSql) this.db.query(sql).run(id);
      this.db.query(deleteBeforeSql.groundFrames).run(beforeMs);
      this.db.query(deleteBeforeSql.groundCommands).run(beforeMs);
      this.db.query(deleteBeforeSql.groundEvents).run(beforeMs);
      return expired.length;
    })();
  }

  async oldestFinishedFlight(): Promise<FlightRow | null> {
    const row = this.db.query(readSql.oldestFinishedFlight).get() as Raw | null;
    return row === null ? null : flightOf(row);
  }

  async sizeBytes(): Promise<number> {
    // Pages in use: deleted rows free pages inside the file, which SQLite reuses without shrinking it.
    const read = (pragma: string) => Number(Object.values(this.db.query(`PRAGMA ${pragma}`).get() as Raw)[0]);
    return (read("page_count") - read("freelist_count")) * read("page_size");
  }

  async close(): Promise<void> {
    this.db.close();
  }

  private all(sql: string, values: Value[]): Raw[] {
    return this.db.query(sql).all(...values) as Raw[];
  }
}
