/**
 * `cli.ts flights` lists recorded flights, newest first; `cli.ts export ID`
 * writes one as CSV, GPX, KML or GeoJSON. Both read the server's
 * `/api/flights` over HTTP (docs/recorder.md) with the viewer token as a
 * bearer when one is given. Failures are one line on stderr and exit 1.
 */
import { writeFileSync } from "node:fs";
import type { FlightList, RecordedFlight } from "../../../protocol/index.ts";
import { parseFlags, UsageError } from "../args.ts";
import { tokenEnv } from "./drone-link.ts";

export const defaultServerUrl = "http://localhost:8080";
/** The export formats the server offers (the server checks them too; this names them in the usage). */
const formats = ["csv", "gpx", "kml", "geojson", "tlog"];

const serverFlagsUsage = `  --url URL      the server (default ${defaultServerUrl})
  --token TOKEN  the viewer token or a JWT, when the server needs one (default: $${tokenEnv.token})`;

export const flightsUsage = `usage: bun run client/cli/cli.ts flights [--url URL] [--token TOKEN] [--drone ID] [--since TIME] [--until TIME] [--limit N] [--json]

Lists recorded flights, newest first: id, drone, start, duration, highest
altitude, distance, battery used, pilot and how it ended. TIME is Unix
milliseconds or ISO 8601 (2026-01-01T12:00:00Z).

flags:
${serverFlagsUsage}
  --drone ID     only this drone's flights
  --since TIME   flights that started at or after TIME
  --until TIME   flights that started before TIME
  --limit N      at most N flights (default 50, at most 1000)
  --json         print the server's JSON instead of a table
  --help         print this help`;

export const exportUsage = `usage: bun run client/cli/cli.ts export ID --format ${formats.join("|")} [--out FILE] [--url URL] [--token TOKEN]

Writes the recorded flight ID (from "flights") to FILE, or to stdout;
tlog (the raw MAVLink packets, for QGroundControl and MAVExplorer) only
for MAVLink vehicles.

flags:
  --format F     ${formats.join(", ")}
  --out FILE     write here instead of stdout
${serverFlagsUsage}
  --help         print this help`;

/** The server's base URL from `--url`: http(s) only; a bad one is a UsageError naming the flag. */
function serverUrl(raw: string | undefined): URL {
  const text = raw ?? defaultServerUrl;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--url must be the server's http:// or https:// address, e.g. ${defaultServerUrl}: received ${JSON.stringify(text)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError(`--url must start with http:// or https://: received ${JSON.stringify(text)}`);
  return url;
}

/** The token in $SKYPORT_TOKEN, as the other commands read it; unset or empty: none. */
function tokenFromEnv(): string | undefined {
  const token = process.env[tokenEnv.token];
  return token === undefined || token === "" ? undefined : token;
}

/** GETs `path` on the server; a refusal becomes one line with the server's own message. */
async function getFromServer(base: URL, path: string, token: string | undefined): Promise<Response> {
  const url = new URL(path, base);
  let response: Response;
  try {
    response = await fetch(url, { headers: token === undefined ? {} : { Authorization: `Bearer ${token}` } });
  } catch (error) {
    throw new Error(`cannot reach ${url.origin}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (response.ok) return response;
  const text = await response.text();
  let message = text.trim();
  try {
    message = JSON.parse(text).error.message;
  } catch {
    // A plain-text refusal (an older server, a proxy): shown as it is.
  }
  throw new Error(`${url.pathname}: ${response.status} ${message}`);
}

/** One table row of a flight. */
function flightLine(flight: RecordedFlight): string[] {
  const duration = flight.endedAt === null ? "open" : `${Math.round((flight.endedAt - flight.startedAt) / 1000)} s`;
  return [
    flight.id,
    flight.drone,
    new Date(flight.startedAt).toISOString().replace(".000Z", "Z"),
    duration,
    `${flight.maxAltitude.toFixed(1)} m`,
    `${flight.distance.toFixed(1)} m`,
    `${(flight.batteryStart - flight.batteryEnd).toFixed(1)} %`,
    flight.pilot === null ? "-" : flight.pilot.slice(0, 8),
    flight.endReason ?? "flying",
  ];
}

/** Columns padded to their widest cell. */
function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join("  ").trimEnd()).join("\n");
}

export async function runFlights(argv: string[]): Promise<number> {
  const args = parseFlags(argv, ["url", "token", "drone", "since", "until", "limit"], ["json"]);
  if (args.flags.help) {
    console.log(flightsUsage);
    return 0;
  }
  if (args.positionals.length > 0) throw new UsageError(`flights takes no arguments: received ${JSON.stringify(args.positionals[0])}`);
  const query = new URLSearchParams();
  for (const name of ["drone", "since", "until", "limit"] as const) if (args.flags[name] !== undefined) query.set(name, args.flags[name]!);
  const response = await getFromServer(serverUrl(args.flags.url), `/api/flights?${query}`, args.flags.token ?? tokenFromEnv());
  const body = (await response.json()) as FlightList;
  if (args.flags.json) {
    console.log(JSON.stringify(body, null, 2));
    return 0;
  }
  if (body.flights.length === 0) {
    console.log("no flights recorded");
    return 0;
  }
  console.log(table([["ID", "DRONE", "STARTED", "DURATION", "MAX ALT", "DISTANCE", "BATTERY", "PILOT", "END"], ...body.flights.map(flightLine)]));
  if (body.next !== null) console.log(`(more: --until ${body.flights.at(-1)!.startedAt})`);
  return 0;
}

export async function runExport(argv: string[]): Promise<number> {
  const args = parseFlags(argv, ["url", "token", "format", "out"]);
  if (args.flags.help) {
    console.log(exportUsage);
    return 0;
  }
  const [id, extra] = args.positionals;
  if (id === undefined) throw new UsageError(`export needs a flight id (see "flights"): received none`);
  if (extra !== undefined) throw new UsageError(`export takes one flight id: received also ${JSON.stringify(extra)}`);
  const format = args.flags.format;
  if (format === undefined || !formats.includes(format)) throw new UsageError(`--format must be one of ${formats.join(", ")}: received ${format === undefined ? "nothing" : JSON.stringify(format)}`);
  const response = await getFromServer(serverUrl(args.flags.url), `/api/flights/${encodeURIComponent(id)}/export?format=${format}`, args.flags.token ?? tokenFromEnv());
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (args.flags.out === undefined) {
    process.stdout.write(bytes);
    return 0;
  }
  writeFileSync(args.flags.out, bytes);
  console.error(`wrote ${args.flags.out} (${bytes.length} bytes)`);
  return 0;
}
