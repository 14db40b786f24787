/**
 * `--geofence-polygon` end to end: a real `server.ts` reads a GeoJSON field
 * shaped like a U around home, announces it in `welcome.limits`, and refuses
 * a fly-here outside it and a mission whose straight leg crosses the notch,
 * while a route around the notch is accepted. Refusals name the rule. The
 * dashboard draws it beside the circle (screenshots in test-artifacts/).
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pointFromHome } from "../../src/core/vehicle/geodesy.ts";
import { defaultSimulatedHome } from "../../src/core/vehicle/simulated.ts";
import { artifactPath } from "../support/browser.ts";
import { dashboardSuite, openDashboard } from "../support/dashboard.ts";
import { DroneTestClient } from "../support/drone-client.ts";
import { uShapedField } from "../support/fields.ts";
import { spawnServer, type ServerProcess } from "../support/server.ts";

const home = defaultSimulatedHome;
const at = (x: number, y: number) => pointFromHome(home, x, y);
/** A U-shaped field around home: its notch runs north from 20 m. */
const corners = uShapedField().map(({ x, y }) => at(x, y));

const { visitor } = dashboardSuite({ beforeAll, afterAll, afterEach });
let server: ServerProcess;
beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "skyport-fence-"));
  const file = join(dir, "field.geojson");
  const ring = [...corners, corners[0]!].map(({ lat, lon }) => [lon, lat]);
  writeFileSync(file, JSON.stringify({ type: "FeatureCollection", features: [{ type: "Feature", properties: { name: "field" }, geometry: { type: "Polygon", coordinates: [ring] } }] }));
  server = await spawnServer(["--geofence-polygon", file]);
});
afterAll(async () => {
  server?.proc.kill("SIGTERM");
  await server?.exited;
});

const waypoint = (x: number, y: number) => ({ type: "waypoint", ...at(x, y), altitude: 10 });

test("the polygon is announced; a fly-here outside it and a leg across its notch are refused; a route around it is not", async () => {
  const pilot = await DroneTestClient.connect(server.ws("/drone"));
  try {
    expect(pilot.welcome.data.limits.geofencePolygon).toEqual(corners);
    expect(pilot.welcome.data.limits.maxRadiusMetres).toBe(500);
    expect((await pilot.request("claim", { drone: "alpha" })).type).toBe("ack");
    expect((await pilot.request("command", { drone: "alpha", name: "takeoff" }, "t")).type).toBe("ack");
    await pilot.take((m) => m?.type === "done" && m.id === "t", 10_000);

    const inNotch = at(0, 60);
    const refused = await pilot.request("command", { drone: "alpha", name: "gotogeo", args: [inNotch.lat, inNotch.lon, 10] }, "g");
    expect(refused).toMatchObject({ type: "error", id: "g", data: { code: "geofence", message: "the target is outside the geofence polygon" } });

    const across = [{ type: "takeoff", altitude: 10 }, waypoint(-60, 60), waypoint(60, 60), { type: "rth" }];
    const leg = await pilot.request("mission", { drone: "alpha", items: across }, "m1");
    expect(leg).toMatchObject({ type: "error", id: "m1", data: { code: "geofence", message: "item 2: the straight path to the point leaves the geofence polygon", field: "data.items[2].lat" } });

    const around = [{ type: "takeoff", altitude: 10 }, waypoint(-60, 60), waypoint(-60, 0), waypoint(60, 0), waypoint(60, 60), { type: "land" }];
    expect(await pilot.request("mission", { drone: "alpha", items: around }, "m2")).toMatchObject({ type: "ack", id: "m2", data: { items: 6 } });
  } finally {
    pilot.close();
  }
}, 30_000);

test("the dashboard draws the polygon with the circle and says so in the map's legend", async () => {
  for (const [width, height] of [[390, 844], [1280, 800]] as const) {
    const page = await visitor({ width, height });
    await openDashboard(page, server.http("/"));
    await page.waitForFunction(() => document.querySelector<HTMLCanvasElement>("#map canvas[data-geofence-polygon]")?.dataset.geofencePolygon === "8");
    expect(await page.textContent("#map-legend")).toContain("the dashed circle and the dashed polygon are the geofence (500 m around home, ceiling 120 m)");
    await page.locator("#map").screenshot({ path: artifactPath(`map-geofence-polygon-${width}.png`) });
    expect(page.errors).toEqual([]);
  }
}, 40_000);
