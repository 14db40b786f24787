/**
 * The recorder store against a real database file: migrations, refusals
 * (newer schema, unusable path, corrupt file), writes and every read.
 */
import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { migrations, migrationsTableSql, schemaVersion, statementsOf } from "../../../src/runtime/recorder/migrations.ts";
import { databaseFileName, openSqliteStore } from "../../../src/runtime/recorder/sqlite-store.ts";
import { StoreOpenError } from "../../../src/runtime/recorder/store.ts";
import { openWorkerSqliteStore } from "../../../src/runtime/recorder/worker-store.ts";
import { tempDataDir } from "../../support/recorder.ts";
import { storeContract } from "../../support/store-contract.ts";

const dirs: { remove(): void }[] = [];
afterEach(() => dirs.splice(0).forEach((dir) => dir.remove()));
function dataDir(): string {
  const dir = tempDataDir();
  dirs.push(dir);
  return dir.path;
}

describe("opening", () => {
  test("creates the schema at the code's version in WAL mode, and opens it again without migrating twice", async () => {
    const dir = dataDir();
    await openSqliteStore(dir).close();
    const store = openSqliteStore(dir);
    await store.close();
    const db = new Database(join(dir, databaseFileName));
    expect((db.query("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode).toBe("wal");
    expect(db.query("SELECT version FROM schema_migrations ORDER BY version").all()).toEqual(migrations.map((migration) => ({ version: migration.version })));
    db.close();
  });

  test("a database of an older schema is brought up to date, keeping what it holds", async () => {
    const dir = dataDir();
    const db = new Database(join(dir, databaseFileName));
    db.run(migrationsTableSql);
    for (const statement of statementsOf(migrations[0]!)) db.run(statement);
    db.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES (1, 'initial', 0)");
    db.run("INSERT INTO flights (id, drone, started_at, max_altitude, distance, battery_start, battery_end, frames) VALUES ('alpha-1', 'alpha', 1, 0, 0, 100, 100, 0)");
    db.close();
    const store = openSqliteStore(dir);
    expect((await store.flight("alpha-1"))?.drone).toBe("alpha");
    expect(await store.packets("alpha-1", null, 10)).toEqual([]);
    await store.close();
  });

  test("a database newer than the code refuses with one line naming the versions and the flag", async () => {
    const dir = dataDir();
    await openSqliteStore(dir).close();
    const db = new Database(join(dir, databaseFileName));
    db.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future', 0)", [schemaVersion + 1]);
    db.close();
    expect(() => openSqliteStore(dir)).toThrow(StoreOpenError);
    expect(() => openSqliteStore(dir)).toThrow(`--data-dir / SKYPORT_DATA_DIR): the database's schema is version ${schemaVersion + 1}, newer than this skyport's ${schemaVersion}`);
  });

  test("a corrupt file and an unwritable directory stop the start with one line naming --data-dir", () => {
    const corrupt = dataDir();
    writeFileSync(join(corrupt, databaseFileName), "this is not a database, just text long enough to have a header page".repeat(20));
    expect(() => openSqliteStore(corrupt)).toThrow(/^cannot open the flight recorder's database .*skyport\.sqlite \(--data-dir \/ SKYPORT_DATA_DIR\): .*not a database/);
    const locked = join(dataDir(), "locked");
    mkdirSync(locked);
    chmodSync(locked, 0o500);
    try {
      // root ignores directory permissions: only check when the test runs as an ordinary user.
      if (process.getuid?.() !== 0) expect(() => openSqliteStore(locked)).toThrow(/--data-dir \/ SKYPORT_DATA_DIR/);
    } finally {
      chmodSync(locked, 0o700);
    }
    const file = join(dataDir(), "a-file");
    writeFileSync(file, "");
    expect(() => openSqliteStore(file)).toThrow(/^cannot open the flight recorder's database .*\(--data-dir \/ SKYPORT_DATA_DIR\)/);
  });
});

describe("SQLite store", () => {
  storeContract(async () => openSqliteStore(dataDir()));
});

describe("SQLite store on a worker thread (what server.ts uses)", () => {
  storeContract(() => openWorkerSqliteStore(dataDir()));

  test("an unusable database refuses from the worker with the same one line", async () => {
    const corrupt = dataDir();
    writeFileSync(join(corrupt, databaseFileName), "this is not a database, just text long enough to have a header page".repeat(20));
    const opening = openWorkerSqliteStore(corrupt);
    await expect(opening).rejects.toThrow(StoreOpenError);
    await expect(opening).rejects.toThrow(/^cannot open the flight recorder's database .*skyport\.sqlite \(--data-dir \/ SKYPORT_DATA_DIR\): .*not a database/);
  });
});
