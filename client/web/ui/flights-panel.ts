/**
 * The dashboard's Flights panel: the recorded flights (drone, start,
 * duration, pilot, highest altitude, distance); pick one to see its track on
 * the map, its altitude and battery over the whole flight (`flights-chart.ts`,
 * marked where its replay is), its command log and events, its downloads,
 * and to replay it (`flights-replay.ts`).
 *
 * The list is read when asked (Show flights, then Refresh, and again on
 * each reconnection once shown): a server that records nothing has no
 * `/api/flights`, and a page that never looks should not ask.
 *
 * Owns #flights-* and #flight-*. Reads the recorder's API through
 * `flights-data.ts`, draws the track with `flights-track.ts`; it sends no
 * flight command and keeps no telemetry of its own.
 */
import { replayVehicleId, type RecordedFlight } from "../../../protocol/index.ts";
import type { SkyportClient } from "../../sdk/index.ts";
import { byId, setText } from "./dom.ts";
import { exportFormats, FlightsApi, FlightsUnavailable, type ExportFormat, type FlightDetail, type FlightFilter } from "./flights-data.ts";
import { ReplayControls, type ReplayHooks } from "./flights-replay.ts";
import { FlightChart } from "./flights-chart.ts";
import { FlightTrack } from "./flights-track.ts";
import { formatClock, formatDuration, formatMetres, oneDecimal, shortSession } from "./format.ts";
import type * as L from "leaflet";

export interface FlightsPanelOptions {
  client: SkyportClient;
  map: L.Map;
  /** The page's token for the API (viewer token or JWT), when it has one. */
  token(): string | undefined;
  hooks: ReplayHooks;
}

export class FlightsPanel {
  private readonly list = byId("flights-list", HTMLTableSectionElement);
  private readonly status = byId("flights-status", HTMLElement);
  private readonly detail = byId("flight-detail", HTMLElement);
  private readonly title = byId("flight-detail-title", HTMLElement);
  private readonly downloads = byId("flight-downloads", HTMLElement);
  private readonly log = byId("flight-log", HTMLOListElement);
  private readonly droneFilter = byId("flights-drone", HTMLSelectElement);
  private readonly dayFilter = byId("flights-day", HTMLInputElement);
  private readonly api: FlightsApi;
  private readonly track: FlightTrack;
  private readonly replay: ReplayControls;
  private readonly charts: FlightChart[];
  private flights: RecordedFlight[] = [];
  private opened: string | null = null;
  /** Whether the list was asked for: from then on it is read again on each reconnection. */
  private shown = false;

  constructor(private readonly options: FlightsPanelOptions) {
    this.api = new FlightsApi(options.token);
    this.track = new FlightTrack(options.map);
    this.replay = new ReplayControls(options.client, options.hooks);
    this.charts = [
      new FlightChart(byId("flight-altitude-chart", HTMLCanvasElement), byId("flight-altitude-range", HTMLElement), {
        value: (frame) => frame.position.z,
        floor: 0,
        minimumTop: 5,
        caption: (min, max) => `${oneDecimal(min)}–${oneDecimal(max)} m`,
      }),
      new FlightChart(byId("flight-battery-chart", HTMLCanvasElement), byId("flight-battery-range", HTMLElement), {
        value: (frame) => frame.battery,
        floor: 0,
        minimumTop: 100,
        caption: (min, max) => `${min.toFixed(1)}–${max.toFixed(1)} %`,
      }),
    ];
    // The charts mark where the open flight's replay is, frame by frame.
    options.client.on("telemetry", (frame) => {
      if (this.opened !== null && frame.drone === replayVehicleId(this.opened) && frame.recorded !== undefined) for (const chart of this.charts) chart.mark(frame.recorded.time);
    });
    const refresh = byId("flights-refresh", HTMLButtonElement);
    refresh.addEventListener("click", () => {
      this.shown = true;
      setText(refresh, "Refresh");
      void this.refresh();
    });
    for (const filter of [this.droneFilter, this.dayFilter]) filter.addEventListener("change", () => this.shown && void this.refresh());
  }

