/**
 * The map: a Leaflet slippy map of raster tiles (the server's `/map.json`
 * says whose), with every vehicle drawn over it: heading arrow, trail,
 * label, state colour and a stale mark when its link is lost; home, the
 * geofence circle around it and the selected vehicle's target. When the
 * tiles cannot be had (an offline field laptop) a plain background with
 * range rings says so, and everything else draws the same.
 *
 * Owns #map and its overlay. Vehicles are drawn on one canvas over the
 * tiles, once per animation frame at most, however many frames arrive: a
 * hundred vehicles at 10 Hz cost one paint a frame, not a thousand DOM
 * updates. It asks for what to draw (`source`) when it paints; it sends no
 * command itself: a click is handed to `onPick` (fly-here).
 */
import * as L from "leaflet";
import type { TelemetryData } from "../../../protocol/index.ts";
import type { TrailPoint } from "../dashboard-history.ts";
import { CrispCanvas } from "./canvas.ts";
import { oneDecimal } from "./format.ts";
import { homeOf, pointAt, type LatLon } from "./map-geo.ts";
import { groupByPlace, groupLabel, ringSpacingMetres, sharedPlacePx, viewRadiusMetres } from "./map-scale.ts";
import { currentTheme, type Theme } from "./theme.ts";

/** Length of the selected vehicle's arrow, pixels; the others' are smaller. */
const selectedArrowPx = 24;
const otherArrowPx = 16;
/** Trail points drawn for a vehicle that is not selected (the newest): enough to show where it went, cheap for a hundred. */
const otherTrailPoints = 150;
/** Tiles that fail before any loads before the map says it is offline. */
const failedTilesForOffline = 1;
/** How near a click must be to a vehicle's arrow to select it rather than fly there, pixels. */
const pickRadiusPx = 12;
/** Where the map starts before any vehicle has said where it is. */
const worldView = { center: L.latLng(0, 0), zoom: 2 };
/** The first view shows home's surroundings to at least this radius, metres. */
const minFitRadiusMetres = 120;
/** Room around the farthest vehicle in the first view, as a factor of its distance from home. */
const fitMarginFactor = 1.3;
/** Deepest zoom the map offers (OpenStreetMap's standard tiles go to 19). */
const maxZoom = 19;

/** The geofence the server announces in its welcome (`limits.maxRadiusMetres`, `limits.maxAltitudeMetres`). */
export interface MapGeofence {
  radiusMetres: number;
  ceilingMetres: number;
  /** The polygon vehicles must stay inside as well (`limits.geofencePolygon`), corners in degrees; absent when none. */
  polygon?: readonly LatLon[];
}

/** One vehicle as the map draws it. */
export interface MapVehicle {
  frame: TelemetryData;
  trail: readonly TrailPoint[];
}

/** Everything on the map at one moment. */
export interface MapView {
  selected: string | null;
  vehicles: readonly MapVehicle[];
  /** Whether a click adds a waypoint to a mission plan (the legend says so) rather than flying there. */
  planning?: boolean;
}

/** Where the tiles come from (`GET /map.json`). */
export interface MapTiles {
  url: string;
  attribution: string;
}

/** A point the pilot clicked on the map. */
export interface MapPick {
  lat: number;
  lon: number;
}

/** Whether the tiles show: `loading` until the first answer, `loaded` once one tile drew, `offline` when they fail. */
export type TileStatus = "loading" | "loaded" | "offline";

export class FlightMap {
  readonly map: L.Map;
  private readonly surface: CrispCanvas;
  private readonly overlay: HTMLCanvasElement;
  /** Null until the server has announced it: no circle is drawn before then. */
  private geofence: MapGeofence | null = null;
  private tiles: TileStatus = "loading";
  private tilesLoaded = 0;
  private tilesFailed = 0;
  /** Whether the view was fitted to home and the geofence yet. */
  private fitted = false;
  /** Whether the pilot has panned, zoomed or clicked: from then on the view is theirs, and a resize no longer re-fits it. */
  private viewTouched = false;

