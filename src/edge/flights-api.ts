/**
 * The flight recorder's HTTP API under `/api/flights`: list flights, one
 * flight with its commands and events, its frames (streamed), its exports,
 * and deleting one.
 *
 * Web-standard `Request -> Response` handlers over a `RecorderStore`; the
 * query rules are pure functions beside them. Same auth as `/drone`, as
 * `Authorization: Bearer`: with identities (`--jwt-secret`/`--jwt-keys`) a
 * JWT whose rights view the flight's vehicle (the list shows only those),
 * or the shared viewer token; deleting needs the admin right (a JWT with
 * `admin`), or without identities the pilot token.
 * Every bad parameter is a 400 naming it; an unknown flight is a 404. Nothing
 * here writes a recording or reads a clock.
 */
import { exportFormats, exportWriter, tlogRecord, type ExportFormat, type RecordedFrame } from "../core/recorder/exports.ts";
import { flightIdPattern, isValidDroneId, type FlightList, type RecordedFlight } from "../../protocol/index.ts";
import { mayView, viewsEverything, type Identity } from "../core/identity/rights.ts";
import type { TokenVerifier } from "../runtime/identity/verifier.ts";
import type { CommandRow, EventRow, FlightQuery, FlightRow, RecorderStore } from "../runtime/recorder/store.ts";
import { apiPaths } from "./paths.ts";
import { tokensEqual } from "./security.ts";

/** Flights per page unless `limit` says otherwise. */
export const defaultFlightLimit = 50;
/** Most flights one page may hold. */
export const maxFlightLimit = 1000;
/** Frames read from the store per page while streaming. */
const framesPerPage = 500;
/** MAVLink packets read from the store per page while streaming a `.tlog`. */
const packetsPerPage = 2000;
/** Every format `export` takes: the frame formats and, for MAVLink vehicles, `tlog`. */
const allExportFormats = [...exportFormats, "tlog"] as const;

/** What the API reads. */
export interface FlightsApiSources {
  store: RecorderStore;
  /** The token viewers present, or null when anyone may watch. */
  viewerToken: string | null;
  /** The token pilots present: without identities, deleting a flight needs it; with neither, deleting is refused. */
  pilotToken: string | null;
  /** With identities (JWT mode), what checks a bearer token, shared viewer token included; null without. */
  verifier: TokenVerifier | null;
  /** The DNS-rebinding guard (routes.ts): a 403 for a foreign Host, else null. */
  hostRefusal(request: Request): Response | null;
}

/** A client mistake: the status, the parameter at fault (if one), and one line saying what was wrong and what was received. */
export interface ApiError {
  status: 400 | 401 | 403 | 404 | 503;
  code: string;
  message: string;
  parameter?: string;
}

/** A JSON error body `{error: {code, message, parameter?}}`. */
export function errorResponse(error: ApiError): Response {
  const { status, ...body } = error;
  const headers: Record<string, string> = { "Cache-Control": "no-store" };
  if (status === 401) headers["WWW-Authenticate"] = 'Bearer realm="skyport"';
  return Response.json({ error: body }, { status, headers });
}

const badParameter = (parameter: string, message: string): ApiError => ({ status: 400, code: "bad_parameter", parameter, message });

/** Parses a time parameter: Unix milliseconds or an ISO 8601 date-time. */
export function parseTime(name: string, raw: string): number | ApiError {
  const trimmed = raw.trim();
  const value = /^\d{1,15}$/.test(trimmed) ? Number(trimmed) : /^\d{4}-\d{2}-\d{2}/.test(trimmed) ? Date.parse(trimmed) : NaN;
  return Number.isFinite(value) ? value : badParameter(name, `${name} must be Unix milliseconds or an ISO 8601 time such as 2026-01-01T12:00:00Z: received ${JSON.stringify(raw)}`);
}

/** The time parameters among `names` that are present, each parsed, or the error naming the first bad one. */
function parseTimes<Name extends string>(params: URLSearchParams, names: readonly Name[]): Partial<Record<Name, number>> | ApiError {
  const times: Partial<Record<Name, number>> = {};
  for (const name of names) {
    const raw = params.get(name);
    if (raw === null) continue;
    const time = parseTime(name, raw);
    if (typeof time !== "number") return time;
    times[name] = time;
  }
  return times;
}

