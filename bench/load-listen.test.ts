/** Tests for bench/load-listen.ts: the loss grace (frames still in flight after stop are late, not lost) and what the streams produced. */
import { expect, test } from "bun:test";
import { LatencyHistogram } from "./histogram.ts";
import { framesProduced, graceFor } from "./load-listen.ts";

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

test("what the streams produced is each stream's advance from the mark, streams first seen later left out", () => {
  const atMark = Float64Array.from([100, 5, -1]);
  // Stream 0 advanced 200 frames, stream 1 none, stream 2 appeared after the mark; stream 3 is new in the table.
  expect(framesProduced(atMark, Float64Array.from([300, 5, 40, 7]))).toBe(200);
  expect(framesProduced(new Float64Array(0), Float64Array.from([1, 2]))).toBe(0);
});