  constructor(
    private readonly container: HTMLElement,
    private readonly legend: HTMLElement,
    private readonly notice: HTMLElement,
    private readonly source: () => MapView,
  ) {
    this.map = L.map(container, { zoomAnimation: false, markerZoomAnimation: false, maxZoom, worldCopyJump: true, zoomSnap: 0.25, zoomDelta: 0.5 }).setView(worldView.center, worldView.zoom);
    L.control.scale({ imperial: false, maxWidth: 120 }).addTo(this.map);
    this.overlay = document.createElement("canvas");
    this.overlay.id = "map-overlay";
    this.overlay.className = "map-overlay";
    this.overlay.setAttribute("aria-hidden", "true");
    container.append(this.overlay);
    this.surface = new CrispCanvas(this.overlay, (context, width, height) => this.draw(context, width, height));
    this.map.on("move zoom resize viewreset", () => this.surface.invalidate());
    new ResizeObserver(() => {
      this.map.invalidateSize({ pan: false });
      // Until the pilot moves the map, it keeps home and the geofence in view as the layout settles or the window changes.
      if (!this.viewTouched) this.fitted = false;
      this.surface.invalidate();
    }).observe(container);
    for (const kind of ["pointerdown", "wheel", "keydown"] as const) container.addEventListener(kind, () => (this.viewTouched = true), { passive: true });
    this.setTileStatus("loading");
  }

  /** Shows the tiles from `tiles`; their failure turns the map to its offline look, never an error. */
  setTiles(tiles: MapTiles): void {
    const layer = L.tileLayer(tiles.url, { maxZoom, maxNativeZoom: maxZoom, attribution: tiles.attribution, crossOrigin: false });
    layer.on("tileload", () => {
      this.tilesLoaded++;
      this.setTileStatus("loaded");
    });
    layer.on("tileerror", () => {
      this.tilesFailed++;
      if (this.tilesLoaded === 0 && this.tilesFailed >= failedTilesForOffline) this.setTileStatus("offline");
    });
    layer.addTo(this.map);
  }

  /** The tiles cannot be asked for at all (no `/map.json`): the offline look at once. */
  tilesUnavailable(reason: string): void {
    this.setTileStatus("offline", reason);
  }

  /** The geofence from the server's welcome. */
  setGeofence(geofence: MapGeofence): void {
    this.geofence = geofence;
    this.surface.invalidate();
  }

  /** Something to draw changed: repaint on the next animation frame (many calls, one paint). */
  invalidate(): void {
    this.surface.invalidate();
  }

  /** Hands every click on the map to `pick`, with where it was and the vehicle drawn there (within `pickRadiusPx`), if any. */
  onPick(pick: (where: MapPick, at: L.LatLng, vehicle: string | null) => void): void {
    this.map.on("click", (event: L.LeafletMouseEvent) => pick({ lat: event.latlng.lat, lon: event.latlng.lng }, event.latlng, this.vehicleAt(event.containerPoint)));
  }

  /** The vehicle drawn nearest to a point of the map, if one is within `pickRadiusPx`. */
  private vehicleAt(point: L.Point): string | null {
    let nearest: string | null = null;
    let nearestPx = pickRadiusPx;
    for (const { frame } of this.source().vehicles) {
      const at = this.vehiclePoint(frame);
      if (at === null) continue;
      const distance = Math.hypot(at[0] - point.x, at[1] - point.y);
      if (distance <= nearestPx) {
        nearest = frame.drone;
        nearestPx = distance;
      }
    }
    return nearest;
  }

  private setTileStatus(status: TileStatus, reason = "the tile server did not answer"): void {
    if (status === this.tiles && status !== "loading") return;
    this.tiles = status;
    this.container.dataset.tiles = status;
    this.notice.hidden = status !== "offline";
    if (status === "offline") this.notice.textContent = `Map tiles unavailable (${reason}): showing range rings on a plain background.`;
    this.surface?.invalidate();
  }

