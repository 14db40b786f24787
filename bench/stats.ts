/**
 * Turns the per-round samples into the summary the table, chart and targets
 * read: for every scenario and server, each metric's median, min and max
 * across rounds, and the same for its ratio to bare Bun.
 *
 * Ratios are paired by round (skyport in round 2 over bare Bun in round 2):
 * the runs of one round are minutes apart at most, so pairing cancels slow
 * drifts in machine load better than a ratio of medians would.
 */
import type { Sample } from "./scenarios.ts";

/** The server every ratio is relative to. */
export const referenceServer = "bun";

/** One (round, scenario, server) run: what it measured, or why it failed. */
export interface RunRecord {
  round: number;
  scenario: string;
  server: string;
  sample?: Sample;
  error?: string;
  /** Attempts made (more than 1 when other processes disturbed the first). */
  attempts?: number;
  /** True when even the kept attempt was disturbed by other processes on the pinned cores. */
  contended?: boolean;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
  /** Rounds that contributed. */
  count: number;
}

export type Metric = keyof Sample;

export interface SummaryRow {
  scenario: string;
  server: string;
  metrics: Partial<Record<Metric, Spread>>;
  /** This server's metric over bare Bun's, paired by round. */
  ratios: Partial<Record<Metric, Spread>>;
  /** Runs that failed, with their errors. */
  errors: string[];
}

export function spread(values: number[]): Spread | undefined {
  const finite = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (finite.length === 0) return undefined;
  const mid = finite.length >> 1;
  const median = finite.length % 2 ? finite[mid]! : (finite[mid - 1]! + finite[mid]!) / 2;
  return { median, min: finite[0]!, max: finite[finite.length - 1]!, count: finite.length };
}

export function summarize(records: RunRecord[], scenarioIds: string[], serverNames: string[]): SummaryRow[] {
  const rows: SummaryRow[] = [];
  for (const scenario of scenarioIds) {
    for (const server of serverNames) {
      const mine = records.filter((r) => r.scenario === scenario && r.server === server);
      if (mine.length === 0) continue;
      const reference = new Map(
        records.filter((r) => r.scenario === scenario && r.server === referenceServer && r.sample).map((r) => [r.round, r.sample!]),
      );
      const metricNames = new Set(mine.flatMap((r) => (r.sample ? (Object.keys(r.sample) as Metric[]) : [])));
      const metrics: SummaryRow["metrics"] = {};
      const ratios: SummaryRow["ratios"] = {};
      for (const metric of metricNames) {
        const values = mine.map((r) => r.sample?.[metric]).filter((v): v is number => v !== undefined);
        const s = spread(values);
        if (s) metrics[metric] = s;
        const paired: number[] = [];
        for (const r of mine) {
          const value = r.sample?.[metric];
          const base = reference.get(r.round)?.[metric];
          if (value !== undefined && base !== undefined && base !== 0) paired.push(value / base);
        }
        const ratio = spread(paired);
        if (ratio) ratios[metric] = ratio;
      }
      rows.push({ scenario, server, metrics, ratios, errors: mine.filter((r) => r.error).map((r) => `round ${r.round}: ${r.error}`) });
    }
  }
  return rows;
}
