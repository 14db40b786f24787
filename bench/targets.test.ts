/** Tests for bench/targets.ts: ratio and absolute verdicts, median and worst round. */
import { expect, test } from "bun:test";
import type { SummaryRow } from "./stats.ts";
import { judge } from "./targets.ts";

const spread = (median: number, min: number, max: number) => ({ median, min, max, count: 3 });

function row(scenario: string, metrics: SummaryRow["metrics"], ratios: SummaryRow["ratios"] = {}): SummaryRow {
  return { scenario, server: "skyport", metrics, ratios, errors: [] };
}

test("ratio targets read the paired ratio's median", () => {
  const verdicts = judge([row("echo-32", { messagesPerSecond: spread(1.9e6, 1.5e6, 2e6) }, { messagesPerSecond: spread(0.93, 0.9, 1.2) })]);
  const throughput = verdicts.find((v) => v.target.scenario === "echo-32" && v.target.metric === "messagesPerSecond")!;
  expect(throughput.judged).toBe(0.93);
  expect(throughput.met).toBe(false);
  expect(throughput.margin).toBeCloseTo(-0.02 / 0.95);
});

test("absolute targets read skyport's own figure; lost frames are judged on the worst round", () => {
  const verdicts = judge([
    row("telemetry-10k", { p99Micros: spread(20_000, 15_000, 40_000), lostFrames: spread(0, 0, 3), serverCoreShare: spread(0.5, 0.4, 0.6) }),
  ]);
  const find = (metric: string) => verdicts.find((v) => v.target.scenario === "telemetry-10k" && v.target.metric === metric)!;
  expect(find("p99Micros")).toMatchObject({ judged: 20_000, met: true, margin: 0.2 });
  expect(find("lostFrames")).toMatchObject({ judged: 3, met: false });
  expect(find("lostFrames").margin).toBeUndefined();
  expect(find("serverCoreShare").met).toBe(false);
});

test("a target whose scenario did not run is not measured", () => {
  expect(judge([]).every((v) => v.measured === undefined && v.met === undefined)).toBe(true);
});