  private draw(context: CanvasRenderingContext2D, width: number, height: number): void {
    const theme = currentTheme();
    const view = this.source();
    const selected = view.vehicles.find((vehicle) => vehicle.frame.drone === view.selected) ?? null;
    const anchor = selected ?? view.vehicles.find((vehicle) => vehicle.frame.lat !== null) ?? null;
    const home = anchor ? homeOf(anchor.frame) : null;
    if (home === null) {
      this.showLegend("Waiting for a vehicle to say where it is…");
      delete this.overlay.dataset.selectedAt;
      return;
    }
    if (!this.fitted) {
      this.fitted = true;
      this.fitTo(home, view);
      return; // the fit moves the map, which paints again
    }
    const projector = this.projector(home);
    const ring = this.tiles === "offline" ? this.drawRings(context, theme, projector, width, height) : null;
    if (this.geofence) this.drawGeofence(context, theme, projector, this.geofence);
    this.drawHome(context, theme, projector);
    const others = view.vehicles.filter((vehicle) => vehicle !== selected);
    for (const vehicle of others) this.drawTrail(context, theme, vehicle, otherTrailPoints, 0.3);
    if (selected) this.drawTrail(context, theme, selected, Infinity, 0.6);
    const placed = others.flatMap((vehicle) => {
      const at = this.vehiclePoint(vehicle.frame);
      return at === null ? [] : [{ vehicle, position: { x: at[0], y: at[1] } }];
    });
    for (const { vehicle, position } of placed) this.drawVehicle(context, theme, vehicle.frame, position.x, position.y, otherArrowPx);
    // The vehicles drawn as stale, named for assistive tech and tests (the canvas itself says nothing to them).
    const stale = view.vehicles.filter((vehicle) => vehicle.frame.link.status === "lost").map((vehicle) => vehicle.frame.drone).join(" ");
    if (this.overlay.dataset.stale !== stale) this.overlay.dataset.stale = stale;
    // Labels never pile up: the selected vehicle's is placed first, then each group's only where it overlaps none placed.
    const labels = new LabelPlacer(context, theme, width);
    const selectedAt = selected ? this.vehiclePoint(selected.frame) : null;
    const selectedLabel =
      selected && selectedAt ? labels.reserve(`${selected.frame.drone} ${oneDecimal(selected.frame.position.z)} m${selected.frame.link.status === "lost" ? " (link lost)" : ""}`, selectedAt[0] + 16, selectedAt[1] - 14) : null;
    for (const group of groupByPlace(placed, sharedPlacePx)) {
      const first = group[0]!.position;
      const lost = group.length === 1 && group[0]!.vehicle.frame.link.status === "lost" ? " (link lost)" : "";
      labels.place(`${groupLabel(group.map((member) => member.vehicle.frame.drone))}${lost}`, first.x + 11, first.y, true);
    }
    if (selected && selectedAt) {
      this.drawTarget(context, theme, selected.frame, selectedAt);
      this.drawVehicle(context, theme, selected.frame, selectedAt[0], selectedAt[1], selectedArrowPx);
      if (selectedLabel) labels.draw(selectedLabel, false);
      this.overlay.dataset.selectedAt = `${selectedAt[0].toFixed(1)},${selectedAt[1].toFixed(1)}`;
    }
    const polygon = this.geofence?.polygon ? " and the dashed polygon" : "";
    const fence = this.geofence ? `; the dashed circle${polygon} ${polygon ? "are" : "is"} the geofence (${this.geofence.radiusMetres} m around home, ceiling ${this.geofence.ceilingMetres} m)` : "";
    const rings = ring === null ? "" : ` Rings every ${ring} m.`;
    const click = view.planning ? "Click the map to add a waypoint to the plan; drag a numbered marker to move it." : "Click the map to fly the selected drone there.";
    this.showLegend(`H is home${fence}. ${click}${rings}`);
  }

