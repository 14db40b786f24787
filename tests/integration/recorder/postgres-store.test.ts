/**
 * PostgreSQL parity: the same store contract the SQLite store passes, run
 * against a real `postgres` started by the harness, each test on a fresh
 * database; plus the refusals (unreachable server, newer schema).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SQL } from "bun";
import { migrations, schemaVersion } from "../../../src/runtime/recorder/migrations.ts";
import { openPostgresStore } from "../../../src/runtime/recorder/postgres-store.ts";
import { StoreOpenError } from "../../../src/runtime/recorder/store.ts";
import { startPostgres, type PostgresServer } from "../../support/postgres.ts";
import { storeContract } from "../../support/store-contract.ts";

let postgres: PostgresServer;
let databases = 0;
beforeAll(async () => {
  postgres = await startPostgres();
}, 30_000);
afterAll(async () => {
  await postgres?.stop();
}, 15_000);

const freshStore = async () => openPostgresStore(await postgres.createDatabase(`t${++databases}`));

describe("PostgreSQL store", () => {
  storeContract(freshStore);

  test("migrates once, also when two nodes open it together", async () => {
    const url = await postgres.createDatabase(`t${++databases}`);
    const [a, b] = await Promise.all([openPostgresStore(url), openPostgresStore(url)]);
    await Promise.all([a.close(), b.close()]);
    const sql = new SQL(url);
    expect((await sql.unsafe("SELECT version FROM schema_migrations ORDER BY version")).map((row: any) => Number(row.version))).toEqual(migrations.map((migration) => migration.version));
    await sql.close();
  });

  test("a newer schema and an unreachable server refuse with one line naming --database", async () => {
    const url = await postgres.createDatabase(`t${++databases}`);
    await (await openPostgresStore(url)).close();
    const sql = new SQL(url);
    await sql.unsafe("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, 'future', 0)", [schemaVersion + 1]);
    await sql.close();
    await expect(openPostgresStore(url)).rejects.toThrow(`(--database / DATABASE_URL): the database's schema is version ${schemaVersion + 1}, newer than this skyport's ${schemaVersion}`);
    const unreachable = openPostgresStore("postgres://skyport:secret@127.0.0.1:1/postgres");
    await expect(unreachable).rejects.toThrow(StoreOpenError);
    await expect(unreachable).rejects.toThrow(/^cannot open the flight recorder's database postgres:\/\/skyport:\*\*\*@127\.0\.0\.1:1\/postgres \(--database \/ DATABASE_URL\)/);
  });
});
