/**
 * Opening the flight recorder for `server.ts`: the store the configuration
 * names, and what each vehicle needs to carry on after a restart, read
 * before the server starts.
 *
 * Owns the rule of when a process records (`--no-record` off; with --redis
 * or --workers, not until the shared PostgreSQL store exists) and nothing
 * else; the recorder itself is `src/runtime/recorder/`.
 */
import type { Config } from "./config.ts";
import type { StartOptions } from "./app.ts";
import { readRecovery } from "../runtime/recorder/recovery.ts";
import { openSqliteStore } from "../runtime/recorder/sqlite-store.ts";

/** Why this process does not record although recording is on, or null when it records. */
export function recordingBlocked(config: Config): string | null {
  if (!config.record) return null;
  if (config.redisUrl !== null || config.workers > 1) {
    return "warning: not recording flights: a cluster (--redis, --workers) needs one shared database, and the PostgreSQL store (--database) is not built yet; pass --no-record to silence this";
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
  const store = openSqliteStore(config.dataDir);
  return { store, recovery: await readRecovery(store, droneIds, Date.now()) };
}
