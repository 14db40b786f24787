/** Tests for bench/stats.ts: spreads and per-round paired ratios. */
import { expect, test } from "bun:test";
import { spread, summarize, type RunRecord } from "./stats.ts";

test("spread gives the median (mean of the middle two when even), min and max", () => {
  expect(spread([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3, count: 3 });
  expect(spread([4, 1, 2, 3])).toEqual({ median: 2.5, min: 1, max: 4, count: 4 });
  expect(spread([NaN])).toBeUndefined();
});

test("ratios to bare Bun are paired by round", () => {
  const records: RunRecord[] = [
    { round: 1, scenario: "echo-32", server: "bun", sample: { messagesPerSecond: 100 } },
    { round: 1, scenario: "echo-32", server: "skyport", sample: { messagesPerSecond: 90 } },
    { round: 2, scenario: "echo-32", server: "bun", sample: { messagesPerSecond: 50 } },
    { round: 2, scenario: "echo-32", server: "skyport", sample: { messagesPerSecond: 50 } },
    { round: 3, scenario: "echo-32", server: "bun", error: "boom" },
    { round: 3, scenario: "echo-32", server: "skyport", sample: { messagesPerSecond: 80 } },
  ];
  const rows = summarize(records, ["echo-32"], ["skyport", "bun"]);
  const skyport = rows.find((r) => r.server === "skyport")!;
  expect(skyport.metrics.messagesPerSecond).toEqual({ median: 80, min: 50, max: 90, count: 3 });
  // Round 3 has no bare Bun sample, so only rounds 1 and 2 give ratios.
  expect(skyport.ratios.messagesPerSecond).toEqual({ median: 0.95, min: 0.9, max: 1, count: 2 });
  expect(rows.find((r) => r.server === "bun")!.errors).toEqual(["round 3: boom"]);
});

test("ratios count only the fair rounds; every round's ratios and the exclusions are kept beside them", () => {
  const sample = (messagesPerSecond: number, serverCoreShare: number, loadgenCoreShare: number) => ({ messagesPerSecond, serverCoreShare, loadgenCoreShare });
  const records: RunRecord[] = [
    { round: 1, scenario: "telemetry-max", server: "bun", sample: sample(100, 0.99, 0.99) },
    { round: 1, scenario: "telemetry-max", server: "skyport", sample: sample(95, 0.98, 0.99) },
    // Round 2: the load generator saturated, skyport not: left out.
    { round: 2, scenario: "telemetry-max", server: "bun", sample: sample(100, 0.99, 0.99) },
    { round: 2, scenario: "telemetry-max", server: "skyport", sample: sample(60, 0.8, 0.99) },
    // Round 3: disturbed by other processes: left out.
    { round: 3, scenario: "telemetry-max", server: "bun", sample: sample(100, 0.99, 0.5), contended: true },
    { round: 3, scenario: "telemetry-max", server: "skyport", sample: sample(90, 0.99, 0.5) },
  ];
  const rows = summarize(records, ["telemetry-max"], ["skyport", "bun"]);
  const skyport = rows.find((r) => r.server === "skyport")!;
  expect(skyport.ratios.messagesPerSecond).toEqual({ median: 0.95, min: 0.95, max: 0.95, count: 1 });
  expect(skyport.allRatios!.messagesPerSecond).toEqual({ median: 0.9, min: 0.6, max: 0.95, count: 3 });
  expect(skyport.pairedRounds).toBe(3);
  expect(skyport.excludedRounds!.map((e) => e.round)).toEqual([2, 3]);
  expect(skyport.excludedRounds![0]!.reason).toContain("load generator bound");
  expect(skyport.excludedRounds![1]!.reason).toContain("disturbed (bun: others");
  // The reference's own ratios are 1 in every round and nothing is excluded from it.
  const bun = rows.find((r) => r.server === "bun")!;
  expect(bun.ratios.messagesPerSecond!.count).toBe(3);
  expect(bun.excludedRounds).toEqual([]);
});
