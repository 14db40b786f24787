/**
 * The store contract: the tests every `RecorderStore` passes (SQLite and
 * PostgreSQL alike), each on a fresh database from `open`.
 */
import { afterEach, expect, test } from "bun:test";
import { emptyBatch, type RecorderStore } from "../../src/runtime/recorder/store.ts";
import { commandRow, flightRow, frameRow } from "./recorder.ts";

/** The store tests every implementation must pass. */
export function storeContract(open: () => Promise<RecorderStore>) {
  let store: RecorderStore;
  afterEach(async () => store?.close());

  test("writes a batch and reads flights newest first, filtered and paged by cursor", async () => {
    store = await open();
    const batch = emptyBatch();
    batch.flights.push(flightRow("f1", "alpha", 1000), flightRow("f2", "bravo", 2000), flightRow("f3", "alpha", 3000), flightRow("f4", "alpha", 3000));
    await store.write(batch);
    expect((await store.flights({ limit: 10 })).map((f) => f.id)).toEqual(["f4", "f3", "f2", "f1"]);
    expect((await store.flights({ limit: 10, drone: "alpha" })).map((f) => f.id)).toEqual(["f4", "f3", "f1"]);
    expect((await store.flights({ limit: 10, since: 2000, until: 3000 })).map((f) => f.id)).toEqual(["f2"]);
    const first = await store.flights({ limit: 2 });
    const last = first.at(-1)!;
    expect((await store.flights({ limit: 2, before: { startedAt: last.startedAt, id: last.id } })).map((f) => f.id)).toEqual(["f2", "f1"]);
    expect(await store.flight("f2")).toEqual(flightRow("f2", "bravo", 2000));
    expect(await store.flight("nope")).toBeNull();
  });

  test("upserts flights, commands and streams; keeps the first copy of a frame", async () => {
    store = await open();
    const batch = emptyBatch();
    batch.flights.push(flightRow("f1", "alpha", 1000, { endedAt: null, endReason: null }));
    batch.frames.push(frameRow("alpha", 0, 1000, "f1"));
    batch.commands.push({ ...commandRow("c1", "alpha", "f1", 1000), outcome: null, endedAt: null, durationMs: null });
    batch.streams.push({ drone: "alpha", epoch: "e1", seq: 0, time: 1000, flightId: "f1", data: "{}" });
    await store.write(batch);
    const again = emptyBatch();
    again.flights.push(flightRow("f1", "alpha", 1000, { frames: 2 }));
    again.frames.push({ ...frameRow("alpha", 0, 1000, "f1"), data: "{}" }, frameRow("alpha", 1, 1100, "f1"));
    again.commands.push(commandRow("c1", "alpha", "f1", 1000));
    again.streams.push({ drone: "alpha", epoch: "e1", seq: 1, time: 1100, flightId: null, data: "{\"seq\":1}" });
    await store.write(again);
    expect((await store.flight("f1"))!.endReason).toBe("landed");
    expect(await store.commands("f1")).toEqual([commandRow("c1", "alpha", "f1", 1000)]);
    const frames = await store.frames({ flightId: "f1", limit: 10 });
    expect(frames.map((f) => f.seq)).toEqual([0, 1]);
    expect(frames[0]!.data).toBe(frameRow("alpha", 0, 1000, "f1").data);
    expect(await store.streams()).toEqual([{ drone: "alpha", epoch: "e1", seq: 1, time: 1100, flightId: null, data: "{\"seq\":1}" }]);
  });

  test("frames page by time range and cursor; the latest frames of a stream come oldest first", async () => {
    store = await open();
    const batch = emptyBatch();
    for (let seq = 0; seq < 10; seq++) batch.frames.push(frameRow("alpha", seq, 1000 + seq * 100, seq < 8 ? "f1" : null));
    batch.frames.push(frameRow("alpha", 0, 5000, null, "e2"));
    await store.write(batch);
    expect((await store.frames({ flightId: "f1", from: 1200, to: 1500, limit: 10 })).map((f) => f.seq)).toEqual([2, 3, 4, 5]);
    expect((await store.frames({ flightId: "f1", after: { time: 1500, seq: 5 }, limit: 10 })).map((f) => f.seq)).toEqual([6, 7]);
    expect((await store.latestFrames("alpha", "e1", 3)).map((f) => f.seq)).toEqual([7, 8, 9]);
  });

  test("commands acknowledged but never ended end as failed, once", async () => {
    store = await open();
    const batch = emptyBatch();
    batch.commands.push({ ...commandRow("open", "alpha", "f1", 1000), outcome: null, endedAt: null, durationMs: null }, commandRow("done", "alpha", "f1", 500));
    batch.commands.push({ ...commandRow("refused", "alpha", "f1", 600), answer: "error", outcome: null, endedAt: null, durationMs: null });
    await store.write(batch);
    expect(await store.failUnfinishedCommands("stopped", 4000)).toBe(1);
    expect(await store.failUnfinishedCommands("stopped", 5000)).toBe(0);
    const byId = Object.fromEntries((await store.commands("f1")).map((c) => [c.id, c]));
    expect(byId.open).toMatchObject({ outcome: "failed", outcomeReason: "stopped", endedAt: 4000, durationMs: 3000 });
    expect(byId.done!.outcome).toBe("completed");
    expect(byId.refused!.outcome).toBeNull();
  });

  test("a takeover ends one vehicle's unfinished commands, and no other vehicle's", async () => {
    store = await open();
    const batch = emptyBatch();
    const unfinished = (id: string, drone: string) => ({ ...commandRow(id, drone, `${drone}-f`, 1000), outcome: null, endedAt: null, durationMs: null });
    batch.commands.push(unfinished("a1", "alpha"), unfinished("b1", "bravo"));
    await store.write(batch);
    expect(await store.failUnfinishedCommands("node-a stopped", 3000, "alpha")).toBe(1);
    expect(await store.failUnfinishedCommands("node-a stopped", 3500, "alpha")).toBe(0);
    expect((await store.commands("alpha-f"))[0]).toMatchObject({ outcome: "failed", outcomeReason: "node-a stopped", endedAt: 3000 });
    expect((await store.commands("bravo-f"))[0]!.outcome).toBeNull();
  });

  test("MAVLink packets page in order after a cursor, and go with their flight", async () => {
    store = await open();
    const batch = emptyBatch();
    batch.flights.push(flightRow("f1", "copter", 1000));
    for (let i = 0; i < 5; i++) batch.packets.push({ id: `p${i}`, drone: "copter", flightId: "f1", time: 1000 + Math.floor(i / 2), bytes: Buffer.from([0xfd, i]).toString("base64") });
    await store.write(batch);
    const first = await store.packets("f1", null, 3);
    expect(first.map((p) => p.id)).toEqual(["p0", "p1", "p2"]);
    const last = first.at(-1)!;
    expect((await store.packets("f1", { time: last.time, id: last.id }, 3)).map((p) => p.id)).toEqual(["p3", "p4"]);
    expect(first[1]).toEqual({ id: "p1", drone: "copter", flightId: "f1", time: 1000, bytes: Buffer.from([0xfd, 1]).toString("base64") });
    expect(await store.deleteFlight("f1")).toBe(true);
    expect(await store.packets("f1", null, 10)).toEqual([]);
  });

  test("deletes one flight with what it holds, and what retention expired", async () => {
    store = await open();
    const batch = emptyBatch();
    batch.flights.push(flightRow("old", "alpha", 1000), flightRow("new", "alpha", 100_000));
    batch.frames.push(frameRow("alpha", 0, 1000, "old"), frameRow("alpha", 1, 2000, null), frameRow("alpha", 2, 100_000, "new"));
    batch.commands.push(commandRow("c-old", "alpha", "old", 1000), commandRow("c-new", "alpha", "new", 100_000));
    batch.events.push({ id: "e-old", drone: "alpha", flightId: "old", time: 1000, kind: "landed", message: "alpha landed", details: "{}" });
    await store.write(batch);
    const size = await store.sizeBytes();
    expect(size).toBeGreaterThan(0);
    expect(await store.deleteBefore(90_000)).toBe(1);
    expect(await store.flight("old")).toBeNull();
    expect(await store.events("old")).toEqual([]);
    expect((await store.frames({ flightId: "new", limit: 10 })).length).toBe(1);
    expect(await store.deleteFlight("new")).toBe(true);
    expect(await store.deleteFlight("new")).toBe(false);
    expect(await store.commands("new")).toEqual([]);
    expect(await store.sizeBytes()).toBeLessThanOrEqual(size);
  });
}
