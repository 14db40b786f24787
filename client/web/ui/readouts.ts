/**
 * The telemetry readouts: state, altitude, speed, heading, battery (with its
 * warning colours), distance from home, position, and the warning chips.
 *
 * Owns #telemetry and #flags. Raw numbers are mirrored into data-* attributes
 * (data-seq, data-value) so tests and tools can read them without parsing
 * the formatted text.
 */
import type { TelemetryData } from "../../../protocol/index.ts";
import { byId, setText } from "./dom.ts";
import { formatHeading, formatMetres, formatPercent, formatSpeed, formatState, oneDecimal } from "./format.ts";

/** Below this battery percentage the readout turns amber. */
export const batteryWarnPercent = 20;
/** Below this battery percentage the readout turns red. */
export const batteryDangerPercent = 5;

/** Beyond this fraction of the geofence radius the distance readout turns amber. */
const geofenceWarnFraction = 0.8;

export type BatteryLevel = "ok" | "warn" | "danger";

export function batteryLevel(percent: number): BatteryLevel {
  if (percent < batteryDangerPercent) return "danger";
  if (percent < batteryWarnPercent) return "warn";
  return "ok";
}

export class TelemetryReadouts {
  private readonly root = byId("telemetry", HTMLElement);
  private readonly title = byId("telemetry-drone", HTMLElement);
  private readonly state = byId("readout-state", HTMLElement);
  private readonly altitude = byId("readout-altitude", HTMLElement);
  private readonly speed = byId("readout-speed", HTMLElement);
  private readonly heading = byId("readout-heading", HTMLElement);
  private readonly batteryBox = byId("battery", HTMLElement);
  private readonly battery = byId("readout-battery", HTMLElement);
  private readonly batteryFill = byId("battery-fill", HTMLElement);
  private readonly distance = byId("readout-distance", HTMLElement);
  private readonly distanceBox = byId("distance", HTMLElement);
  private readonly position = byId("readout-position", HTMLElement);
  private readonly flags = byId("flags", HTMLUListElement);

  /** The geofence radius from the server's welcome, metres; null until then (no warning before it is known). */
  private geofenceRadiusMetres: number | null = null;

  /** Takes effect from the next `show`. */
  setGeofenceRadius(metres: number): void {
    this.geofenceRadiusMetres = metres;
  }

  /** Shows `frame` for `drone`, or dashes when no frame has arrived yet. */
  show(drone: string | null, frame: TelemetryData | null): void {
    setText(this.title, drone ? `· ${drone}` : "");
    if (!frame) {
      for (const element of [this.state, this.altitude, this.speed, this.heading, this.battery, this.distance, this.position]) setText(element, "–");
      this.root.dataset.seq = "";
      this.batteryFill.style.width = "0%";
      this.flags.replaceChildren();
      delete this.flags.dataset.key;
      return;
    }
    const { position } = frame;
    this.root.dataset.seq = String(frame.seq);
    this.root.dataset.state = frame.state;
    this.root.dataset.x = String(position.x);
    this.root.dataset.y = String(position.y);
    this.root.dataset.z = String(position.z);
    this.state.dataset.state = frame.state;
    setText(this.state, formatState(frame.state));
    this.altitude.dataset.value = String(position.z);
    setText(this.altitude, formatMetres(position.z));
    setText(this.speed, formatSpeed(frame.speed));
    setText(this.heading, formatHeading(frame.heading));
    const level = batteryLevel(frame.battery);
    this.batteryBox.dataset.level = level;
    setText(this.battery, formatPercent(frame.battery));
    this.batteryFill.style.width = `${Math.max(0, Math.min(100, frame.battery))}%`;
    const fromHome = Math.hypot(position.x, position.y);
    setText(this.distance, formatMetres(fromHome));
    const nearFence = this.geofenceRadiusMetres !== null && fromHome > this.geofenceRadiusMetres * geofenceWarnFraction;
    this.distanceBox.dataset.level = nearFence ? "warn" : "ok";
    setText(this.position, `x ${oneDecimal(position.x)} · y ${oneDecimal(position.y)} · z ${oneDecimal(position.z)} m`);
    this.showFlags(frame);
  }

  private showFlags(frame: TelemetryData): void {
    const chips: Array<[string, "warn" | "danger"]> = [];
    if (frame.flags.emergencyStopped) chips.push(["Motors cut (emergency)", "danger"]);
    if (frame.flags.failsafe) chips.push(["Failsafe: no pilot", "danger"]);
    if (frame.flags.criticalBattery) chips.push(["Critical battery: landing", "danger"]);
    else if (frame.flags.lowBattery) chips.push(["Low battery: returning", "warn"]);
    const key = chips.map(([text]) => text).join("|");
    if (this.flags.dataset.key === key) return;
    this.flags.dataset.key = key;
    this.flags.replaceChildren(
      ...chips.map(([text, level]) => {
        const item = document.createElement("li");
        item.className = `flag flag-${level}`;
        item.textContent = text;
        return item;
      }),
    );
  }
}
