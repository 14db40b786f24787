/**
 * Opening the flight recorder for `server.ts`: the store the configuration
 * names, and what each vehicle needs to carry on after a restart, read
 * before the server starts.
 *
 * Owns the rule of when and where a process records (`--no-record` off;
 * `--database` PostgreSQL, else SQLite in `--data-dir`; a cluster only into
 * PostgreSQL, and without restart recovery, which is the cluster's own
 * takeover there) and nothing else; the recorder itself is `src/runtime/recorder/`.
 */
import type { Config } from "./config.ts";
import type { StartOptions } from "./app.ts";
import { readRecovery } from "../runtime/recorder/recovery.ts";
import { join } from "node:path";
import { openPostgresStore, redactedDatabaseUrl } from "../runtime/recorder/postgres-store.ts";
import { databaseFileName } from "../runtime/recorder/sqlite-store.ts";
import { openWorkerSqliteStore } from "../runtime/recorder/worker-store.ts";

/** Why this process does not record although recording is on, or null when it records. */
export function recordingBlocked(config: Config): string | null {
  if (!config.record) return null;
  if (clustered(config) && config.databaseUrl === null) {
    return "warning: not recording flights: a cluster (--redis, --workers) records only into one shared PostgreSQL (--database postgres://...); pass --no-record to silence this";
  }
  return null;
}

/**
 * The store and recovery to start with, or undefined when this process does
 * not record. Throws `StoreOpenError` (one line naming --data-dir) when the
 * database cannot be used.
 */
export async function openRecording(config: Config, droneIds: readonly string[]): Promise<StartOptions["recording"]> {
  if (!config.record || recordingBlocked(config) !== null) return undefined;
  // SQLite runs on its own thread: a flush never holds the event loop the tick runs on.
  const store = config.databaseUrl === null ? await openWorkerSqliteStore(config.dataDir) : await openPostgresStore(config.databaseUrl);
  // In a cluster the nodes hand vehicles over through Redis; one node's restart must not end the others' commands.
  return { store, recovery: clustered(config) ? [] : await readRecovery(store, droneIds, Date.now()) };
}

/** The banner's line saying where flights are recorded (never a database password). */
export function recordingLine(config: Config): string {
  const where = config.databaseUrl === null ? join(config.dataDir, databaseFileName) : redactedDatabaseUrl(config.databaseUrl);
  return `recording flights to ${where}: /api/flights (--no-record turns it off)`;
}

function clustered(config: Config): boolean {
  return config.redisUrl !== null || config.workers > 1;
}
