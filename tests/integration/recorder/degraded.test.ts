/**
 * A stalled database degrades recording, never flight: another connection
 * holds the database's write lock, the recorder's flushes fail (counted in
 * /metrics, logged once per streak), the drone keeps flying and streaming,
 * and once the lock is released the rows that waited are written.
 */
import { Database } from "bun:sqlite";
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { databaseFileName, openSqliteStore } from "../../../src/runtime/recorder/sqlite-store.ts";
import { DroneTestClient } from "../../support/drone-client.ts";
import { waitUntil } from "../../support/sockets.ts";
import { tempDataDir } from "../../support/recorder.ts";
import { startSimServer } from "../../support/server.ts";

const dir = tempDataDir();
const server = startSimServer({}, { recording: { store: openSqliteStore(dir.path), recovery: [] } });
afterAll(async () => {
  await server.stop();
  dir.remove();
});

const metric = async (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(await (await fetch(server.http("/metrics"))).text())?.[1]);

test("a locked database: flushes fail and are counted, flight goes on, the waiting rows land once it frees", async () => {
  const recorder = server.recorder!;
  const pilot = await DroneTestClient.connect(server.ws("/drone"));
  server.advance(1);
  await recorder.flush();
  const writtenBefore = recorder.counters.framesWritten;

  const blocker = new Database(join(dir.path, databaseFileName));
  blocker.run("BEGIN IMMEDIATE");
  try {
    expect((await pilot.request("claim", { drone: "alpha" }, "c")).type).toBe("ack");
    expect((await pilot.request("command", { drone: "alpha", name: "takeoff" }, "t")).type).toBe("ack");
    for (let i = 0; i < 5; i++) {
      server.advance(1);
      await recorder.flush();
    }
    expect(recorder.counters.writeFailures).toBeGreaterThanOrEqual(5);
    expect(recorder.counters.framesWritten).toBe(writtenBefore);
    expect(await metric("skyport_recorder_degraded")).toBe(1);
    expect(await metric("skyport_recorder_write_failures_total")).toBeGreaterThanOrEqual(5);
    expect(server.logger.lines.filter((line) => line.event === "recorder_write_failed")).toHaveLength(1);
    // Flight went on: the takeoff completed and the drone hovers.
    await pilot.done("t");
    expect(server.flight.fleet.state("alpha").state).toBe("hovering");
  } finally {
    blocker.run("ROLLBACK");
    blocker.close();
  }
  await recorder.flush();
  expect(await metric("skyport_recorder_degraded")).toBe(0);
  expect(recorder.counters.framesWritten - writtenBefore).toBeGreaterThanOrEqual(50);
  expect(server.logger.lines.filter((line) => line.event === "recorder_recovered")).toHaveLength(1);
  const { flights } = await (await fetch(server.http("/api/flights"))).json();
  const { commands } = await (await fetch(server.http(`/api/flights/${flights[0].id}`))).json();
  expect(commands.map((c: any) => [c.requestId, c.outcome])).toEqual([["t", "completed"]]);
  pilot.ws.close();
});

test("a takeover whose reads fail (a locked database): logged, and the frames it held are recorded in order once it gives up", async () => {
  const recorder = server.recorder!;
  await recorder.flush();
  const before = recorder.counters.framesWritten;
  const seqAtTakeover = server.flight.latestSeq("alpha")!;
  const blocker = new Database(join(dir.path, databaseFileName));
  blocker.run("BEGIN IMMEDIATE");
  try {
    recorder.takeOver("alpha", "node-a stopped answering");
    // Frames of the ticks right after the takeover wait for its reads (on the ground one a second is kept).
    server.advance(1.5);
    await waitUntil(() => server.logger.lines.some((line) => line.event === "recorder_takeover_failed"), 3000, "the takeover to give up");
  } finally {
    blocker.run("ROLLBACK");
    blocker.close();
  }
  const failed = server.logger.lines.find((line) => line.event === "recorder_takeover_failed")!;
  expect(failed.message).toStartWith("could not read what was recorded of alpha before this node flew it (");
  await recorder.flush();
  expect(recorder.counters.framesWritten).toBeGreaterThan(before);
  const frames = await recorder.store.latestFrames("alpha", server.flight.epoch("alpha"), 100);
  const seqs = frames.map((frame) => frame.seq);
  expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
  expect(seqs.at(-1)!).toBeGreaterThan(seqAtTakeover);
});

test("a database that stopped answering: the API says 503 with the reason, flight goes on", async () => {
  await server.recorder!.store.close();
  const response = await fetch(server.http("/api/flights"));
  expect(response.status).toBe(503);
  const { error } = await response.json();
  expect(error.code).toBe("recorder_unavailable");
  expect(error.message).toStartWith("the flight recorder's database did not answer: ");
  server.advance(1);
  expect(server.flight.latestSeq("alpha")).toBeGreaterThan(0);
});
