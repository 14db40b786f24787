/**
 * A mission's route on the map: a line from home through every waypoint
 * (back home for a return), and a numbered marker per waypoint, numbered as
 * the side list numbers its items. While planning, markers drag; on a
 * mission the vehicle holds, reached waypoints are greyed and the one in
 * progress is highlighted.
 *
 * Owns its own Leaflet layer on the map (the vehicles' canvas is the map's).
 * It edits nothing: a dragged marker is handed to `moved`. Markers carry
 * `data-item` and `data-progress` so tests and assistive tech can read them.
 */
import * as L from "leaflet";
import type { MissionItem } from "../../../protocol/index.ts";
import type { LatLon } from "./map-geo.ts";

/** How an item stands in a running mission: reached, in progress, not yet; or planned (no mission running). */
export type ItemProgress = "reached" | "current" | "pending" | "planned";

/** What the route shows. */
export interface RouteView {
  items: readonly MissionItem[];
  /** The vehicle's home: the route starts there and a return ends there (null while unknown). */
  home: LatLon | null;
  /** Planning: markers drag and the line is dashed. */
  editable: boolean;
  /** Each item's progress, by index. */
  progress: readonly ItemProgress[];
  /** Items with a problem, drawn in the warning colour. */
  problems: ReadonlySet<number>;
}

export class MissionRoute {
  private readonly layer = L.layerGroup();
  private readonly line = L.polyline([], { className: "mission-line", interactive: false });
  /** What was drawn last, to rebuild only when it changed (progress arrives about once a second). */
  private drawn = "";

  constructor(
    map: L.Map,
    /** A waypoint's marker was dragged to `where`. */
    private readonly moved: (index: number, where: LatLon) => void,
  ) {
    this.layer.addTo(map);
  }

  /** Draws `view`, or nothing for null. */
  show(view: RouteView | null): void {
    const key = view === null ? "" : JSON.stringify([view.items, view.home, view.editable, view.progress, [...view.problems]]);
    if (key === this.drawn) return;
    this.drawn = key;
    this.layer.clearLayers();
    if (view === null || view.items.length === 0) return;
    const points = routeLine(view.items, view.home);
    this.line.setLatLngs(points.map((point) => [point.lat, point.lon]));
    this.line.setStyle({ dashArray: view.editable ? "6 6" : undefined });
    this.layer.addLayer(this.line);
    for (const [index, item] of view.items.entries()) {
      if (item.type !== "waypoint" || !Number.isFinite(item.lat) || !Number.isFinite(item.lon)) continue;
      this.addMarker(index, item, view);
    }
  }

  private addMarker(index: number, item: MissionItem & { type: "waypoint" }, view: RouteView): void {
    const progress = view.progress[index] ?? "planned";
    const icon = L.divIcon({ className: "mission-marker", html: `<span>${index + 1}</span>`, iconSize: [24, 24], iconAnchor: [12, 12] });
    const marker = L.marker([item.lat, item.lon], { icon, draggable: view.editable, keyboard: false, title: `Item ${index + 1}: waypoint at ${item.altitude} m`, zIndexOffset: progress === "current" ? 1000 : 0 });
    marker.on("drag", () => this.dragging(index, marker.getLatLng(), view));
    marker.on("dragend", () => {
      const at = marker.getLatLng();
      this.moved(index, { lat: at.lat, lon: at.lng });
    });
    this.layer.addLayer(marker);
    const element = marker.getElement();
    if (element) {
      element.dataset.item = String(index);
      element.dataset.progress = progress;
      if (view.problems.has(index)) element.dataset.problem = "true";
    }
  }

  /** While a marker moves, the line follows it (the list changes once, when it is dropped). */
  private dragging(index: number, at: L.LatLng, view: RouteView): void {
    const items = view.items.map((item, i) => (i === index && item.type === "waypoint" ? { ...item, lat: at.lat, lon: at.lng } : item));
    this.line.setLatLngs(routeLine(items, view.home).map((point) => [point.lat, point.lon]));
  }
}

/** The points the route passes, in order: home (where a takeoff starts), each waypoint, home again on a return. */
export function routeLine(items: readonly MissionItem[], home: LatLon | null): LatLon[] {
  const points: LatLon[] = [];
  if (home !== null && items[0]?.type === "takeoff") points.push(home);
  for (const item of items) {
    if (item.type === "waypoint" && Number.isFinite(item.lat) && Number.isFinite(item.lon)) points.push({ lat: item.lat, lon: item.lon });
    if (item.type === "rth" && home !== null) points.push(home);
  }
  return points;
}
