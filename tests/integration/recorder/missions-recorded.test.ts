/**
 * Missions in the flight recorder, over real /drone sockets and a real
 * SQLite store on the fake clock: the upload and start sent on the ground,
 * the pause and resume in flight, and the progress of the mission (each
 * change of state or item, not every report) are the flight's, in its
 * command log and events as `GET /api/flights/{id}` returns them.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { pointFromHome } from "../../../src/core/vehicle/geodesy.ts";
import { defaultSimulatedHome } from "../../../src/core/vehicle/simulated.ts";
import { openSqliteStore } from "../../../src/runtime/recorder/sqlite-store.ts";
import { DroneTestClient } from "../../support/drone-client.ts";
import { tempDataDir } from "../../support/recorder.ts";
import { startSimServer } from "../../support/server.ts";

const dir = tempDataDir();
let server: ReturnType<typeof startSimServer>;
let pilot: DroneTestClient;

const waypoint = (x: number, y: number, altitude: number) => ({ type: "waypoint", ...pointFromHome(defaultSimulatedHome, x, y), altitude });
const route = [{ type: "takeoff", altitude: 8 }, waypoint(0, 20, 10), waypoint(15, 20, 10), { type: "rth" }];

beforeAll(async () => {
  server = startSimServer({}, { recording: { store: openSqliteStore(dir.path), recovery: [] } });
  pilot = await DroneTestClient.connect(server.ws("/drone"));
  expect((await pilot.request("claim", { drone: "alpha" }, "c")).type).toBe("ack");
  expect((await pilot.request("mission", { drone: "alpha", items: route }, "up")).type).toBe("ack");
  await pilot.done("up");
  expect((await pilot.request("mission_start", { drone: "alpha" }, "go")).type).toBe("ack");
  await pilot.done("go");
  server.advance(6);
  expect((await pilot.request("mission_pause", { drone: "alpha" }, "hold")).type).toBe("ack");
  await pilot.done("hold");
  server.advance(2);
  expect((await pilot.request("mission_resume", { drone: "alpha" }, "on")).type).toBe("ack");
  await pilot.done("on");
  server.advance(90);
  await pilot.take((m) => m?.type === "mission_progress" && m.data.state === "completed");
  server.advance(3);
  await server.recorder!.flush();
});
afterAll(async () => {
  pilot.close();
  await server.stop();
  dir.remove();
});

test("a mission's messages are its flight's commands, from the upload on the ground to the resume in the air", async () => {
  const [flight] = (await (await fetch(server.http("/api/flights"))).json()).flights;
  const { commands, events } = await (await fetch(server.http(`/api/flights/${flight.id}`))).json();
  expect(commands.map((c: any) => [c.request.label, c.requestId, c.answer, c.outcome, c.session])).toEqual([
    ["mission", "up", "ack", "completed", pilot.session],
    ["mission_start", "go", "ack", "completed", pilot.session],
    ["mission_pause", "hold", "ack", "completed", pilot.session],
    ["mission_resume", "on", "ack", "completed", pilot.session],
  ]);
  expect(commands[0].request.mission).toEqual({ action: "upload", items: route });
  expect(commands[1].request.mission).toEqual({ action: "start" });

  // Progress in the air: each change of state or item once, in order, ending completed (its start on the ground is the vehicle's, before the flight).
  const progress = events.filter((e: any) => e.kind === "mission_progress").map((e: any) => [e.details.state, e.details.current]);
  expect(progress[0]).toEqual(["running", 1]);
  expect(progress).toContainEqual(["paused", expect.any(Number)]);
  expect(progress.at(-1)).toEqual(["completed", route.length]);
  for (let i = 1; i < progress.length; i++) expect(progress[i]).not.toEqual(progress[i - 1]);
  expect(progress.length).toBeLessThan(10);
  expect(events.find((e: any) => e.kind === "mission_progress" && e.details.state === "paused").message).toMatch(/^mission paused at item \d+, \d+ reached, \d+ m to go/);
});
