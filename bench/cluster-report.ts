/**
 * The scale-out benchmark's summary and tables: per (placement, workers) and
 * per (setup, load), each figure's median with min–max across rounds, the
 * deliveries of N workers over 1 worker paired by round, and the text and
 * Markdown tables bench/cluster.ts prints and docs/scaling.md quotes.
 *
 * Pure: samples in, numbers and strings out.
 */
import type { HopLoad, HopSample, HopSetup } from "./cluster-hop.ts";
import type { ScaleSample } from "./cluster-scale.ts";
import { formatCount, formatNumber } from "./report.ts";
import { spread, type Spread } from "./stats.ts";

/**
 * Where skyport runs in a scale run: `core0` pins the workers (and
 * redis-server) to core 0, leaving core 1 to the load generator; `shared`
 * leaves them unpinned, free to use core 1 as well, where the load
 * generator is pinned.
 */
export type Placement = "core0" | "shared";

export const placementLabels: Record<Placement, string> = {
  core0: "skyport on core 0",
  shared: "skyport unpinned",
};

/** One scale run as recorded: its round, where skyport ran, and what it measured or why it failed. */
export interface ScaleRecord {
  round: number;
  placement: Placement;
  workers: number;
  sample?: ScaleSample;
  error?: string;
  attempts: number;
  /** Other processes used more than the disturbance limit even in the attempt kept. */
  disturbed: boolean;
}

/** One hop setup's run (both its phases) as recorded. */
export interface HopRecord {
  round: number;
  setup: HopSetup;
  samples?: HopSample[];
  error?: string;
  attempts: number;
  disturbed: boolean;
}

export interface ScaleRow {
  placement: Placement;
  workers: number;
  runs: number;
  deliveriesPerSecond?: Spread;
  ticksPerSecond?: Spread;
  /** Deliveries of this run over the 1-worker run of the same placement and round. */
  versusOneWorker?: Spread;
  /** Deliveries per second of worker CPU (deliveries/s over the workers' summed core share). */
  deliveriesPerWorkerCoreSecond?: Spread;
  p50Micros?: Spread;
  p99Micros?: Spread;
  lostFrames?: Spread;
  workersCoreShare?: Spread;
  /** Each worker's core share, by worker index. */
  perWorkerCoreShare: Spread[];
  supervisorCoreShare?: Spread;
  redisCoreShare?: Spread;
  loadgenCoreShare?: Spread;
  otherCoreShare?: Spread;
  /** Worker indexes that owned the drones, across runs. */
  ownerWorkers: number[];
  errors: string[];
}

export interface HopRow {
  setup: HopSetup;
  load: HopLoad;
  runs: number;
  firstP50?: Spread;
  firstP99?: Spread;
  secondP50?: Spread;
  secondP99?: Spread;
  hopP50?: Spread;
  hopP99?: Spread;
  samples: number;
  framesPerSecond?: Spread;
  nodesCoreShare?: Spread;
  redisCoreShare?: Spread;
  otherCoreShare?: Spread;
  errors: string[];
}

const spreadOf = <T>(items: readonly T[], value: (item: T) => number): Spread | undefined => spread(items.map(value));

