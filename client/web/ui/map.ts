/**
 * The top-down map: home, the geofence circle, the selected drone as an
 * arrow along its heading, its trail, where its current command ends, and
 * the rest of the fleet as faint dots. North is up, x east, y north.
 *
 * Owns the drawing of #map only. The view is centred on home (the geofence
 * is centred there too) and zooms in steps of a 1-2-5 series, so the scale
 * changes rarely and always to a round number.
 */
import type { TelemetryData } from "../../../protocol/index.ts";
import type { TrailPoint } from "../dashboard-history.ts";
import { CrispCanvas } from "./canvas.ts";
import { currentTheme, type Theme } from "./theme.ts";
import { oneDecimal } from "./format.ts";

/** Smallest view radius, metres: a drone on the pad still gets a readable map. */
const minViewRadiusMetres = 10;
/** Room kept around the farthest thing shown, as a fraction of its distance from home. */
const viewMarginFraction = 0.2;
/** Pixels between the view circle and the canvas edge. */
const edgePaddingPx = 18;
/** The top-right square the north arrow occupies, pixels: ring labels keep out of it. */
const northBoxPx = 44;
/** Length of the drone arrow, pixels. */
const droneArrowPx = 22;

/** The geofence the server announces in its welcome (`limits.maxRadiusMetres`, `limits.maxAltitudeMetres`). */
export interface MapGeofence {
  radiusMetres: number;
  ceilingMetres: number;
}

export interface MapView {
  drone: string | null;
  frame: TelemetryData | null;
  trail: readonly TrailPoint[];
  others: readonly TelemetryData[];
}

/** The 1-2-5 series radius (10, 20, 50, 100, ...) that holds `extentMetres` with a margin. */
export function viewRadiusMetres(extentMetres: number): number {
  const needed = Math.max(minViewRadiusMetres, extentMetres * (1 + viewMarginFraction));
  let decade = 10 ** Math.floor(Math.log10(needed));
  for (;;) {
    for (const factor of [1, 2, 5]) {
      if (decade * factor >= needed) return decade * factor;
    }
    decade *= 10;
  }
}

/** Spacing of the grid rings for a view radius, metres: about four to five rings. */
export function ringSpacingMetres(radiusMetres: number): number {
  return niceBelow(radiusMetres / 4);
}

/** The largest 1-2-5 series number not above `value`. */
function niceBelow(value: number): number {
  const decade = 10 ** Math.floor(Math.log10(value));
  for (const factor of [5, 2, 1]) if (decade * factor <= value) return decade * factor;
  return decade;
}

export class FlightMap {
  private readonly surface: CrispCanvas;
  private view: MapView = { drone: null, frame: null, trail: [], others: [] };
  /** Null until the server has announced it: no circle is drawn before then. */
  private geofence: MapGeofence | null = null;

  constructor(
    canvas: HTMLCanvasElement,
    private readonly legend: HTMLElement,
  ) {
    this.surface = new CrispCanvas(canvas, (context, width, height) => this.draw(context, width, height));
  }

  update(view: MapView): void {
    this.view = view;
    this.surface.invalidate();
  }

  /** The geofence from the server's welcome. */
  setGeofence(geofence: MapGeofence): void {
    this.geofence = geofence;
    this.surface.invalidate();
  }

  /** How far from home the view must reach, metres. */
  private extent(): number {
    const { frame, trail, others } = this.view;
    let extent = 0;
    const reach = (x: number, y: number) => (extent = Math.max(extent, Math.hypot(x, y)));
    for (const point of trail) reach(point.x, point.y);
    if (frame) {
      reach(frame.position.x, frame.position.y);
      if (frame.target) reach(frame.target.x, frame.target.y);
    }
    for (const other of others) reach(other.position.x, other.position.y);
    return extent;
  }

  private draw(context: CanvasRenderingContext2D, width: number, height: number): void {
    const theme = currentTheme();
    const radiusMetres = viewRadiusMetres(this.extent());
    const centreX = width / 2;
    const centreY = height / 2;
    const scale = (Math.min(width, height) / 2 - edgePaddingPx) / radiusMetres; // px per metre
    const toCanvas = (x: number, y: number): [number, number] => [centreX + x * scale, centreY - y * scale];

    context.fillStyle = theme.bg;
    context.fillRect(0, 0, width, height);
    this.drawGrid(context, theme, width, height, centreX, centreY, scale, radiusMetres);
    if (this.geofence) this.drawGeofence(context, theme, this.geofence, centreX, centreY, scale);
    this.drawTrail(context, theme, toCanvas);
    this.drawHome(context, theme, centreX, centreY);
    for (const group of groupByPlace(this.view.others, sharedPlacePx / scale)) this.drawOthers(context, theme, group, toCanvas);
    const { frame } = this.view;
    if (frame) {
      this.drawTarget(context, theme, frame, toCanvas);
      this.drawDrone(context, theme, frame, toCanvas);
    }
    this.drawNorth(context, theme, width);
    const ring = ringSpacingMetres(radiusMetres);
    this.drawScaleBar(context, theme, height, ring, scale);
    const fence = this.geofence ? `; the dashed circle is the ${this.geofence.radiusMetres} m geofence (ceiling ${this.geofence.ceilingMetres} m)` : "";
    const legend = `North is up; rings every ${ring} m. H is home${fence}.`;
    if (this.legend.textContent !== legend) this.legend.textContent = legend;
  }