  private showLegend(text: string): void {
    if (this.legend.textContent !== text) this.legend.textContent = text;
  }

  /**
   * The first view: home in the middle, every vehicle inside with a margin,
   * and never closer than `minFitRadiusMetres` (a geofence of hundreds of
   * metres would shrink aircraft on the pad to one pixel; the pilot zooms
   * out to see all of it).
   */
  private fitTo(home: LatLon, view: MapView): void {
    let farthest = 0;
    for (const { frame } of view.vehicles) farthest = Math.max(farthest, Math.hypot(frame.position.x, frame.position.y));
    const radius = Math.max(minFitRadiusMetres, farthest * fitMarginFactor);
    const south = pointAt(home, -radius, -radius);
    const north = pointAt(home, radius, radius);
    this.map.fitBounds(L.latLngBounds([south.lat, south.lon], [north.lat, north.lon]), { animate: false });
  }

  /**
   * Metres from `home` to overlay pixels. Within a geofence the map's
   * projection is conformal and all but linear, so one scale (pixels per
   * metre at home) serves every trail point: one projection per paint, not
   * one per point.
   */
  private projector(home: LatLon): Projector {
    const origin = this.map.latLngToContainerPoint([home.lat, home.lon]);
    const probeMetres = 100;
    const east = pointAt(home, probeMetres, 0);
    const probe = this.map.latLngToContainerPoint([east.lat, east.lon]);
    const pixelsPerMetre = (probe.x - origin.x) / probeMetres;
    return { originX: origin.x, originY: origin.y, pixelsPerMetre };
  }

  /** Where a vehicle is on the overlay, from its own latitude and longitude (each vehicle may have its own home). */
  private vehiclePoint(frame: TelemetryData): [number, number] | null {
    if (frame.lat === null || frame.lon === null) return null;
    const point = this.map.latLngToContainerPoint([frame.lat, frame.lon]);
    return [point.x, point.y];
  }

  /** Offline: range rings around home every round number of metres, so distance still reads. Returns the spacing. */
  private drawRings(context: CanvasRenderingContext2D, theme: Theme, projector: Projector, width: number, height: number): number {
    const viewRadius = Math.min(width, height) / 2 / projector.pixelsPerMetre;
    const ring = ringSpacingMetres(viewRadiusMetres(viewRadius));
    const farthest = (Math.hypot(width, height) + Math.hypot(projector.originX - width / 2, projector.originY - height / 2)) / projector.pixelsPerMetre;
    context.save();
    context.strokeStyle = theme.grid;
    context.lineWidth = 1;
    context.font = `10px ${theme.mono}`;
    context.fillStyle = theme.muted;
    context.beginPath();
    context.moveTo(0, projector.originY);
    context.lineTo(width, projector.originY);
    context.moveTo(projector.originX, 0);
    context.lineTo(projector.originX, height);
    context.stroke();
    for (let metres = ring; metres <= farthest && metres / ring <= 200; metres += ring) {
      const radius = metres * projector.pixelsPerMetre;
      context.beginPath();
      context.arc(projector.originX, projector.originY, radius, 0, Math.PI * 2);
      context.stroke();
      context.fillText(`${metres} m`, projector.originX + radius / Math.SQRT2 + 3, projector.originY - radius / Math.SQRT2 - 2);
    }
    context.restore();
    return ring;
  }

  /** The geofence: the dashed circle around home, and the polygon (each corner projected from its own latitude and longitude) when there is one. */
  private drawGeofence(context: CanvasRenderingContext2D, theme: Theme, projector: Projector, geofence: MapGeofence): void {
    context.save();
    context.strokeStyle = theme.bad;
    context.lineWidth = 2;
    context.setLineDash([8, 6]);
    context.beginPath();
    context.arc(projector.originX, projector.originY, geofence.radiusMetres * projector.pixelsPerMetre, 0, Math.PI * 2);
    context.stroke();
    if (geofence.polygon && geofence.polygon.length >= 3) {
      context.beginPath();
      for (const [index, corner] of geofence.polygon.entries()) {
        const point = this.map.latLngToContainerPoint([corner.lat, corner.lon]);
        if (index === 0) context.moveTo(point.x, point.y);
        else context.lineTo(point.x, point.y);
      }
      context.closePath();
      context.stroke();
      this.overlay.dataset.geofencePolygon = String(geofence.polygon.length);
    }
    context.restore();
  }

