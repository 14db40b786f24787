/**
 * The flight recorder in a real server on the fake clock: a flight flown
 * over /drone is segmented, its frames, commands and events are written, and
 * `/api/flights` reads them back, with every bad parameter a 400 and an
 * unknown flight a 404. Exports are opened by python3's csv, xml and json.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { openSqliteStore } from "../../../src/runtime/recorder/sqlite-store.ts";
import { csvColumns } from "../../../src/core/recorder/exports.ts";
import { DroneTestClient } from "../../support/drone-client.ts";
import { tempDataDir } from "../../support/recorder.ts";
import { startSimServer } from "../../support/server.ts";

let server: ReturnType<typeof startSimServer>;
const dir = tempDataDir();
let pilotSession = "";
let flightId = "";

/** Advances the fake clock in small steps until `condition` holds (at most `seconds`). */
async function advanceUntil(condition: () => boolean, seconds: number): Promise<void> {
  for (let t = 0; t < seconds && !condition(); t += 0.5) {
    server.advance(0.5);
    await Bun.sleep(0);
  }
  expect(condition()).toBe(true);
}

beforeAll(async () => {
  server = startSimServer({ pilotToken: "pilot-secret" }, { recording: { store: openSqliteStore(dir.path), recovery: [] } });
  const pilot = await DroneTestClient.connect(server.ws("/drone"));
  pilotSession = pilot.session;
  server.advance(2);
  expect((await pilot.request("claim", { drone: "alpha", token: "pilot-secret" }, "claim")).type).toBe("ack");
  expect((await pilot.request("command", { drone: "alpha", name: "takeoff" }, "t1")).type).toBe("ack");
  await advanceUntil(() => pilot.messages.some((m) => m?.type === "done" && m.id === "t1"), 10);
  expect((await pilot.request("command", { drone: "alpha", name: "goto", args: [0, 0, 130] }, "g1")).type).toBe("error");
  expect((await pilot.request("command", { drone: "alpha", name: "forward", args: [10] }, "f1")).type).toBe("ack");
  await advanceUntil(() => pilot.messages.some((m) => m?.type === "done" && m.id === "f1"), 20);
  expect((await pilot.request("command", { drone: "alpha", name: "land" }, "l1")).type).toBe("ack");
  await advanceUntil(() => pilot.messages.some((m) => m?.type === "done" && m.id === "l1"), 20);
  server.advance(3);
  await server.recorder!.flush();
  pilot.ws.close();
});
afterAll(async () => {
  await server.stop();
  dir.remove();
});

const get = (path: string, init?: RequestInit) => fetch(server.http(path), init);