export function summarizeScale(records: readonly ScaleRecord[], placements: readonly Placement[], workerCounts: readonly number[]): ScaleRow[] {
  const rows: ScaleRow[] = [];
  for (const placement of placements) {
    const oneWorker = new Map(
      records.filter((r) => r.placement === placement && r.workers === 1 && r.sample).map((r) => [r.round, r.sample!.deliveriesPerSecond]),
    );
    for (const workers of workerCounts) {
      const mine = records.filter((r) => r.placement === placement && r.workers === workers);
      if (mine.length === 0) continue;
      const samples = mine.flatMap((r) => (r.sample ? [r.sample] : []));
      const paired = mine.flatMap((r) => {
        const base = oneWorker.get(r.round);
        return r.sample && base ? [r.sample.deliveriesPerSecond / base] : [];
      });
      rows.push({
        placement,
        workers,
        runs: samples.length,
        deliveriesPerSecond: spreadOf(samples, (s) => s.deliveriesPerSecond),
        ticksPerSecond: spreadOf(samples, (s) => s.ticksPerSecond),
        versusOneWorker: spread(paired),
        deliveriesPerWorkerCoreSecond: spreadOf(samples, (s) => s.deliveriesPerSecond / s.workersCoreShare),
        p50Micros: spreadOf(samples, (s) => s.p50Micros),
        p99Micros: spreadOf(samples, (s) => s.p99Micros),
        lostFrames: spreadOf(samples, (s) => s.lostFrames),
        workersCoreShare: spreadOf(samples, (s) => s.workersCoreShare),
        perWorkerCoreShare: Array.from({ length: workers }, (_, i) => spreadOf(samples, (s) => s.workerCoreShares[i] ?? NaN)).filter((s): s is Spread => s !== undefined),
        supervisorCoreShare: spreadOf(samples, (s) => s.supervisorCoreShare),
        redisCoreShare: spreadOf(samples, (s) => s.redisCoreShare),
        loadgenCoreShare: spreadOf(samples, (s) => s.loadgenCoreShare),
        otherCoreShare: spreadOf(samples, (s) => s.otherCoreShare),
        ownerWorkers: [...new Set(samples.map((s) => s.ownerWorker))].sort(),
        errors: mine.filter((r) => r.error).map((r) => `round ${r.round}: ${r.error}`),
      });
    }
  }
  return rows;
}

export function summarizeHop(records: readonly HopRecord[]): HopRow[] {
  const rows: HopRow[] = [];
  for (const setup of ["single", "redis"] as const) {
    const mine = records.filter((r) => r.setup === setup);
    if (mine.length === 0) continue;
    for (const load of ["idle", "loaded"] as const) {
      const samples = mine.flatMap((r) => r.samples ?? []).filter((s) => s.load === load);
      rows.push({
        setup,
        load,
        runs: samples.length,
        firstP50: spreadOf(samples, (s) => s.firstLatency.p50Micros),
        firstP99: spreadOf(samples, (s) => s.firstLatency.p99Micros),
        secondP50: spreadOf(samples, (s) => s.secondLatency.p50Micros),
        secondP99: spreadOf(samples, (s) => s.secondLatency.p99Micros),
        hopP50: spreadOf(samples, (s) => s.hop.p50Micros),
        hopP99: spreadOf(samples, (s) => s.hop.p99Micros),
        samples: samples.reduce((sum, s) => sum + s.hop.count, 0),
        framesPerSecond: spreadOf(samples, (s) => s.framesPerSecond),
        nodesCoreShare: spreadOf(samples, (s) => s.nodeCoreShares.reduce((sum, share) => sum + share, 0)),
        redisCoreShare: spreadOf(samples, (s) => s.redisCoreShare),
        otherCoreShare: spreadOf(samples, (s) => s.otherCoreShare),
        errors: mine.filter((r) => r.error).map((r) => `round ${r.round}: ${r.error}`),
      });
    }
  }
  return rows;
}

// ------------------------------------------------------------ Formatting

/** `median [min–max]` with `format`, the range left out when every round agreed; `–` when absent. */
export function formatSpread(value: Spread | undefined, format: (n: number) => string): string {
  if (!value) return "–";
  const median = format(value.median);
  if (value.count === 1) return median;
  const min = format(value.min);
  const max = format(value.max);
  return min === max ? median : `${median} [${min}–${max}]`;
}

export const percent = (share: number): string => `${Math.round(share * 100)}%`;
/** µs shown as ms with three significant digits (delivery latencies under load are milliseconds). */
export const milliseconds = (micros: number): string => formatNumber(micros / 1000);
export const micros = (value: number): string => (Math.abs(value) >= 1000 ? formatNumber(value) : String(Math.round(value)));
const ratio = (value: number): string => `${value.toFixed(2)}x`;
const loss = (value: number): string => (value === 0 ? "0" : formatCount(value));

