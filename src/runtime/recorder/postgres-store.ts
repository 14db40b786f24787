/**
 * The shared recorder store: PostgreSQL through Bun's built-in SQL client
 * (`Bun.SQL`), for clusters where every node must see every flight.
 *
 * Owns connecting (and refusing), applying the migrations in one
 * transaction under an advisory lock (nodes starting together migrate
 * once), and running each store method on the SQL of `sql.ts`, the same
 * text the SQLite store runs, with `?` numbered `$1, $2, ...`. It never
 * decides what to record and never serves HTTP.
 */
import { SQL } from "bun";
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

/** Seconds to wait for the server when connecting: an unreachable database stops the start quickly. */
const connectTimeoutSeconds = 5;
/** Connections in the pool: one writer and a few API readers. */
const poolSize = 4;
/** The advisory lock nodes take while migrating (any constant; "skyport" in ASCII). */
const migrationLockKey = 0x736b79706f7274;
/** Bytes counted per stored row beside its JSON, for the size cap (PostgreSQL's row header and index entry, roughly). */
const rowOverheadBytes = 64;

/** `?` placeholders as PostgreSQL's `$1, $2, ...` (the shared SQL holds no `?` inside literals). */
export function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** A URL with its password replaced by `***`, for messages. */
export function redactedDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.href;
  } catch {
    return "(not a URL)";
  }
}

/**
 * Connects to `url` and brings the schema up to date. Throws
 * `StoreOpenError` with one line naming `--database` when the server is
 * unreachable, refuses, or holds a newer schema than this code.
 */
export async function openPostgresStore(url: string): Promise<PostgresStore> {
  const sql = new SQL({ url, max: poolSize, connectionTimeout: connectTimeoutSeconds, idleTimeout: 60 });
  try {
    await migrate(sql);
    return new PostgresStore(sql);
  } catch (error) {
    await sql.close({ timeout: 0 }).catch(() => undefined);
    if (error instanceof StoreOpenError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new StoreOpenError(`cannot open the flight recorder's database ${redactedDatabaseUrl(url)} (--database / DATABASE_URL): ${message}`);
  }
}

async function migrate(sql: SQL): Promise<void> {
  await sql.begin(async (tx) => {
    await tx.unsafe(`SELECT pg_advisory_xact_lock(${migrationLockKey})`);
    await tx.unsafe(migrationsTableSql);
    const [row] = (await tx.unsafe("SELECT MAX(version) AS version FROM schema_migrations")) as Raw[];
    const plan = pendingMigrations(Number(row?.version ?? 0));
    if ("newer" in plan) throw new StoreOpenError(`cannot use the flight recorder's database (--database / DATABASE_URL): ${plan.newer}`);
    for (const migration of plan.apply) {
      for (const statement of statementsOf(migration)) await tx.unsafe(statement);
      await tx.unsafe("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)", [migration.version, migration.name, Date.now()]);
    }
  });
}

export class PostgresStore implements RecorderStore {
  readonly kind = "postgres";

  constructor(private readonly sql: SQL) {}

  async write(batch: WriteBatch): Promise<void> {
    await this.sql.begin(async (tx) => {
      const run = (text: string, rows: Value[][]) => Promise.all(rows.map((values) => tx.unsafe(numbered(text), values)));
      await run(writeSql.frame, batch.frames.map(frameValues));
      await run(writeSql.flight, batch.flights.map(flightValues));
      await run(writeSql.command, batch.commands.map(commandValues));
      await run(writeSql.event, batch.events.map(eventValues));
      await run(writeSql.stream, batch.streams.map(streamValues));
      await run(writeSql.packet, batch.packets.map(packetValues));
    });
  }

  async flights(query: FlightQuery): Promise<FlightRow[]> {
    const { sql, values } = flightListSql(query);
    return (await this.all(sql, values)).map(flightOf);
  }

  async flight(id: string): Promise<FlightRow | null> {
    const [row] = await this.all(readSql.flight, [id]);
    return row === undefined ? null : flightOf(row);
  }

  async commands(flightId: string): Promise<CommandRow[]> {
    return (await this.all(readSql.commands, [flightId])).map(commandOf);
  }

  async events(flightId: string): Promise<EventRow[]> {
    return (await this.all(readSql.events, [flightId])).map(eventOf);
  }

  async frames(query: FrameQuery): Promise<FrameRow[]> {
    const { sql, values } = frameRangeSql(query);
    return (await this.all(sql, values)).map(frameOf);
  }

  async packets(flightId: string, after: { time: number; id: string } | null, limit: number): Promise<PacketRow[]> {
    const rows = after === null ? await this.all(readSql.firstPackets, [flightId, limit]) : await this.all(readSql.packetsAfter, [flightId, after.time, after.time, after.id, limit]);
    return rows.map(packetOf);
  }

  async streams(): Promise<StreamRow[]> {
    return (await this.all(readSql.streams, [])).map(streamOf);
  }

  async latestFrames(drone: string, epoch: string, limit: number): Promise<FrameRow[]> {
    return (await this.all(readSql.latestFrames, [drone, epoch, limit])).map(frameOf).reverse();
  }

  async failUnfinishedCommands(reason: string, at: number, drone?: string): Promise<number> {
    const result = drone === undefined ? await this.sql.unsafe(numbered(failUnfinishedSql), [reason, at, at]) : await this.sql.unsafe(numbered(failUnfinishedOfDroneSql), [reason, at, at, drone]);
    return Number(result.count ?? 0);
  }

  async deleteFlight(id: string): Promise<boolean> {
    return this.sql.begin(async (tx) => {
      const [found] = (await tx.unsafe(numbered(readSql.flight), [id])) as Raw[];
      if (found === undefined) return false;
      for (const text of deleteFlightSql) await tx.unsafe(numbered(text), [id]);
      return true;
    });
  }

  async deleteBefore(beforeMs: number): Promise<number> {
    return this.sql.begin(async (tx) => {
      const expired = ((await tx.unsafe(numbered(deleteBeforeSql.expiredFlights), [beforeMs])) as Raw[]).map((row) => String(row.id));
      for (const id of expired) for (const text of deleteFlightSql) await tx.unsafe(numbered(text), [id]);
      for (const text of [deleteBeforeSql.groundFrames, deleteBeforeSql.groundCommands, deleteBeforeSql.groundEvents]) await tx.unsafe(numbered(text), [beforeMs]);
      return expired.length;
    });
  }

  async oldestFinishedFlight(): Promise<FlightRow | null> {
    const [row] = await this.all(readSql.oldestFinishedFlight, []);
    return row === undefined ? null : flightOf(row);
  }

  /**
   * The frames' JSON plus a per-row overhead: PostgreSQL's own relation
   * sizes shrink only after a vacuum, so the cap counts the rows instead
   * (frames are nearly all of a recording).
   */
  async sizeBytes(): Promise<number> {
    const [row] = await this.all(`SELECT COALESCE(SUM(octet_length(data)), 0) + COUNT(*) * ${rowOverheadBytes} AS bytes FROM frames`, []);
    return Number(row?.bytes ?? 0);
  }

  async close(): Promise<void> {
    await this.sql.close({ timeout: 5 });
  }

  private async all(text: string, values: Value[]): Promise<Raw[]> {
    return (await this.sql.unsafe(numbered(text), values)) as Raw[];
  }
}
