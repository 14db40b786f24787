/**
 * A recorded flight's altitude or battery over its whole length, for the
 * Flights panel: one line from the first frame to the last, with a marker
 * where the replay is, and its range as a caption.
 *
 * Owns one canvas and its caption. Draws through `CrispCanvas` (crisp,
 * at most once per animation frame); reads nothing but what it is given.
 */
import type { TelemetryData } from "../../../protocol/index.ts";
import { CrispCanvas } from "./canvas.ts";
import { setText } from "./dom.ts";
import { currentTheme } from "./theme.ts";

/** Room above and below the line, pixels, so its extremes are not clipped. */
const padPx = 4;

export interface FlightChartOptions {
  /** The value drawn, from a frame. */
  value(frame: TelemetryData): number;
  /** The lowest value the axis shows (0 for altitude and battery). */
  floor: number;
  /** The axis reaches at least this high. */
  minimumTop: number;
  /** The caption for the range shown, e.g. "0.0–12.3 m". */
  caption(min: number, max: number): string;
}

export class FlightChart {
  private readonly surface: CrispCanvas;
  private points: Array<{ time: number; value: number }> = [];
  /** Where the replay is, Unix ms of the recorded time, or null when it is not playing. */
  private markerTime: number | null = null;

  constructor(
    canvas: HTMLCanvasElement,
    private readonly captionElement: HTMLElement,
    private readonly options: FlightChartOptions,
  ) {
    this.surface = new CrispCanvas(canvas, (context, width, height) => this.draw(context, width, height));
  }

  /** The flight's frames, oldest first (none: an empty chart). */
  show(frames: readonly TelemetryData[]): void {
    this.points = frames.map((frame) => ({ time: frame.time, value: this.options.value(frame) }));
    this.markerTime = null;
    const values = this.points.map((point) => point.value);
    setText(this.captionElement, values.length === 0 ? "" : this.options.caption(Math.min(...values), Math.max(...values)));
    this.surface.canvas.dataset.points = String(this.points.length);
    this.surface.invalidate();
  }

  /** Marks where the replay is (a recorded time), or clears the mark. */
  mark(recordedTime: number | null): void {
    if (recordedTime === this.markerTime) return;
    this.markerTime = recordedTime;
    this.surface.invalidate();
  }

  private draw(context: CanvasRenderingContext2D, width: number, height: number): void {
    const { points } = this;
    if (points.length === 0) return;
    const theme = currentTheme();
    const { floor } = this.options;
    const top = Math.max(this.options.minimumTop, ...points.map((point) => point.value));
    const start = points[0]!.time;
    const span = points.at(-1)!.time - start || 1;
    const xOf = (time: number) => ((time - start) / span) * width;
    const yOf = (value: number) => padPx + (height - 2 * padPx) * (1 - (value - floor) / (top - floor || 1));
    context.strokeStyle = theme.accent;
    context.lineWidth = 1.5;
    context.beginPath();
    points.forEach((point, index) => (index === 0 ? context.moveTo(xOf(point.time), yOf(point.value)) : context.lineTo(xOf(point.time), yOf(point.value))));
    context.stroke();
    if (this.markerTime === null) return;
    const x = Math.round(xOf(Math.min(Math.max(this.markerTime, start), start + span))) + 0.5;
    context.strokeStyle = theme.warn;
    context.beginPath();
    context.moveTo(x, 0);
    context.lineTo(x, height);
    context.stroke();
  }
}
