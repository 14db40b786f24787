/**
 * How serious each drone event is, and what a voice alert says for the
 * critical ones. Pure: an event in, a level or a sentence out.
 */
import type { EventData } from "../../../protocol/index.ts";

export type Severity = "info" | "ok" | "warn" | "danger";

const kindSeverity: Record<EventData["kind"], Severity> = {
  failsafe: "danger",
  critical_battery: "danger",
  geofence: "danger",
  link_lost: "danger",
  low_battery: "warn",
  frames_lost: "warn",
  frames_dropped: "warn",
  stream_reset: "warn",
  failover: "warn",
  vehicle_warning: "warn",
  token_expiring: "warn",
  pilot_regained: "ok",
  link_regained: "ok",
  landed: "info",
  autopilot: "info",
};

/** An autopilot's own severities (MAVLink STATUSTEXT), as the dashboard ranks them. */
const autopilotSeverity: Record<string, Severity> = { emergency: "danger", alert: "danger", critical: "danger", error: "danger", warning: "warn" };

/** The event's severity: by kind, and for `autopilot` by the severity the autopilot gave. */
export function eventSeverity(event: Pick<EventData, "kind"> & { severity?: string }): Severity {
  if (event.kind === "autopilot") return autopilotSeverity[event.severity ?? ""] ?? "info";
  return kindSeverity[event.kind] ?? "info";
}

/** What a voice alert says: the drone, then the kind in words ("alpha: critical battery"). */
export function spokenAlert(event: Pick<EventData, "drone" | "kind" | "message">): string {
  return event.kind === "autopilot" ? `${event.drone}: ${event.message}` : `${event.drone}: ${event.kind.replaceAll("_", " ")}`;
}
