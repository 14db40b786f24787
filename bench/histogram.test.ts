/** Tests for bench/histogram.ts: bucketing, percentiles and merging. */
import { expect, test } from "bun:test";
import { LatencyHistogram, mergeSnapshots, percentile } from "./histogram.ts";

test("percentiles are exact to the 1 µs bucket below 10 ms", () => {
  const h = new LatencyHistogram();
  for (let micros = 1; micros <= 100; micros++) h.record(micros + 0.25);
  const s = h.snapshot();
  expect(s.count).toBe(100);
  expect(percentile(s, 0.5)).toBe(50.5);
  expect(percentile(s, 0.99)).toBe(99.5);
  expect(s.minMicros).toBe(1.25);
  expect(s.maxMicros).toBe(100.25);
});

test("slow samples land in 100 µs buckets, and past 1 s in the overflow bucket", () => {
  const h = new LatencyHistogram();
  h.record(25_030);
  expect(percentile(h.snapshot(), 1)).toBe(25_050);
  h.reset();
  h.record(5_000_000);
  expect(percentile(h.snapshot(), 0.5)).toBe(1_000_000);
});

test("record with a count equals recording that many times", () => {
  const a = new LatencyHistogram();
  a.record(42, 3);
  const b = new LatencyHistogram();
  for (let i = 0; i < 3; i++) b.record(42);
  expect(a.snapshot()).toEqual(b.snapshot());
});

test("merging sums the buckets of several processes", () => {
  const a = new LatencyHistogram();
  const b = new LatencyHistogram();
  a.record(10, 90);
  b.record(1000, 10);
  const merged = mergeSnapshots([a.snapshot(), b.snapshot(), new LatencyHistogram().snapshot()]);
  expect(merged.count).toBe(100);
  expect(percentile(merged, 0.9)).toBe(10.5);
  expect(percentile(merged, 0.91)).toBe(1000.5);
  expect(merged.minMicros).toBe(10);
  expect(merged.maxMicros).toBe(1000);
});

test("an empty histogram has no percentiles", () => {
  expect(percentile(new LatencyHistogram().snapshot(), 0.5)).toBeNaN();
});
