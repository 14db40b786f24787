/**
 * A recorded flight's track on the dashboard's Leaflet map: one line through
 * every recorded position that says where on Earth it was, and the view
 * fitted to it.
 *
 * Owns that one layer (replaced when another flight is picked, removed on
 * `clear`). It does not draw vehicles: a replay is drawn like any vehicle
 * by the map itself.
 */
import * as L from "leaflet";
import type { TelemetryData } from "../../../protocol/index.ts";
import { currentTheme } from "./theme.ts";

/** Room around the track when the view is fitted to it, pixels. */
const fitPaddingPx = 24;
/** The track's line width, pixels. */
const trackWeightPx = 3;

export class FlightTrack {
  private layer: L.Polyline | null = null;

  constructor(private readonly map: L.Map) {}

  /** Draws the frames' track (frames without a geodetic position are skipped); returns how many points it has. */
  show(frames: readonly TelemetryData[]): number {
    this.clear();
    const points = frames.flatMap((frame) => (frame.lat === null || frame.lon === null ? [] : [L.latLng(frame.lat, frame.lon)]));
    if (points.length === 0) return 0;
    this.layer = L.polyline(points, { color: currentTheme().accent, weight: trackWeightPx, opacity: 0.8, dashArray: "6 4", interactive: false }).addTo(this.map);
    this.map.fitBounds(this.layer.getBounds(), { padding: [fitPaddingPx, fitPaddingPx], maxZoom: 19 });
    this.map.getContainer().dataset.track = String(points.length);
    return points.length;
  }

  clear(): void {
    this.layer?.remove();
    this.layer = null;
    delete this.map.getContainer().dataset.track;
  }
}