  private drawHome(context: CanvasRenderingContext2D, theme: Theme, projector: Projector): void {
    const { originX: x, originY: y } = projector;
    context.save();
    context.fillStyle = theme.panel;
    context.strokeStyle = theme.ok;
    context.lineWidth = 2;
    context.beginPath();
    context.arc(x, y, 9, 0, Math.PI * 2);
    context.fill();
    context.stroke();
    context.fillStyle = theme.ok;
    context.font = `bold 11px ${theme.mono}`;
    context.textAlign = "center";
    context.textBaseline = "middle";
    context.fillText("H", x, y + 0.5);
    context.restore();
  }

  /** A vehicle's trail (its newest `points`), drawn from its own home. */
  private drawTrail(context: CanvasRenderingContext2D, theme: Theme, vehicle: MapVehicle, points: number, alpha: number): void {
    const home = homeOf(vehicle.frame);
    if (home === null || vehicle.trail.length === 0) return;
    const { originX, originY, pixelsPerMetre } = this.projector(home);
    const start = Math.max(0, vehicle.trail.length - points);
    context.save();
    context.strokeStyle = theme.trail;
    context.lineWidth = 2;
    context.lineJoin = "round";
    context.lineCap = "round";
    context.globalAlpha = alpha;
    context.beginPath();
    for (let i = start; i < vehicle.trail.length; i++) {
      const point = vehicle.trail[i]!;
      const x = originX + point.x * pixelsPerMetre;
      const y = originY - point.y * pixelsPerMetre;
      if (i === start) context.moveTo(x, y);
      else context.lineTo(x, y);
    }
    context.lineTo(originX + vehicle.frame.position.x * pixelsPerMetre, originY - vehicle.frame.position.y * pixelsPerMetre);
    context.stroke();
    context.restore();
  }

  private drawTarget(context: CanvasRenderingContext2D, theme: Theme, frame: TelemetryData, [fromX, fromY]: [number, number]): void {
    const target = frame.target;
    const home = homeOf(frame);
    if (!target || home === null || Math.hypot(target.x - frame.position.x, target.y - frame.position.y) < 0.3) return;
    const { originX, originY, pixelsPerMetre } = this.projector(home);
    const x = originX + target.x * pixelsPerMetre;
    const y = originY - target.y * pixelsPerMetre;
    context.save();
    context.strokeStyle = theme.accent;
    context.lineWidth = 1.5;
    context.setLineDash([4, 4]);
    context.beginPath();
    context.moveTo(fromX, fromY);
    context.lineTo(x, y);
    context.stroke();
    context.setLineDash([]);
    context.beginPath();
    context.arc(x, y, 6, 0, Math.PI * 2);
    context.moveTo(x - 10, y);
    context.lineTo(x + 10, y);
    context.moveTo(x, y - 10);
    context.lineTo(x, y + 10);
    context.stroke();
    context.restore();
  }

