/**
 * gotogeo over a real socket, simulation on a fake clock: the drone flies to
 * the latitude and longitude it was sent (its frames report them), the ack
 * gives the goto's target in metres from home, and a point beyond the
 * geofence is refused as any goto beyond it is.
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { pointFromHome } from "../../src/core/vehicle/geodesy.ts";
import { DroneTestClient } from "../support/drone-client.ts";
import { startSimServer } from "../support/server.ts";

const home = { lat: 51.5007, lon: -0.1246, altitudeMsl: 10 };
let server: ReturnType<typeof startSimServer>;
beforeEach(() => {
  server = startSimServer({ drones: ["alpha"], home });
});
afterEach(async () => {
  await server.stop();
});

test("gotogeo flies the drone to that point: the ack's target is the goto from home, the frames end there", async () => {
  const pilot = await DroneTestClient.connect(server.ws("/drone"));
  await pilot.request("claim", { drone: "alpha" });
  await pilot.request("command", { drone: "alpha", name: "takeoff" });
  server.advance(1);
  const target = pointFromHome(home, 30, -40);
  const ack = await pilot.request("command", { drone: "alpha", name: "gotogeo", args: [target.lat, target.lon, 12] }, "g");
  expect(ack.type).toBe("ack");
  expect(ack.data.command).toBe(`gotogeo ${target.lat} ${target.lon} 12`);
  expect(ack.data.target.x).toBeCloseTo(30, 2);
  expect(ack.data.target.y).toBeCloseTo(-40, 2);
  expect(ack.data.target.z).toBe(12);
  for (let second = 0; second < 30; second++) server.advance(1);
  expect((await pilot.done("g")).data).toMatchObject({ drone: "alpha", status: "completed" });
  await pilot.waitTelemetry((frames) => frames.some((frame) => frame.state === "hovering" && Math.abs(frame.position.y + 40) < 0.5));
  const last = pilot.telemetry.at(-1)!;
  expect(last.lat).toBeCloseTo(target.lat, 5);
  expect(last.lon).toBeCloseTo(target.lon, 5);
  expect(last.altitudeMsl).toBeCloseTo(home.altitudeMsl + 12, 1);
});

test("a point beyond the geofence is refused like any goto beyond it", async () => {
  const pilot = await DroneTestClient.connect(server.ws("/drone"));
  await pilot.request("claim", { drone: "alpha" });
  await pilot.request("command", { drone: "alpha", name: "takeoff" });
  server.advance(1);
  const far = pointFromHome(home, 0, 800);
  const refused = await pilot.request("command", { drone: "alpha", name: "gotogeo", args: [far.lat, far.lon, 10] });
  expect(refused.type).toBe("error");
  expect(refused.data.code).toBe("geofence");
  expect(refused.data.message).toContain("500 m");
});

test("a latitude out of range names the argument", async () => {
  const pilot = await DroneTestClient.connect(server.ws("/drone"));
  await pilot.request("claim", { drone: "alpha" });
  const refused = await pilot.request("command", { drone: "alpha", name: "gotogeo", args: [91, 0, 10] });
  expect(refused.data).toMatchObject({ code: "out_of_range", field: "data.args[0]" });
  expect(refused.data.message).toContain("received 91");
});
