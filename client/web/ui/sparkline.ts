/**
 * A small line chart of one value over the last minute (altitude, battery),
 * with optional dashed threshold lines. A new stream (a server restart that
 * reset the drone) breaks the line and is marked with a dashed "reset" line,
 * never joined to the old stream by a slope that never happened.
 *
 * Owns the drawing of one canvas and its range caption. The time axis ends
 * at the newest sample, in server time, so a skewed client clock cannot bend
 * it.
 */
import { sparklineWindowMs, type Sample } from "../dashboard-history.ts";
import { CrispCanvas } from "./canvas.ts";
import { currentTheme, type Theme } from "./theme.ts";

export interface SparklineOptions {
  /** Lowest value on the axis; the axis always includes it. */
  floor: number;
  /** The axis top never goes below this (so a hovering drone at 2 m does not fill the chart). */
  minimumTop: number;
  /** Fixed axis top, if any (battery: 100). */
  fixedTop?: number;
  /** Dashed horizontal lines, e.g. battery thresholds. */
  thresholds?: ReadonlyArray<{ value: number; level: "warn" | "bad" }>;
  /** Shade the area under the line (good for altitude; a battery near 100 % would fill the chart). */
  fill: boolean;
  /** Line colour for the newest value. */
  colour(theme: Theme, latest: number): string;
  /** Caption text for the values shown, e.g. "0–12.3 m". */
  caption(min: number, max: number): string;
}

/** Space kept above the highest value, as a fraction of the axis. */
const headroomFraction = 0.1;

export class Sparkline {
  private readonly surface: CrispCanvas;
  private samples: readonly Sample[] = [];

  constructor(
    canvas: HTMLCanvasElement,
    private readonly captionElement: HTMLElement,
    private readonly options: SparklineOptions,
  ) {
    this.surface = new CrispCanvas(canvas, (context, width, height) => this.draw(context, width, height));
  }

  update(samples: readonly Sample[]): void {
    this.samples = samples;
    this.surface.invalidate();
    let min = Infinity;
    let max = -Infinity;
    for (const sample of samples) {
      min = Math.min(min, sample.value);
      max = Math.max(max, sample.value);
    }
    const caption = samples.length === 0 ? "" : this.options.caption(min, max);
    if (this.captionElement.textContent !== caption) this.captionElement.textContent = caption;
  }

  private top(): number {
    if (this.options.fixedTop !== undefined) return this.options.fixedTop;
    let max = this.options.minimumTop;
    for (const sample of this.samples) max = Math.max(max, sample.value);
    return max * (1 + headroomFraction);
  }

  private draw(context: CanvasRenderingContext2D, width: number, height: number): void {
    const theme = currentTheme();
    const { floor } = this.options;
    const top = this.top();
    const pad = 4; // px, so the newest-value dot is not clipped at the top or bottom
    const plotHeight = height - pad * 2;
    const yOf = (value: number) => pad + plotHeight * (1 - (value - floor) / (top - floor || 1));

    context.strokeStyle = theme.grid;
    context.lineWidth = 1;
    context.beginPath();
    context.moveTo(0, Math.round(yOf(floor)) - 0.5);
    context.lineTo(width, Math.round(yOf(floor)) - 0.5);
    context.stroke();
    for (const threshold of this.options.thresholds ?? []) {
      context.save();
      context.strokeStyle = threshold.level === "bad" ? theme.bad : theme.warn;
      context.globalAlpha = 0.7;
      context.setLineDash([3, 3]);
      context.beginPath();
      context.moveTo(0, yOf(threshold.value));
      context.lineTo(width, yOf(threshold.value));
      context.stroke();
      context.restore();
    }

    const newest = this.samples[this.samples.length - 1];
    if (!newest) return;
    const start = newest.time - sparklineWindowMs;
    const xOf = (time: number) => ((time - start) / sparklineWindowMs) * width;
    const colour = this.options.colour(theme, newest.value);

    const segments = splitAtBreaks(this.samples);
    const trace = (segment: readonly Sample[]) =>
      segment.forEach((sample, index) => {
        const x = xOf(sample.time);
        const y = yOf(sample.value);
        if (index === 0) context.moveTo(x, y);
        else context.lineTo(x, y);
      });
    if (this.options.fill) {
      context.save();
      context.globalAlpha = 0.15;
      context.fillStyle = colour;
      for (const segment of segments) {
        context.beginPath();
        trace(segment);
        context.lineTo(xOf(segment[segment.length - 1]!.time), yOf(floor));
        context.lineTo(xOf(segment[0]!.time), yOf(floor));
        context.closePath();
        context.fill();
      }
      context.restore();
    }
    for (const segment of segments.slice(1)) this.markReset(context, xOf(segment[0]!.time), height, theme);

    context.beginPath();
    for (const segment of segments) trace(segment);
    context.strokeStyle = colour;
    context.lineWidth = 1.75;
    context.lineJoin = "round";
    context.stroke();
    context.fillStyle = colour;
    context.beginPath();
    context.arc(xOf(newest.time) - 2.5, yOf(newest.value), 2.5, 0, Math.PI * 2);
    context.fill();

    context.fillStyle = theme.muted;
    context.font = `10px ${theme.mono}`;
    context.textBaseline = "top";
    context.textAlign = "left";
    context.fillText("−60 s", 2, pad);
  }

  /** A dashed vertical line where a new stream began, labelled "reset". */
  private markReset(context: CanvasRenderingContext2D, x: number, height: number, theme: Theme): void {
    context.save();
    context.strokeStyle = theme.warn;
    context.setLineDash([2, 3]);
    context.beginPath();
    context.moveTo(Math.round(x) + 0.5, 0);
    context.lineTo(Math.round(x) + 0.5, height);
    context.stroke();
    context.fillStyle = theme.warn;
    context.font = `10px ${theme.mono}`;
    context.textBaseline = "bottom";
    context.textAlign = x > 40 ? "right" : "left";
    context.fillText("reset", x > 40 ? x - 3 : x + 3, height - 2);
    context.restore();
  }
}

/** The samples cut where a new stream began: each piece is drawn on its own. */
export function splitAtBreaks(samples: readonly Sample[]): Sample[][] {
  const segments: Sample[][] = [];
  for (const sample of samples) {
    if (segments.length === 0 || sample.breakBefore) segments.push([]);
    segments[segments.length - 1]!.push(sample);
  }
  return segments;
}