  /** The arrow along the heading, in the state's colour; a lost link draws it hollow in a dashed ring. */
  private drawVehicle(context: CanvasRenderingContext2D, theme: Theme, frame: TelemetryData, x: number, y: number, length: number): void {
    const stale = frame.link.status === "lost";
    const colour = stateColour(theme, frame);
    context.save();
    context.translate(x, y);
    if (stale) {
      context.save();
      context.strokeStyle = theme.warn;
      context.lineWidth = 2;
      context.setLineDash([3, 3]);
      context.beginPath();
      context.arc(0, 0, length * 0.8, 0, Math.PI * 2);
      context.stroke();
      context.restore();
    }
    // Heading is clockwise from north; canvas rotation is clockwise with y down, so north (up) rotates the same way.
    context.rotate((frame.heading * Math.PI) / 180);
    context.beginPath();
    context.moveTo(0, -length * 0.6);
    context.lineTo(length * 0.4, length * 0.4);
    context.lineTo(0, length * 0.2);
    context.lineTo(-length * 0.4, length * 0.4);
    context.closePath();
    context.strokeStyle = theme.panel;
    context.lineWidth = 2;
    context.stroke();
    if (stale) {
      context.strokeStyle = colour;
      context.lineWidth = 1.5;
      context.stroke();
    } else {
      context.fillStyle = colour;
      context.fill();
    }
    context.restore();
  }
}

/** Metres from one home to overlay pixels: x east, y north. */
interface Projector {
  originX: number;
  originY: number;
  pixelsPerMetre: number;
}

/** Red in trouble (emergency, failsafe, critical battery), amber on low battery or a lost link, grey on the ground, blue flying. */
export function stateColour(theme: Theme, frame: Pick<TelemetryData, "state" | "flags" | "link">): string {
  if (frame.state === "emergency" || frame.flags.failsafe || frame.flags.criticalBattery) return theme.bad;
  if (frame.flags.lowBattery || frame.link.status === "lost") return theme.warn;
  if (frame.state === "landed") return theme.muted;
  return theme.accent;
}

/** A label's text and where its backing box sits on the overlay, pixels. */
interface PlacedLabel {
  text: string;
  x: number;
  y: number;
  width: number;
}

/** Label height on the overlay, pixels (12 px text on a 16 px backing). */
const labelHeightPx = 16;

/**
 * Labels on a panel-coloured backing, so they stay readable over tiles,
 * rings and trails, and never over each other: a label that would overlap
 * one already placed is left out (its vehicle still draws).
 */
class LabelPlacer {
  private readonly placed: PlacedLabel[] = [];

  constructor(
    private readonly context: CanvasRenderingContext2D,
    private readonly theme: Theme,
    private readonly canvasWidth: number,
  ) {}

  /** Claims room for a label drawn later (the selected vehicle's, drawn over its arrow). */
  reserve(text: string, x: number, y: number): PlacedLabel {
    const label = this.measure(text, x, y);
    this.placed.push(label);
    return label;
  }

  /** Draws a label now if it overlaps none placed; returns whether it did. */
  place(text: string, x: number, y: number, faint: boolean): boolean {
    const label = this.measure(text, x, y);
    if (this.placed.some((other) => overlaps(label, other))) return false;
    this.placed.push(label);
    this.draw(label, faint);
    return true;
  }

  draw(label: PlacedLabel, faint: boolean): void {
    const { context, theme } = this;
    context.save();
    context.font = `12px ${theme.mono}`;
    context.textAlign = "left";
    context.textBaseline = "middle";
    context.globalAlpha = 0.85;
    context.fillStyle = theme.bg;
    context.fillRect(label.x - 3, label.y - labelHeightPx / 2, label.width + 6, labelHeightPx);
    context.globalAlpha = 1;
    context.fillStyle = faint ? theme.muted : theme.text;
    context.fillText(label.text, label.x, label.y);
    context.restore();
  }

  private measure(text: string, x: number, y: number): PlacedLabel {
    this.context.save();
    this.context.font = `12px ${this.theme.mono}`;
    const width = this.context.measureText(text).width;
    this.context.restore();
    // Near the right edge the label goes to the left of its point instead of off the map.
    if (x + width + 4 > this.canvasWidth) x = Math.max(4, x - width - 32);
    return { text, x, y, width };
  }
}

function overlaps(a: PlacedLabel, b: PlacedLabel): boolean {
  return a.x - 3 < b.x + b.width + 3 && b.x - 3 < a.x + a.width + 3 && Math.abs(a.y - b.y) < labelHeightPx;
}
