/**
 * Formats the summary as the one results table (aligned plain text for the
 * terminal, Markdown for docs) and the list of target verdicts.
 *
 * Owns number formatting and layout only; the numbers come from stats.ts and
 * the verdicts from targets.ts.
 */
import type { ExcludedRound } from "./fairness.ts";
import type { Metric, Spread, SummaryRow } from "./stats.ts";
import { referenceServer } from "./stats.ts";
import type { Verdict } from "./targets.ts";

export interface TableLabels {
  scenarioTitles: Record<string, string>;
  serverLabels: Record<string, string>;
  /** Metrics each scenario compares with bare Bun. */
  compared: Record<string, ReadonlyArray<Metric>>;
}

/** Three significant digits with k/M suffixes: 1.91M, 213k, 17.5k, 950. */
export function formatCount(value: number): string {
  // Thresholds just below the unit, so that 999,700 reads 1.00M, not 1.00e+3k.
  if (value >= 999_500) return `${(value / 1e6).toPrecision(3)}M`;
  if (value >= 999.5) return `${(value / 1e3).toPrecision(3)}k`;
  return value.toPrecision(3);
}

/** Three significant digits, without exponent notation for large values. */
export function formatNumber(value: number): string {
  if (value >= 1000) return Math.round(value).toLocaleString("en-US");
  return value.toPrecision(3);
}

export function formatBytes(value: number): string {
  if (Math.abs(value) >= 1024 ** 3) return `${(value / 1024 ** 3).toPrecision(3)} GiB`;
  if (Math.abs(value) >= 1024 * 1024) return `${(value / 1024 / 1024).toPrecision(3)} MiB`;
  if (Math.abs(value) >= 1024) return `${(value / 1024).toPrecision(3)} KiB`;
  return `${Math.round(value)} B`;
}

function formatPercent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