/** The list query of `GET /api/flights`, or the error naming the first bad parameter. */
export function parseFlightQuery(params: URLSearchParams): FlightQuery | ApiError {
  const known = new Set(["drone", "since", "until", "limit", "cursor"]);
  for (const name of params.keys()) if (!known.has(name)) return badParameter(name, `${name} is not a parameter of this route: use drone, since, until, limit or cursor; received ${JSON.stringify(name)}`);
  const query: FlightQuery = { limit: defaultFlightLimit };
  const drone = params.get("drone");
  if (drone !== null) {
    if (!isValidDroneId(drone)) return badParameter("drone", `drone must be a drone id of 1 to 32 lowercase letters, digits, - or _: received ${JSON.stringify(drone)}`);
    query.drone = drone;
  }
  const times = parseTimes(params, ["since", "until"]);
  if ("status" in times) return times;
  Object.assign(query, times);
  if (query.since !== undefined && query.until !== undefined && query.until <= query.since) {
    return badParameter("until", `until must be after since: received since ${query.since}, until ${query.until}`);
  }
  const limit = params.get("limit");
  if (limit !== null) {
    const value = /^\d{1,7}$/.test(limit) ? Number(limit) : NaN;
    if (!(value >= 1 && value <= maxFlightLimit)) return badParameter("limit", `limit must be a whole number from 1 to ${maxFlightLimit}: received ${JSON.stringify(limit)}`);
    query.limit = value;
  }
  const cursor = params.get("cursor");
  if (cursor !== null) {
    const before = decodeCursor(cursor);
    if (before === null) return badParameter("cursor", `cursor must be the "next" value of a previous page: received ${JSON.stringify(cursor)}`);
    query.before = before;
  }
  return query;
}

/** The cursor of the page after the one ending at `last`. */
export function encodeCursor(last: { startedAt: number; id: string }): string {
  return Buffer.from(JSON.stringify([last.startedAt, last.id])).toString("base64url");
}

function decodeCursor(cursor: string): { startedAt: number; id: string } | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(value) && value.length === 2 && Number.isSafeInteger(value[0]) && typeof value[1] === "string" && flightIdPattern.test(value[1])) {
      return { startedAt: value[0], id: value[1] };
    }
  } catch {
    // Not base64url JSON: reported below like any other bad cursor.
  }
  return null;
}

/** The `from`/`to` range of the telemetry and export routes. */
function parseRange(params: URLSearchParams, allowed: readonly string[]): { from?: number; to?: number } | ApiError {
  for (const name of params.keys()) if (!allowed.includes(name)) return badParameter(name, `${name} is not a parameter of this route: use ${allowed.join(", ")}; received ${JSON.stringify(name)}`);
  const range = parseTimes(params, ["from", "to"]);
  if ("status" in range) return range;
  if (range.from !== undefined && range.to !== undefined && range.to < range.from) return badParameter("to", `to must not be before from: received from ${range.from}, to ${range.to}`);
  return range;
}

/** Who a request is, for reading (`viewer`) or deleting (`admin`): its identity (null: every right), or why not. */
async function authorize(request: Request, sources: FlightsApiSources, need: "viewer" | "admin"): Promise<Identity | null | ApiError> {
  const presented = bearerOf(request);
  if (sources.verifier !== null) {
    if (presented === null) return { status: 401, code: "unauthorized", message: "this server needs a token: send Authorization: Bearer <JWT or viewer token>" };
    const verdict = await sources.verifier.verify(presented);
    if (!verdict.ok) return { status: 401, code: "unauthorized", message: verdict.message };
    if (need === "admin" && !verdict.identity.rights.admin) return { status: 403, code: "forbidden", message: `deleting a flight needs the admin right: ${verdict.identity.user}'s token does not grant it` };
    return verdict.identity;
  }
  if (need === "admin") {
    if (sources.pilotToken === null) return { status: 403, code: "forbidden", message: "deleting a flight needs the admin right (a JWT, --jwt-secret or --jwt-keys) or the pilot token (--pilot-token), and this server has neither" };
    if (presented === null) return { status: 401, code: "unauthorized", message: "deleting a flight needs the pilot token: send Authorization: Bearer <token>" };
    return tokensEqual(presented, sources.pilotToken) ? null : { status: 401, code: "unauthorized", message: "the bearer token is not this server's pilot token" };
  }
  if (sources.viewerToken === null) return null;
  if (presented === null) return { status: 401, code: "unauthorized", message: "this server needs the viewer token: send Authorization: Bearer <token>" };
  const accepted = tokensEqual(presented, sources.viewerToken) || (sources.pilotToken !== null && tokensEqual(presented, sources.pilotToken));
  return accepted ? null : { status: 401, code: "unauthorized", message: "the bearer token is not this server's viewer token" };
}