  /** The page (re)connected to a server flying `drones`: the filter offers them, and the list, once shown, is read again. */
  connected(drones: readonly string[]): void {
    const chosen = this.droneFilter.value;
    this.droneFilter.replaceChildren(new Option("All", ""), ...drones.map((drone) => new Option(drone, drone)));
    this.droneFilter.value = drones.includes(chosen) ? chosen : "";
    if (this.shown) void this.refresh();
  }

  /** The filter as chosen: a drone, and a day (the page's local midnight to the next). */
  private filter(): FlightFilter {
    const drone = this.droneFilter.value;
    const day = this.dayFilter.value;
    const midnight = new Date(`${day}T00:00:00`);
    const range = day === "" || Number.isNaN(midnight.getTime()) ? {} : { since: midnight.getTime(), until: new Date(midnight).setDate(midnight.getDate() + 1) };
    return { ...(drone === "" ? {} : { drone }), ...range };
  }

  /** Reads the list again. */
  async refresh(): Promise<void> {
    setText(this.status, "Loading flights…");
    try {
      this.flights = await this.api.list(this.filter());
      const filtered = this.droneFilter.value !== "" || this.dayFilter.value !== "";
      const none = filtered ? "No recorded flight matches the filter." : "No flights recorded yet: fly one.";
      setText(this.status, this.flights.length === 0 ? none : `${this.flights.length === 1 ? "1 flight" : `${this.flights.length} most recent flights`}; pick one.`);
      this.status.dataset.state = "loaded";
    } catch (error) {
      this.flights = [];
      setText(this.status, error instanceof FlightsUnavailable ? sentence(error.message) : String(error));
      this.status.dataset.state = "unavailable";
    }
    this.renderList();
  }

  private renderList(): void {
    this.list.replaceChildren(
      ...this.flights.map((flight) => {
        const row = document.createElement("tr");
        row.dataset.flight = flight.id;
        row.tabIndex = 0;
        row.setAttribute("aria-selected", String(flight.id === this.opened));
        const drone = document.createElement("th");
        drone.scope = "row";
        drone.textContent = flight.drone;
        const cells = [
          formatStart(flight.startedAt),
          flight.endedAt === null ? "flying" : formatDuration(flight.endedAt - flight.startedAt),
          pilotOf(flight),
          formatMetres(flight.maxAltitude),
          formatMetres(flight.distance),
        ].map((text) => {
          const cell = document.createElement("td");
          cell.textContent = text;
          return cell;
        });
        row.append(drone, ...cells);
        row.addEventListener("click", () => void this.open(flight));
        row.addEventListener("keydown", (event) => {
          if (event.key !== "Enter" && event.key !== " ") return;
          event.preventDefault();
          event.stopPropagation(); // Space here opens the flight; it is not the hover key
          void this.open(flight);
        });
        return row;
      }),
    );
  }

  /** Opens a flight: its track on the map, its log, downloads and replay controls. */
  private async open(flight: RecordedFlight): Promise<void> {
    this.opened = flight.id;
    this.renderList();
    this.detail.hidden = false;
    this.detail.dataset.flight = flight.id;
    setText(this.title, `${flight.drone}, ${formatStartInFull(flight.startedAt)}${flight.endReason === null ? "" : ` (${flight.endReason.replaceAll("_", " ")})`}`);
    this.renderDownloads(flight);
    this.replay.open(flight);
    this.log.replaceChildren();
    for (const chart of this.charts) chart.show([]);
    try {
      const [detail, frames] = await Promise.all([this.api.detail(flight.id), this.api.track(flight.id)]);
      if (this.opened !== flight.id) return;
      this.renderLog(detail);
      for (const chart of this.charts) chart.show(frames);
      const points = this.track.show(frames);
      if (points === 0) this.note("This flight has no position on Earth to draw (its vehicle never reported one).");
    } catch (error) {
      this.note(error instanceof FlightsUnavailable ? sentence(error.message) : String(error));
    }
  }

