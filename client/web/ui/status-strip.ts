/**
 * The status strip under the top bar: what a pilot must see at every width
 * without scrolling: the drone and its state (never shortened), altitude,
 * battery with the time it has left, who flies it, the link to the server
 * (round trip) and to the vehicle, armed and flight mode, and GPS.
 *
 * Owns #status-strip. Reads nothing itself: the dashboard hands it the
 * selected drone's latest frame, its battery estimate, the pilot and the
 * round trip. Each item mirrors a level in data-level (ok, warn, danger).
 */
import type { TelemetryData } from "../../../protocol/index.ts";
import { formatTimeLeft } from "../battery-estimate.ts";
import { byId, setText } from "./dom.ts";
import { formatMetres, formatPercent, formatRoundTrip, formatState, shortSession } from "./format.ts";
import { batteryLevel } from "./readouts.ts";

/** A round trip longer than this is shown as a warning, milliseconds. */
const slowRoundTripMs = 500;

/** GNSS fixes good enough to navigate by. */
const goodFixes = new Set(["3d", "dgps", "rtk_float", "rtk_fixed", "static", "ppp"]);

/** How a fix reads: "3D", "RTK fixed", "No fix". */
const fixLabels: Record<string, string> = {
  no_gps: "No GPS",
  no_fix: "No fix",
  "2d": "2D",
  "3d": "3D",
  dgps: "DGPS",
  rtk_float: "RTK float",
  rtk_fixed: "RTK fixed",
  static: "Static",
  ppp: "PPP",
};

export type Level = "ok" | "warn" | "danger" | "none";

/** What the strip shows, everything already known to the dashboard. */
export interface StripView {
  drone: string | null;
  frame: TelemetryData | null;
  /** Seconds until the battery is empty at the current drain, or null. */
  secondsToEmpty: number | null;
  /** Whether this page flies the drone; else the pilot's session id, or null for nobody. */
  pilot: "you" | string | null;
  /** The pilot's name (or user) from its signed token, when it signed in with one. */
  pilotName?: string;
  /** The latest server round trip, ms; null while unknown or the link is down. */
  roundTripMs: number | null;
  linkUp: boolean;
}

export class StatusStrip {
  private readonly drone = byId("strip-drone", HTMLElement);
  private readonly state = byId("strip-state", HTMLElement);
  private readonly altitude = byId("strip-altitude", HTMLElement);
  private readonly battery = byId("strip-battery", HTMLElement);
  private readonly pilot = byId("strip-pilot", HTMLElement);
  private readonly link = byId("strip-link", HTMLElement);
  private readonly armed = byId("strip-armed", HTMLElement);
  private readonly gps = byId("strip-gps", HTMLElement);

  show(view: StripView): void {
    const { frame } = view;
    setText(this.drone, view.drone ?? "–");
    this.item(this.state, frame ? formatState(frame.state) : "–", frame === null ? "none" : stateLevel(frame));
    this.state.dataset.state = frame?.state ?? "";
    this.item(this.altitude, frame ? formatMetres(frame.position.z) : "–", "none");
    const timeLeft = formatTimeLeft(view.secondsToEmpty);
    this.item(this.battery, frame ? `${formatPercent(frame.battery)}${timeLeft === "" ? "" : ` · ${timeLeft}`}` : "–", frame ? batteryLevels[batteryLevel(frame.battery)] : "none");
    const pilot = view.pilot === null ? "nobody" : view.pilot === "you" ? "you" : (view.pilotName ?? `session ${shortSession(view.pilot)}`);
    this.item(this.pilot, pilot, view.pilot === "you" ? "ok" : "none");
    const vehicleLost = frame?.link.status === "lost";
    const server = !view.linkUp ? "server down" : view.roundTripMs === null ? "server …" : `server ${formatRoundTrip(view.roundTripMs)}`;
    const linkLevel: Level = !view.linkUp || vehicleLost ? "danger" : view.roundTripMs !== null && view.roundTripMs > slowRoundTripMs ? "warn" : "ok";
    this.item(this.link, frame === null ? server : `${server} · vehicle ${vehicleLost ? "lost" : "up"}`, linkLevel);
    this.item(this.armed, frame ? `${frame.armed ? "Armed" : "Disarmed"}${frame.mode === null ? "" : ` · ${frame.mode}`}` : "–", frame?.armed ? "warn" : "none");
    const gps = frame?.gps;
    this.item(
      this.gps,
      gps ? `${fixLabels[gps.fix] ?? gps.fix}${gps.satellites === null ? "" : ` · ${gps.satellites} sats`}` : "–",
      gps === undefined ? "none" : goodFixes.has(gps.fix) ? "ok" : "danger",
    );
  }

  private item(element: HTMLElement, text: string, level: Level): void {
    setText(element, text);
    const box = element.parentElement!;
    if (box.dataset.level !== level) box.dataset.level = level;
  }
}

const batteryLevels: Record<ReturnType<typeof batteryLevel>, Level> = { ok: "ok", warn: "warn", danger: "danger" };

/** Emergency is danger; returning home and landing (often a failsafe) warn. */
function stateLevel(frame: TelemetryData): Level {
  if (frame.state === "emergency" || frame.flags.failsafe || frame.flags.criticalBattery) return "danger";
  if (frame.state === "returning" || frame.state === "landing" || frame.flags.lowBattery) return "warn";
  return "ok";
}