/** The token of `Authorization: Bearer <token>`, or null. */
function bearerOf(request: Request): string | null {
  return request.headers.get("authorization")?.match(/^Bearer\s+(\S+)\s*$/i)?.[1] ?? null;
}

/** Whether `identity` (null: every right) may view `drone`'s recordings. */
function views(identity: Identity | null, drone: string): boolean {
  return identity === null || mayView(identity.rights, drone);
}

/** The flight id in the path, or the error naming it. */
function flightIdOf(request: Request): string | ApiError {
  const id = (request as Request & { params?: Record<string, string> }).params?.id ?? "";
  return flightIdPattern.test(id) ? id : badParameter("id", `a flight id is a drone id, a dash and the start in Unix milliseconds, e.g. alpha-1767225600000: received ${JSON.stringify(id)}`);
}

const notFoundFlight = (id: string): ApiError => ({ status: 404, code: "unknown_flight", message: `no flight ${JSON.stringify(id)} is recorded (it may have expired: --retention-days)` });
const notViewable = (identity: Identity, drone: string): ApiError => ({ status: 403, code: "forbidden", message: `${identity.user}'s token does not grant view:${drone}` });

/** A flight as the API shows it. */
function flightJson(flight: FlightRow): RecordedFlight {
  return { ...flight, open: flight.endedAt === null };
}

function commandJson(row: CommandRow) {
  const parse = (text: string | null) => (text === null ? null : JSON.parse(text));
  return { ...row, requestId: parse(row.requestId), request: parse(row.request), answerDetail: parse(row.answerDetail) };
}

function eventJson(row: EventRow) {
  return { ...row, details: JSON.parse(row.details) };
}

const json = (body: unknown, status = 200) => Response.json(body, { status, headers: { "Cache-Control": "no-store" } });

/** A handler that first guards the Host and the token, then turns an `ApiError` into its response. */
function guarded(sources: FlightsApiSources, need: "viewer" | "admin", handle: (request: Request, identity: Identity | null) => Promise<Response | ApiError>) {
  return async (request: Request): Promise<Response> => {
    const refused = sources.hostRefusal(request);
    if (refused !== null) return refused;
    let result: Response | ApiError;
    try {
      const identity = await authorize(request, sources, need);
      result = identity !== null && "status" in identity ? identity : await handle(request, identity);
    } catch (error) {
      // The database failed (PostgreSQL unreachable, SQLite locked): the API says so; flying goes on.
      const message = error instanceof Error ? error.message : String(error);
      result = { status: 503, code: "recorder_unavailable", message: `the flight recorder's database did not answer: ${message}` };
    }
    return result instanceof Response ? result : errorResponse(result);
  };
}

/** Reads a flight by the id in the path, or the 400/404 for it, or the 403 when `identity` may not view its vehicle. */
async function flightFor(request: Request, store: RecorderStore, identity: Identity | null): Promise<FlightRow | ApiError> {
  const id = flightIdOf(request);
  if (typeof id !== "string") return id;
  const flight = await store.flight(id);
  if (flight === null) return notFoundFlight(id);
  return identity === null || views(identity, flight.drone) ? flight : notViewable(identity, flight.drone);
}

/** Streams a flight's frames between `from` and `to`, page by page, as text pieces. */
function frameStream(store: RecorderStore, flightId: string, range: { from?: number; to?: number }, piece: (frame: string, index: number) => string, head: string, tail: string): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let after: { time: number; seq: number } | undefined;
  let index = 0;
  let started = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!started) {
        started = true;
        controller.enqueue(encoder.encode(head));
      }
      const page = await store.frames({ flightId, ...range, ...(after ? { after } : {}), limit: framesPerPage });
      if (page.length > 0) {
        controller.enqueue(encoder.encode(page.map((frame) => piece(frame.data, index++)).join("")));
        const last = page.at(-1)!;
        after = { time: last.time, seq: last.seq };
      }
      if (page.length < framesPerPage) {
        controller.enqueue(encoder.encode(tail));
        controller.close();
      }
    },
  });
}

/**
 * A MAVLink flight's packets as a `.tlog`, streamed page by page; a 404 for
 * a flight with none (a simulated drone's). `from`/`to` bound the packets' times.
 */