describe("a recorded flight", () => {
  test("is listed with its start, end, altitude, distance, battery and pilot", async () => {
    const response = await get("/api/flights");
    expect(response.status).toBe(200);
    const { flights, next } = await response.json();
    expect(next).toBeNull();
    expect(flights).toHaveLength(1);
    const flight = flights[0];
    flightId = flight.id;
    expect(flight).toMatchObject({ drone: "alpha", endReason: "landed", open: false, pilot: pilotSession, pilotUser: null });
    expect(flight.maxAltitude).toBeCloseTo(2, 0);
    expect(flight.distance).toBeCloseTo(10, 0);
    expect(flight.batteryEnd).toBeLessThan(flight.batteryStart);
    expect(flight.endedAt).toBeGreaterThan(flight.startedAt);
    expect((await (await get("/api/flights?drone=bravo")).json()).flights).toEqual([]);
  });

  test("carries its command log: the request, the answer, and how and when each ended", async () => {
    const { flight, commands, events } = await (await get(`/api/flights/${flightId}`)).json();
    expect(flight.id).toBe(flightId);
    expect(commands.map((c: any) => [c.request.label, c.requestId, c.answer, c.outcome])).toEqual([
      ["takeoff", "t1", "ack", "completed"],
      ["goto 0 0 130", "g1", "error", null],
      ["forward 10", "f1", "ack", "completed"],
      ["land", "l1", "ack", "completed"],
    ]);
    const forward = commands[2];
    expect(forward).toMatchObject({ session: pilotSession, userName: null, request: { form: "json", command: { name: "forward", distance: 10 } } });
    expect(forward.durationMs).toBeGreaterThan(0);
    expect(commands[1].answerDetail.code).toBe("geofence");
    expect(events.map((e: any) => e.kind)).toContain("landed");
    expect(events.map((e: any) => e.kind)).toContain("geofence");
  });

  test("streams its frames, in order, within a time range", async () => {
    const { flight } = await (await get(`/api/flights/${flightId}`)).json();
    const all = await (await get(`/api/flights/${flightId}/telemetry`)).json();
    expect(all.flight).toBe(flightId);
    expect(all.frames.length).toBe(flight.frames);
    const seqs = all.frames.map((f: any) => f.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const from = all.frames[5].time;
    const to = all.frames[9].time;
    const some = await (await get(`/api/flights/${flightId}/telemetry?from=${from}&to=${new Date(to).toISOString()}`)).json();
    expect(some.frames.map((f: any) => f.seq)).toEqual(seqs.slice(5, 10));
  });

  test("pages newest first with a cursor", async () => {
    const page = await (await get("/api/flights?limit=1")).json();
    expect(page.flights).toHaveLength(1);
    expect(typeof page.next).toBe("string");
    expect((await (await get(`/api/flights?limit=1&cursor=${page.next}`)).json()).flights).toEqual([]);
  });
});

describe("bad input", () => {
  const cases: [string, string][] = [
    ["/api/flights?limit=0", "limit"],
    ["/api/flights?limit=abc", "limit"],
    ["/api/flights?since=yesterday", "since"],
    ["/api/flights?since=2000&until=1000", "until"],
    ["/api/flights?drone=ALPHA", "drone"],
    ["/api/flights?cursor=bogus", "cursor"],
    ["/api/flights?colour=red", "colour"],
    ["/api/flights/not..an-id", "id"],
    ["/api/flights/alpha-1/telemetry?from=x", "from"],
    ["/api/flights/alpha-1/export?format=xml", "format"],
    ["/api/flights/alpha-1/export", "format"],
  ];
  for (const [path, parameter] of cases) {
    test(`${path} is a 400 naming ${parameter}`, async () => {
      const response = await get(path);
      expect(response.status).toBe(400);
      const { error } = await response.json();
      expect(error).toMatchObject({ code: "bad_parameter", parameter });
      expect(error.message).toContain(parameter);
      expect(error.message).toContain("received");
    });
  }

  test("an unknown flight is a 404 on every route", async () => {
    for (const suffix of ["", "/telemetry", "/export?format=csv"]) {
      const response = await get(`/api/flights/alpha-1${suffix}`);
      expect(response.status).toBe(404);
      expect((await response.json()).error.code).toBe("unknown_flight");
    }
  });

  test("deleting needs the pilot token", async () => {
    expect((await get(`/api/flights/alpha-1`, { method: "DELETE" })).status).toBe(401);
    expect((await get(`/api/flights/alpha-1`, { method: "DELETE", headers: { Authorization: "Bearer wrong" } })).status).toBe(401);
    expect((await get(`/api/flights/alpha-1`, { method: "DELETE", headers: { Authorization: "Bearer pilot-secret" } })).status).toBe(404);
  });
});

/** GPSBabel (Debian's `gpsbabel`, installed by scripts/setup.sh) reads `input` as `format` and writes its points as CSV. */
async function gpsbabel(format: "gpx" | "kml", input: string): Promise<string> {
  const proc = Bun.spawn(["gpsbabel", "-t", "-i", format, "-f", "-", "-o", "unicsv", "-F", "-"], { stdin: new Blob([input]), stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`gpsbabel could not read the ${format} export (exit ${code}): ${err}`);
  return out;
}

/** A header line and comma-separated rows (GPSBabel's unicsv: no quoted commas in numbers) as objects. */
function parseCsv(text: string): Array<Record<string, string>> {
  const [header, ...rows] = text.trim().split(/\r?\n/);
  const columns = header!.split(",");
  return rows.map((row) => Object.fromEntries(row.split(",").map((value, i) => [columns[i]!, value])));
}

/** Runs python3 on `script` with `input` on stdin; returns its stdout. */
async function python(script: string, input: string): Promise<string> {
  const proc = Bun.spawn(["python3", "-c", script], { stdin: new Blob([input]), stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`python3 failed: ${err}`);
  return out.trim();
}

describe("exports, opened by real parsers", () => {
  const exported = async (format: string) => {
    const response = await get(`/api/flights/${flightId}/export?format=${format}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-disposition")).toBe(`attachment; filename="${flightId}.${format}"`);
    return response.text();
  };
  const frameCount = async () => (await (await get(`/api/flights/${flightId}`)).json()).flight.frames;

  test("CSV: the documented columns, one row per frame", async () => {
    const out = await python("import csv,sys,json; rows=list(csv.DictReader(sys.stdin)); print(json.dumps({'columns': list(rows[0].keys()), 'rows': len(rows), 'maxz': max(float(r['z_m']) for r in rows)}))", await exported("csv"));
    const parsed = JSON.parse(out);
    expect(parsed.columns).toEqual([...csvColumns]);
    expect(parsed.rows).toBe(await frameCount());
    expect(parsed.maxz).toBeCloseTo(2, 0);
  });

  test("GPX and KML: one track point per frame", async () => {
    const gpx = await python(
      "import sys,xml.etree.ElementTree as E; ns={'g':'http://www.topografix.com/GPX/1/1'}; r=E.fromstring(sys.stdin.read()); print(len(r.findall('.//g:trkpt',ns)))",
      await exported("gpx"),
    );
    expect(Number(gpx)).toBe(await frameCount());
    const kml = await python(
      "import sys,xml.etree.ElementTree as E; ns={'k':'http://www.opengis.net/kml/2.2'}; r=E.fromstring(sys.stdin.read()); print(len(r.find('.//k:coordinates',ns).text.split()))",
      await exported("kml"),
    );
    expect(Number(kml)).toBe(await frameCount());
  });

  test("GPX and KML open in GPSBabel, a GPS data converter: the recorded track, point for point", async () => {
    const frames = (await (await get(`/api/flights/${flightId}/telemetry`)).json()).frames as Array<{ lat: number; lon: number; altitudeMsl: number; position: { z: number } }>;
    for (const format of ["gpx", "kml"] as const) {
      const points = parseCsv(await gpsbabel(format, await exported(format)));
      expect(points.length).toBe(frames.length);
      points.forEach((point, i) => {
        expect(Number(point.Latitude)).toBeCloseTo(frames[i]!.lat, 6);
        expect(Number(point.Longitude)).toBeCloseTo(frames[i]!.lon, 6);
        // GPX elevations are above sea level; KML's are above home (relativeToGround).
        expect(Number(point.Altitude)).toBeCloseTo(format === "gpx" ? frames[i]!.altitudeMsl : frames[i]!.position.z, 1);
      });
    }
  });

  test("GeoJSON: a LineString with a position per frame", async () => {
    const out = await python("import sys,json; d=json.load(sys.stdin); g=d['features'][0]['geometry']; print(g['type'], len(g['coordinates']))", await exported("geojson"));
    expect(out).toBe(`LineString ${await frameCount()}`);
  });
});
