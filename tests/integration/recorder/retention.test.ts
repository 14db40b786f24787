/**
 * Retention against a real database: finished flights past --retention-days
 * go with everything recorded for them, open ones stay; over the size cap
 * the oldest finished flights go first until the rows fit.
 */
import { afterEach, expect, test } from "bun:test";
import { collectingLogger } from "../../../src/runtime/observability/log.ts";
import { RetentionSweeper } from "../../../src/runtime/recorder/retention.ts";
import { openSqliteStore } from "../../../src/runtime/recorder/sqlite-store.ts";
import { emptyBatch } from "../../../src/runtime/recorder/store.ts";
import { commandRow, flightRow, frameRow, tempDataDir } from "../../support/recorder.ts";

const day = 86_400_000;
const now = Date.UTC(2026, 5, 1);
const dirs: { remove(): void }[] = [];
afterEach(() => dirs.splice(0).forEach((dir) => dir.remove()));

function store() {
  const dir = tempDataDir();
  dirs.push(dir);
  return openSqliteStore(dir.path);
}

test("flights that ended before the retention window go, with their frames and commands; open and recent ones stay", async () => {
  const db = store();
  const batch = emptyBatch();
  batch.flights.push(flightRow("alpha-1", "alpha", now - 40 * day), flightRow("alpha-2", "alpha", now - 40 * day, { endedAt: null, endReason: null }), flightRow("alpha-3", "alpha", now - 2 * day));
  batch.frames.push(frameRow("alpha", 0, now - 40 * day, "alpha-1"), frameRow("alpha", 1, now - 40 * day, null));
  batch.commands.push(commandRow("c1", "alpha", "alpha-1", now - 40 * day));
  await db.write(batch);
  const logger = collectingLogger();
  const result = await new RetentionSweeper(db, { retentionDays: 30, maxBytes: 0 }, logger, () => now).sweep();
  expect(result).toEqual({ expired: 1, overCap: 0 });
  expect((await db.flights({ limit: 10 })).map((f) => f.id).sort()).toEqual(["alpha-2", "alpha-3"]);
  expect(await db.commands("alpha-1")).toEqual([]);
  expect(logger.lines).toContainEqual(expect.objectContaining({ event: "retention", expired: 1, overCap: 0 }));
  await db.close();
});

test("over the size cap, the oldest finished flights go first until the rows fit", async () => {
  const db = store();
  for (let flight = 0; flight < 5; flight++) {
    const batch = emptyBatch();
    const id = `alpha-${flight}`;
    batch.flights.push(flightRow(id, "alpha", now - (10 - flight) * day));
    for (let seq = 0; seq < 2000; seq++) batch.frames.push({ ...frameRow("alpha", flight * 10_000 + seq, now, id), data: JSON.stringify({ padding: "x".repeat(200), seq }) });
    await db.write(batch);
  }
  const full = await db.sizeBytes();
  const cap = Math.round(full * 0.7);
  const result = await new RetentionSweeper(db, { retentionDays: 30, maxBytes: cap }, collectingLogger(), () => now).sweep();
  expect(result.overCap).toBeGreaterThanOrEqual(1);
  expect(await db.sizeBytes()).toBeLessThanOrEqual(cap);
  const left = (await db.flights({ limit: 10 })).map((f) => f.id);
  expect(left).toContain("alpha-4");
  expect(left).not.toContain("alpha-0");
  await db.close();
});