async function tlogResponse(store: RecorderStore, flight: FlightRow, range: { from?: number; to?: number }): Promise<Response | ApiError> {
  const inRange = (time: number) => (range.from === undefined || time >= range.from) && (range.to === undefined || time <= range.to);
  let page = await store.packets(flight.id, null, packetsPerPage);
  if (page.length === 0) return { status: 404, code: "no_tlog", message: `flight ${JSON.stringify(flight.id)} has no MAVLink packets recorded: .tlog is for MAVLink vehicles (--mavlink)` };
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (const packet of page) if (inRange(packet.time)) controller.enqueue(tlogRecord(packet.time, Buffer.from(packet.bytes, "base64")));
      const last = page.at(-1);
      if (page.length < packetsPerPage || last === undefined || (range.to !== undefined && last.time > range.to)) return controller.close();
      page = await store.packets(flight.id, { time: last.time, id: last.id }, packetsPerPage);
    },
  });
  return new Response(body, { headers: { "Content-Type": "application/octet-stream", "Content-Disposition": `attachment; filename="${flight.id}.tlog"`, "Cache-Control": "no-store" } });
}

/** The `/api/flights` routes, keyed by path (Bun route patterns). */
export function flightsRoutes(sources: FlightsApiSources) {
  const { store } = sources;
  return {
    [apiPaths.flights]: {
      GET: guarded(sources, "viewer", async (request, identity) => {
        const query = parseFlightQuery(new URL(request.url).searchParams);
        if ("status" in query) return query;
        if (identity !== null && query.drone !== undefined && !views(identity, query.drone)) return notViewable(identity, query.drone);
        // A token that views only some vehicles lists only theirs (a page may then hold fewer than `limit`).
        const all = await store.flights(query);
        const flights = identity === null || viewsEverything(identity.rights) ? all : all.filter((flight) => views(identity, flight.drone));
        const page: FlightList = { flights: flights.map(flightJson), next: all.length === query.limit ? encodeCursor(all.at(-1)!) : null };
        return json(page);
      }),
    },
    [apiPaths.flight]: {
      GET: guarded(sources, "viewer", async (request, identity) => {
        const flight = await flightFor(request, store, identity);
        if ("status" in flight) return flight;
        const [commands, events] = await Promise.all([store.commands(flight.id), store.events(flight.id)]);
        return json({ flight: flightJson(flight), commands: commands.map(commandJson), events: events.map(eventJson) });
      }),
      DELETE: guarded(sources, "admin", async (request) => {
        const id = flightIdOf(request);
        if (typeof id !== "string") return id;
        return (await store.deleteFlight(id)) ? json({ deleted: id }) : notFoundFlight(id);
      }),
    },
    [apiPaths.flightTelemetry]: {
      GET: guarded(sources, "viewer", async (request, identity) => {
        const range = parseRange(new URL(request.url).searchParams, ["from", "to"]);
        if ("status" in range) return range;
        const flight = await flightFor(request, store, identity);
        if ("status" in flight) return flight;
        const body = frameStream(store, flight.id, range, (data, index) => (index === 0 ? data : "," + data), `{"flight":${JSON.stringify(flight.id)},"frames":[`, "]}\n");
        return new Response(body, { headers: { "Content-Type": "application/json", "Cache-Control": "no-store" } });
      }),
    },
    [apiPaths.flightExport]: {
      GET: guarded(sources, "viewer", async (request, identity) => {
        const params = new URL(request.url).searchParams;
        const format = params.get("format");
        if (!(allExportFormats as readonly (string | null)[]).includes(format)) {
          return badParameter("format", `format must be one of ${allExportFormats.join(", ")}: received ${format === null ? "nothing" : JSON.stringify(format)}`);
        }
        params.delete("format");
        const range = parseRange(params, ["format", "from", "to"]);
        if ("status" in range) return range;
        const flight = await flightFor(request, store, identity);
        if ("status" in flight) return flight;
        if (format === "tlog") return tlogResponse(store, flight, range);
        const writer = exportWriter(format as ExportFormat);
        const body = frameStream(store, flight.id, range, (data, index) => writer.frame(JSON.parse(data) as RecordedFrame, index), writer.header(flight), writer.footer());
        return new Response(body, {
          headers: { "Content-Type": writer.contentType, "Content-Disposition": `attachment; filename="${flight.id}.${writer.extension}"`, "Cache-Control": "no-store" },
        });
      }),
    },
  };
}
