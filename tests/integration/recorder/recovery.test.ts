/**
 * Restart recovery in-process, on the fake clock: a server records a
 * simulated drone in flight and a reporting vehicle, stops; a second server
 * on the same database carries both streams on in their epochs, puts the
 * simulated drone back where it was (hovering, failsafe on), and leaves the
 * reporting vehicle's state to its own reports (no failsafe from stale
 * frames). Also: `--record-hz` decimation, and 1 Hz on the ground.
 */
import { afterAll, expect, test } from "bun:test";
import { SimulatedVehicle } from "../../../src/core/vehicle/simulated.ts";
import { readRecovery } from "../../../src/runtime/recorder/recovery.ts";
import { openSqliteStore } from "../../../src/runtime/recorder/sqlite-store.ts";
import { DroneTestClient } from "../../support/drone-client.ts";
import { tempDataDir } from "../../support/recorder.ts";
import { ScriptedVehicle } from "../../support/scripted-vehicle.ts";
import { startSimServer } from "../../support/server.ts";

const dir = tempDataDir();
afterAll(() => dir.remove());

test("a second server carries the recorded vehicles on; only the simulator takes the recorded state", async () => {
  const quick = new ScriptedVehicle("quick");
  const first = startSimServer({ recordHz: 2 }, { vehicles: [new SimulatedVehicle("alpha"), quick], recording: { store: openSqliteStore(dir.path), recovery: [] } });
  first.advance(3);
  const pilot = await DroneTestClient.connect(first.ws("/drone"));
  expect((await pilot.request("claim", { drone: "alpha" }, "c")).type).toBe("ack");
  expect((await pilot.request("command", { drone: "alpha", name: "takeoff" }, "t")).type).toBe("ack");
  first.advance(4);
  expect((await pilot.request("command", { drone: "alpha", name: "forward", args: [50] }, "f")).type).toBe("ack");
  quick.report({ state: "hovering", position: { z: 7 } });
  first.advance(4);
  const before = first.flight.snapshot("alpha");
  const epochs = { alpha: first.flight.epoch("alpha"), quick: first.flight.epoch("quick") };
  const seqs = { alpha: first.flight.latestSeq("alpha")!, quick: first.flight.latestSeq("quick")! };
  pilot.ws.close();
  await first.recorder!.flush();

  // Decimation: 4 s airborne at 2 Hz is 8 or 9 frames; 3 s on the ground at 1 Hz is 3 or 4.
  const store = first.recorder!.store;
  const [flight] = await store.flights({ limit: 1, drone: "alpha" });
  const recorded = await store.frames({ flightId: flight!.id, limit: 1000 });
  expect(recorded.length).toBeGreaterThanOrEqual(14);
  expect(recorded.length).toBeLessThanOrEqual(18);
  const ground = (await store.latestFrames("alpha", epochs.alpha, 1000)).filter((frame) => frame.flightId === null);
  expect(ground.length).toBeGreaterThanOrEqual(3);
  expect(ground.length).toBeLessThanOrEqual(4);
  await first.stop();

  const reopened = openSqliteStore(dir.path);
  const recovery = await readRecovery(reopened, ["alpha", "quick"], Date.UTC(2026, 0, 2));
  const second = startSimServer({ recordHz: 2 }, { vehicles: [new SimulatedVehicle("alpha"), new ScriptedVehicle("quick")], recording: { store: reopened, recovery } });
  try {
    expect(second.flight.epoch("alpha")).toBe(epochs.alpha);
    expect(second.flight.epoch("quick")).toBe(epochs.quick);
    expect(second.flight.latestSeq("alpha")!).toBeGreaterThan(seqs.alpha);
    expect(second.flight.latestSeq("quick")!).toBeGreaterThan(seqs.quick);
    const alpha = second.flight.fleet.state("alpha");
    expect(alpha.state).toBe("hovering");
    expect(alpha.position.y).toBeCloseTo(before.position.y, 0);
    expect(alpha.position.z).toBeCloseTo(before.position.z, 0);
    expect(second.flight.fleet.failsafeEngaged("alpha")).toBe(true);
    expect(second.flight.fleet.state("quick").state).toBe("landed");
    expect(second.flight.fleet.failsafeEngaged("quick")).toBe(false);
    // The forward in progress when the first server stopped ended as failed (its hover on shutdown); the flight is still open and goes on.
    const { commands } = await (await fetch(second.http(`/api/flights/${flight!.id}`))).json();
    expect(commands.map((c: any) => [c.requestId, c.outcome])).toEqual([
      ["t", "completed"],
      ["f", "failed"],
    ]);
    second.advance(1);
    await second.recorder!.flush();
    expect((await reopened.flight(flight!.id))!.endedAt).toBeNull();
    expect((await reopened.flight(flight!.id))!.frames).toBeGreaterThan(flight!.frames);
  } finally {
    await second.stop();
  }
});
