/**
 * How the dashboard writes numbers, states and durations for people.
 *
 * Pure: values in, strings out; the readouts, log and status line share it so
 * a metre looks the same everywhere.
 */
import type { TelemetryData } from "../../../protocol/index.ts";

/** A drone's flight state as the wire carries it. */
type FlightState = TelemetryData["state"];

const stateLabels: Record<FlightState, string> = {
  landed: "Landed",
  taking_off: "Taking off",
  hovering: "Hovering",
  moving: "Moving",
  landing: "Landing",
  returning: "Returning home",
  emergency: "Emergency stop",
};

/** "Taking off" for `taking_off`; unknown states are shown as sent. */
export function formatState(state: string): string {
  return stateLabels[state as FlightState] ?? state;
}

/** One decimal, never "-0.0": a reported altitude of -0.04 m on the pad is 0.0 to a person. */
export function oneDecimal(value: number): string {
  const text = value.toFixed(1);
  return text === "-0.0" ? "0.0" : text;
}

/** Metres with one decimal: "12.3 m". */
export function formatMetres(metres: number): string {
  return `${oneDecimal(metres)} m`;
}

export function formatSpeed(metresPerSecond: number): string {
  return `${oneDecimal(metresPerSecond)} m/s`;
}

const compassPoints = ["N", "NE", "E", "SE", "S", "SW", "W", "NW"] as const;

/** Heading as "045° NE" (0 = north, clockwise). */
export function formatHeading(degrees: number): string {
  const normalized = ((Math.round(degrees) % 360) + 360) % 360;
  const point = compassPoints[Math.round(normalized / 45) % 8]!;
  return `${String(normalized).padStart(3, "0")}° ${point}`;
}

export function formatPercent(percent: number): string {
  return `${Math.round(percent)} %`;
}

/** A countdown in seconds with one decimal, never negative: "2.4 s". */
export function formatCountdown(milliseconds: number): string {
  return `${(Math.max(0, milliseconds) / 1000).toFixed(1)} s`;
}

/** Round-trip times: "12 ms", or "1.2 s" once they get long. */
export function formatRoundTrip(milliseconds: number): string {
  return milliseconds < 1000 ? `${Math.round(milliseconds)} ms` : `${(milliseconds / 1000).toFixed(1)} s`;
}

/** How long something took, for people: "0.4 s", "12.3 s", "2 min 5 s". */
export function formatDuration(milliseconds: number): string {
  const seconds = Math.max(0, milliseconds) / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

/** Wall-clock time of day for log lines: "14:03:27". */
export function formatClock(epochMs: number): string {
  const date = new Date(epochMs);
  return [date.getHours(), date.getMinutes(), date.getSeconds()].map((part) => String(part).padStart(2, "0")).join(":");
}

/** Characters of a session id shown on screen (of its 22), like a short git hash. */
const shortSessionLength = 8;

/**
 * A session id as the page shows it: its first 8 characters, enough to tell
 * pilots apart at a glance and short enough for a phone's top bar. The whole
 * id stays in the connection line's tooltip and the command log.
 */
export function shortSession(id: string): string {
  return id.slice(0, shortSessionLength);
}
