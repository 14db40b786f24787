/** Tests for bench/load-listen.ts's loss grace: frames still in flight after stop are late, not lost. */
import { expect, test } from "bun:test";
import { LatencyHistogram } from "./histogram.ts";
import { graceFor } from "./load-listen.ts";

function latencies(micros: number[]) {
  const histogram = new LatencyHistogram();
  for (const value of micros) histogram.record(value);
  return histogram.snapshot();
}

test("the fixed grace stands while the window's p99 is well under it", () => {
  expect(graceFor(latencies([20_000, 50_000, 80_000]), 500)).toBe(500);
  expect(graceFor(latencies([]), 500)).toBe(500);
});

test("a slow fan-out gets twice its p99, bounded", () => {
  // The Socket.IO peer at the maximum rate: one burst to 1,000 sockets takes about 0.9 s.
  const slow = latencies(Array.from({ length: 100 }, (_, i) => (i + 1) * 9_500));
  // p99 is the 99th of 100 values, 940.5 ms (at its 100 µs bucket's midpoint).
  expect(graceFor(slow, 500)).toBeCloseTo(2 * 940.55, 1);
  expect(graceFor(latencies([900_000_000]), 500)).toBe(5000);
});
