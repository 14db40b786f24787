/**
 * What an operator's tools read: `/metrics` parsed by a real Prometheus text
 * parser (every family typed, counters named `_total`, per-vehicle gauges,
 * command outcomes and refusal codes as separate labels, build info, start
 * time), `/healthz`'s stable shape and `/readyz`, on a real socket.
 */
import { afterEach, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import packageJson from "../../package.json" with { type: "json" };
import { protocolVersion } from "../../protocol/index.ts";
import { SimulatedVehicle } from "../../src/core/vehicle/simulated.ts";
import { DroneTestClient } from "../support/drone-client.ts";
import { sampleValue, scrapeMetrics } from "../support/prometheus.ts";
import { ScriptedVehicle } from "../support/scripted-vehicle.ts";
import { repoRoot, startSimServer } from "../support/server.ts";

let server: ReturnType<typeof startSimServer>;
afterEach(async () => {
  await server.stop();
});

/** A simulated drone and a vehicle whose link is down, as a MAVLink one is before its first heartbeat. */
function startWithSilentCopter() {
  const copter = new ScriptedVehicle("copter");
  copter.setLink(false);
  server = startSimServer({}, { vehicles: [new SimulatedVehicle("alpha"), copter] });
  return copter;
}

test("every family parses with its type; counters end in _total; histograms have buckets, sum and count", async () => {
  startWithSilentCopter();
  const scrape = await scrapeMetrics(server.http("/metrics"));
  expect(scrape.size).toBeGreaterThan(15);
  for (const family of scrape.values()) {
    expect(`${family.name} ${family.type}`).toMatch(/ (COUNTER|GAUGE|HISTOGRAM)$/);
    expect(family.help.length).toBeGreaterThan(0);
    expect(`${family.name} ${family.type}`.endsWith("_total COUNTER")).toBe(family.type === "COUNTER");
  }
  const histogram = scrape.get("skyport_command_duration_seconds")!;
  expect(histogram.type).toBe("HISTOGRAM");
  expect(Object.keys(histogram.metrics[0]!.buckets!)).toContain("+Inf");
  expect(histogram.metrics[0]!.count).toBe("0");
});

test("docs/operations.md lists every family /metrics renders", async () => {
  startWithSilentCopter();
  const doc = readFileSync(join(repoRoot, "docs/operations.md"), "utf8");
  for (const name of (await scrapeMetrics(server.http("/metrics"))).keys()) expect(doc).toContain(`| \`${name}\` |`);
});

test("build info, start time, and per-vehicle state, battery, link and pilot gauges", async () => {
  startWithSilentCopter();
  const before = Date.now() / 1000;
  const pilot = await DroneTestClient.connect(server.ws("/drone"));
  await pilot.request("claim", { drone: "alpha" });
  await pilot.request("command", { drone: "alpha", name: "takeoff" }, "t");
  server.advance(0.5);

  const scrape = await scrapeMetrics(server.http("/metrics"));
  expect(scrape.get("skyport_build_info")!.type).toBe("GAUGE");
  expect(sampleValue(scrape, "skyport_build_info", { version: packageJson.version, protocol: String(protocolVersion), bun: Bun.version })).toBe(1);
  const started = sampleValue(scrape, "process_start_time_seconds")!;
  expect(started).toBeLessThanOrEqual(before);
  expect(started).toBeGreaterThan(before - 60);

  // One series per flight state, 1 for the current one: bounded, and never vanishing.
  const alphaStates = scrape.get("skyport_vehicle_state")!.metrics.filter((metric) => metric.labels?.vehicle === "alpha");
  expect(alphaStates.length).toBe(7);
  expect(alphaStates.filter((metric) => metric.value === "1").map((metric) => metric.labels!.state)).toEqual(["taking_off"]);
  expect(sampleValue(scrape, "skyport_vehicle_state", { vehicle: "copter", state: "landed" })).toBe(1);
  expect(sampleValue(scrape, "skyport_vehicle_battery_percent", { vehicle: "alpha" })).toBeGreaterThan(99);
  expect(sampleValue(scrape, "skyport_vehicle_battery_percent", { vehicle: "alpha" })).toBeLessThanOrEqual(100);
  expect(sampleValue(scrape, "skyport_vehicle_link_up", { vehicle: "alpha", kind: "simulated" })).toBe(1);
  expect(sampleValue(scrape, "skyport_vehicle_link_up", { vehicle: "copter", kind: "scripted" })).toBe(0);
  expect(sampleValue(scrape, "skyport_vehicle_pilot_present", { vehicle: "alpha" })).toBe(1);
  expect(sampleValue(scrape, "skyport_vehicle_pilot_present", { vehicle: "copter" })).toBe(0);
  pilot.close();
});

test("command outcomes and refusal codes are separate labels", async () => {
  startWithSilentCopter();
  const pilot = await DroneTestClient.connect(server.ws("/drone"));
  await pilot.request("claim", { drone: "alpha" });
  await pilot.request("command", { drone: "alpha", name: "takeoff" }, "t");
  await pilot.request("command", { drone: "alpha", name: "speed", args: [20] }); // over 15 m/s
  await pilot.request("command", { drone: "copter", name: "takeoff" }); // not its pilot
  server.advance(1);
  await pilot.done("t");

  const scrape = await scrapeMetrics(server.http("/metrics"));
  expect(sampleValue(scrape, "skyport_commands_total", { outcome: "accepted" })).toBe(1);
  expect(sampleValue(scrape, "skyport_commands_total", { outcome: "completed" })).toBe(1);
  expect(sampleValue(scrape, "skyport_commands_total", { outcome: "refused", code: "out_of_range" })).toBe(1);
  expect(sampleValue(scrape, "skyport_commands_total", { outcome: "refused", code: "not_pilot" })).toBe(1);
  for (const metric of scrape.get("skyport_commands_total")!.metrics) {
    expect(["accepted", "refused", "completed", "failed"]).toContain(metric.labels!.outcome!);
    expect(metric.labels!.code !== undefined).toBe(metric.labels!.outcome === "refused");
  }
  pilot.close();
});

test("/healthz has every key; /readyz is 503 until every vehicle is heard, then 200", async () => {
  const copter = startWithSilentCopter();
  const health = await (await fetch(server.http("/healthz"))).json();
  expect(Object.keys(health).sort()).toEqual(["cluster", "connections", "fleet", "pid", "ready", "status", "uptimeSeconds", "vehicles", "version"]);
  expect(health).toMatchObject({
    status: "ok",
    ready: false,
    version: packageJson.version,
    pid: process.pid,
    connections: { echo: 0, drone: 0, controller: 0, total: 0 },
    fleet: { total: 2, linkUp: 1, linkDown: ["copter"] },
    vehicles: [],
    cluster: null,
  });

  const notReady = await fetch(server.http("/readyz"));
  expect(notReady.status).toBe(503);
  expect(await notReady.json()).toEqual({ ready: false, reasons: ["vehicle copter: link down"] });

  copter.setLink(true);
  const ready = await fetch(server.http("/readyz"));
  expect(ready.status).toBe(200);
  expect(await ready.json()).toEqual({ ready: true, reasons: [] });
  expect((await (await fetch(server.http("/healthz"))).json()).ready).toBe(true);
});