  private renderDownloads(flight: RecordedFlight): void {
    this.downloads.replaceChildren(
      "Download: ",
      ...exportFormats.map((format) => {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "small";
        button.dataset.format = format;
        button.textContent = format === "tlog" ? ".tlog" : format.toUpperCase();
        if (format === "tlog") button.title = "The raw MAVLink stream, for a MAVLink vehicle's flight (QGroundControl, MAVExplorer)";
        button.addEventListener("click", () => void this.download(flight.id, format));
        return button;
      }),
    );
  }

  /** Reads the export with the page's token and hands it to the browser as a file. */
  private async download(id: string, format: ExportFormat): Promise<void> {
    try {
      const blob = await this.api.exported(id, format);
      const url = URL.createObjectURL(blob);
      const link = document.createElement("a");
      link.href = url;
      link.download = `${id}.${format}`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 0);
    } catch (error) {
      this.note(`${format}: ${error instanceof FlightsUnavailable ? error.message : String(error)}`);
    }
  }

  /** Commands and events in time order: who sent what, when, and how it ended. */
  private renderLog(detail: FlightDetail): void {
    const lines: Array<{ time: number; item: HTMLLIElement }> = [];
    for (const command of detail.commands) {
      const who = command.userName ?? `session ${shortSession(command.session)}`;
      const item = line(command.receivedAt, "command", `${who}: ${command.request.label}`, outcomeOf(command));
      item.dataset.status = command.outcome ?? command.answer ?? "sent";
      lines.push({ time: command.receivedAt, item });
    }
    for (const event of detail.events) lines.push({ time: event.time, item: line(event.time, "event", event.kind.replaceAll("_", " "), event.message) });
    lines.sort((a, b) => a.time - b.time);
    this.log.replaceChildren(...lines.map((entry) => entry.item));
    if (lines.length === 0) this.note("No command or event was recorded during this flight.");
  }

  private note(text: string): void {
    const item = document.createElement("li");
    item.className = "flight-note";
    item.textContent = text;
    this.log.append(item);
  }
}

/** How a command ended, for people. */
function outcomeOf(command: FlightDetail["commands"][number]): string {
  if (command.answer === "error") return `refused: ${command.answerDetail?.message ?? command.answerDetail?.code ?? "error"}`;
  if (command.outcome === "completed") return `completed${command.durationMs === null ? "" : ` in ${formatDuration(command.durationMs)}`}`;
  if (command.outcome === "failed") return `failed: ${command.outcomeReason ?? "no reason given"}`;
  return command.answer === "ack" ? "accepted, never ended" : "never answered";
}

function line(time: number, kind: "command" | "event", label: string, text: string): HTMLLIElement {
  const item = document.createElement("li");
  item.className = `flight-${kind}`;
  const at = document.createElement("time");
  at.dateTime = new Date(time).toISOString();
  at.textContent = formatClock(time);
  const name = document.createElement("strong");
  name.textContent = label;
  item.append(at, " ", name, " ", text);
  return item;
}

/** A flight's start: the day (month-day) and the time of day, short enough for a phone's table; the year is in the opened flight's title. */
function formatStart(epochMs: number): string {
  const date = new Date(epochMs);
  return `${String(date.getMonth() + 1).padStart(2, "0")}-${String(date.getDate()).padStart(2, "0")} ${formatClock(epochMs)}`;
}

/** The opened flight's start in full: "2026-01-01 14:03:27". */
function formatStartInFull(epochMs: number): string {
  return `${new Date(epochMs).getFullYear()}-${formatStart(epochMs)}`;
}

function pilotOf(flight: RecordedFlight): string {
  if (flight.pilotUser !== null) return flight.pilotUser;
  return flight.pilot === null ? "–" : shortSession(flight.pilot);
}

function sentence(text: string): string {
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}${text.endsWith(".") ? "" : "."}`;
}
