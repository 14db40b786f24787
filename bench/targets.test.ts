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
  const verdicts = judge([row("fleet", { p99Micros: spread(40_000, 35_000, 60_000) }), row("telemetry-10k", { lostFrames: spread(0, 0, 3) })]);
  expect(verdicts.find((v) => v.target.scenario === "fleet" && v.target.metric === "p99Micros")).toMatchObject({ judged: 40_000, met: true, margin: 0.2 });
  const lost = verdicts.find((v) => v.target.scenario === "telemetry-10k" && v.target.metric === "lostFrames")!;
  expect(lost).toMatchObject({ judged: 3, met: false });
  expect(lost.margin).toBeUndefined();
});

test("telemetry-10k's latency and CPU are ratios to bare Bun (issue 18: the absolute limits are out of reach for bare Bun itself)", () => {
  const verdicts = judge([row("telemetry-10k", { p99Micros: spread(80_000, 70_000, 90_000), serverCoreShare: spread(0.6, 0.55, 0.65) }, { p99Micros: spread(1.05, 1, 1.1), serverCoreShare: spread(1.2, 1.1, 1.3) })]);
  const find = (metric: string) => verdicts.find((v) => v.target.scenario === "telemetry-10k" && v.target.metric === metric)!;
  expect(find("p99Micros")).toMatchObject({ judged: 1.05, met: true });
  expect(find("serverCoreShare")).toMatchObject({ judged: 1.2, met: false });
});

test("a target whose scenario did not run is not measured", () => {
  expect(judge([]).every((v) => v.measured === undefined && v.met === undefined)).toBe(true);
});

test("the tick at 20 drones × 100 Hz is judged on the share of the asked frames skyport delivered (issue 18)", () => {
  const verdicts = judge([row("telemetry-tick", { askedShare: spread(0.985, 0.97, 0.999) })]);
  const tick = verdicts.find((v) => v.target.scenario === "telemetry-tick")!;
  expect(tick.target).toMatchObject({ metric: "askedShare", basis: "absolute", direction: "atLeast", limit: 0.99 });
  expect(tick).toMatchObject({ judged: 0.985, met: false });
  expect(judge([row("telemetry-tick", { askedShare: spread(0.995, 0.99, 1) })]).find((v) => v.target.scenario === "telemetry-tick")!.met).toBe(true);
});
