/**
 * `cli.ts flights` and `cli.ts export` as a user runs them, against a
 * recording server with a viewer token: the table, the JSON, a file
 * written, and one-line failures (no token, unknown flight, bad format);
 * `watch --drone replay:<id>` plays a recorded flight back and shows it.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { openSqliteStore } from "../../src/runtime/recorder/sqlite-store.ts";
import { DroneTestClient } from "../support/drone-client.ts";
import { tempDataDir } from "../support/recorder.ts";
import { repoRoot, startSimServer } from "../support/server.ts";
import { cliRunner } from "../support/cli.ts";
import { waitUntil } from "../support/sockets.ts";

const dir = tempDataDir();
let server: ReturnType<typeof startSimServer>;
let flightId = "";

beforeAll(async () => {
  server = startSimServer({ viewerToken: "view-me" }, { recording: { store: openSqliteStore(dir.path), recovery: [] } });
  const pilot = await DroneTestClient.connect(server.ws("/drone"), ["skyport.v1.json", "skyport.token.view-me"]).catch(() => null);
  if (pilot === null) throw new Error("could not connect with the viewer token");
  expect((await pilot.request("claim", { drone: "alpha" }, "c")).type).toBe("ack");
  expect((await pilot.request("command", { drone: "alpha", name: "takeoff" }, "t")).type).toBe("ack");
  server.advance(5);
  expect((await pilot.request("command", { drone: "alpha", name: "land" }, "l")).type).toBe("ack");
  server.advance(5);
  await server.recorder!.flush();
  flightId = (await server.recorder!.store.flights({ limit: 1 }))[0]!.id;
  pilot.ws.close();
});
afterAll(async () => {
  await server.stop();
  dir.remove();
});

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return cliWith({}, ...args);
}

async function cliWith(env: Record<string, string>, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const proc = Bun.spawn([process.execPath, "run", join(repoRoot, "client", "cli", "cli.ts"), ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, SKYPORT_TOKEN: "", ...env } });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, out, err };
}

test("flights lists the recorded flight as a table and as JSON", async () => {
  const url = server.http("");
  const listed = await cli("flights", "--url", url, "--token", "view-me");
  expect(listed.code).toBe(0);
  const [header, row] = listed.out.trim().split("\n");
  expect(header).toMatch(/^ID\s+DRONE\s+STARTED\s+DURATION\s+MAX ALT\s+DISTANCE\s+BATTERY\s+PILOT\s+END$/);
  expect(row).toStartWith(`${flightId}  alpha`);
  expect(row).toEndWith("landed");
  const json = await cli("flights", "--url", url, "--token", "view-me", "--json", "--drone", "alpha");
  expect(JSON.parse(json.out).flights[0].id).toBe(flightId);
  const fromEnv = await cliWith({ SKYPORT_TOKEN: "view-me" }, "flights", "--url", url, "--json");
  expect({ code: fromEnv.code, id: JSON.parse(fromEnv.out).flights[0].id }).toEqual({ code: 0, id: flightId });
});

test("export writes the flight to a file or stdout", async () => {
  const out = join(dir.path, "flight.gpx");
  const written = await cli("export", flightId, "--format", "gpx", "--out", out, "--url", server.http(""), "--token", "view-me");
  expect(written.code).toBe(0);
  expect(written.err).toContain(`wrote ${out}`);
  expect(readFileSync(out, "utf8")).toContain("<trkpt");
  const csv = await cli("export", flightId, "--format", "csv", "--url", server.http(""), "--token", "view-me");
  expect(csv.out.split("\r\n")[0]).toStartWith("time,time_ms,seq,state");
});

test("failures are one line: no token, unknown flight, bad format", async () => {
  const url = server.http("");
  const noToken = await cli("flights", "--url", url);
  expect(noToken.code).toBe(1);
  expect(noToken.err.trim()).toBe("skyport flights: /api/flights: 401 this server needs the viewer token: send Authorization: Bearer <token>");
  const unknown = await cli("export", "alpha-1", "--format", "csv", "--url", url, "--token", "view-me");
  expect(unknown.code).toBe(1);
  expect(unknown.err).toContain("404 no flight \"alpha-1\" is recorded");
  const badFormat = await cli("export", flightId, "--format", "xml", "--url", url);
  expect(badFormat.code).toBe(2);
  expect(badFormat.err).toStartWith('skyport export: --format must be one of csv, gpx, kml, geojson, tlog: received "xml"');
});

test("watch --drone replay:<id> starts the flight's replay and shows it moving, then its end", async () => {
  const cleanups: Array<() => unknown> = [];
  const { cli } = cliRunner(cleanups, { SKYPORT_TOKEN: "view-me" });
  try {
    const replay = `replay:${flightId}`;
    const { proc, stdout, stderr } = cli("watch", "--url", server.ws("/drone"), "--drone", replay);
    await waitUntil(() => server.flight.replayIds().includes(replay), 5000, "the replay started");
    await waitUntil(() => stdout.text.includes("[open]"), 5000, "the first line");
    // The flight clock is the test's: each step plays a tenth of a second of the recorded flight.
    for (let i = 0; i < 150 && !stdout.text.includes("ended"); i++) {
      server.advance(0.1);
      await Bun.sleep(5);
    }
    expect(stdout.text).toMatch(new RegExp(`^${replay} (taking_off|hovering|flying|landing) `, "m"));
    expect(stdout.text).toContain(`event="replay: ended at `);
    proc.kill("SIGINT");
    expect(await proc.exited).toBe(0);
    expect(stderr.text).toBe("");
    const unknown = await cliWith({ SKYPORT_TOKEN: "view-me" }, "watch", "--url", server.ws("/drone"), "--drone", "replay:alpha-1");
    expect({ code: unknown.code, err: unknown.err.trim() }).toEqual({ code: 1, err: 'skyport watch: cannot replay alpha-1: error unknown_flight: no recorded flight "alpha-1" (GET /api/flights lists them)' });
  } finally {
    for (const cleanup of cleanups) cleanup();
  }
}, 30_000);