/** A share that must be read closely (0.994 is not 0.99): a percentage to one decimal. */
function formatShare(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

/** Lost frames: exactly 0 reads "0", anything else three significant digits. */
function formatLoss(value: number): string {
  return value === 0 ? "0" : formatNumber(value);
}

const formatters: Record<Metric, (value: number) => string> = {
  messagesPerSecond: formatCount,
  p50Micros: formatNumber,
  p99Micros: formatNumber,
  cpuMicrosPerMessage: formatNumber,
  serverCoreShare: formatPercent,
  loadgenCoreShare: formatPercent,
  loadgenCpuMicrosPerMessage: formatNumber,
  otherLoadServerCore: formatPercent,
  otherLoadLoadCore: formatPercent,
  rssBytesPerConnection: formatBytes,
  rssBeforeBytes: formatBytes,
  rssAfterBytes: formatBytes,
  lostFrames: formatLoss,
  lostFramesPerSubscriber: formatLoss,
  subscribersWithLoss: formatLoss,
  messageBytes: formatBytes,
  droneFramesPerSecond: formatCount,
  askedShare: formatShare,
  producedShare: formatShare,
};

/** Short names for the ratio column. */
const ratioNames: Partial<Record<Metric, string>> = {
  messagesPerSecond: "thr",
  cpuMicrosPerMessage: "cpu",
  p50Micros: "p50",
  p99Micros: "p99",
  rssBytesPerConnection: "rss",
};

/** `median [min–max]`, or just the median when every round agreed or only one ran. */
function cell(s: Spread | undefined, format: (value: number) => string): string {
  if (!s) return "–";
  const median = format(s.median);
  if (s.count === 1) return median;
  const min = format(s.min);
  const max = format(s.max);
  return min === max ? median : `${median} [${min}–${max}]`;
}

const columns: Array<{ title: string; metric?: Metric }> = [
  { title: "scenario" },
  { title: "server" },
  { title: "msgs/s", metric: "messagesPerSecond" },
  { title: "p50 µs", metric: "p50Micros" },
  { title: "p99 µs", metric: "p99Micros" },
  { title: "CPU µs/msg", metric: "cpuMicrosPerMessage" },
  { title: "server CPU", metric: "serverCoreShare" },
  { title: "loadgen CPU", metric: "loadgenCoreShare" },
  { title: "RSS/conn", metric: "rssBytesPerConnection" },
  { title: "lost/sub", metric: "lostFramesPerSubscriber" },
  { title: "of asked", metric: "askedShare" },
  { title: "msg size", metric: "messageBytes" },
  { title: "vs bare Bun" },
  { title: "rounds judged" },
];

/** The last two columns, filled from the row's ratios and exclusions rather than from a metric. */
const ratioColumn = columns.length - 2;
const roundsColumn = columns.length - 1;

function ratioParts(ratios: SummaryRow["ratios"], compared: ReadonlyArray<Metric>): string[] {
  return compared
    .map((metric) => {
      const ratio = ratios[metric];
      return ratio ? `${ratioNames[metric] ?? metric} ${cell(ratio, (v) => v.toFixed(2))}` : undefined;
    })
    .filter((part): part is string => part !== undefined);
}

/**
 * The ratios over the fair rounds; when every round was excluded, every
 * round's ratios in parentheses marked as not judged.
 */
function ratioCell(row: SummaryRow, labels: TableLabels): string {
  if (row.server === referenceServer) return "1 (reference)";
  const compared = labels.compared[row.scenario] ?? [];
  const judged = ratioParts(row.ratios, compared);
  if (judged.length) return judged.join(", ");
  const all = ratioParts(row.allRatios ?? {}, compared);
  return all.length ? `not judged (all rounds: ${all.join(", ")})` : "–";
}

/** `2 of 3 (r2 out)`: the rounds whose ratios count, and which were left out. */
function roundsCell(row: SummaryRow): string {
  if (row.server === referenceServer || !row.pairedRounds) return "–";
  const excluded = row.excludedRounds ?? [];
  const judged = row.pairedRounds - excluded.length;
  return excluded.length ? `${judged} of ${row.pairedRounds} (${excluded.map((e) => `r${e.round}`).join(", ")} out)` : `${judged} of ${row.pairedRounds}`;
}

function tableCells(rows: SummaryRow[], labels: TableLabels): string[][] {
  return rows.map((row) =>
    columns.map((column, index) => {
      if (index === 0) return labels.scenarioTitles[row.scenario] ?? row.scenario;
      if (index === 1) return (labels.serverLabels[row.server] ?? row.server) + (row.errors.length ? ` (${row.errors.length} failed)` : "");
      if (column.metric) return cell(row.metrics[column.metric], formatters[column.metric]);
      if (index === roundsColumn) return roundsCell(row);
      if (index === ratioColumn) return ratioCell(row, labels);
      return "–";
    }),
  );
}

/** The results table as aligned text. Cells are `median [min–max]` across rounds. */
export function textTable(rows: SummaryRow[], labels: TableLabels): string {
  const body = tableCells(rows, labels);
  const all = [columns.map((c) => c.title), ...body];
  const widths = columns.map((_, i) => Math.max(...all.map((r) => [...r[i]!].length)));
  const line = (r: string[]) => r.map((c, i) => c + " ".repeat(widths[i]! - [...c].length)).join("  ").trimEnd();
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  return [line(all[0]!), rule, ...body.map(line)].join("\n");
}

/** The same table in Markdown. */
export function markdownTable(rows: SummaryRow[], labels: TableLabels): string {
  const body = tableCells(rows, labels);
  const line = (r: string[]) => `| ${r.join(" | ")} |`;
  return [line(columns.map((c) => c.title)), line(columns.map(() => "---")), ...body.map(line)].join("\n");
}

/** A target's figure for a verdict line: ratios as 1.040x, latencies in ms, shares in %, counts as they are. */
function formatTargetValue(target: Verdict["target"], value: number): string {
  if (target.basis === "ratio") return `${value.toFixed(3)}x`;
  if (target.metric === "p50Micros" || target.metric === "p99Micros") return `${+(value / 1000).toPrecision(3)} ms`;
  if (target.metric === "serverCoreShare" || target.metric === "loadgenCoreShare") return `${+(value * 100).toPrecision(3)}%`;
  return formatters[target.metric](value);
}

/**
 * One note per round left out of the ratios, with its reason, e.g.
 * `note: skyport, telemetry max rate …: round 2 not judged: load generator bound (…)`.
 */
export function exclusionNotes(rows: SummaryRow[], labels: TableLabels): string[] {
  return rows.flatMap((row) =>
    (row.excludedRounds ?? []).map(
      (e: ExcludedRound) => `note: ${labels.serverLabels[row.server] ?? row.server}, ${labels.scenarioTitles[row.scenario] ?? row.scenario}: round ${e.round}'s ratios not judged: ${e.reason}`,
    ),
  );
}

/** One line per target: what was measured, the limit, met or missed and by how much, and on how many rounds. */
export function verdictLines(verdicts: Verdict[]): string[] {
  return verdicts.map(({ target, measured, judged, met, margin, excluded }) => {
    const show = (value: number) => formatTargetValue(target, value);
    const limit = `${target.direction === "atLeast" ? "≥" : "≤"} ${show(target.limit)}`;
    const left = excluded?.length ? `; round${excluded.length > 1 ? "s" : ""} ${excluded.map((e) => e.round).join(", ")} not judged (see notes)` : "";
    if (!measured || judged === undefined || met === undefined) {
      return excluded?.length ? `- ${target.description}: not judged: no fair round (needs ${limit})${left}` : `- ${target.description}: not measured (needs ${limit})`;
    }
    const spreadText = `${show(measured.median)} [${show(measured.min)}–${show(measured.max)}]${target.judgedOn === "worst" ? `, worst round ${show(judged)}` : ""}`;
    const by = margin === undefined ? `by ${show(Math.abs(judged - target.limit))}` : `${(Math.abs(margin) * 100).toFixed(1)}% of the limit`;
    const basis = target.basis === "ratio" ? " (skyport ÷ bare Bun)" : "";
    const rounds = target.basis === "ratio" ? ` on ${measured.count} round${measured.count > 1 ? "s" : ""}` : "";
    return `- ${target.description}${basis}: ${spreadText}${rounds}, target ${limit}: ${met ? `MET${margin === undefined ? "" : `, ${by} to spare`}` : `MISSED ${by}`}${left}`;
  });
}

/**
 * Lines flagging rows where the load generator's core, not only the
 * server's, may be the limit: it was busier than the server, or both were
 * saturated.
 */
export function loadgenWarnings(rows: SummaryRow[], labels: TableLabels): string[] {
  const busyShare = 0.9;
  return rows
    .filter((r) => (r.metrics.loadgenCoreShare?.median ?? 0) > busyShare)
    .map((r) => {
      const loadgen = r.metrics.loadgenCoreShare!.median;
      const server = r.metrics.serverCoreShare?.median ?? 1;
      const what = `note: ${labels.serverLabels[r.server] ?? r.server}, ${labels.scenarioTitles[r.scenario] ?? r.scenario}: load generator at ${formatPercent(loadgen)} of its core, server at ${formatPercent(server)}: `;
      return what + (server < busyShare ? "the load generator may be the limit" : "both cores are saturated, so the load generator is as much the limit as the server");
    });
}
