/**
 * What the Flights panel reads from the flight recorder's HTTP API
 * (`/api/flights`, docs/recorder.md): the list, one flight's command log and
 * events, its track, and its exports as files.
 *
 * Owns the requests and their answers' shapes as the panel reads them, with
 * the page's token as `Authorization: Bearer`. Draws nothing; every failure
 * is a `FlightsUnavailable` with one sentence for people.
 */
import type { FlightList, RecordedFlight, TelemetryData } from "../../../protocol/index.ts";

/** Flights the panel lists: the newest this many. */
export const listedFlights = 50;

/** The export formats the API offers (`tlog` only for a MAVLink vehicle's flight). */
export const exportFormats = ["csv", "gpx", "kml", "geojson", "tlog"] as const;
export type ExportFormat = (typeof exportFormats)[number];

/** Which flights to list: a drone, and starts from `since` (inclusive) to `until` (exclusive), Unix ms. */
export interface FlightFilter {
  drone?: string;
  since?: number;
  until?: number;
}

/** A command of a flight's log, as the API returns it (the fields the panel shows). */
export interface FlightCommand {
  receivedAt: number;
  session: string;
  userName: string | null;
  request: { label: string };
  answer: "ack" | "error" | null;
  answerDetail: { code?: string; message?: string } | null;
  outcome: "completed" | "failed" | null;
  outcomeReason: string | null;
  durationMs: number | null;
}

/** An event of a flight, as the API returns it. */
export interface FlightEvent {
  time: number;
  kind: string;
  message: string;
}

/** One flight opened: its summary, commands and events. */
export interface FlightDetail {
  flight: RecordedFlight;
  commands: FlightCommand[];
  events: FlightEvent[];
}

/** The API could not be read: `message` says why, for people; `status` is the HTTP status (0 when unreachable). */
export class FlightsUnavailable extends Error {
  override name = "FlightsUnavailable";
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** Reads the recorder's API with the page's token (the viewer token or a JWT), when it has one. */
export class FlightsApi {
  constructor(private readonly token: () => string | undefined) {}

  /** The newest flights, newest first: of one drone, and that started in one range of time, when the filter says. */
  async list(filter: FlightFilter = {}): Promise<RecordedFlight[]> {
    const query = new URLSearchParams({ limit: String(listedFlights) });
    if (filter.drone !== undefined) query.set("drone", filter.drone);
    if (filter.since !== undefined) query.set("since", String(filter.since));
    if (filter.until !== undefined) query.set("until", String(filter.until));
    return ((await this.json(`/api/flights?${query}`)) as FlightList).flights;
  }

  async detail(id: string): Promise<FlightDetail> {
    return (await this.json(`/api/flights/${encodeURIComponent(id)}`)) as FlightDetail;
  }

  /** The flight's frames, oldest first. */
  async track(id: string): Promise<TelemetryData[]> {
    return ((await this.json(`/api/flights/${encodeURIComponent(id)}/telemetry`)) as { frames: TelemetryData[] }).frames;
  }

  /** The flight exported as a file (read with the token, which a plain link could not send). */
  async exported(id: string, format: ExportFormat): Promise<Blob> {
    return (await this.get(`/api/flights/${encodeURIComponent(id)}/export?format=${format}`)).blob();
  }

  private async json(path: string): Promise<unknown> {
    return (await this.get(path)).json();
  }

  private async get(path: string): Promise<Response> {
    const token = this.token();
    let response: Response;
    try {
      response = await fetch(path, { cache: "no-store", headers: token === undefined ? {} : { Authorization: `Bearer ${token}` } });
    } catch (error) {
      throw new FlightsUnavailable(`the server did not answer (${error instanceof Error ? error.message : String(error)})`, 0);
    }
    if (response.ok) return response;
    if (response.status === 404 && path.startsWith("/api/flights?")) throw new FlightsUnavailable("this server records no flights (started with --no-record)", 404);
    const body = (await response.json().catch(() => null)) as { error?: { message?: string } } | null;
    const why = body?.error?.message ?? response.statusText;
    if (response.status === 401) throw new FlightsUnavailable(`sign in to see the recorded flights (${why})`, 401);
    throw new FlightsUnavailable(`${response.status}: ${why}`, response.status);
  }
}