  private drawGrid(context: CanvasRenderingContext2D, theme: Theme, width: number, height: number, cx: number, cy: number, scale: number, radiusMetres: number): void {
    const ring = ringSpacingMetres(radiusMetres);
    context.strokeStyle = theme.grid;
    context.lineWidth = 1;
    context.beginPath();
    context.moveTo(0, cy);
    context.lineTo(width, cy);
    context.moveTo(cx, 0);
    context.lineTo(cx, height);
    context.stroke();
    const farthest = Math.hypot(width, height) / 2 / scale;
    context.font = `10px ${theme.mono}`;
    context.fillStyle = theme.muted;
    context.textAlign = "left";
    context.textBaseline = "bottom";
    for (let metres = ring; metres <= farthest; metres += ring) {
      context.beginPath();
      context.arc(cx, cy, metres * scale, 0, Math.PI * 2);
      context.stroke();
      const text = `${metres} m`;
      const labelX = cx + (metres * scale) / Math.SQRT2 + 3;
      const labelY = cy - (metres * scale) / Math.SQRT2 - 2;
      const right = labelX + context.measureText(text).width;
      const underNorthArrow = right > width - northBoxPx && labelY - 12 < northBoxPx;
      if (right < width - 4 && labelY > 14 && !underNorthArrow) context.fillText(text, labelX, labelY);
    }
  }

  private drawGeofence(context: CanvasRenderingContext2D, theme: Theme, geofence: MapGeofence, cx: number, cy: number, scale: number): void {
    context.save();
    context.strokeStyle = theme.bad;
    context.lineWidth = 2;
    context.setLineDash([8, 6]);
    context.beginPath();
    context.arc(cx, cy, geofence.radiusMetres * scale, 0, Math.PI * 2);
    context.stroke();
    context.restore();
  }

  private drawHome(context: CanvasRenderingContext2D, theme: Theme, cx: number, cy: number): void {
    context.fillStyle = theme.panel;
    context.strokeStyle = theme.ok;
    context.lineWidth = 2;
    context.beginPath();
    context.arc(cx, cy, 9, 0, Math.PI * 2);
    context.fill();
    context.stroke();
    context.fillStyle = theme.ok;
    context.font = `bold 11px ${theme.mono}`;
    context.textAlign = "center";
    context.textBaseline = "middle";
    context.fillText("H", cx, cy + 0.5);
  }

  private drawTrail(context: CanvasRenderingContext2D, theme: Theme, toCanvas: (x: number, y: number) => [number, number]): void {
    const { trail, frame } = this.view;
    if (trail.length === 0) return;
    context.save();
    context.strokeStyle = theme.trail;
    context.lineWidth = 2;
    context.lineJoin = "round";
    context.lineCap = "round";
    context.globalAlpha = 0.55;
    context.beginPath();
    context.moveTo(...toCanvas(trail[0]!.x, trail[0]!.y));
    for (let i = 1; i < trail.length; i++) context.lineTo(...toCanvas(trail[i]!.x, trail[i]!.y));
    if (frame) context.lineTo(...toCanvas(frame.position.x, frame.position.y));
    context.stroke();
    context.restore();
  }

