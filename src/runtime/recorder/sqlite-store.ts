/**
 * The embedded recorder store: one SQLite file in the data directory,
 * through Bun's built-in driver, in WAL mode.
 *
 * Owns opening (and refusing) the database, applying the migrations in one
 * transaction, and running each store method; the SQL itself is `sql.ts`,
 * shared with the PostgreSQL store. It never decides what to record (`recorder.ts`) and never serves HTTP.
 */
import { Database, type Statement } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { migrationsTableSql, pendingMigrations, statementsOf } from "./migrations.ts";
import {
  commandOf,
  commandValues,
  deleteBeforeSql,
  deleteFlightSql,
  eventOf,
  eventValues,
  failUnfinishedOfDroneSql,
  failUnfinishedSql,
  flightListSql,
  flightOf,
  flightValues,
  frameOf,
  frameRangeSql,
  frameValues,
  packetOf,
  packetValues,
  readSql,
  streamOf,
  streamValues,
  writeSql,
  type Raw,
  type Value,
} from "./sql.ts";
import { StoreOpenError, type CommandRow, type EventRow, type FlightQuery, type FlightRow, type FrameQuery, type FrameRow, type PacketRow, type RecorderStore, type StreamRow, type WriteBatch } from "./store.ts";

/** The database file's name inside the data directory. */
export const databaseFileName = "skyport.sqlite";

/**
 * How long a write waits for a lock another connection holds before it
 * fails, ms. bun:sqlite is synchronous, so this wait blocks the event loop
 * (and the tick): kept to a few milliseconds, a locked database degrades
 * recording (the batch waits for the next flush) instead of stalling flight.
 */
const busyTimeoutMilliseconds = 10;

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
      packet: db.prepare(writeSql.packet),
    };
    this.writeAll = db.transaction((batch: WriteBatch) => {
      for (const row of batch.frames) this.insert.frame.run(...frameValues(row));
      for (const row of batch.flights) this.insert.flight.run(...flightValues(row));
      for (const row of batch.commands) this.insert.command.run(...commandValues(row));
      for (const row of batch.events) this.insert.event.run(...eventValues(row));
      for (const row of batch.streams) this.insert.stream.run(...streamValues(row));
      for (const row of batch.packets) this.insert.packet.run(...packetValues(row));
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

  async packets(flightId: string, after: { time: number; id: string } | null, limit: number): Promise<PacketRow[]> {
    const rows = after === null ? this.all(readSql.firstPackets, [flightId, limit]) : this.all(readSql.packetsAfter, [flightId, after.time, after.time, after.id, limit]);
    return rows.map(packetOf);
  }

  async streams(): Promise<StreamRow[]> {
    return this.all(readSql.streams, []).map(streamOf);
  }

  async latestFrames(drone: string, epoch: string, limit: number): Promise<FrameRow[]> {
    return this.all(readSql.latestFrames, [drone, epoch, limit]).map(frameOf).reverse();
  }

  async failUnfinishedCommands(reason: string, at: number, drone?: string): Promise<number> {
    return drone === undefined ? this.db.query(failUnfinishedSql).run(reason, at, at).changes : this.db.query(failUnfinishedOfDroneSql).run(reason, at, at, drone).changes;
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
