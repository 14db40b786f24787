/** GET /metrics: Prometheus text with the counters operators need. */
import { afterEach, expect, test } from "bun:test";
import { DroneTestClient } from "../support/drone-client.ts";
import { rawConnect } from "../support/raw.ts";
import { startSimServer } from "../support/server.ts";
import { Inbox, openSocket, waitUntil } from "../support/sockets.ts";

let server: ReturnType<typeof startSimServer>;
afterEach(async () => {
  await server.stop();
});

/** Parses the exposition format into `name{labels}` → value. */
async function scrape(): Promise<Map<string, number>> {
  const response = await fetch(server.http("/metrics"));
  expect(response.headers.get("content-type")).toContain("text/plain; version=0.0.4");
  const values = new Map<string, number>();
  for (const line of (await response.text()).split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    values.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return values;
}

test("connections, refusals, traffic, telemetry, commands, latency, leases, failsafe, RSS", async () => {
  server = startSimServer({ failsafeSeconds: 1 });
  const echo = await openSocket(server.ws("/echo"));
  const echoInbox = new Inbox(echo);
  echo.send("12345");
  await echoInbox.next();
  const refused = await rawConnect(server.port, { path: "/drone", headers: { Origin: "https://evil.example" } });
  refused.close();

  const pilot = await DroneTestClient.connect(server.ws("/drone"));
  await pilot.request("claim", { drone: "alpha" });
  await pilot.request("command", { drone: "alpha", name: "takeoff" }, "t");
  await pilot.request("command", { drone: "alpha", name: "speed", args: [20] }); // refused by the model: over 15 m/s
  server.advance(1);
  await pilot.done("t");
  pilot.close();
  await waitUntil(() => server.connections.counts().drone === 0, 2000, "pilot socket closed");
  server.advance(1.5);

  const metrics = await scrape();
  expect(metrics.get('skyport_connections_open{endpoint="/echo"}')).toBe(1);
  expect(metrics.get('skyport_connections_open{endpoint="/drone"}')).toBe(0);
  expect(metrics.get('skyport_upgrades_refused_total{reason="origin"}')).toBe(1);
  expect(metrics.get('skyport_messages_received_total{endpoint="/echo"}')).toBe(1);
  expect(metrics.get('skyport_bytes_received_total{endpoint="/echo"}')).toBe(5);
  expect(metrics.get('skyport_bytes_sent_total{endpoint="/echo"}')).toBe(5);
  expect(metrics.get('skyport_messages_received_total{endpoint="/drone"}')).toBe(3);
  expect(metrics.get("skyport_telemetry_frames_published_total")).toBe(25);
  expect(metrics.get('skyport_commands_total{outcome="accepted"}')).toBe(1);
  expect(metrics.get('skyport_commands_total{outcome="refused",code="out_of_range"}')).toBe(1);
  expect(metrics.get('skyport_commands_total{outcome="completed"}')).toBe(1);
  expect(metrics.get("skyport_command_duration_seconds_count")).toBe(1);
  expect(metrics.get('skyport_command_duration_seconds_bucket{le="1"}')).toBe(1);
  expect(metrics.get('skyport_command_duration_seconds_bucket{le="0.5"}')).toBe(0);
  expect(metrics.get("skyport_lease_changes_total")).toBe(2);
  expect(metrics.get("skyport_failsafe_events_total")).toBe(2); // hover, then return home after 1 s
  expect(metrics.get("process_resident_memory_bytes")).toBeGreaterThan(10_000_000);
  echo.close();
});
