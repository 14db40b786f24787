/**
 * The recorder's schema migrations, in the order they apply: each a SQL file
 * under `migrations/` named `NNN-name.sql`, bundled into the program as text
 * (so a compiled binary carries them), portable to SQLite and PostgreSQL.
 *
 * Owns the list and the version rule only; each store applies them in one
 * transaction and records the version in `schema_migrations`. Never edit a
 * migration that has shipped: add the next one.
 */
import initial from "./migrations/001-initial.sql" with { type: "text" };
import mavlinkPackets from "./migrations/002-mavlink-packets.sql" with { type: "text" };

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Every migration, oldest first; versions count up from 1 without gaps. */
export const migrations: readonly Migration[] = [
  { version: 1, name: "initial", sql: initial },
  { version: 2, name: "mavlink-packets", sql: mavlinkPackets },
];

/** The schema version this code writes and reads. */
export const schemaVersion = migrations.at(-1)!.version;

/** The table that records which migrations were applied (created before any migration). */
export const migrationsTableSql = "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)";

/** The statements of one migration, split on `;` at line ends (the files hold no procedural SQL). */
export function statementsOf(migration: Migration): string[] {
  return migration.sql
    .split(/;\s*(?:\n|$)/)
    .map((statement) => statement.replace(/^\s*--.*$/gm, "").trim())
    .filter((statement) => statement !== "");
}

/**
 * What to do with a database at `appliedVersion`: the migrations still to
 * apply, or why the code must not touch it (a newer schema than this code knows).
 */
export function pendingMigrations(appliedVersion: number): { apply: Migration[] } | { newer: string } {
  if (appliedVersion > schemaVersion) {
    return { newer: `the database's schema is version ${appliedVersion}, newer than this skyport's ${schemaVersion}: upgrade skyport, or point it at another database` };
  }
  return { apply: migrations.filter((migration) => migration.version > appliedVersion) };
}
