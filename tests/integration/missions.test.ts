/**
 * Missions over `/drone`, real sockets on a fake flight clock: the pilot
 * uploads and starts, every viewer sees the mission and its progress to
 * completion, a viewer may not change it, a late subscriber learns it, and
 * the pilot-loss failsafe follows `--mission-failsafe`.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { pointFromHome } from "../../src/core/vehicle/geodesy.ts";
import { defaultSimulatedHome } from "../../src/core/vehicle/simulated.ts";
import type { Config } from "../../src/edge/config.ts";
import { DroneTestClient } from "../support/drone-client.ts";
import { startSimServer } from "../support/server.ts";

let server: ReturnType<typeof startSimServer> | null = null;
const clients: DroneTestClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await server?.stop();
  server = null;
});

async function connect(url: string): Promise<DroneTestClient> {
  const client = await DroneTestClient.connect(url);
  clients.push(client);
  return client;
}

const waypoint = (x: number, y: number, altitude: number) => ({ type: "waypoint", ...pointFromHome(defaultSimulatedHome, x, y), altitude });
const route = [{ type: "takeoff", altitude: 8 }, waypoint(0, 20, 10), waypoint(15, 20, 10), waypoint(15, 0, 10), { type: "rth" }];

async function pilotAndViewer(overrides: Partial<Config> = {}) {
  const s = (server = startSimServer({ drones: ["alpha", "bravo"], ...overrides }));
  const pilot = await connect(s.ws("/drone"));
  const viewer = await connect(s.ws("/drone"));
  expect(await pilot.request("claim", { drone: "alpha" })).toMatchObject({ type: "ack" });
  return { s, pilot, viewer };
}

describe("missions over /drone", () => {
  test("the pilot uploads and starts; every viewer sees the mission and its progress to completion", async () => {
    const { s, pilot, viewer } = await pilotAndViewer();
    expect(await pilot.request("mission", { drone: "alpha", items: route }, "m1")).toEqual({ type: "ack", id: "m1", data: { drone: "alpha", mission: "mission", items: 5 } });
    expect(await pilot.done("m1")).toEqual({ type: "done", id: "m1", data: { drone: "alpha", command: "mission", status: "completed" } });
    const shown = await viewer.take((m) => m?.type === "mission");
    expect(shown.data).toEqual({ drone: "alpha", items: route });

    expect(await pilot.request("mission_start", { drone: "alpha" }, "go")).toMatchObject({ type: "ack", data: { mission: "mission_start", items: 5 } });
    await pilot.done("go");
    const started = await viewer.take((m) => m?.type === "mission_progress");
    expect(started.data).toMatchObject({ drone: "alpha", state: "running", current: 0, reached: [] });
    expect(started.data.distanceToGo).toBeGreaterThan(60);

    s.advance(90);
    const completed = await viewer.take((m) => m?.type === "mission_progress" && m.data.state === "completed");
    expect(completed.data).toMatchObject({ current: 5, reached: [0, 1, 2, 3, 4], distanceToGo: 0, etaSeconds: 0 });
    // Progress in between: each item reached in order, with the distance left falling.
    const reached = viewer.messages.filter((m: any) => m?.type === "mission_progress").map((m: any) => m.data.reached.length);
    expect(reached).toEqual([...reached].sort((a, b) => a - b));
    expect(s.flight.snapshot("alpha")).toMatchObject({ state: "landed", position: { x: 0, y: 0, z: 0 } });
  }, 15_000);

  test("a viewer sees the mission but may not change or start it", async () => {
    const { pilot, viewer } = await pilotAndViewer();
    await pilot.request("mission", { drone: "alpha", items: route }, "m1");
    for (const type of ["mission", "mission_start", "mission_clear"]) {
      const refused = await viewer.request(type, type === "mission" ? { drone: "alpha", items: route } : { drone: "alpha" });
      expect(refused.data).toMatchObject({ code: "not_pilot" });
    }
  });

  test("a mission the drone cannot fly is refused naming the item and field, and the vehicle keeps the one it had", async () => {
    const { pilot, viewer } = await pilotAndViewer();
    await pilot.request("mission", { drone: "alpha", items: route }, "m1");
    const far = await pilot.request("mission", { drone: "alpha", items: [route[0], waypoint(0, 700, 10)] }, "m2");
    expect(far).toEqual({ type: "error", id: "m2", data: { code: "geofence", message: "item 1: the point is 700 m from home, beyond the 500 m radius", field: "data.items[1].lat" } });
    const shape = await pilot.request("mission", { drone: "alpha", items: [route[0], { ...waypoint(0, 5, 10), lon: 200 }] }, "m3");
    expect(shape.data).toMatchObject({ code: "invalid_args", field: "data.items[1].lon" });
    // A late subscriber is told the mission the vehicle still holds, after its ack.
    const late = await connect(server!.ws("/drone?drone=bravo"));
    late.send({ type: "subscribe", id: "s", data: { drone: "alpha" } });
    await late.take((m) => m?.type === "ack" && m.id === "s");
    expect((await late.take((m) => m?.type === "mission")).data.items).toEqual(route);
    expect(viewer.messages.filter((m: any) => m?.type === "mission")).toHaveLength(1);
    // So is one that watches alpha from the start (`?drone=` or `*`): right after its welcome.
    for (const path of ["/drone?drone=alpha", "/drone?drone=*"]) {
      const watching = await connect(server!.ws(path));
      expect((await watching.take((m) => m?.type === "mission")).data).toEqual({ drone: "alpha", items: route });
    }
  });

  test("a new connection learns the missions of the vehicles it is subscribed to, right after its welcome (a page reloaded finds them)", async () => {
    const { s, pilot } = await pilotAndViewer();
    await pilot.request("mission", { drone: "alpha", items: route }, "m1");
    await pilot.request("mission_start", { drone: "alpha" }, "go");
    await pilot.done("go");
    s.advance(2);
    // Every vehicle by default: alpha's mission and its progress follow the welcome; bravo holds none, so nothing about it.
    const everything = await connect(s.ws("/drone"));
    expect((await everything.take((m) => m?.type === "mission")).data).toEqual({ drone: "alpha", items: route });
    expect((await everything.take((m) => m?.type === "mission_progress")).data).toMatchObject({ drone: "alpha", state: "running" });
    // A connection subscribed to bravo alone hears nothing of alpha's mission.
    const bravoOnly = await connect(s.ws("/drone?drone=bravo"));
    await bravoOnly.request("ping", {});
    expect(bravoOnly.messages.filter((m: any) => m?.type === "mission" || m?.type === "mission_progress")).toEqual([]);
  });

  test("a flight command during the mission pauses it; mission_resume flies on", async () => {
    const { s, pilot, viewer } = await pilotAndViewer();
    await pilot.request("mission", { drone: "alpha", items: route }, "m1");
    await pilot.request("mission_start", { drone: "alpha" }, "go");
    s.advance(8);
    expect(await pilot.request("command", { drone: "alpha", name: "hover" })).toMatchObject({ type: "ack" });
    const paused = await viewer.take((m) => m?.type === "mission_progress" && m.data.state === "paused");
    expect(paused.data.reason).toBe("paused by the pilot's command hover");
    expect(await pilot.request("mission_pause", { drone: "alpha" })).toMatchObject({ type: "error", data: { code: "no_mission", field: "data.drone" } });
    expect(await pilot.request("mission_resume", { drone: "alpha" })).toMatchObject({ type: "ack" });
    await viewer.take((m) => m?.type === "mission_progress" && m.data.state === "running");
    s.advance(90);
    await viewer.take((m) => m?.type === "mission_progress" && m.data.state === "completed");
  }, 15_000);
});

describe("--mission-failsafe when the pilot is lost during a mission", () => {
  async function pilotLost(policy: Config["missionFailsafe"]) {
    const { s, pilot, viewer } = await pilotAndViewer({ missionFailsafe: policy, leaseGraceSeconds: 0 });
    await pilot.request("mission", { drone: "alpha", items: route }, "m1");
    await pilot.request("mission_start", { drone: "alpha" }, "go");
    s.advance(8);
    pilot.close();
    const failsafe = await viewer.take((m) => m?.type === "event" && m.data.kind === "failsafe");
    return { s, viewer, failsafe };
  }

  test("continue (the default): the mission flies on to completion", async () => {
    const { s, viewer, failsafe } = await pilotLost("continue");
    expect(failsafe.data.action).toBe("mission");
    s.advance(90);
    await viewer.take((m) => m?.type === "mission_progress" && m.data.state === "completed");
    expect(s.flight.snapshot("alpha")).toMatchObject({ state: "landed", flags: { failsafe: false } });
  }, 15_000);

  test("hold: the mission pauses and the vehicle holds, then returns as without a mission", async () => {
    const { s, viewer, failsafe } = await pilotLost("hold");
    expect(failsafe.data).toMatchObject({ action: "hover", returnInSeconds: 10 });
    expect((await viewer.take((m) => m?.type === "mission_progress" && m.data.state === "paused")).data.reason).toBe("paused by the failsafe's hover");
    s.advance(11);
    expect((await viewer.take((m) => m?.type === "event" && m.data.kind === "failsafe")).data.action).toBe("rth");
  }, 15_000);

  test("rth: the mission pauses and the vehicle turns for home at once", async () => {
    const { s, viewer, failsafe } = await pilotLost("rth");
    expect(failsafe.data.action).toBe("rth");
    await viewer.take((m) => m?.type === "mission_progress" && m.data.state === "paused");
    s.advance(1);
    expect(s.flight.snapshot("alpha").state).toBe("returning");
  }, 15_000);
});