/** Column headers and cells of the deliveries table. */
export function scaleTable(rows: readonly ScaleRow[]): string[][] {
  const header = ["placement", "workers", "deliveries/s", "ticks/s", "vs 1 worker", "per worker core-s", "p50 ms", "p99 ms", "lost", "workers CPU", "each worker", "redis", "loadgen", "others"];
  return [
    header,
    ...rows.map((row) => [
      placementLabels[row.placement],
      String(row.workers),
      formatSpread(row.deliveriesPerSecond, formatCount),
      formatSpread(row.ticksPerSecond, (n) => String(Math.round(n))),
      row.workers === 1 ? "1 (reference)" : formatSpread(row.versusOneWorker, ratio),
      formatSpread(row.deliveriesPerWorkerCoreSecond, formatCount),
      formatSpread(row.p50Micros, milliseconds),
      formatSpread(row.p99Micros, milliseconds),
      formatSpread(row.lostFrames, loss),
      formatSpread(row.workersCoreShare, percent),
      row.perWorkerCoreShare.map((s) => percent(s.median)).join(" / "),
      formatSpread(row.redisCoreShare, percent),
      formatSpread(row.loadgenCoreShare, percent),
      formatSpread(row.otherCoreShare, percent),
    ]),
  ];
}

export const setupLabels: Record<HopSetup, string> = {
  single: "one process, no Redis",
  redis: "node a → Redis → node b",
};

/** Column headers and cells of the hop table. */
export function hopTable(rows: readonly HopRow[], backgroundViewers: number): string[][] {
  const header = ["setup", "background", "viewer 1 p50 / p99 µs", "viewer 2 p50 / p99 µs", "hop p50 µs", "hop p99 µs", "frames", "frames/s", "skyport CPU", "redis"];
  return [
    header,
    ...rows.map((row) => [
      setupLabels[row.setup],
      row.load === "idle" ? "none" : `${backgroundViewers.toLocaleString("en-US")} viewers`,
      `${formatSpread(row.firstP50, micros)} / ${formatSpread(row.firstP99, micros)}`,
      `${formatSpread(row.secondP50, micros)} / ${formatSpread(row.secondP99, micros)}`,
      formatSpread(row.hopP50, micros),
      formatSpread(row.hopP99, micros),
      row.samples.toLocaleString("en-US"),
      formatSpread(row.framesPerSecond, (n) => String(Math.round(n))),
      formatSpread(row.nodesCoreShare, percent),
      row.setup === "redis" ? formatSpread(row.redisCoreShare, percent) : "–",
    ]),
  ];
}

/** Aligned plain text, one line per row, columns separated by two spaces. */
export function textTable(cells: readonly string[][]): string {
  const widths = cells[0]!.map((_, column) => Math.max(...cells.map((row) => [...(row[column] ?? "")].length)));
  return cells.map((row) => row.map((cell, i) => cell + " ".repeat(widths[i]! - [...cell].length)).join("  ").trimEnd()).join("\n");
}

export function markdownTable(cells: readonly string[][]): string {
  const line = (row: readonly string[]) => `| ${row.join(" | ")} |`;
  return [line(cells[0]!), line(cells[0]!.map(() => "---")), ...cells.slice(1).map(line)].join("\n");
}

/** The one-sentence answer to "what does the Redis hop cost", from the redis rows; null without them. */
export function hopSentence(rows: readonly HopRow[], backgroundViewers: number): string | null {
  const idle = rows.find((r) => r.setup === "redis" && r.load === "idle");
  const loaded = rows.find((r) => r.setup === "redis" && r.load === "loaded");
  const floor = rows.find((r) => r.setup === "single" && r.load === "idle");
  if (!idle?.hopP50 || !idle.hopP99) return null;
  const parts = [`the Redis hop adds ${micros(idle.hopP50.median)} µs at p50 and ${micros(idle.hopP99.median)} µs at p99 with no other load`];
  if (loaded?.hopP50 && loaded.hopP99) {
    parts.push(`${micros(loaded.hopP50.median)} µs and ${micros(loaded.hopP99.median)} µs with ${backgroundViewers.toLocaleString("en-US")} background viewers`);
  }
  let sentence = `${parts.join("; ")} (median over rounds)`;
  if (floor?.hopP50 && floor.hopP99) sentence += `; two viewers of one process differ by ${micros(floor.hopP50.median)} / ${micros(floor.hopP99.median)} µs, the method's floor`;
  return `${sentence}.`;
}
