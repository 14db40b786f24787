/**
 * Turns the per-round samples into the summary the table, chart and targets
 * read: for every scenario and server, each metric's median, min and max
 * across rounds, and the same for its ratio to bare Bun.
 *
 * Ratios are paired by round (skyport in round 2 over bare Bun in round 2):
 * the runs of one round are minutes apart at most, so pairing cancels slow
 * drifts in machine load better than a ratio of medians would. The ratios
 * the table shows and the targets judge come only from fair rounds
 * (fairness.ts); every round's ratios are kept beside them.
 */
import { unfairReason, type ExcludedRound } from "./fairness.ts";
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
  /** This server's metric over bare Bun's, paired by round, over the fair rounds only (what targets judge). */
  ratios: Partial<Record<Metric, Spread>>;
  /** The same over every round with both samples, fair or not. */
  allRatios?: Partial<Record<Metric, Spread>>;
  /** Rounds paired with bare Bun whose ratios were left out, and why (fairness.ts). */
  excludedRounds?: ExcludedRound[];
  /** Rounds paired with bare Bun (judged or excluded). */
  pairedRounds?: number;
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
      const reference = new Map(records.filter((r) => r.scenario === scenario && r.server === referenceServer && r.sample).map((r) => [r.round, r]));
      const excludedRounds: ExcludedRound[] = [];
      const fair = new Set<number>();
      let pairedRounds = 0;
      for (const r of mine) {
        const base = reference.get(r.round);
        if (server === referenceServer || !r.sample || !base) continue;
        pairedRounds++;
        const reason = unfairReason({ server, sample: r.sample, contended: r.contended }, { server: referenceServer, sample: base.sample!, contended: base.contended });
        if (reason === null) fair.add(r.round);
        else excludedRounds.push({ round: r.round, reason });
      }
      const metricNames = new Set(mine.flatMap((r) => (r.sample ? (Object.keys(r.sample) as Metric[]) : [])));
      const metrics: SummaryRow["metrics"] = {};
      const ratios: SummaryRow["ratios"] = {};
      const allRatios: SummaryRow["ratios"] = {};
      for (const metric of metricNames) {
        const values = mine.map((r) => r.sample?.[metric]).filter((v): v is number => v !== undefined);
        const s = spread(values);
        if (s) metrics[metric] = s;
        const paired: Array<{ round: number; ratio: number }> = [];
        for (const r of mine) {
          const value = r.sample?.[metric];
          const base = reference.get(r.round)?.sample?.[metric];
          if (value !== undefined && base !== undefined && base !== 0) paired.push({ round: r.round, ratio: value / base });
        }
        const all = spread(paired.map((p) => p.ratio));
        if (all) allRatios[metric] = all;
        const judged = spread(paired.filter((p) => server === referenceServer || fair.has(p.round)).map((p) => p.ratio));
        if (judged) ratios[metric] = judged;
      }
      rows.push({ scenario, server, metrics, ratios, allRatios, excludedRounds, pairedRounds, errors: mine.filter((r) => r.error).map((r) => `round ${r.round}: ${r.error}`) });
    }
  }
  return rows;
}