  private drawTarget(context: CanvasRenderingContext2D, theme: Theme, frame: TelemetryData, toCanvas: (x: number, y: number) => [number, number]): void {
    const target = frame.target;
    if (!target || Math.hypot(target.x - frame.position.x, target.y - frame.position.y) < 0.3) return;
    const [fromX, fromY] = toCanvas(frame.position.x, frame.position.y);
    const [x, y] = toCanvas(target.x, target.y);
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

  private drawDrone(context: CanvasRenderingContext2D, theme: Theme, frame: TelemetryData, toCanvas: (x: number, y: number) => [number, number]): void {
    const [x, y] = toCanvas(frame.position.x, frame.position.y);
    const colour = frame.state === "emergency" || frame.flags.failsafe ? theme.bad : frame.state === "landed" ? theme.muted : theme.accent;
    context.save();
    context.translate(x, y);
    // Heading is clockwise from north; canvas rotation is clockwise with y down, so north (up) rotates the same way.
    context.rotate((frame.heading * Math.PI) / 180);
    const length = droneArrowPx;
    context.beginPath();
    context.moveTo(0, -length * 0.6);
    context.lineTo(length * 0.4, length * 0.4);
    context.lineTo(0, length * 0.2);
    context.lineTo(-length * 0.4, length * 0.4);
    context.closePath();
    context.fillStyle = colour;
    context.strokeStyle = theme.panel;
    context.lineWidth = 2;
    context.stroke();
    context.fill();
    context.restore();
    label(context, theme, `${frame.drone} ${oneDecimal(frame.position.z)} m`, x + 16, y - 14);
  }

  /** The other drones at one spot: one dot, one label naming them (never a stack of labels over each other). */
  private drawOthers(context: CanvasRenderingContext2D, theme: Theme, group: readonly TelemetryData[], toCanvas: (x: number, y: number) => [number, number]): void {
    const frame = group[0]!;
    const [x, y] = toCanvas(frame.position.x, frame.position.y);
    context.save();
    context.globalAlpha = 0.6;
    context.fillStyle = theme.muted;
    context.beginPath();
    context.arc(x, y, 5, 0, Math.PI * 2);
    context.fill();
    context.restore();
    label(context, theme, groupLabel(group.map((member) => member.drone)), x + 9, y, true);
  }

  private drawNorth(context: CanvasRenderingContext2D, theme: Theme, width: number): void {
    const x = width - 20;
    context.fillStyle = theme.muted;
    context.beginPath();
    context.moveTo(x, 10);
    context.lineTo(x + 6, 24);
    context.lineTo(x - 6, 24);
    context.closePath();
    context.fill();
    context.font = `bold 11px ${theme.mono}`;
    context.textAlign = "center";
    context.textBaseline = "top";
    context.fillText("N", x, 27);
  }

  private drawScaleBar(context: CanvasRenderingContext2D, theme: Theme, height: number, metres: number, scale: number): void {
    const length = metres * scale;
    const x = 12;
    const y = height - 14;
    context.strokeStyle = theme.text;
    context.lineWidth = 2;
    context.beginPath();
    context.moveTo(x, y - 5);
    context.lineTo(x, y);
    context.lineTo(x + length, y);
    context.lineTo(x + length, y - 5);
    context.stroke();
    context.fillStyle = theme.text;
    context.font = `11px ${theme.mono}`;
    context.textAlign = "left";
    context.textBaseline = "bottom";
    context.fillText(`${metres} m`, x + 4, y - 3);
  }
}

/** Other drones closer together than this on the map, pixels, share one dot and one label. */
const sharedPlacePx = 14;
/** Names listed in a shared label before "+N more". */
const namesPerLabel = 3;

/**
 * The drones grouped by where they are: each group holds drones within
 * `withinMetres` of its first member (greedy, in the given order).
 */
export function groupByPlace<T extends { position: { x: number; y: number } }>(frames: readonly T[], withinMetres: number): T[][] {
  const groups: T[][] = [];
  for (const frame of frames) {
    const near = groups.find((group) => Math.hypot(group[0]!.position.x - frame.position.x, group[0]!.position.y - frame.position.y) <= withinMetres);
    if (near) near.push(frame);
    else groups.push([frame]);
  }
  return groups;
}

/** "beta", "beta, gamma", or "beta, gamma, delta +10 more". */
export function groupLabel(ids: readonly string[]): string {
  const shown = ids.slice(0, namesPerLabel).join(", ");
  return ids.length > namesPerLabel ? `${shown} +${ids.length - namesPerLabel} more` : shown;
}

/** Text on a panel-coloured backing, so it stays readable over rings, trail and grid labels. */
function label(context: CanvasRenderingContext2D, theme: Theme, text: string, x: number, y: number, faint = false): void {
  context.save();
  context.font = `12px ${theme.mono}`;
  context.textAlign = "left";
  context.textBaseline = "middle";
  const width = context.measureText(text).width;
  // Near the right edge the label goes to the left of its point instead of off the canvas.
  const canvasWidth = context.canvas.width / (context.getTransform().a || 1);
  if (x + width + 4 > canvasWidth) x = Math.max(4, x - width - 32);
  context.globalAlpha = 0.85;
  context.fillStyle = theme.bg;
  context.fillRect(x - 3, y - 8, width + 6, 16);
  context.globalAlpha = 1;
  context.fillStyle = faint ? theme.muted : theme.text;
  context.fillText(text, x, y);
  context.restore();
}
