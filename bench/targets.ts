/**
 * skyport's performance targets (issue 6), each a ratio to bare Bun.serve
 * measured in the same run, and their verdicts.
 *
 * Owns the list of targets and the met/missed judgement (on the median of
 * the per-round ratios). It does not measure or format tables.
 */
import type { Metric, SummaryRow } from "./stats.ts";

export interface Target {
  scenario: string;
  metric: Metric;
  /** "atLeast": ratio must be >= limit (higher is better); "atMost": <= limit. */
  direction: "atLeast" | "atMost";
  limit: number;
  description: string;
}

/** The server the targets apply to. */
export const targetServer = "skyport";

export const targets: readonly Target[] = [
  { scenario: "echo-32", metric: "messagesPerSecond", direction: "atLeast", limit: 0.95, description: "throughput, 32 B echo" },
  { scenario: "echo-4k", metric: "messagesPerSecond", direction: "atLeast", limit: 0.95, description: "throughput, 4 KiB echo" },
  { scenario: "echo-32", metric: "cpuMicrosPerMessage", direction: "atMost", limit: 1.05, description: "CPU per message, 32 B echo" },
  { scenario: "echo-4k", metric: "cpuMicrosPerMessage", direction: "atMost", limit: 1.05, description: "CPU per message, 4 KiB echo" },
  { scenario: "latency", metric: "cpuMicrosPerMessage", direction: "atMost", limit: 1.05, description: "CPU per message, 1 × 1 ping-pong" },
  { scenario: "latency", metric: "p50Micros", direction: "atMost", limit: 1.1, description: "latency p50, 1 × 1" },
  { scenario: "latency", metric: "p99Micros", direction: "atMost", limit: 1.1, description: "latency p99, 1 × 1" },
  { scenario: "memory", metric: "rssBytesPerConnection", direction: "atMost", limit: 1.25, description: "RSS per idle connection" },
];

export interface Verdict {
  target: Target;
  /** Median, min and max of skyport / bare Bun across rounds; absent when not measured. */
  ratio?: { median: number; min: number; max: number };
  met?: boolean;
  /** How far the median is on the right (positive) or wrong (negative) side of the limit, as a fraction of the limit: 0.93 against >= 0.95 is -0.021. */
  margin?: number;
}

export function judge(rows: SummaryRow[]): Verdict[] {
  return targets.map((target) => {
    const row = rows.find((r) => r.scenario === target.scenario && r.server === targetServer);
    const ratio = row?.ratios[target.metric];
    if (!ratio) return { target };
    const met = target.direction === "atLeast" ? ratio.median >= target.limit : ratio.median <= target.limit;
    const margin = (target.direction === "atLeast" ? ratio.median - target.limit : target.limit - ratio.median) / target.limit;
    return { target, ratio, met, margin };
  });
}
