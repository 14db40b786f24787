/**
 * Draws the results as a hand-written SVG: small multiples of grouped bars,
 * one panel per scenario and metric (throughput or deliveries, p99 latency,
 * RSS per idle connection), one bar per server with a min–max whisker
 * across rounds.
 *
 * Owns the chart's geometry and styling only. Each panel has its own y scale
 * starting at zero, because the scenarios differ by orders of magnitude; a
 * bar more than 4x bare Bun's is cut off with a break mark and labelled.
 */
import { formatBytes, formatCount } from "./report.ts";
import type { Metric, SummaryRow } from "./stats.ts";

export interface ChartInput {
  rows: SummaryRow[];
  scenarioOrder: string[];
  scenarioTitles: Record<string, string>;
  serverOrder: string[];
  serverLabels: Record<string, string>;
  /** One line under the title, e.g. machine and date. */
  subtitle: string;
}

/** Okabe–Ito colours: distinguishable with the common colour-vision deficiencies. */
const palette = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00"];

const chartWidthPx = 960;
const marginPx = 24;
const columnsPerRow = 3;
const panelGapPx = 28;
/** Room on a panel's left for y-axis labels. */
const axisLabelWidthPx = 48;
/** Room for a panel's title: two lines of 12 px text. */
const panelTitleHeightPx = 34;
/** Line height of a panel title that wraps. */
const panelTitleLinePx = 14;
/** Average width of a 12 px title character, for wrapping titles to their panel. */
const titleCharWidthPx = 6.4;
const panelHeightPx = 222;
const rowTitleHeightPx = 30;
const headerHeightPx = 78;
const barGapPx = 8;
const fontFamily = "system-ui, -apple-system, 'Segoe UI', sans-serif";

/** Bars taller than this many times bare Bun's are cut off with a break mark, so the skyport–Bun comparison stays readable. */
const maxTimesReference = 4;
const referenceServer = "bun";

interface ChartRow {
  metric: Metric;
  title: string;
  /** Raw value → axis units (e.g. bytes → KiB), so that ticks fall on round numbers. */
  unit: number;
  /** Tick label for a value in axis units. */
  tick: (value: number) => string;
  /** Bar label for a raw value. */
  format: (value: number) => string;
}

/** Round numbers without trailing zeros: 1.5M, 250k, 40. */
function compactCount(value: number): string {
  if (value >= 1e6) return `${+(value / 1e6).toFixed(2)}M`;
  if (value >= 1e3) return `${+(value / 1e3).toFixed(1)}k`;
  return `${+value.toFixed(2)}`;
}

/** Microseconds as µs, ms or s, whichever reads best. */
function formatDuration(micros: number): string {
  if (micros >= 1e6) return `${+(micros / 1e6).toPrecision(3)} s`;
  if (micros >= 1e3) return `${+(micros / 1e3).toPrecision(3)} ms`;
  return `${+micros.toPrecision(3)} µs`;
}

const chartRows: ChartRow[] = [
  { metric: "messagesPerSecond", title: "Throughput: echoes, or telemetry deliveries, per second (higher is better)", unit: 1, tick: compactCount, format: formatCount },
  { metric: "p99Micros", title: "p99 latency: echo round trip, or telemetry delivery (lower is better)", unit: 1, tick: formatDuration, format: formatDuration },
  { metric: "rssBytesPerConnection", title: "RSS per idle connection (lower is better)", unit: 1024, tick: (kib) => `${+kib.toFixed(2)} KiB`, format: formatBytes },
];

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Tick step (1, 2, 2.5 or 5 times a power of ten) giving about four intervals up to `value`, and the axis top. */
function niceScale(value: number): { max: number; step: number } {
  if (!(value > 0)) return { max: 1, step: 0.25 };
  const raw = value / 4;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((candidate) => candidate >= raw) ?? 10 * power;
  return { max: Math.ceil(value / step - 1e-9) * step, step };
}

/**
 * A title in at most two lines of `maxChars`: broken after the last comma
 * that fits, else at the last space; a second line that is still too long
 * is cut with an ellipsis.
 */
export function wrapTitle(title: string, maxChars: number): string[] {
  if (title.length <= maxChars) return [title];
  const head = title.slice(0, maxChars + 1);
  const comma = head.lastIndexOf(", ");
  const space = head.lastIndexOf(" ");
  const cut = comma > maxChars / 3 ? comma + 1 : space > 0 ? space : maxChars;
  const rest = title.slice(cut).trim();
  return [title.slice(0, cut).trim(), rest.length > maxChars ? `${rest.slice(0, maxChars - 1)}…` : rest];
}

function text(x: number, y: number, content: string, attributes = ""): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attributes}>${escapeXml(content)}</text>`;
}

function panel(input: ChartInput, row: ChartRow, scenario: string, x: number, y: number, width: number): string {
  const parts: string[] = [];
  const plotLeft = x + axisLabelWidthPx;
  const plotWidth = width - axisLabelWidthPx;
  const plotTop = y + panelTitleHeightPx + 14;
  const plotBottom = y + panelHeightPx - 22;
  const plotHeight = plotBottom - plotTop;
  const bars = input.serverOrder
    .map((server, index) => ({ server, index, spread: input.rows.find((r) => r.scenario === scenario && r.server === server)?.metrics[row.metric] }))
    .filter((bar) => bar.spread !== undefined);
  const reference = bars.find((bar) => bar.server === referenceServer)?.spread?.median;
  const tallest = Math.max(...bars.map((bar) => bar.spread!.max));
  const cap = reference !== undefined && tallest > reference * maxTimesReference ? reference * maxTimesReference : tallest;
  const { max, step } = niceScale(cap / row.unit);
  const yOf = (raw: number) => plotBottom - (Math.min(raw / row.unit, max) / max) * plotHeight;

  wrapTitle(input.scenarioTitles[scenario] ?? scenario, Math.floor(width / titleCharWidthPx)).forEach((line, i) => {
    parts.push(text(x + width / 2, y + 14 + i * panelTitleLinePx, line, 'text-anchor="middle" class="panel-title"'));
  });
  for (let tick = 0; tick <= max + step / 2; tick += step) {
    const ty = yOf(tick * row.unit);
    parts.push(`<line x1="${plotLeft}" x2="${plotLeft + plotWidth}" y1="${ty.toFixed(1)}" y2="${ty.toFixed(1)}" class="grid"/>`);
    parts.push(text(plotLeft - 6, ty + 4, row.tick(tick), 'text-anchor="end" class="axis"'));
  }
  const slot = plotWidth / Math.max(bars.length, 1);
  const barWidth = Math.min(slot - barGapPx, 56);
  for (const [position, bar] of bars.entries()) {
    const s = bar.spread!;
    const bx = plotLeft + position * slot + (slot - barWidth) / 2;
    const top = yOf(s.median);
    const colour = palette[bar.index % palette.length]!;
    const label = input.serverLabels[bar.server] ?? bar.server;
    parts.push(
      `<rect x="${bx.toFixed(1)}" y="${top.toFixed(1)}" width="${barWidth.toFixed(1)}" height="${(plotBottom - top).toFixed(1)}" fill="${colour}">` +
        `<title>${escapeXml(`${label}: ${row.format(s.median)} (min ${row.format(s.min)}, max ${row.format(s.max)})`)}</title></rect>`,
    );
    if (s.count > 1 && s.max > s.min) {
      const cx = bx + barWidth / 2;
      const [y1, y2] = [yOf(s.min), yOf(s.max)];
      parts.push(
        `<path d="M${cx.toFixed(1)} ${y1.toFixed(1)}V${y2.toFixed(1)}M${(cx - 5).toFixed(1)} ${y1.toFixed(1)}h10M${(cx - 5).toFixed(1)} ${y2.toFixed(1)}h10" class="whisker"/>`,
      );
    }
    if (s.median / row.unit > max) {
      // Cut off: a white zigzag across the bar says "taller than drawn".
      const zy = plotTop + 10;
      parts.push(`<path d="M${(bx - 2).toFixed(1)} ${zy + 4}l${(barWidth / 4 + 1).toFixed(1)} -8l${(barWidth / 4).toFixed(1)} 8l${(barWidth / 4).toFixed(1)} -8l${(barWidth / 4 + 1).toFixed(1)} 8" class="break"/>`);
    }
    parts.push(text(bx + barWidth / 2, Math.min(top, yOf(s.max)) - 4, row.format(s.median), 'text-anchor="middle" class="value"'));
  }
  parts.push(`<line x1="${plotLeft}" x2="${plotLeft + plotWidth}" y1="${plotBottom}" y2="${plotBottom}" class="baseline"/>`);
  return parts.join("\n");
}

/** The whole chart as an SVG document. */
export function renderChart(input: ChartInput): string {
  const panelWidth = (chartWidthPx - 2 * marginPx - (columnsPerRow - 1) * panelGapPx) / columnsPerRow;
  const body: string[] = [];
  let y = headerHeightPx;
  for (const row of chartRows) {
    const scenarios = input.scenarioOrder.filter((scenario) => input.rows.some((r) => r.scenario === scenario && r.metrics[row.metric]));
    if (scenarios.length === 0) continue;
    body.push(text(marginPx, y + 18, row.title, 'class="row-title"'));
    y += rowTitleHeightPx;
    for (let i = 0; i < scenarios.length; i += columnsPerRow) {
      scenarios.slice(i, i + columnsPerRow).forEach((scenario, column) => {
        body.push(panel(input, row, scenario, marginPx + column * (panelWidth + panelGapPx), y, panelWidth));
      });
      y += panelHeightPx;
    }
  }
  const height = y + marginPx;

  const legend: string[] = [];
  let lx = marginPx;
  for (const [index, server] of input.serverOrder.entries()) {
    const label = input.serverLabels[server] ?? server;
    legend.push(`<rect x="${lx}" y="56" width="12" height="12" fill="${palette[index % palette.length]}"/>`);
    legend.push(text(lx + 18, 66, label, 'class="legend"'));
    lx += 18 + label.length * 7.5 + 24;
  }

  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${chartWidthPx}" height="${height}" viewBox="0 0 ${chartWidthPx} ${height}" role="img" aria-label="skyport benchmark results">
<style>
  text { font-family: ${fontFamily}; fill: #1f2937; }
  .title { font-size: 18px; font-weight: 600; }
  .subtitle { font-size: 12px; fill: #4b5563; }
  .row-title { font-size: 14px; font-weight: 600; }
  .panel-title { font-size: 12px; fill: #374151; }
  .axis { font-size: 10px; fill: #6b7280; }
  .value { font-size: 10px; fill: #111827; }
  .legend { font-size: 12px; }
  .grid { stroke: #e5e7eb; stroke-width: 1; }
  .baseline { stroke: #9ca3af; stroke-width: 1; }
  .whisker { stroke: #111827; stroke-width: 1.2; fill: none; }
  .break { stroke: #ffffff; stroke-width: 3; fill: none; }
</style>
<rect width="100%" height="100%" fill="#ffffff"/>
${text(marginPx, 26, "skyport vs reference WebSocket servers", 'class="title"')}
${text(marginPx, 44, input.subtitle, 'class="subtitle"')}
${legend.join("\n")}
${body.join("\n")}
</svg>
`;
}
